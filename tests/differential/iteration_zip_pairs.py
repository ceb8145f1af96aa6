# compiled: dot, strict_dot, unequal, others, pairs_sum, kv_total
# `for a, b in zip(list_a, list_b)` stepped inline (no tuple, no C call) and the items of
# unpacked pairs typed by their profiles: lists of unequal lengths (zip takes the first
# list's item before it finds the second's end), `strict=True` (ValueError texts), lists
# mutated while zipped, zips of other iterators and of three lists (the generic path), mixed
# item types (a misprediction), and `key, value` pairs of dict items.


def dot(xs, ys):
    t = 0
    for a, b in zip(xs, ys):
        t += a * b
    return t


def strict_dot(xs, ys):
    t = 0
    for a, b in zip(xs, ys, strict=True):
        t += a - b
    return t


def unequal(xs, ys):
    it = iter(xs)
    out = []
    for a, b in zip(it, ys):
        out.append(a + b)
    return out, list(it)


def others(a, b):
    out = []
    for x, y in zip(a, b):
        out.append((x, y))
        if len(out) > 4:
            break
    return out


def pairs_sum(ps):
    t = 0
    for x, y in ps:
        t += x * y
    return t


def kv_total(d):
    t = 0
    for k, v in d.items():
        t += len(k) * v
    return t


def attempt(f, *args):
    try:
        return f(*args)
    except (ValueError, TypeError) as e:
        return f"{type(e).__name__}: {e}"


def grow(xs, ys):
    out = []
    for a, b in zip(xs, ys):
        if a < 3:
            xs.append(a + 10)
            ys.append(b + 10)
        out.append(a * b)
    return out


def run():
    xs, ys = list(range(500)), list(range(500, 1000))
    print(dot(xs, ys), dot(xs, ys[:10]), dot([], ys), dot(xs + [0.5], ys + [2]), dot([2**40] * 3, [2**40] * 3))
    print(strict_dot(xs, ys), attempt(strict_dot, xs, ys[:-1]), attempt(strict_dot, xs[:-1], ys))
    print(unequal([1, 2, 3, 4], [10, 20]), unequal([1], [5, 6]))
    print(others((1, 2, 3), "abc"), others(range(3), [4, 5, 6]), others([1, 2], [3, 4]))
    print(attempt(dot, [1, 2], ["a", "b"]), grow([0, 1, 2, 3], [5, 6, 7, 8]))
    print(pairs_sum([(i, i + 1) for i in range(300)]), pairs_sum([(1.5, 2)] * 3 + [(2, 3)]), attempt(pairs_sum, [(1, 2, 3)]))
    print(kv_total({"ab": 2, "c": 3, "def": 4}), kv_total({str(i): i for i in range(200)}))
    print(list(zip([1, 2], [3, 4], [5, 6])), dot(iter([1, 2]), iter([3, 4])))


run()
