# compiled: use_methods, fill, errors
# Methods of exact builtin types called straight through their C functions (METH_O,
# METH_NOARGS, METH_FASTCALL): results, errors and tracebacks as in CPython; subclasses and
# shadowing keep the generic path.
import traceback


def use_methods(s, l, d, text):
    for i in range(4):
        s.add(i % 3)
        l.append(i * i)
        d.setdefault(i % 2, []).append(i)
    s.discard(0)
    popped = l.pop()
    parts = text.split(",")
    return sorted(s), l, popped, d, d.get(5), d.get(1, "none"), parts, text.upper(), ",".join(parts)


print(use_methods(set(), [], {}, "a,b,c"))
print(use_methods({9}, [1], {0: ["x"]}, "x"))


class MySet(set):
    def add(self, x):
        print("MySet.add", x)
        super().add(x * 10)


class MyList(list):
    pass


ml = MyList([5])
ml.append = lambda x: print("shadowed append", x)
print(use_methods(MySet(), ml, {}, "q"))


def fill(s, n):
    for i in range(n):
        s.add(i)
        if i in s:
            s.remove(i)
        s.add(-i)
    return len(s), s


print(fill(set(), 5))
print(fill({100}, 3))


def errors(s, l, d, text):
    out = []
    for attempt in range(3):
        try:
            if attempt == 0:
                s.add([attempt])
            elif attempt == 1:
                l.pop()
            else:
                s.remove("missing")
        except (TypeError, IndexError, KeyError) as e:
            out.append(type(e).__name__ + ": " + str(e))
    out.append(d.pop("k", "default"))
    out.append(text.startswith(("a", "b")))
    return out


print(errors(set(), [], {}, "beta"))
try:
    errors(set(), [], {}, 5)
except AttributeError:
    traceback.print_exc()


def uncaught(s):
    s.remove(42)


try:
    uncaught({1})
except KeyError:
    traceback.print_exc()
uncaught({2})
