# compiled: sums, floats, mixed, replaced, divides, identities, speculated, count_inside
# Small numeric functions inlined into their callers, and every way such a call leaves
# before it begins: an overflow, a zero divisor (its traceback names the callee, as the
# interpreter's call makes it), the function given another __code__, arguments of another
# type than speculated; and what must stay apart: a callee returning its argument or a
# constant gives the very object back.


def add(a, b):
    if a < b:
        return a + b
    return b + a


def sums(n, start):
    total = start
    for i in range(n):
        total = add(total, i)
    return total


def scale(x, k):
    y = x * k
    if y > 10.0:
        y = y - 10.0
    return -y


def floats(n):
    acc = 0.0
    for i in range(n):
        acc = scale(acc, 1.5) + i
    return acc


def half(x):
    return x / 2


def mixed(values):
    out = []
    for v in values:
        out.append(half(v))
    return out


def twice(x):
    return x + x


def thrice(x):
    return x * 3


def replaced(n):
    total = 0
    for i in range(n):
        if i == n // 2:
            twice.__code__ = thrice.__code__
        total += twice(i)
    return total


def ratio(a, b):
    return a // b


def divides(n):
    total = 0
    for i in range(n):
        total += ratio(100, 3 - i)
    return total


def first(a, b):
    return a


def thousand(a):
    return 1000


def identities(n):
    seen = []
    for i in range(n):
        x = i * 1000
        seen.append((first(x, i) is x, thousand(i) is thousand(i + 1)))
    return seen


def speculated(values, start):
    acc = start
    for v in values:
        acc = add(acc, v)
    return acc


def inside(x, y):
    return x * x + y * y < 4.0


def count_inside(n):
    hits = []
    for i in range(n):
        x = i * 0.25 - 2.0
        if inside(x, 0.5):
            hits.append(inside(x, x) is True)
    return hits


print(count_inside(20))
print(sums(100, 0))
print(sums(50, 2**63 - 100))
print(sums(50, 2**63 - 100))
print(sums(10, -(2**63)))
print(floats(30))
print(floats(5))
print(mixed([1, 2.5, -3, 0.0, -0.0, float("inf"), float("nan"), 7]))
print(replaced(10))
print(replaced(10))
try:
    print(divides(6))
except ZeroDivisionError:
    import traceback

    traceback.print_exc()
print(identities(3))
print(speculated([1, 2, 3], 0))
print(speculated([1.5, 2.5, 3], 0.5))
print(speculated([1, 2**40, 2**70, 3], 0))
print(speculated([0.5, 1, "x"] if False else [0.5, 1, 2.25], 1))
try:
    print(speculated([1, 2, "three"], 0))
except TypeError as e:
    print("TypeError", e)
