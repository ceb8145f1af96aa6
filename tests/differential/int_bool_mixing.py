# compiled: combine, count_true, bool_arith
# bool is an int subclass: arithmetic, comparisons and identities of mixed int/bool.

def combine(a, b):
    return a + b, a - b, a * b, a // b if b else None, a % b if b else None, a & b, a | b, a ^ b, -a, a << 2


def count_true(items):
    n = 0
    for x in items:
        n += x > 0
        n += bool(x)
    return n


def bool_arith(flags):
    total = True
    for f in flags:
        total = total + f
        total *= True
    return total, type(total).__name__, True + True, False - True, True * 5, ~True, -False


for a in (True, False, 0, 1, -1, 2**64):
    for b in (True, False, 3, -2):
        print(a, b, combine(a, b))
print(count_true([0, 1, -1, 2, True, False, 0.0, 3.5]))
print(bool_arith([True, False, True, 1, 0]))
print(True & False, True | False, True ^ True, type(True & False).__name__, type(True & 1).__name__)
