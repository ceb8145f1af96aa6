# compiled: walk_list, walk_tuple, walk_str, walk_dict, nested
# for over lists, tuples, strings, dicts (keys, values, items), with nested loops.

def walk_list(xs):
    out = []
    for x in xs:
        out.append(x * 2)
    return out


def walk_tuple(t):
    s = 0
    for a, b in t:
        s += a * b
    return s


def walk_str(s):
    vowels = 0
    caps = []
    for ch in s:
        if ch in "aeiou":
            vowels += 1
        caps.append(ch.upper())
    return vowels, "".join(caps)


def walk_dict(d):
    keys = []
    for k in d:
        keys.append(k)
    vals = 0
    for v in d.values():
        vals += v
    items = []
    for k, v in d.items():
        items.append(f"{k}={v}")
    return keys, vals, items


def nested(rows):
    out = []
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            for ch in str(cell):
                out.append((i, j, ch))
    return out


print(walk_list([1, 2, 3]), walk_list(["a", "b"]), walk_list([]), walk_list([[1], (2,)]))
print(walk_tuple(((1, 2), (3, 4), (5, 6))), walk_tuple(()))
print(walk_str("hello world"), walk_str(""), walk_str("ünïcode é"))
print(walk_dict({"x": 1, "y": 2, "z": 3}), walk_dict({}))
print(nested([[12, "ab"], [3.5]]))
