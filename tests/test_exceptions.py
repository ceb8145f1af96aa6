"""Exceptions raised in compiled code behave exactly as in plain CPython.

Each case defines `run()`, which calls a compiled loop that raises.  It is run
* uncaught: the traceback on stderr (source lines and carets included) must match byte for
  byte, and the exit status too;
* caught in the caller: `traceback.print_exc()` to stdout, then the program carries on.
ZeroDivisionError cases also run caught by a try/except inside the compiled loop itself,
after which the loop carries on with its state intact.
"""

import textwrap

import pytest

from conftest import assert_same_as_cpython

DIVISIONS = {
    "int_floordiv": "i // (d - i)",
    "int_mod": "i % (d - i)",
    "int_truediv": "i / (d - i)",
    "float_truediv": "x / (d - x)",
    "float_floordiv": "x // (d - x)",
    "float_mod": "x % (d - x)",
}

DIVISION_LOOP = """
import sys, traceback

def loop(n, d):
    t = 0
    x = 0.0
    for i in range(n):
        x = x + 1.0
        t += {expr}
    return t

def run():
    print(loop(4, 10), loop(4, 10.5))
    print(loop(20, {zero_at}))
"""

# Cases with a called function that raises, a missing global and an unbound local.
OTHER_CASES = {
    "raised_by_callee": """
        import sys, traceback

        def check(i):
            if i == 7:
                raise ValueError("bad value %d" % i)
            return i * 2

        def loop(n):
            t = 0
            for i in range(n):
                t += check(i)
            return t

        def run():
            print(loop(5))
            print(loop(10))
    """,
    "name_error_for_undefined_global": """
        import sys, traceback

        def loop(n):
            t = 0
            for i in range(n):
                if i == 3:
                    t += undefined_global
                t += i
            return t

        def run():
            print(loop(3))
            print(loop(10))
    """,
    "unbound_local_error": """
        import sys, traceback

        def loop(n):
            for i in range(n):
                if i > 2:
                    t = t + i
                if i == 5:
                    t = 0
            return i

        def run():
            print(loop(3))
            print(loop(10))
    """,
}

CALLERS = {
    "uncaught": """
run()
print("not reached")
""",
    "caught_in_caller": """
try:
    run()
except Exception:
    traceback.print_exc(file=sys.stdout)
print("carried on")
try:
    run()
except Exception as e:
    print("again", type(e).__name__, e)
""",
}


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize("op", sorted(DIVISIONS))
def test_division_by_zero_in_compiled_loop(op, caller):
    # Each loop divides by zero at i == 5 (ints) or x == 6.0 (floats).
    zero_at = "6.0" if op.startswith("float") else "5"
    program = DIVISION_LOOP.format(expr=DIVISIONS[op], zero_at=zero_at) + CALLERS[caller]
    plain, _ = assert_same_as_cpython(program, compiled=["loop"])
    assert "ZeroDivisionError" in (plain.stderr + plain.stdout)


@pytest.mark.parametrize("op", sorted(DIVISIONS))
def test_division_by_zero_caught_in_same_function(op):
    zero_at = "6.0" if op.startswith("float") else "5"
    program = f"""
        import sys, traceback

        def loop(n, d):
            t = 0
            x = 0.0
            caught = 0
            for i in range(n):
                x = x + 1.0
                try:
                    t += {DIVISIONS[op]}
                except ZeroDivisionError as e:
                    caught += 1
                    print("caught at", i, repr(e), t)
                    traceback.print_exc(file=sys.stdout)
                t += 1
            return t, caught

        print(loop(4, 10))
        print(loop(20, {zero_at}))
        print(loop(20, {zero_at}))
    """
    plain, _ = assert_same_as_cpython(program, compiled=["loop"])
    assert "caught at" in plain.stdout


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize("case", sorted(OTHER_CASES))
def test_exception_from_compiled_loop(case, caller):
    program = textwrap.dedent(OTHER_CASES[case]) + CALLERS[caller]
    plain, _ = assert_same_as_cpython(program, compiled=["loop"])
    assert "Error" in (plain.stderr + plain.stdout)


def test_name_error_then_global_defined():
    """The same compiled function first fails on a missing global, then finds it."""
    assert_same_as_cpython(
        """
        def loop(n):
            t = 0
            for i in range(n):
                t += later + i
            return t

        try:
            loop(5)
        except NameError as e:
            print("NameError:", e)
        later = 100
        print(loop(5))
        later = 2**70
        print(loop(5))
        del later
        loop(5)
        """,
        compiled=["loop"],
    )


# Exceptions raised and handled inside one compiled loop: the handlers run compiled (from
# the exception table), so the loop never leaves for the interpreter.
HANDLED_IN_LOOP = {
    "callee_raises_caught_as": """
        class Bad(Exception):
            pass

        def parse(tok):
            if tok % 3 == 0:
                raise Bad(tok)
            return tok * 2

        def run(n):
            ok = bad = 0
            for i in range(n):
                try:
                    ok += parse(i)
                except Bad as e:
                    bad += e.args[0]
            return ok, bad
    """,
    "key_error_from_dict": """
        def run(n):
            table = {i: i for i in range(0, n, 3)}
            hits = missing = 0
            for i in range(n):
                try:
                    hits += table[i]
                except KeyError:
                    missing += 1
            return hits, missing
    """,
    "finally_and_tuple_of_types": """
        def div(a, b):
            return a // b

        def run(n):
            total = flips = 0
            for i in range(n):
                try:
                    total += div(100, i % 4)
                except (TypeError, ZeroDivisionError):
                    total -= 1
                finally:
                    flips ^= 1
            return total, flips
    """,
    "unmatched_exception_propagates": """
        def div(a, b):
            return a // b

        def run(n):
            total = 0
            for i in range(n):
                try:
                    total += div(100, n - 1 - i)
                except KeyError:
                    total = -1
            return total
    """,
}


@pytest.mark.parametrize("case", sorted(HANDLED_IN_LOOP))
def test_exceptions_handled_in_a_compiled_loop(case):
    plain, jit = assert_same_as_cpython(
        HANDLED_IN_LOOP[case]
        + """
        import sys
        try:
            print(run(40))
        except Exception as e:
            import traceback
            traceback.print_exc()
        print(sys.exc_info())
        """,
        compiled=["run"],
    )
    if case != "unmatched_exception_propagates":
        exits = jit.codes["run"]["side_exits"]
        assert exits == {}, f"run() left compiled code: {exits}"
