"""Globals and builtins rebound while compiled code is live.

Compiled code may specialize on the current values of globals and builtins; when they
change (mid-loop, from a callee, or between calls) the program must see the new values
exactly as plain CPython does.
"""

import pytest

from conftest import assert_same_as_cpython

PROGRAMS = {
    # A callee rebinds the global function that the compiled loop is calling.
    "callee_rebinds_called_global": (
        """
        def step_a(i):
            global step
            if i == 5:
                step = step_b
            return i

        def step_b(i):
            return 1000 * i

        step = step_a

        def loop(n):
            t = 0
            for i in range(n):
                t += step(i)
            return t

        print(loop(10))
        print(loop(10))
        step = step_a
        print(loop(10))
        """,
        ["loop"],
    ),
    # The same, but through globals() and to a builtin, then a deletion mid-loop.
    "callee_rebinds_through_globals_dict": (
        """
        def helper(i):
            if i == 3:
                globals()["helper"] = abs
            return -i

        def loop(n):
            t = 0
            for i in range(n):
                t += helper(-i)
            return t

        print(loop(8))
        print(loop(8))

        def vanish(i):
            if i == 4:
                del globals()["vanish"]
            return i

        def loop2(n):
            t = 0
            for i in range(n):
                t += vanish(i)
            return t

        try:
            loop2(8)
        except NameError as e:
            print("NameError:", e)
        """,
        ["loop", "loop2"],
    ),
    # `range` and `len` shadowed by module globals after the function was compiled.
    "builtins_shadowed_by_module_globals": (
        """
        def total(xs):
            t = 0
            for i in range(len(xs)):
                t += xs[i]
            return t

        data = [1, 2, 3, 4, 5]
        print(total(data), total(data))

        def range(n):
            return [0, n - 1]

        print(total(data))
        len = lambda xs: 3
        print(total(data))
        del range
        print(total(data))
        del len
        print(total(data))
        """,
        ["total"],
    ),
    # The builtins module itself rebound, mid-loop by a callee and between calls.
    "builtins_module_rebound": (
        """
        import builtins
        real_len = builtins.len

        def patch(i):
            if i == 2:
                builtins.len = lambda xs: 100
            return i

        def measure(xs, n):
            t = 0
            for i in range(n):
                t += len(xs)
                patch(i)
            return t

        print(measure([1, 2, 3], 5))
        builtins.len = real_len
        print(measure([1, 2, 3], 2))
        builtins.abs = lambda x: "patched"

        def use_abs(n):
            out = []
            for i in range(n):
                out.append(abs(-i))
            return out

        print(use_abs(3))
        del builtins.abs
        try:
            use_abs(3)
        except NameError as e:
            print("NameError:", e)
        builtins.len = real_len
        """,
        ["measure", "use_abs"],
    ),
    # A global constant changed between calls and mid-loop, to other types too.
    "global_constant_changed": (
        """
        K = 3

        def add_k(n):
            t = 0
            for i in range(n):
                t += K
            return t

        def bump(i):
            global K
            K = K + i

        def add_k_bumping(n):
            t = 0
            for i in range(n):
                t += K
                bump(i)
            return t

        print(add_k(10))
        K = 4
        print(add_k(10))
        K = 2.5
        print(add_k(10))
        K = 2**70
        print(add_k(10))
        K = 7
        print(add_k_bumping(10), K)
        K = 2**62
        print(add_k_bumping(10), K)
        K = "s"
        try:
            add_k(3)
        except TypeError as e:
            print("TypeError:", e)
        """,
        ["add_k", "add_k_bumping"],
    ),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_rebinding_is_seen(name):
    code, compiled = PROGRAMS[name]
    assert_same_as_cpython(code, compiled=compiled)
