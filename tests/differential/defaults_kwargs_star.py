# compiled: f, kwonly, star, collect, forward, driver
# Default arguments (including a mutable one), keyword args, *args/**kwargs callers and callees.

def f(a, b=2, c=3):
    return a * 100 + b * 10 + c


def kwonly(a, *, key="k", flag=False):
    return f"{a}-{key}-{flag}"


def star(*args, **kwargs):
    return args, sorted(kwargs.items())


def collect(x, acc=[]):
    acc.append(x)
    return len(acc)


def forward(*args, **kwargs):
    return f(*args, **kwargs)


def driver():
    out = []
    out.append(f(1))
    out.append(f(1, 5))
    out.append(f(1, c=7))
    out.append(f(c=1, b=2, a=3))
    out.append(f(*[4, 5, 6]))
    out.append(f(*(7,), **{"c": 9}))
    out.append(kwonly(1))
    out.append(kwonly(2, flag=True))
    out.append(kwonly(3, key="z", flag=None))
    out.append(star())
    out.append(star(1, 2, x=3))
    out.append(star(*range(3), **{"b": 1, "a": 2}))
    out.append(forward(1, 2))
    out.append(forward(1, c=0))
    for i in range(3):
        out.append(collect(i))
    for bad in ((), (1, 2, 3, 4), ("x",)):
        try:
            out.append(f(*bad) if bad != ("x",) else f(1, d=1))
        except TypeError as e:
            out.append(str(e))
    try:
        kwonly(1, 2)
    except TypeError as e:
        out.append(str(e))
    return out


for item in driver():
    print(item)
print(f.__defaults__, collect.__defaults__, kwonly.__kwdefaults__)
