# compiled: compare_all, words, below, inlined
# Machine ints compared with floats: exactly, as Python compares them. Up to 2**53 an int
# converts to a double exactly and the comparison is native; beyond (2**53 + 1 against the
# double 2**53, which a conversion would round to equal), the interpreter compares them.
# NaN and the infinities on the float side; the same inside an inlined call.


def compare_all(ints, x):
    out = []
    for i in ints:
        n = i + 0
        out.append((n < x, n <= x, n == x, n != x, n > x, n >= x))
    return out


def words(step, x):
    out = []
    for k in range(-5, 6):
        n = step * k + k
        out.append((n < x, n == x, n >= x))
    return out


def below(i, x):
    return i < x


def inlined(ints, x):
    hits = 0
    flags = []
    for i in ints:
        n = i * 1
        if below(n, x):
            hits += 1
        flags.append(below(x, n))
    return hits, flags


edge = 2**53
ints = [0, 1, -1, 3, edge - 1, edge, edge + 1, -edge, -edge - 1, 2**62, -(2**63)]
for x in [0.5, -0.0, 3.0, float(edge), float(edge) + 2.0, -float(edge), 1e300, float("inf"), -float("inf"), float("nan")]:
    print(x, compare_all(ints, x))
    print(x, inlined(ints, x))
print(compare_all(ints, 3.0))
for step in [1, 2**51, 2**52, 2**60]:
    print(step, words(step, float(2**53)), words(step, -1.5), words(step, float("nan")))
