# compiled: series, ops, accumulate
# Float arithmetic results printed with repr: rounding, tiny/huge values, negative zero.

def series(n):
    out = []
    x = 0.0
    for i in range(n):
        x += 0.1
        out.append(x)
    return out


def ops(a, b):
    return a + b, a - b, a * b, a / b, a // b, a % b, -a, abs(a), a ** 2


def accumulate(values):
    s = 0.0
    p = 1.0
    for v in values:
        s = s + v * 0.5
        p = p * (v + 1.0)
    return s, p, s / 3, repr(s), str(p)


print(series(12))
for a, b in [(1.5, 0.25), (-7.25, 2.0), (1e154, 10.0), (1e-308, 1e10), (-0.0, 1.0), (0.1, 0.2), (3.0, -0.7), (1e308, 10.0)]:
    try:
        print(ops(a, b))
    except OverflowError as e:
        print("OverflowError", e)
print(accumulate([0.5, 1.5, -2.25, 1e-5, 123456.789]))
print(accumulate([]))
print(1e308 * 10, -1e308 * 10, 2.0 ** 0.5, 10.0 ** -3, (-8.0) ** (1 / 3))
try:
    print(ops(1e308, 1e-308))
except OverflowError as e:
    print("OverflowError", e)
