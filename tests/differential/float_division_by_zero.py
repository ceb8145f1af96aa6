# compiled: fdiv, fmod, ffloordiv, run
# Float division, floor division and modulo by 0.0 and -0.0 all raise ZeroDivisionError.

def fdiv(a, b):
    return a / b


def fmod(a, b):
    return a % b


def ffloordiv(a, b):
    return a // b


def run():
    out = []
    for a in (1.0, -1.0, 0.0, 5, float("inf")):
        for b in (0.0, -0.0, 0, 2.0, False):
            for name, f in (("/", fdiv), ("%", fmod), ("//", ffloordiv)):
                try:
                    out.append((name, a, b, f(a, b)))
                except ZeroDivisionError as e:
                    out.append((name, a, b, type(e).__name__, str(e)))
    return out


for row in run():
    print(row)
