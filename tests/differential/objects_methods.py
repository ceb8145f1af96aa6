# compiled: run, drive, via_class, total
# Methods of Python classes called directly with self (no bound method), and Class.m(self)
# calls, under the guards that make them leave: another class at the same site, a method
# rebound on the class or shadowed on the instance, a materialized __dict__, __class__
# assigned, subclasses overriding, classmethods and staticmethods, and errors in callees.


class Counter:
    def __init__(self, start):
        self.n = start

    def bump(self, k):
        self.n += k
        return self.n

    def value(self):
        return self.n


class Double(Counter):
    def bump(self, k):
        return Counter.bump(self, 2 * k)


class Slotted:
    __slots__ = ("n",)

    def __init__(self, start):
        self.n = start

    def bump(self, k):
        self.n -= k
        return self.n

    @classmethod
    def make(cls, n):
        return cls(n)

    @staticmethod
    def half(x):
        return x / 2


def drive(objs, rounds):
    t = 0
    for _ in range(rounds):
        for o in objs:
            t += o.bump(1)
    return t


def via_class(objs):
    t = 0
    for o in objs:
        t += Counter.bump(o, 3) + Counter.value(o)
    return t


def total(objs):
    t = 0.0
    for o in objs:
        t += o.value() + Slotted.half(4) + Slotted.make(1).n
    return t


def attempt(f, *args):
    try:
        return f(*args)
    except (TypeError, AttributeError, ZeroDivisionError) as e:
        return f"{type(e).__name__}: {e}"


def run():
    cs = [Counter(i) for i in range(50)]
    print(drive(cs, 20), via_class(cs), total(cs))
    print(drive(cs + [Double(1), Slotted(5)], 5), drive([Slotted(i) for i in range(30)], 3))
    # The class changes under compiled code.
    Counter.bump = lambda self, k: -k
    print(drive(cs[:5], 3), via_class(cs[:3]))
    del Counter.bump
    print(attempt(drive, cs[:2], 1))
    def bump(self, k):
        self.n *= k + 1
        return self.n
    Counter.bump = bump
    print(drive(cs[:4], 2))
    # An instance attribute shadows the method; a materialized __dict__.
    cs[1].bump = lambda k: 1000
    print(drive(cs[:3], 2))
    vars(cs[2])["extra"] = 0
    print(drive(cs[2:5], 2))
    cs[3].__class__ = Double
    print(drive(cs[3:6], 2), type(cs[3]).__name__)
    # Errors raised in and by the calls.
    class Bad(Counter):
        def bump(self, k):
            return 1 / 0
    print(attempt(drive, cs[5:7] + [Bad(0)], 1))
    print(attempt(via_class, [Slotted(1)]))
    print(attempt(drive, [object()], 1))


run()
