# compiled: rebind_while_read, attr_loop, subscr_loop, leaves_while_borrowed, refcounts, swap_loop, identity_tests
# `LOAD_FAST` of an object pushes it without a reference of its own when the operation that
# reads it needs none (`obj.attr`, `seq[i]`, `seq[i] = v`, `is`, `is None`): the local rebound or deleted
# while its value is still on the stack (walrus, augmented assignment), exits with such
# values on the stack (a raise, a type change, an unsupported opcode), exception handlers
# unwinding past them, and reference counts after loops, which must be CPython's own.
import sys


class P:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Q:
    def __init__(self, v):
        self.v = v


def rebind_while_read(n):
    out = []
    for i in range(n):
        xs = [i, i + 1, i + 2]
        # The outer subscript reads the old list after the walrus rebinds `xs`.
        out.append(xs[(xs := [0, 1, 2])[1]])
        out.append(xs[2])
        p = P(i, -i)
        out.append(p.x + (p := P(100, 200)).y)
        out.append(p.x)
    return out[-8:], len(out)


def attr_loop(points):
    t = 0.0
    for p in points:
        t += p.x * p.y
        p.x = p.x + 1.0
    return t


def subscr_loop(rows):
    total = 0
    for r in rows:
        total += r[0] - r[-1]
        r[1] = r[0] + r[2]
        r[0] += 1
    return total


def leaves_while_borrowed(items):
    log = []
    for it in items:
        try:
            log.append(it.v + 1)
        except AttributeError as e:
            log.append("no v: %s" % e)
        except TypeError as e:
            log.append("type: %s" % e)
        try:
            log.append(it.v[0])
        except (TypeError, AttributeError, IndexError) as e:
            log.append(type(e).__name__)
    return log


def refcounts(n):
    obj = Q([1, 2, 3])
    lst = [obj, obj]
    before = sys.getrefcount(obj), sys.getrefcount(lst)
    for i in range(n):
        a = lst[0].v[1] + lst[1].v[2]
        lst[i % 2] = lst[(i + 1) % 2]
        obj.v[0] = obj.v[1] + a
    after = sys.getrefcount(obj), sys.getrefcount(lst)
    return before == after, obj.v


def swap_loop(n):
    a, b = [1], [2]
    for i in range(n):
        a, b = b, a
        a[0] += b[0]
    return a, b


def identity_tests(items):
    counts = [0, 0, 0, 0]
    prev = None
    for it in items:
        if it is None:
            counts[0] += 1
        if it is not None and it is prev:
            counts[1] += 1
        same = it is (it := prev)
        counts[2] += same
        if prev is None or it is None:
            counts[3] += 1
        prev = items[len(items) // 2] if it is None else it
    return counts


points = [P(float(i), float(i) / 3) for i in range(50)]
print(rebind_while_read(300))
print(attr_loop(points), attr_loop(points))
points[10] = P(1, 2)
print(attr_loop(points))
points[11] = P("a", 3)
try:
    attr_loop(points)
except TypeError as e:
    print("TypeError", e)
rows = [[i, i * 2, i * 3] for i in range(100)]
print(subscr_loop(rows), subscr_loop(rows), rows[:3])
rows.append((1, 2, 3))
try:
    subscr_loop(rows)
except TypeError as e:
    print("TypeError", e)
items = [Q(i) for i in range(200)] + [Q("s"), Q([7]), P(1, 2), Q(None), 5, Q([])]
print(leaves_while_borrowed(items)[-14:])
print(refcounts(500))
print(swap_loop(301))
shared = Q(1)
print(identity_tests([None, shared, shared, None, Q(2), None] * 40 + [1.5, 1.5, 2**70, "s", "s"]))
