# compiled: distances, row_dot, scaled_ratio, below_limit, mixed_items, float_locals
# A float attribute or list item that arithmetic reads next, of an object or list a local
# holds, is read where it is loaded, without a reference: the value changes type mid-loop
# (an int, a bool, None, a str, a float subclass), a division by zero right after the read,
# comparisons against floats and ints, in-place operators, and the identity of the objects
# (still CPython's: the items are never re-boxed). A float local that arithmetic reads with
# another number is read in place too; with anything else (an object with `__radd__`) it is
# passed as itself.


class V:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class MyFloat(float):
    def __sub__(self, other):
        return "sub"


class Plain:
    def __init__(self, x):
        self.x = x


def distances(points, origin):
    total = 0.0
    for p in points:
        dx = p.x - origin.x
        dy = p.y - origin.y
        total += dx * dx + dy * dy
    return total


def row_dot(row, other):
    s = 0.0
    for j in range(len(row)):
        s += 2.0 * row[j] * other[j]
    return s


def scaled_ratio(items, d):
    out = []
    for it in items:
        try:
            out.append(it.x / d)
        except ZeroDivisionError as e:
            out.append("zero: %s" % e)
    return out


def below_limit(points, limit):
    n = 0
    for p in points:
        if p.x < limit:
            n += 1
        if p.y >= 0.5:
            n += 10
    return n


def mixed_items(xs):
    acc = 0.0
    seen = []
    for i in range(len(xs)):
        try:
            acc += xs[i] * 1.5 - 0.25
        except TypeError as e:
            seen.append(str(e))
    return acc, seen


class Probe:
    def __radd__(self, other):
        return other is KEEP[0]

    def __lt__(self, other):
        return other is KEEP[0]


KEEP = [None]


def float_locals(xs, probe):
    total = 0.0
    same = 0
    for i in range(len(xs)):
        x = xs[i]
        total += x * 2.0 - x / 4.0 + (x > 1000.0)
        KEEP[0] = x
        if x + probe:
            same += 1
        if x > probe:
            same += 1
        try:
            total += 1.0 / (x - 5.0)
        except ZeroDivisionError as e:
            total += 0.5
            print("zero", e)
    return total, same


pts = [V(i * 0.5, i / 7) for i in range(3000)]
o = V(1.25, -0.5)
print(distances(pts, o), distances(pts, o))
pts[100] = V(3, 4)
pts[101] = V(True, 2.5)
print(distances(pts, o))
pts[102] = V(MyFloat(1.5), 0.0)
try:
    distances(pts, o)
except TypeError as e:
    print("TypeError", e)
pts[102] = V(None, 1.0)
try:
    distances(pts, o)
except TypeError as e:
    print("TypeError", e)
row = [i * 0.25 for i in range(3000)]
other = [1.0 / (i + 1) for i in range(3000)]
print(row_dot(row, other), row_dot(row, other))
row[200] = 7
other[201] = 2**70
print(row_dot(row, other))
row[300] = "s"
try:
    row_dot(row, other)
except TypeError as e:
    print("TypeError", e)
items = [Plain(i * 1.5) for i in range(3000)]
print(scaled_ratio(items, 2.0)[-3:], scaled_ratio(items, 0.0)[-1], scaled_ratio(items, 0)[-1])
items[50] = Plain(7)
print(scaled_ratio(items, 4.0)[48:52])
pts[102] = V(0.75, 0.5)
print(below_limit(pts[:2900] + [V(0.1, 0.9)] * 50, 10.0), below_limit(pts[:90], 10))
try:
    below_limit(pts[:90] + [V(1, None)], 10)
except TypeError as e:
    print("TypeError", e)
xs = [i * 0.1 for i in range(3000)] + [2, None, "ab", 3.5, MyFloat(2.0)]
print(mixed_items(xs))
print(float_locals([i * 0.25 for i in range(3000)], Probe()))
print(float_locals([i * 0.25 for i in range(30)] + [7, 2**60, True, 1.5], Probe()))
keep = xs[5]
print(mixed_items(xs)[0], xs[5] is keep, row[10] is row[10])
