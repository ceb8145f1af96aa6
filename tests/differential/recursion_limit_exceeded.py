# compiled: down, mutual_a, mutual_b, attempt
# Recursion past sys.setrecursionlimit(200) raises RecursionError, caught; recursion works after.
import sys

sys.setrecursionlimit(200)


def down(n):
    if n == 0:
        return "bottom"
    return down(n - 1)


def mutual_a(n):
    return "a-end" if n == 0 else mutual_b(n - 1)


def mutual_b(n):
    return "b-end" if n == 0 else mutual_a(n - 1)


def attempt(f, n):
    try:
        return f(n)
    except RecursionError as e:
        return type(e).__name__


print(attempt(down, 50), attempt(down, 10**6), attempt(down, 100))
print(attempt(mutual_a, 61), attempt(mutual_a, 5000), attempt(mutual_b, 4))
for i in range(3):
    print(i, attempt(down, 10000), attempt(down, 20))


def infinite(n):
    return infinite(n + 1) + 1


try:
    infinite(0)
except RecursionError as e:
    print("caught", type(e).__name__)
print(down(30))
