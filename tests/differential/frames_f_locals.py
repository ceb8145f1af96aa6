# compiled: peek, accumulate, mixed_locals, set_trace_on_caller
# A compiled callee reads its compiled caller's locals through frames (f_locals, f_back),
# while the caller holds ints, floats and bigints in loop variables.
import sys


def peek(names):
    caller = sys._getframe(1)
    loc = caller.f_locals
    return tuple(loc.get(n, "<unset>") for n in names)


def accumulate(n):
    total = 0
    ftotal = 0.5
    big = 2**62
    seen = []
    for i in range(n):
        total += i * 3
        ftotal *= 1.5
        big += big
        seen.append(peek(("i", "total", "ftotal", "big", "later")))
    later = "set"
    seen.append(peek(("later",)))
    return seen


def mixed_locals(a, b):
    c = a + b
    d = a * 0.25
    e = c > d
    return peek(("a", "b", "c", "d", "e"))


def set_trace_on_caller():
    return sys._getframe(1).f_code.co_name, sys._getframe(1).f_lineno


for row in accumulate(5):
    print(row)
print(mixed_locals(3, 4), mixed_locals(2**64, -1), mixed_locals(1.5, True))
print(set_trace_on_caller())
