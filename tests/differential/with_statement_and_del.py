# compiled: use, nested_with, deleting, Ctx.__enter__, Ctx.__exit__
# with-statements whose __exit__ suppresses or lets exceptions through; `del` of locals in loops.

log = []


class Ctx:
    def __init__(self, name, suppress=False):
        self.name = name
        self.suppress = suppress

    def __enter__(self):
        log.append(("enter", self.name))
        return self.name.upper()

    def __exit__(self, et, ev, tb):
        log.append(("exit", self.name, et.__name__ if et else None))
        return self.suppress


def use(x, suppress):
    with Ctx("a", suppress) as v:
        if x == 0:
            raise ValueError("zero")
        y = 10 // x
    return v, locals().get("y")


def nested_with(n):
    out = []
    for i in range(n):
        with Ctx("outer"), Ctx(f"inner{i}", suppress=i % 2 == 1):
            if i:
                raise KeyError(i)
            out.append(i)
    return out


def deleting(n):
    out = []
    for i in range(n):
        tmp = i * i
        if i % 2:
            del tmp
        try:
            out.append(tmp)
        except UnboundLocalError:
            out.append("unbound")
    return out


print(use(5, False), use(0, True))
try:
    use(0, False)
except ValueError as e:
    print("ValueError", e)
try:
    print(nested_with(3))
except KeyError as e:
    print("KeyError", e)
print(nested_with(1))
print(deleting(5))
for entry in log:
    print(entry)
