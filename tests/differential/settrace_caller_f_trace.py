# compiled: loop_with_tracing, enable
# A callee sets the tracer and f_trace on its compiled caller mid-loop: the caller's own line
# events must then be reported, as in the interpreter. (`work` runs inlined into the loop.)
import sys

events = []


def tracer(frame, event, arg):
    if frame.f_code.co_filename == __file__:
        events.append((event, frame.f_code.co_name, frame.f_lineno))
    return tracer


def enable():
    sys._getframe(1).f_trace = tracer
    sys.settrace(tracer)


def work(x):
    return x * 2


def loop_with_tracing(n):
    total = 0
    for i in range(n):
        if i == 2:
            enable()
        total += work(i)
    sys.settrace(None)
    return total


print(loop_with_tracing(4))
for e in events:
    print(e)
