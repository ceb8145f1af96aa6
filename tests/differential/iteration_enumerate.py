# compiled: weighted, grow, starts, others, resumed, nested, pairs
# `for i, x in enumerate(a_list)` stepped inline (no tuple, no C call): the list mutated
# while it is enumerated (appends, clears, items replaced), starts (negative, huge: counts
# past a word), enumerations of tuples, strs, generators and dicts (a misprediction, then the
# generic path), an enumeration resumed after `next()`, nested loops, break and exceptions,
# and items unpacked further.


def weighted(xs):
    t = 0
    for i, x in enumerate(xs):
        t += i * x
    return t


def grow(xs):
    out = []
    for i, x in enumerate(xs):
        if i < 5:
            xs.append(x + 100)
        if i == 7:
            xs[9] = -1
        if x == -1:
            xs.clear()
        out.append((i, x))
    return out


def starts(xs, start):
    return [(i, x) for i, x in enumerate(xs, start)][-2:]


def others(it):
    t = []
    for i, x in enumerate(it):
        t.append((i, x))
        if i > 5:
            break
    return t


def resumed(xs):
    e = enumerate(xs)
    first = next(e)
    rest = []
    for i, x in e:
        rest.append(i + x)
    return first, rest, list(e)


def nested(n):
    t = 0
    rows = [list(range(k)) for k in range(n)]
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v == 3:
                continue
            t += i * 100 + j + v
    return t


def pairs(items):
    out = 0
    for i, (a, b) in enumerate(items):
        try:
            out += i * a // b
        except ZeroDivisionError:
            out -= 1
    return out


def gen(n):
    yield from range(n)


def run():
    print(weighted(list(range(1000))), weighted([]), weighted([2**70, 3]), weighted([1.5, 2.5]))
    print(weighted(list(range(500)) + [0.5] + list(range(500))), weighted(list(range(300)) + [2**65, True]))
    print(grow(list(range(12))))
    print(starts(list(range(10)), -3), starts([1, 2], 2**63 - 2), starts([1, 2, 3], 2**70))
    print(others((1, 2, 3)), others("abcdefgh"), others(gen(10)), others({"a": 1, "b": 2}))
    print(others(list(range(20))), others(iter([4, 5])))
    print(resumed([10, 20, 30, 40]), resumed([]) if False else resumed([1]))
    print(nested(30), pairs([(i, i % 4) for i in range(50)]))


run()
