# compiled: grade, chain, sign, between
# if/elif/else chains, chained comparisons (evaluated once), `not`, conditional expressions.

calls = []


def val(x):
    calls.append(x)
    return x


def grade(score):
    if score >= 90:
        return "A"
    elif score >= 80:
        return "B"
    elif 70 <= score < 80:
        return "C"
    elif not score:
        return "zero"
    else:
        return "F"


def chain(a, b, c):
    return a < b < c, a <= b >= c, a == b == c, a != b != c, a < b > c, 1 < a < b < c < 100


def between(lo, x, hi):
    return val(lo) < val(x) < val(hi)


def sign(x):
    return -1 if x < 0 else (0 if not x else 1)


print([grade(s) for s in (95, 85, 75, 0, 50, 100, 79.5, 90.0)])
for t in [(1, 2, 3), (3, 2, 1), (2, 2, 2), (1, 3, 2), (0, 1, 2), (1.5, 2, 2**70)]:
    print(t, chain(*t))
print(between(1, 5, 3), calls)
calls.clear()
print(between(5, 1, 3), calls)
print([sign(x) for x in (-5, 0, 3, -0.0, 2.5, -(2**80), True, False)])
print(not 0, not 1, not [], not [0], not None, not "", not 0.0)
