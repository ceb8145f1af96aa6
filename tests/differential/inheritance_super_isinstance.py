# compiled: Base.describe, Derived.describe, Derived.__init__, Leaf.describe, classify, run
# Inheritance chains, super() in methods and __init__, method overriding, isinstance/issubclass.

class Base:
    def __init__(self, v):
        self.v = v

    def describe(self):
        return f"Base({self.v})"

    def twice(self):
        return self.describe() + "+" + self.describe()


class Derived(Base):
    def __init__(self, v, w):
        super().__init__(v * 10)
        self.w = w

    def describe(self):
        return "Derived/" + super().describe() + f"/{self.w}"


class Leaf(Derived):
    def describe(self):
        return "Leaf/" + super().describe()


class Mixin:
    def describe(self):
        return "Mixin>" + super().describe()


class Combined(Mixin, Leaf):
    pass


def classify(x):
    tags = []
    for cls in (Base, Derived, Leaf, Mixin, int, bool, object, (str, bytes)):
        if isinstance(x, cls):
            tags.append(cls.__name__ if isinstance(cls, type) else "str|bytes")
    return tags


def run():
    objs = [Base(1), Derived(2, "w"), Leaf(3, "l"), Combined(4, "c")]
    for o in objs:
        print(o.describe())
        print(o.twice())
        print(classify(o))
    print(classify(True), classify("s"), classify(3.5))
    print(issubclass(Combined, Base), issubclass(Base, Leaf), [c.__name__ for c in Combined.__mro__])


run()
