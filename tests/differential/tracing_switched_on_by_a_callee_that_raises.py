# compiled: caught, propagated, outer
# A tracer or profiler that a callee switches on sees, for the compiled callers the exception
# then reaches, exactly the interpreter's events: 'exception', 'line' and 'return' (or the
# profiler's 'return'), and no 'call' for frames that were already running when it started.
import sys

events = []
WATCHED = ("caught", "propagated", "outer", "_switch_on_and_raise")


def tracer(frame, event, arg):
    if frame.f_code.co_name in WATCHED:
        events.append(("trace", frame.f_code.co_name, frame.f_lineno - frame.f_code.co_firstlineno, event))
    return tracer


def profiler(frame, event, arg):
    if frame.f_code.co_name in WATCHED:
        events.append(("profile", frame.f_code.co_name, event))


def _switch_on_and_raise(which):
    if which == "trace":
        sys.settrace(tracer)
        sys._getframe().f_back.f_trace = tracer
        sys._getframe().f_back.f_back.f_trace = tracer
    elif which == "profile":
        sys.setprofile(profiler)
    raise RuntimeError(which)


def caught(which, n):
    total = 0
    for i in range(n):
        total += i
    try:
        _switch_on_and_raise(which)
    except RuntimeError as e:
        total += len(str(e))
    return total


def propagated(which, n):
    total = 0
    for i in range(n):
        total += i
    _switch_on_and_raise(which)
    return total


def outer(which, n):
    try:
        return propagated(which, n)
    except RuntimeError:
        return -1


for which in ("trace", "profile", "none"):
    for _ in range(3):
        print(which, caught(which, 50), outer(which, 50))
        sys.settrace(None)
        sys.setprofile(None)
for event in events:
    print(event)
