# compiled: append_while, remove_while, pop_front, dict_change
# Mutating a list while iterating over it (appends, removals) and a dict (RuntimeError).

def append_while(xs):
    seen = []
    for x in xs:
        seen.append(x)
        if x < 5:
            xs.append(x + 3)
    return seen, xs


def remove_while(xs):
    seen = []
    for x in xs:
        seen.append(x)
        if x % 2 == 0:
            xs.remove(x)
    return seen, xs


def pop_front(xs):
    out = []
    for i, x in enumerate(xs):
        out.append((i, x))
        if xs:
            xs.pop(0)
    return out, xs


def dict_change(d):
    try:
        for k in d:
            d[k + "!"] = 1
    except RuntimeError as e:
        return "RuntimeError", str(e), len(d)
    return "no error"


print(append_while([1, 2, 6]))
print(remove_while([2, 4, 5, 6, 8, 9, 10]))
print(pop_front(list(range(8))))
print(dict_change({"a": 0, "b": 1}))
xs = [1, 2, 3]
for x in xs:
    if len(xs) < 6:
        xs.insert(0, x * 10)
print(xs)
