# compiled: run, total_xy, move_all, read_k
# Instance attributes compiled natively (slots and inline values) and every way they leave
# for the generic path: unset and deleted attributes, class attributes, a materialized
# __dict__, more than 30 attributes, properties, __getattr__, a class changed mid-loop
# (attribute added, method rebound, __class__ assigned, bases changed), subclasses.


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Plain:
    k = 100

    def __init__(self, x, y):
        self.x = x
        self.y = y


class Sub(Plain):
    pass


class AltBase:
    k = -5


class Other:
    def __init__(self, x, y):
        self.y = y
        self.x = x


class WithProperty:
    def __init__(self, x):
        self._x = x

    @property
    def x(self):
        return self._x * 10

    y = 1.5


class Fallback:
    def __getattr__(self, name):
        return 7.0


class Wide:
    pass


def total_xy(objs):
    t = 0.0
    for o in objs:
        t += o.x * 2.0 - o.y
    return t


def move_all(objs, dx):
    for o in objs:
        o.x += dx
        o.y = o.y - dx


def read_k(objs):
    out = []
    for o in objs:
        out.append(o.k)
    return out


def attempt(f, *args):
    try:
        return f(*args)
    except AttributeError as e:
        return f"AttributeError: {e}"


def run():
    ps = [Plain(i * 0.5, i * 0.25) for i in range(200)]
    ss = [Slotted(i * 0.5, i * 0.25) for i in range(200)]
    print(total_xy(ps), total_xy(ss))
    move_all(ps, 1.0)
    move_all(ss, 2.0)
    print(total_xy(ps), total_xy(ss))
    # Mixed types at the same sites.
    mixed = ps[:50] + ss[:50] + [Sub(1.0, 2.0), Other(3.0, 4.0)] * 20
    print(total_xy(mixed))
    move_all(mixed, 0.5)
    print(total_xy(mixed))
    # Ints where floats were seen.
    ints = [Plain(i, i + 1) for i in range(100)]
    print(total_xy(ints))
    move_all(ints, 3)
    print(total_xy(ints), ints[5].x, ints[5].y)
    # Unset and deleted attributes.
    s = Slotted(1.0, 2.0)
    del s.y
    print(attempt(total_xy, ss[:10] + [s]))
    p = Plain(1.0, 2.0)
    del p.x
    print(attempt(total_xy, ps[:10] + [p]))
    print(attempt(move_all, ps[:3] + [p], 1.0), hasattr(p, 'x'))
    # A materialized __dict__ mid-way, and more than 30 attributes.
    q = Plain(5.0, 6.0)
    vars(q)["extra"] = 1
    print(total_xy(ps[:5] + [q] + ps[5:10]))
    w = Wide()
    for i in range(35):
        setattr(w, f"a{i}", i)
    w.x, w.y = 1.0, 2.0
    print(total_xy([w, w, w] + ps[:3]))
    # Properties, __getattr__ and class attributes read through instances.
    print(attempt(total_xy, [WithProperty(3.0), WithProperty(4.0)]))
    print(total_xy([Fallback(), Fallback()]))
    print(read_k(ps[:3]), read_k([Sub(0, 0)]))
    # The class changes while the code is compiled for it.
    Plain.k = 200
    print(read_k(ps[:2]))
    ps[0].k = "own"
    print(read_k(ps[:2]))
    Plain.x = property(lambda self: -1.0)
    print(total_xy(ps[:4]))
    del Plain.x
    print(total_xy(ps[:4]))
    ps[1].__class__ = Other
    print(total_xy(ps[:4]), type(ps[1]).__name__)
    subs = [Sub(0, 0)]
    print(read_k(subs))
    Sub.__bases__ = (AltBase,)
    print(read_k(subs))
    # Errors on other kinds of objects.
    print(attempt(total_xy, [1.5]))
    print(attempt(move_all, [None], 1.0))


run()
