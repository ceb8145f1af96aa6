# compiled: run, dot, scale, pick, swap_pairs, firsts, walk
# list[i], tuple[i], list[i] = v, unpacking and list iteration compiled natively, and every
# way they leave: negative and out-of-range indices (CPython's IndexError texts), huge
# indices, other containers at the same site, list subclasses, mutation while iterating,
# wrong lengths and non-iterables when unpacking, big ints and other types among the items.


class MyList(list):
    def __getitem__(self, i):
        return 1000


def dot(a, b, n):
    t = 0.0
    for i in range(n):
        t += a[i] * b[i]
    return t


def scale(a, k):
    for i in range(len(a)):
        a[i] = a[i] * k
    return a


def pick(seq, idxs):
    out = []
    for i in idxs:
        out.append(seq[i])
    return out


def swap_pairs(pairs):
    out = []
    for a, b in pairs:
        out.append((b, a))
    return out


def firsts(rows):
    t = 0
    for row in rows:
        x, y, z = row
        t += x - y + z
    return t


def walk(xs):
    seen = []
    for x in xs:
        seen.append(x)
        if len(seen) == 3:
            xs.append(99)
        if len(seen) > 6:
            break
    return seen


def attempt(f, *args):
    try:
        return f(*args)
    except (IndexError, TypeError, ValueError, KeyError) as e:
        return f"{type(e).__name__}: {e}"


def run():
    a = [i * 0.5 for i in range(300)]
    b = [i * 0.25 for i in range(300)]
    print(dot(a, b, 300), dot(tuple(a), tuple(b), 300))
    print(attempt(dot, a, b, 301))
    print(attempt(dot, tuple(a), b, 301))
    print(dot([1, 2, 3] * 100, [4, 5, 6] * 100, 300))
    print(dot(MyList([1.0, 2.0]), [1.0, 2.0], 2))
    print(attempt(dot, {0: 1.0, 1: 2.0}, [1.0, 2.0], 2), attempt(dot, {0: 1.0}, [1.0, 2.0], 2))
    print(attempt(dot, "ab", [1.0, 2.0], 2))
    print(scale(list(range(50)), 3)[-3:], scale([0.5] * 40, 2.0)[:2])
    print(attempt(scale, (1, 2), 2))
    print(scale([2**62, 2**62, 1], 4)[-3:])
    xs = list(range(20))
    print(pick(xs, [0, 5, -1, -20]), attempt(pick, xs, [3, 20]), attempt(pick, xs, [-21]))
    print(attempt(pick, xs, [2**70]), attempt(pick, tuple(xs), [-2**70]))
    print(pick("abcdef", [0, -1, 3]), pick({"k": 1, 2: 3}, ["k", 2]), attempt(pick, {"k": 1}, ["z"]))
    print(pick(xs, [True, False, 1]))
    pairs = [(i, i * 2) for i in range(100)]
    print(swap_pairs(pairs)[:3], swap_pairs([[1, 2], (3, 4)]), swap_pairs(["ab", {5: 6, 7: 8}]))
    print(attempt(swap_pairs, [(1, 2, 3)]), attempt(swap_pairs, [(1,)]), attempt(swap_pairs, [7]))
    print(firsts([(1, 2, 3)] * 100 + [[4, 5, 6]] * 3), attempt(firsts, [(1, 2)]), attempt(firsts, [[1, 2, 3, 4]]))
    print(firsts([(2**70, 1, 1)] * 2 + [(1.5, 2, 3)]))
    print(walk([1, 2, 3, 4]), walk([1.0, "s", None]), walk([]))
    big = [1, 2, 3, 2**100, 5, -(2**64), 7]
    print(pick(big, range(7)), dot(big, [1] * 7, 7))
    mixed = [1.0, 2, 3.5, "x"]
    print(attempt(dot, mixed, [1.0] * 4, 4))
    ys = [0.5] * 10
    ys.clear()
    print(attempt(dot, ys, [1.0], 1))


run()
