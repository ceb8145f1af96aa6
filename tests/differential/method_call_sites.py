# compiled: drive, Counter.bump, Counter.total
# Method calls after LOAD_METHOD run through a per-site cache of the method's code: methods
# rebound on the class mid-loop, shadowed by instance attributes, static and class methods,
# defaults, a method whose __code__ is replaced, and objects of different classes at one site.


class Counter:
    def __init__(self, start):
        self.n = start

    def bump(self, k):
        self.n += k
        return self.n

    def total(self):
        return self.n * 2


class Other:
    def bump(self, k):
        return -k

    def total(self, scale=3):
        return scale

    @staticmethod
    def helper(k):
        return k * 100

    @classmethod
    def make(cls, k):
        return cls.__name__ + str(k)


def drive(objs, rounds):
    out = []
    for r in range(rounds):
        for o in objs:
            out.append(o.bump(r))
            out.append(o.total())
    return out


c = Counter(1)
print(drive([c, Other(), Counter(10)], 3))


def doubled_bump(self, k):
    self.n += 2 * k
    return self.n


Counter.bump = doubled_bump
print(drive([c], 3))
c.bump = lambda k: ("shadowed", k)
print(drive([c, Counter(0)], 2))
del c.bump
Counter.total.__code__ = Other.total.__code__
try:
    print(drive([c], 2))
except TypeError as e:
    print("TypeError:", e)
Counter.total.__defaults__ = (5,)
print(drive([c], 2))


def statics(n):
    o = Other()
    return [o.helper(i) for i in range(n)] + [o.make(i) for i in range(n)]


print(statics(3))
