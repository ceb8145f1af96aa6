# compiled: total_area, names, run_changes, guarded
# Properties whose getter is a Python function of one argument, read through instances:
# the getter called directly. Getters that raise (AttributeError and others), return other
# types, recurse, properties replaced or deleted while a loop runs, instance `__dict__`
# entries of the same name (a data descriptor wins), subclasses overriding the property
# with a plain attribute, setter-only properties, and property subclasses (generic path).


class Rect:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    @property
    def area(self):
        return self.w * self.h

    @property
    def name(self):
        if self.w < 0:
            raise AttributeError("negative width")
        if self.w == 13:
            raise ValueError("unlucky")
        return "r%d" % self.w


class Square(Rect):
    area = 7


class MyProp(property):
    pass


class Odd:
    def __init__(self, v):
        self.v = v

    area = MyProp(lambda self: self.v + 1000)
    only_set = property(None, lambda self, v: None)


def total_area(shapes):
    t = 0
    for s in shapes:
        t += s.area
    return t


def names(shapes):
    out = []
    for s in shapes:
        try:
            out.append(s.name)
        except AttributeError as e:
            out.append("AE:" + str(e))
        except ValueError as e:
            out.append("VE:" + str(e))
    return out


def guarded(objs):
    out = []
    for o in objs:
        try:
            out.append(o.only_set)
        except AttributeError as e:
            out.append(str(e))
    return out


def run_changes(n):
    shapes = [Rect(i, 2) for i in range(n)]
    r = [total_area(shapes)]
    shapes[0].__dict__["area"] = 10**6
    r.append(total_area(shapes))
    Rect.area = property(lambda self: -1)
    r.append(total_area(shapes))
    del Rect.area
    try:
        r.append(total_area(shapes))
    except AttributeError as e:
        r.append(str(e))
    return r


def run():
    shapes = [Rect(i, 3) for i in range(300)]
    print(total_area(shapes), total_area(shapes[:5] + [Square(1, 1), Odd(2)]))
    print(names([Rect(i, 1) for i in (1, -1, 13, 2)]), names(shapes[:3]))
    print(guarded([Odd(1), Odd(2)]))
    print(run_changes(50))


run()
