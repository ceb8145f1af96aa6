# compiled: make, tries, deep, change, shapes
# Instantiation of classes with a Python `__init__` and the default `__new__`, made directly
# (`calls::instantiate`): subclasses, `__slots__`, `__init__` returning non-None, abstract
# classes, wrong argument counts, recursion while constructing, `__init__` rebound while
# running, and the classes that take the generic call (own `__new__`, metaclass `__call__`,
# builtin bases, defaults).
import abc


class V:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class W(V):
    pass


class S:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


class Bad:
    def __init__(self):
        return 5


class A2(abc.ABC):
    @abc.abstractmethod
    def f(self): ...

    def __init__(self):
        pass


class Rec:
    def __init__(self, n):
        self.c = Rec(n - 1) if n else None


class New:
    def __new__(cls, x):
        obj = super().__new__(cls)
        obj.made = "new"
        return obj

    def __init__(self, x):
        self.x = x


class Meta(type):
    def __call__(cls, *args):
        return ("meta", args)


class M(metaclass=Meta):
    def __init__(self, x):
        self.x = x


class L(list):
    def __init__(self, x):
        super().__init__([x, x])


class D:
    def __init__(self, x, y=7):
        self.s = x + y


def make(n):
    t = 0
    for i in range(n):
        v = V(i, 2)
        w = W(i, 3)
        s = S(i, -i)
        t += v.x + w.y + s.a + s.b
    return t


def tries():
    out = []
    for cls in (Bad, A2):
        try:
            cls()
        except TypeError as e:
            out.append(str(e))
    for args in ((1,), (1, 2, 3)):
        try:
            V(*args)
        except TypeError as e:
            out.append(str(e))
    try:
        V(1)
    except TypeError as e:
        out.append(str(e))
    return out


def deep(n):
    try:
        Rec(n)
        return "ok"
    except RecursionError:
        return "RecursionError"


def change():
    r = []
    for i in range(4):
        r.append(type(V(i, i)).__name__)
        if i == 1:
            def init(self, a, b):
                self.x = -a
            V.__init__ = init
        r.append(V(i, 0).x)
    return r


def shapes(n):
    r = []
    for i in range(n):
        r.append((New(i).made, M(i), L(i), D(i).s, D(i, 1).s))
    return r[-1]


print(make(1000), tries(), deep(100), deep(100000))
print(shapes(50))
print(change())
