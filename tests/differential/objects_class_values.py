# compiled: area, scaled, labels, tagged, run_changes
# Class attributes that are no descriptors, read through instances (`self.SIDES`): compiled
# as constants of the class under its type version; instance attributes that shadow them
# (set later, in `__dict__`, on some instances only), the class attribute rebound or deleted
# while the loop runs, subclasses overriding it, `__slots__` classes, descriptors and
# `__getattr__` (the generic path).


class Shape:
    SIDES = 4
    NAME = "shape"
    RATIO = 1.5
    NOTHING = None

    def __init__(self, w):
        self.w = w


class Tri(Shape):
    SIDES = 3


class Slotted:
    __slots__ = ("w",)
    SIDES = 6

    def __init__(self, w):
        self.w = w


class Lazy:
    SIDES = 8

    def __getattr__(self, name):
        return 99


class Prop:
    def __init__(self, w):
        self.w = w

    @property
    def SIDES(self):
        return self.w * 10


def area(shapes):
    t = 0
    for s in shapes:
        t += s.SIDES * s.w
    return t


def scaled(shapes):
    t = 0.0
    for s in shapes:
        t += s.RATIO * s.w
    return t


def labels(shapes):
    return [s.NAME + str(s.NOTHING) for s in shapes]


def tagged(shapes):
    out = 0
    for s in shapes:
        out += s.SIDES
    return out


def run_changes(n):
    shapes = [Shape(i) for i in range(n)]
    r = [tagged(shapes)]
    shapes[3].SIDES = 100
    r.append(tagged(shapes))
    Shape.SIDES = 5
    r.append(tagged(shapes))
    del shapes[3].SIDES
    del Shape.SIDES
    try:
        r.append(tagged(shapes))
    except AttributeError as e:
        r.append(str(e))
    Shape.SIDES = 4
    shapes[5].__dict__["SIDES"] = -1
    r.append(tagged(shapes))
    return r


def run():
    shapes = [Shape(i) for i in range(200)]
    print(area(shapes), scaled(shapes), labels(shapes[:2]))
    print(area([Tri(i) for i in range(50)]), area([Slotted(i) for i in range(50)]))
    print(area(shapes[:10] + [Tri(2), Slotted(3)]), tagged([Lazy(), Lazy()]), tagged([Prop(1), Prop(2)]))
    print(run_changes(100))


run()
