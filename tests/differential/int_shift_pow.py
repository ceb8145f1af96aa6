# compiled: shifts, powers, rshifts, bitops
# << overflowing into bigints, >> of negatives, ** with big/negative exponents, bit ops.

def shifts(x):
    out = []
    for k in range(0, 70, 7):
        out.append(x << k)
    return out


def rshifts(x):
    out = []
    for k in (0, 1, 3, 31, 62, 63, 64, 65, 200):
        out.append(x >> k)
    return out


def powers(base):
    out = []
    for e in range(0, 50, 7):
        out.append(base ** e)
    out.append(base ** -1 if base else "skip")
    out.append(base ** 0)
    return out


def bitops(a, b):
    return a & b, a | b, a ^ b, ~a, ~b, (a << 3) & (b >> 1)


for x in (1, -1, 3, -5, 2**40, -(2**40)):
    print(x, shifts(x))
    print(x, rshifts(x))
for b in (0, 1, -1, 2, -3, 10):
    print(b, powers(b))
for a, b in [(0xFF00FF, 0x0FF0F0), (-1, 2**65), (-(2**63), 2**63 - 1), (12345, -6789)]:
    print(bitops(a, b))
try:
    shifts_neg = (lambda x, k: x << k)(1, -1)
except ValueError as e:
    print("ValueError", e)


def bad_shift(x, k):
    return x >> k


try:
    bad_shift(5, -2)
except ValueError as e:
    print("ValueError", e)
