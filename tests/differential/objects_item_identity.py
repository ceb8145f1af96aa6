# compiled: ident, walk
# Items and attributes read by profiled sites keep CPython's identity: an int that is not
# one of the cached small ints, or a float, read from a list is the very object stored
# there (found by the fuzzer: `xs[1] is a` was False once one-digit ints were unboxed).


class Box:
    def __init__(self, v):
        self.v = v


def ident(a, b):
    x = a + b
    xs = [x, a]
    box = Box(a)
    return (xs[0] is x, xs[1] is a, box.v is a, xs[1] == a)


def walk(values):
    out = []
    for v in values:
        xs = [v, v + 1]
        out.append((xs[0] is v, xs[1] == v + 1))
    return out


for args in [(1, 2), (300, 5), (2.5, 1.0), (2**40, 1), (-7, -8), (True, 3)] * 3:
    print(ident(*args))
print(walk([1, 257, 3.5, 2**62, -6, 100] * 20)[-6:])
