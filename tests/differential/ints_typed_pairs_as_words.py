# compiled: dot, diffs, grow_items, mixed
# `+ - *` of two int objects that guards typed (list items, zipped items, attributes) are
# computed on words when both have one digit; a bigger int leaves as a misprediction and the
# code compiled next adds objects. Items crossing one digit mid-loop, negative items, sums
# that then grow past a word, and mixed types.


class P:
    def __init__(self, a, b):
        self.a = a
        self.b = b


def dot(xs, ys):
    t = 0
    for a, b in zip(xs, ys):
        t += a * b
    return t


def diffs(ps):
    out = []
    for p in ps:
        out.append(p.a - p.b + p.a * p.b)
    return out[-3:], len(out)


def grow_items(xs):
    t = 0
    for i in range(len(xs) - 1):
        t += xs[i] * xs[i + 1]
    return t


def mixed(xs):
    t = 0
    for x, y in xs:
        t += x + y
    return t


def run():
    small = list(range(-500, 500))
    print(dot(small, small), dot(small, [2**29] * 1000), dot([2**31] * 5, [2**31] * 5), dot([2**62] * 3, [4] * 3))
    print(diffs([P(i, -i) for i in range(300)]), diffs([P(2**40, 3)] * 3), diffs([P(1, 2), P(2**70, 1)]))
    print(grow_items(list(range(1000))), grow_items([2**29, 2**29, 2**30, -(2**30), 5]))
    print(mixed([(1, 2)] * 100 + [(1.5, 2)] + [(2**64, 1)]), mixed([("a", "b")]) if False else mixed([(True, 2), (3, 4)]))


run()
