# compiled: comps, comps.<locals>.<listcomp>, comps.<locals>.<dictcomp>, unpack, swap_loop
# list/dict/set comprehensions (nested, filtered) and unpacking with starred targets.

def comps(n):
    squares = [i * i for i in range(n) if i % 2]
    grid = [[r * c for c in range(3)] for r in range(n)]
    inverse = {v: k for k, v in enumerate("abcde"[:n])}
    mods = {i % 3 for i in range(n)}
    flat = [x for row in grid for x in row if x]
    return squares, grid, inverse, sorted(mods), flat


def unpack(seq):
    a, *b = seq
    *c, d = seq
    e, *f, g = seq
    return a, b, c, d, e, f, g


def swap_loop(pairs):
    out = []
    for x, (y, *zs) in pairs:
        x, y = y, x
        out.append((x, y, zs))
    return out


print(comps(5))
print(comps(0))
print(unpack([1, 2, 3, 4]), unpack("xy"), unpack(range(3)))
try:
    unpack([1])
except ValueError as e:
    print("ValueError", e)
print(swap_loop([(1, (2, 3, 4)), ("a", "bc")]))
first, (second, third), *rest = [1, (2, 3), 4, 5]
print(first, second, third, rest)
d = {**{"a": 1}, "b": 2, **{"a": 3}}
print(d, [*range(3), *"ab"], (*[1], 2))
