# compiled: compare_all, minmax, classify
# nan and inf in every comparison operator, in branches, and mixed with ints.
import math

NAN = float("nan")
INF = float("inf")


def compare_all(a, b):
    return (a < b, a <= b, a == b, a != b, a > b, a >= b)


def classify(x):
    if x != x:
        return "nan"
    if x == INF:
        return "+inf"
    if x == -INF:
        return "-inf"
    if x < 0:
        return "neg"
    if x > 0:
        return "pos"
    return "zero"


def minmax(values):
    lo = values[0]
    hi = values[0]
    for v in values:
        if v < lo:
            lo = v
        if v > hi:
            hi = v
    return lo, hi


vals = [NAN, INF, -INF, 0.0, -0.0, 1.5, 1, 2**1000, -(2**1000)]
for a in vals:
    for b in vals:
        print(a, b, compare_all(a, b))
print([classify(v) for v in vals])
print(minmax([3.0, NAN, 1.0, 7.0]), minmax([NAN, 3.0, 1.0]), minmax([INF, -INF, 0]))
print(INF - INF, INF * 0, math.isnan(INF - INF), -INF < 2**2000 < INF, 2**1024 > 1.7976931348623157e308)
try:
    print(2**1024 * 1.0)
except OverflowError as e:
    print("OverflowError", e)
