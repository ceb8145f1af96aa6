# compiled: measure
# Was an xfail: a call leaving compiled code for the interpreter left the code unquickened,
# so the rest of __enter__ called next() the generic way, which counts a recursion level that
# the specialized call does not; such calls now warm the code up as RESUME would.
# Reduced from CPython 3.11's Lib/test/test_support.py (test_recursion): infinite_recursion(4)
# sets the limit from the depth of its caller, and set_recursion_limit, a @contextmanager,
# then finds itself one level deeper than in CPython, at the limit.
import contextlib

from _testinternalcapi import get_recursion_depth

seen = []


@contextlib.contextmanager
def probe():
    seen.append(get_recursion_depth())
    yield


def measure():
    base = get_recursion_depth()
    with probe():
        pass
    return seen[-1] - base


depths = [measure() for _ in range(100)]
print("depth inside a @contextmanager body, relative to its caller: first", depths[0], "warm", depths[-1])
