# compiled: Vec.__add__, Vec.__eq__, Vec.__lt__, total, sort_check, compare_all
# User-defined __add__/__radd__/__mul__/__eq__/__lt__/__bool__ used by compiled arithmetic/compare.
import functools


@functools.total_ordering
class Vec:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __add__(self, other):
        if isinstance(other, Vec):
            return Vec(self.x + other.x, self.y + other.y)
        if isinstance(other, int):
            return Vec(self.x + other, self.y + other)
        return NotImplemented

    def __radd__(self, other):
        return self + other

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k)

    def __eq__(self, other):
        return isinstance(other, Vec) and (self.x, self.y) == (other.x, other.y)

    def __lt__(self, other):
        return (self.x ** 2 + self.y ** 2) < (other.x ** 2 + other.y ** 2)

    def __bool__(self):
        return bool(self.x or self.y)

    __hash__ = None

    def __repr__(self):
        return f"Vec({self.x}, {self.y})"


def total(vs):
    s = 0
    for v in vs:
        s = s + v
    return s


def compare_all(a, b):
    return a == b, a != b, a < b, a <= b, a > b, a >= b, bool(a), not b


def sort_check(vs):
    out = sorted(vs)
    return out, min(vs), max(vs), Vec(0, 0) in vs


vs = [Vec(3, 4), Vec(1, 1), Vec(-2, 0), Vec(0, 0)]
print(total(vs), total([]), vs[0] + 5, 5 + vs[0], vs[0] * 3)
for a in vs:
    for b in vs[:2]:
        print(a, b, compare_all(a, b))
print(sort_check(vs))
try:
    print(vs[0] + "s")
except TypeError as e:
    print("TypeError", e)
print(Vec(1, 2) == (1, 2), Vec(1, 2) != Vec(1, 2))
try:
    hash(Vec(1, 2))
except TypeError as e:
    print("TypeError", e)
