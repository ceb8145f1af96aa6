# compiled: same, loop_identity, make, passthrough
# `is` on floats: the same object passed around stays identical; new results are new objects.

def passthrough(x):
    return x


def same(a, b):
    return a is b, a is not b, a == b


def make(x):
    return x + 0.0


def loop_identity(x, n):
    kept = x
    count = 0
    for i in range(n):
        y = passthrough(kept)
        if y is kept:
            count += 1
        kept = y
    return count, kept is x


a = 2.5
b = a
c = make(a)
print(same(a, b), same(a, c), same(passthrough(a), a))
print(loop_identity(a, 10), loop_identity(float("nan"), 3))
nan = float("nan")
print(same(nan, nan), nan in [nan], [nan].count(nan), nan == nan)
lst = [1.5, 2.5]
print(lst[0] is lst[0], passthrough(lst)[1] is lst[1])
d = {"k": 3.25}
print(passthrough(d["k"]) is d["k"], make(d["k"]) is d["k"], make(d["k"]) == d["k"])
