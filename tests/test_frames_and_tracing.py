"""Frame introspection and tracing from callees of compiled code.

* sys._getframe(1) in a callee: the compiled caller's co_name and f_lineno (and, as a
  stricter check, its f_locals) as plain CPython shows them; inspect.stack() function names
  and line numbers likewise.
* sys.settrace switched on by a callee from inside a compiled loop, pdb-style (set the
  global tracer and the caller frame's f_trace): the recorded events equal CPython's.
"""

import textwrap

from conftest import assert_same_as_cpython

CALLER_LOOP = """
def loop(n):
    t = 0
    for i in range(n):
        t += i
        if i % 3 == 0:
            t += who(i)
        t -= 1
    return t

def outer(n):
    r = loop(n)
    return r + 1

print(outer(10))
"""


def with_caller_loop(callee):
    """The program: `callee` (defining who(i)) then a compiled loop calling it."""
    return textwrap.dedent(callee) + CALLER_LOOP


def test_getframe_in_callee_sees_compiled_caller():
    assert_same_as_cpython(
        with_caller_loop("""
        import sys

        def who(i):
            f = sys._getframe(1)
            print(i, f.f_code.co_name, f.f_lineno, f.f_back.f_code.co_name, f.f_back.f_lineno)
            return 0
        """),
        compiled=["loop", "outer"],
    )


def with_caller_loop(callee):
    """The program: `callee` (defining who(i)) then a compiled loop calling it."""
    return textwrap.dedent(callee) + CALLER_LOOP


def test_getframe_in_callee_sees_compiled_callers_locals():
    assert_same_as_cpython(
        with_caller_loop("""
        import sys

        def who(i):
            caller = sys._getframe(1)
            print(i, sorted(caller.f_locals.items()))
            return 0
        """),
        compiled=["loop", "outer"],
    )


def test_inspect_stack_in_callee():
    assert_same_as_cpython(
        with_caller_loop("""
        import inspect

        def who(i):
            for info in inspect.stack():
                print(i, info.function, info.lineno)
            return 0
        """),
        compiled=["loop", "outer"],
    )


def test_settrace_switched_on_from_compiled_loop():
    plain, _ = assert_same_as_cpython(
        """
        import sys

        events = []

        def tracer(frame, event, arg):
            events.append((frame.f_code.co_name, event, frame.f_lineno))
            return tracer

        def start_tracing():
            sys.settrace(tracer)
            sys._getframe(1).f_trace = tracer

        def square(x):
            y = x * x
            return y

        def loop(n):
            t = 0
            for i in range(n):
                if i == 3:
                    start_tracing()
                t += square(i)
            return t

        def run():
            r = loop(6)
            sys.settrace(None)
            return r

        print(run())
        for e in events:
            print(e)
        print(loop(6))
        """,
        compiled=["loop"],
    )
    assert "('loop', 'line'" in plain.stdout and "('square', 'call'" in plain.stdout


def test_frame_object_that_outlives_the_call():
    """A callee keeps its own frame object after returning (through psyco's direct call
    path): its locals, line, and its caller's frame and line are CPython's."""
    assert_same_as_cpython(
        """
        import sys
        saved = []
        def callee(x):
            saved.append(sys._getframe())
            return x + 1
        def caller(n):
            t = 0
            for i in range(n):
                t += callee(i)
            return t
        print(caller(5))
        f = saved[-1]
        print(f.f_code.co_name, sorted(f.f_locals), f.f_lineno)
        print(f.f_back.f_code.co_name, f.f_back.f_lineno, sorted(f.f_back.f_locals.items()))
        print(len({id(s) for s in saved}))
        """,
        compiled=["callee", "caller"],
    )
