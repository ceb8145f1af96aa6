# compiled: B.f, C.f, D.f, B.g, B.cm, B.missing, B.closes, B.stat, B.prop_via_super, E.h, run_mixed, B.deleted
# Zero-argument `super().name(...)` where `name` is a plain function after `__class__` in
# the MRO: called directly with `self`. And every other shape, generically: classmethods
# (self a type), staticmethods, properties and data found through super, missing names
# (AttributeError texts), `self` deleted or captured in a cell, an instance not of the class
# (TypeError), diamonds (the MRO order), methods rebound while running, super().__init__.
import traceback


class A:
    K = 7

    def __init__(self, v=1):
        self.v = v

    def f(self, x):
        return x * 2

    def g(self):
        return "A.g"

    @classmethod
    def cm(cls):
        return "A.cm:" + cls.__name__

    @staticmethod
    def st(x):
        return x + 1

    @property
    def p(self):
        return "A.p"


class B(A):
    def __init__(self, v):
        super().__init__(v * 10)

    def f(self, x):
        return super().f(x + 1)

    def g(self):
        return super().g() + "B"

    @classmethod
    def cm(cls):
        return super().cm() + "/B"

    def missing(self):
        return super().nothing()

    def closes(self):
        h = lambda: self
        return super().f(3), h() is self

    def stat(self):
        return super().st(4), super().K

    def prop_via_super(self):
        return super().p

    def deleted(self):
        del self
        return super().f(1)


class C(B):
    def f(self, x):
        return super().f(x) + 100


class L(A):
    def f(self, x):
        return super().f(x) + 1000


class D(C, L):
    def f(self, x):
        return super().f(x) - 1


class E:
    def h(self):
        return super().__repr__()[:2]


def attempt(f, *args):
    try:
        return f(*args)
    except (AttributeError, TypeError, RuntimeError) as e:
        return f"{type(e).__name__}: {e}"


def run_mixed(n):
    b, c, d = B(1), C(2), D(3)
    t = 0
    for i in range(n):
        t += b.f(i) + c.f(i) + d.f(i)
    return t, b.v, c.v, D.__mro__[1].__name__


def run():
    print(run_mixed(300), B(1).g(), B.cm(), B(1).cm(), attempt(B(1).missing))
    print(B(1).closes(), B(1).stat(), B(1).prop_via_super(), E().h())
    print(attempt(B(1).deleted), attempt(B.f, A(), 1), attempt(C.f, B(1), 2))
    try:
        B(1).missing()
    except AttributeError:
        print(traceback.format_exc().splitlines()[-3:])
    old = A.f
    A.f = lambda self, x: -x
    print(run_mixed(5))
    A.f = old
    print(run_mixed(5))


run()
