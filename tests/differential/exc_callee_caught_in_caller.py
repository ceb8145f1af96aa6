# compiled: parse, lookup, caller, deep_a, deep_b, deep_c
# Exceptions raised in compiled callees (several frames deep) and caught in compiled callers.

def parse(s):
    return int(s)


def lookup(d, k):
    return d[k]


def deep_c(n):
    if n == 3:
        raise KeyError(n)
    return [10, 20][n]


def deep_b(n):
    return deep_c(n) + 1


def deep_a(n):
    return deep_b(n) * 2


def caller(inputs):
    out = []
    for s in inputs:
        try:
            out.append(parse(s))
        except ValueError as e:
            out.append(("ValueError", str(e)))
    for k in ("a", "zz", 1):
        try:
            out.append(lookup({"a": 1, 1: "one"}, k))
        except KeyError as e:
            out.append(("KeyError", e.args))
    for n in range(5):
        try:
            out.append(deep_a(n))
        except IndexError as e:
            out.append(("IndexError", str(e)))
        except KeyError as e:
            out.append(("KeyError", e.args[0]))
    return out


for item in caller(["1", "x", "-42", "3.5", "99999999999999999999"]):
    print(item)
