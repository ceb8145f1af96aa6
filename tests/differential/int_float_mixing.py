# compiled: mix, poly_sum, convert
# ints (small and big) and floats mixed in arithmetic and comparisons; int()/float() conversions.

def mix(i, f):
    return i + f, f + i, i * f, i - f, f / i if i else None, i / 2, i // 2.0, i % 2.5, i == f, i < f


def poly_sum(values):
    total = 0
    for v in values:
        total = total + v
    return total, type(total).__name__


def convert(x):
    return int(x), float(int(x)), round(x), round(x, 1), int(-x)


for i in (0, 1, -3, 2**53, 2**53 + 1, 2**64, -(2**70)):
    for f in (0.5, -2.0, 1e20):
        print(i, f, mix(i, f))
print(poly_sum([1, 2, 3]), poly_sum([1, 2.5, 3]), poly_sum([2**100, 0.5]), poly_sum([True, 2, 0.25]))
for x in (2.5, 3.5, -2.5, 1e18 + 0.5, 123.456):
    print(convert(x))
print(2**53 + 1 == float(2**53 + 1), 2**53 + 1 > float(2**53), 10**400 > 1e308, 7 / 2, -7 / 2, 1 / 3)
