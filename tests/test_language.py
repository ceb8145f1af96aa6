"""Language features compiled by the front end, each run plain and under psyco with the
outputs compared: nested functions (defaults, keyword-only defaults, annotations,
closures), comprehensions, unpacking, f-strings, containment and identity tests, `and`/`or`
chains, `del`, and opcodes psyco leaves to the interpreter mid-function."""

import pytest

from conftest import assert_same_as_cpython

PROGRAMS = {
    "make_function_every_flag": """
        def outer(n):
            k = n * 2
            def inner(a: int, b=3, *, c=4, d: str = "x") -> str:
                return f"{a}-{b}-{c}-{d}-{k}"
            return inner(1), inner(1, 2, c=5), inner.__annotations__, inner.__defaults__, inner.__kwdefaults__
        for i in range(3):
            print(outer(i))
    """,
    "comprehensions": """
        def run(n):
            squares = [i * i for i in range(n) if i % 3]
            table = {i: i * 2 for i in range(n)}
            uniq = {i % 4 for i in range(n)}
            total = sum(x for x in squares)
            return squares, sorted(table.items())[:3], sorted(uniq), total
        print(run(10))
    """,
    "unpacking": """
        def run(pairs):
            acc = 0
            for a, b in pairs:
                x, y, z = b, a, a + b
                acc += x * y - z
            try:
                p, q = pairs[0], pairs[1], pairs[2]
            except ValueError as e:
                print("ValueError", e)
            try:
                p, q = pairs
            except ValueError as e:
                print("ValueError", e)
            try:
                p, q = 5
            except TypeError as e:
                print("TypeError", e)
            return acc
        print(run([(1, 2), (3, 4), (5, 6)]))
    """,
    "fstrings_and_formats": """
        def run(n):
            out = []
            for i in range(n):
                out.append(f"{i:>3}|{i!r}|{i / 3:.2f}|{'x' * i}|{str(i)!s:<2}|{i!a}")
            return out
        print("\\n".join(run(5)))
    """,
    "contains_is_and_or": """
        def run(items, n):
            hits = 0
            for i in range(n):
                if i in items and i is not None or i == 7:
                    hits += 1
                v = i > 3 and i or -i
                w = i < 2 or i * 10
                hits += (v if v is not None else 0) + w
                if None is None and items is not None:
                    hits ^= 1
            return hits
        print(run({1, 3, 5, 7}, 12), run([2, 4], 6))
    """,
    "delete_and_unbound": """
        def run(n):
            x = n
            del x
            try:
                print(x)
            except UnboundLocalError as e:
                print("UnboundLocalError", e)
            y = [1, 2, 3]
            del y[0]
            return y
        print(run(3))
    """,
    "object_identity": """
        def member(x, container):
            return x in container, x is container[0], container.count(x)

        def same(a):
            b = a
            c = [a, b]
            return a is b, c[0] is c[1], id(a) == id(b)

        def loop(v, n):
            out = []
            for i in range(n):
                out.append(v)
                w = v
                out.append(w)
            return all(o is v for o in out), len({id(o) for o in out})

        def count_of(seq, value):
            # The argument crosses a loop head: its identity must survive the merge.
            count = 0
            for x in seq:
                if x is value or x == value:
                    count += 1
            return count

        nan = float("nan")
        big = 10**15 + 7
        for v in (nan, 1.5, big, 3, True):
            print(member(v, [v]), same(v), loop(v, 4), count_of([v, 1, v], v))
    """,
    "add_sub_of_call_results": """
        def ident(x):
            return x

        def run(values):
            out = []
            for a in values:
                for b in values:
                    out.append(ident(a) + ident(b))
                    out.append(ident(a) - ident(b))
            return out

        print(run([0, 1, -1, 2**30 - 1, -(2**30 - 1), 2**30, 2**62, -(2**64), True, 3.5]))
        print(run(["x", "yz"])[:2] if False else ident("x") + ident("yz"))
    """,
    "leaves_for_the_interpreter_midway": """
        import contextlib

        @contextlib.contextmanager
        def ctx():
            yield 5

        def run(n):
            total = 0
            for i in range(n):
                total += i
            with ctx() as c:
                total += c
            for i in range(n):
                total += i
            return total
        print(run(10), run(20))
    """,
}


# The functions each program must have run compiled (so that it tests the JIT).
COMPILED = {
    "make_function_every_flag": ["outer"],
    "comprehensions": ["run", "run.<locals>.<listcomp>", "run.<locals>.<dictcomp>"],
    "unpacking": ["run"],
    "fstrings_and_formats": ["run"],
    "contains_is_and_or": ["run"],
    "delete_and_unbound": ["run"],
    "leaves_for_the_interpreter_midway": ["run"],
    "object_identity": ["member", "same", "loop", "count_of"],
    "add_sub_of_call_results": ["run"],
}


@pytest.mark.parametrize("case", sorted(PROGRAMS))
def test_language_feature_matches_cpython(case):
    assert_same_as_cpython(PROGRAMS[case], compiled=COMPILED[case])
