# compiled: same_as_kept, radd_sees_it, passed_on
# An unboxed number that a local holds (an argument: the frame keeps its object) and that
# is also on the value stack when compiled code leaves (here: the type guard of the list
# item after it fails, `type_changed`) leaves as the local's own object, so the interpreter
# that goes on compares, or hands on, the very object the program has: `x is KEEP[0]` was
# False, and `__radd__` was given a copy (found by objects_floats_read_in_place).

KEEP = [None]


def same_as_kept(other):
    return other is KEEP[0]


class Probe:
    def __radd__(self, other):
        return other is KEEP[0], type(other).__name__


def radd_sees_it(xs, probe):
    out = []
    for i in range(len(xs)):
        x = xs[i]
        KEEP[0] = x
        out.append(x + probe)
    return out


def passed_on(x, items):
    seen = []
    for it in items:
        seen.append(it is x)
    return seen


for v in [2**60, 3000, 7, 1.5, 2**70, -0.0, float("nan"), 2**62]:
    KEEP[0] = v
    print(repr(v), same_as_kept(v))
print(radd_sees_it([1.5, 2**60, 3.5, 2**61, 7, True, 2.5], Probe()))
big, f = 2**61, 2.75
print(passed_on(big, [big, 2**61, f, big]), passed_on(f, [f, 2.75, big, f]))
