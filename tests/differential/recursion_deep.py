# compiled: depth, fib, ackermann, sum_list
# Deep recursion (~900 frames) under the default recursion limit; plus classic recursive functions.
import sys

print(sys.getrecursionlimit())


def depth(n):
    if n == 0:
        return 0
    return 1 + depth(n - 1)


def sum_list(xs, i):
    if i == len(xs):
        return 0
    return xs[i] + sum_list(xs, i + 1)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


print(depth(900), depth(900), depth(10))
print(sum_list(list(range(850)), 0))
print([fib(i) for i in range(20)])
print(ackermann(2, 3))
