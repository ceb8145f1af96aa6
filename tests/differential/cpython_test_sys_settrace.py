# compiled: settrace_and_raise
# From CPython 3.11's Lib/test/test_sys_settrace.py (settrace_and_raise, test_09).
import sys

events = []


def tracefunc(frame, event, arg):
    if frame.f_code.co_name in ("settrace_and_raise", "_settrace_and_raise"):
        events.append((frame.f_code.co_name, frame.f_lineno - frame.f_code.co_firstlineno, event))
    return tracefunc


def _settrace_and_raise(tracefunc):
    sys.settrace(tracefunc)
    sys._getframe().f_back.f_trace = tracefunc
    raise RuntimeError


def settrace_and_raise(tracefunc):
    try:
        _settrace_and_raise(tracefunc)
    except RuntimeError:
        pass


settrace_and_raise(tracefunc)
sys.settrace(None)
for event in events:
    print(event)
