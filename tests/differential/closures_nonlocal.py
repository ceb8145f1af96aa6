# compiled: make_counter, make_counter.<locals>.inc, cells_in_loop, make_adders, use_partial, apply_all
# Closures: nonlocal rebinding, cells modified in loops, late-binding lambdas, functools.partial.
import functools


def make_counter(start):
    count = start

    def inc(k=1):
        nonlocal count
        count += k
        return count

    return inc


def cells_in_loop(n):
    total = 0

    def add(x):
        nonlocal total
        total += x

    for i in range(n):
        add(i)
        total *= 2 if i == 3 else 1
    return total


def make_adders(n):
    late = [lambda x: x + i for i in range(n)]
    bound = [lambda x, i=i: x + i for i in range(n)]
    return [f(100) for f in late], [f(100) for f in bound]


def power(base, exp):
    return base ** exp


def use_partial():
    square = functools.partial(power, exp=2)
    two_to = functools.partial(power, 2)
    return [square(i) for i in range(5)], [two_to(i) for i in range(5)], two_to(exp=10)


def apply_all(fs, x):
    out = []
    for f in fs:
        out.append(f(x))
    return out


c = make_counter(10)
print(c(), c(), c(5), c(-20))
c2 = make_counter(2**62)
print(c2(2**62), c2(2**62))
print(cells_in_loop(6))
print(make_adders(4))
print(use_partial())
print(apply_all([abs, str, lambda v: v * 3, make_counter(1), functools.partial(max, 5)], -7))
