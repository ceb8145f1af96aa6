# compiled: sizes, sizes_loop
# `len` shadowed by a module global while compiled code uses it, then deleted (builtin again).

def sizes(items):
    return [len(x) for x in items], len(items)


def sizes_loop(items):
    out = []
    for x in items:
        out.append(len(x))
    return out


data = ["a", "bb", [1, 2, 3], ()]
print(sizes(data), sizes_loop(data))


def len(x):
    return -1


print(sizes(data), sizes_loop(data))
len = lambda x: "shadowed"
print(sizes_loop(data))
del len
print(sizes(data), sizes_loop(data))
try:
    del len
except NameError as e:
    print("NameError", e)
print(sizes_loop(data))
