# compiled: where, caller_one, caller_two, loop_lines, inspect_chain
# sys._getframe() / inspect.currentframe() from compiled callees: line numbers and f_back names.
import inspect
import sys


def where():
    f = sys._getframe()
    back = f.f_back
    return f.f_code.co_name, f.f_lineno, back.f_code.co_name, back.f_lineno


def caller_one():
    return where()


def caller_two(n):
    x = n * 2
    info = where()
    y = x + 1
    return info, y


def loop_lines(n):
    out = []
    for i in range(n):
        if i % 2:
            out.append(where()[3])
        else:
            out.append(sys._getframe().f_lineno)
    return out


def inspect_chain():
    frame = inspect.currentframe()
    names = []
    while frame is not None:
        names.append((frame.f_code.co_name, frame.f_lineno))
        frame = frame.f_back
    return names


def outer():
    return inspect_chain()


print(caller_one())
print(caller_two(5))
print(loop_lines(4))
print(outer())
print(sys._getframe(0).f_code.co_name, sys._getframe(1).f_code.co_name if False else "-")
print([f.function for f in inspect.stack()[:1]], inspect.stack()[0].lineno)
