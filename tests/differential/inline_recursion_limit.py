# compiled: dive
# An inlined call at the recursion limit: the call that CPython's frame push refuses raises
# RecursionError at the same depth (the inlined body needs no frame, but the call leaves for
# the interpreter, which makes it and raises).
import sys


def leaf(a, b):
    return a * 2 + b


depth = [0]


def dive(n):
    depth[0] = n
    return leaf(n, 1) + dive(n + 1)


sys.setrecursionlimit(120)
for attempt in range(3):
    try:
        dive(0)
    except RecursionError as e:
        print("RecursionError at depth", depth[0], e)
