# compiled: helper, run_traced
# sys.settrace switched on inside a compiled function: the traced events of its callees (`leaf`
# runs inlined into `helper` when not traced).
import sys

events = []


def tracer(frame, event, arg):
    if frame.f_code.co_filename == __file__:
        events.append((event, frame.f_code.co_name, frame.f_lineno))
    return tracer


def leaf(x):
    y = x + 1
    return y * 2


def helper(n):
    total = 0
    for i in range(n):
        total += leaf(i)
    return total


def run_traced(n):
    before = helper(n)
    sys.settrace(tracer)
    during = helper(n)
    sys.settrace(None)
    after = helper(n)
    return before, during, after


print(run_traced(2))
for e in events:
    print(e)
print(sys.gettrace())
