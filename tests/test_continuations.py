"""A failed guard continues in a version compiled for what the frame holds then.

When compiled code leaves through a guard on a kind or a value (an int outgrowing a machine
word, a rebound global), the frame does not stay in the interpreter for the rest of the
call: psyco compiles a continuation version that starts at the failing instruction, keyed by
the kinds of every live slot, and runs it on the same frame (lazy basic-block versioning, as
in Psyco and YJIT). Results must equal plain CPython's; the loops must keep running natively
after the exit (every back-edge counted as native), and continuations per offset are capped.
"""

from conftest import assert_same_as_cpython


def test_int_overflow_mid_loop_continues_natively():
    _, jit = assert_same_as_cpython(
        """
        def grow(n):
            acc = 1
            for i in range(n):
                acc = acc * 3 + i
            return acc

        for n in (10, 100, 200):
            print(n, grow(n) % 1000003, grow(n).bit_length())
        """,
        compiled=["grow"],
    )
    entry = jit.codes["grow"]
    print(entry)
    # The calls with n = 100 and 200 overflow once each (twice per n) at `*`: one exit per
    # call, then a continuation runs the rest of the loop, back-edges included. The first
    # continuations read the now big `acc` as a word at `*` and then at `+`: each leaves once
    # as a misprediction (`type_changed`) and is retired, the frame going on in one compiled
    # for objects there. Two stay: the one the first frame ended in (at `+`) and the one the
    # next overflow at `*` compiled.
    assert entry["side_exits"] == {"int_overflow": 4, "type_changed": 2}, entry
    assert entry["continuations"] == 2, entry
    assert entry["back_edges"] == 2 * (10 + 100 + 200), entry
    assert jit.stats["continuations_compiled"] >= 1


def test_rebound_global_function_mid_loop_continues_natively():
    _, jit = assert_same_as_cpython(
        """
        def f(x):
            return x + 1

        def g(x):
            return x * 2

        def swap():
            global f
            f = g

        def run(n):
            t = 0
            for i in range(n):
                t += f(i)
                if i == n // 2:
                    swap()
            return t

        print(run(100))
        """,
        compiled=["run"],
    )
    entry = jit.codes["run"]
    print(entry)
    assert entry["side_exits"] == {"global_changed": 1}, entry
    assert entry["continuations"] == 1, entry
    assert entry["back_edges"] == 100, entry


def test_continuations_per_offset_are_capped_then_generic():
    _, jit = assert_same_as_cpython(
        """
        def first_overflow(x):
            acc = 1
            for i in range(80):
                acc = acc * 3
            return (x, acc % 1000)

        for x in [1, 2.0, "s", (), [], {}, None, b"", 1j, 7, 8.5]:
            print(first_overflow(x))
        """,
        compiled=["first_overflow"],
    )
    entry = jit.codes["first_overflow"]
    print(entry)
    # Four versions for the first four kinds of `x`, then one generic version; and one where
    # the first continuation read the big `acc` as a word, at `*` and at `%` (each leaves once
    # as a misprediction; the one at `*` is compiled again, so only `%` adds one).
    assert entry["side_exits"] == {"int_overflow": 11, "type_changed": 2}, entry
    assert entry["continuations"] == 5 + 1, entry
    assert entry["back_edges"] == 80 * 11, entry
