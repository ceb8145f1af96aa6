# compiled: collect, total, first_square_over, nested_ranges
# for over range: negative steps, empty ranges, huge ranges broken early, big bounds.
import sys


def collect(*args):
    out = []
    for i in range(*args):
        out.append(i)
    return out


def total(start, stop, step):
    s = 0
    for i in range(start, stop, step):
        s += i
    else:
        s += 1000000
    return s


def first_square_over(limit):
    for i in range(10**18):
        if i * i > limit:
            return i
    return None


def nested_ranges(n):
    out = []
    for i in range(n, 0, -1):
        for j in range(i):
            if j == 2:
                break
            out.append((i, j))
    return out


print(collect(10), collect(10, 0, -3), collect(-5, 5, 4), collect(0), collect(5, 5), collect(5, 0), collect(0, 5, -1))
print(collect(sys.maxsize - 2, sys.maxsize), collect(-sys.maxsize - 1, -sys.maxsize + 1))
print(collect(2**64, 2**64 + 3), collect(3, -2**64, -2**63)[:3])
print(total(0, 100, 1), total(100, 0, -7), total(0, 0, 1), total(5, 10, -1))
print(first_square_over(10**6), first_square_over(10**10))
print(nested_ranges(4))
try:
    collect(0, 10, 0)
except ValueError as e:
    print("ValueError", e)
