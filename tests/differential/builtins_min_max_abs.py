# compiled: clamp, spread, fmix, magnitudes, shadowed, floats
# `min`/`max` of two or three machine ints or floats, `abs` of a machine int and `float` of a
# machine int computed inline: ties keep the first argument, NaN and signed zeros as CPython
# orders them, the most negative word (whose absolute value needs a bigger int), ints past
# 2**53 (rounded to nearest even), bools, big ints and strs (the generic call), and a
# shadowed `min`.


def clamp(n, lo, hi):
    t = 0
    for i in range(n):
        t += min(max(i - 50, lo), hi) + max(i % 7, 3, i % 11) - min(i, 40, 20)
    return t


def spread(xs):
    t = 0
    for x in xs:
        t += abs(x - 10) + abs(-x)
    return t


def fmix(xs):
    t = 0.0
    out = []
    for x in xs:
        t += max(x, 0.5) + min(x, 2.0, 1.5)
        out.append(min(x, -0.0))
    return t, out[:4]


def magnitudes(a, b):
    return abs(a) + abs(b), min(a, b), max(a, b, 0)


def shadowed(n):
    t = 0
    for i in range(n):
        t += min(i, 3)
    return t


def floats(xs):
    t = 0.0
    out = []
    for x in xs:
        t += float(x) / 3
        out.append(float(x))
    return t, out[-3:]


def attempt(f, *args):
    try:
        return f(*args)
    except (TypeError, ValueError) as e:
        return f"{type(e).__name__}: {e}"


def run():
    global min
    print(clamp(300, 0, 120), clamp(10, -5, 5), spread(list(range(-50, 50))), spread([2**62, -(2**62)]))
    print(spread([-(2**63), 1]), spread([True, False]), spread([1.5, -2.5]), attempt(spread, ["x"]))
    nan = float("nan")
    print(fmix([0.1 * i for i in range(30)]), fmix([nan, 1.0, -0.0, 0.0]), fmix([0.0, -0.0]))
    print(magnitudes(-3, 4), magnitudes(-(2**63), 0), magnitudes(2**63 - 1, -(2**63)), magnitudes(2**70, -1))
    print(magnitudes(True, -1), magnitudes(1.5, -2), attempt(magnitudes, "a", 1))
    print(min(-0.0, 0.0), max(0.0, -0.0), min(nan, 1.0), min(1.0, nan), max(nan, 2.0, 1.0))
    print(floats(range(100)), floats([2**53 + 1, 2**63 - 1, -(2**63), 2**62 + 2**9 + 1]))
    print(floats([True, 2**70, 5]), attempt(floats, ["1.5", "x"]), floats([1.5, -0.0]))
    print(shadowed(100))
    min = lambda a, b: a * 100 + b
    print(shadowed(100))
    del min


run()
