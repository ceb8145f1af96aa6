# compiled: membership, identity, search
# `in` / `not in` over lists, tuples, strings, dicts, sets, ranges; `is` / `is not` with None and objects.

def membership(x):
    return (x in [1, 2, 3], x not in (4, 5), x in {"a": 1, 3: 0}, x in {1, 3}, x in range(0, 10, 3),
            str(x) in "123", x in [], x not in range(-1))


def identity(a, b):
    return a is b, a is not b, a is None, b is not None, (a is b) is True


def search(haystack, needles):
    out = []
    for n in needles:
        if n in haystack:
            out.append(n)
        elif n is None:
            out.append("none")
    return out


class Eq:
    def __eq__(self, other):
        return True


for x in (1, 3, 5, 9, 2**70, "a", 3.0, True):
    print(x, membership(x))
o = object()
print(identity(o, o), identity(o, object()), identity(None, None), identity([], []), identity(None, 0))
print(search("hello world", ["lo", "xyz", "", "w"]), search([1, None, 2], [None, 2, 5]))
print(Eq() in [1], 1 in [Eq()], search([Eq()], [7, None]))
try:
    print(1 in 5)
except TypeError as e:
    print("TypeError", e)
try:
    print([] in {1: 2})
except TypeError as e:
    print("TypeError", e)
