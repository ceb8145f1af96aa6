# compiled: table, divmods
# Floor division and modulo with every sign combination, with ints, bigints and floats.

def table(values):
    rows = []
    for a in values:
        for b in values:
            if b == 0:
                continue
            rows.append((a, b, a // b, a % b, -a // b, a % -b))
    return rows


def divmods(a, b):
    q = a // b
    r = a % b
    assert q * b + r == a
    return q, r, divmod(a, b)


for row in table([7, -7, 3, -3, 1, -1, 0, 10**20 + 1, -(10**20) - 1]):
    print(row)
for a, b in [(7.5, 2), (-7.5, 2), (7.5, -2), (-7.0, -2.5), (1, 0.3), (-1, 0.3), (2**64, -3), (-(2**63), -1)]:
    print(a, b, a // b, a % b, divmod(a, b))
for a, b in [(-9223372036854775808, -1), (9223372036854775807, -2), (-13, 4), (13, -4)]:
    print(divmods(a, b))
