# compiled: step, scan, run
# An exception raised at iteration 37 of a compiled loop, several calls deep: traceback lines
# (with carets) and the loop state seen by the handler, then the same error uncaught.
import sys
import traceback


def step(i, table):
    return table[i % 7] // (i - 37)


def scan(n, table):
    acc = 0
    for i in range(n):
        acc += step(i, table)
    return acc


def run(n):
    try:
        return scan(n, [1, 2, 3, 4, 5, 6, 7])
    except ZeroDivisionError:
        etype, value, tb = sys.exc_info()
        print(etype.__name__, value)
        for frame, lineno in traceback.walk_tb(tb):
            print("  ", frame.f_code.co_name, lineno, frame.f_locals.get("i"), frame.f_locals.get("acc"))
        traceback.print_exc(file=sys.stdout)
        return None


print(run(30), run(40))
scan(50, [1, 2, 3, 4, 5, 6, 7])
