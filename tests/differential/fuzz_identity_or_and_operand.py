# compiled: or_arg, or_copy, and_copy
# xfail: psyco bug: the value of `a or b` / `b and a` is a new box of the number `a`, so `(a or b) is a` is False (floats and ints outside the small-int cache; both backends) -- the join of a short-circuit operator re-boxes as a conditional expression's does (float_identity_conditional_expr.py)
# Found by the differential fuzzer (tests/fuzz, seed 30298; shrunk to `x = a; ((x or a) is x,)`,
# then reduced by hand).


def or_arg(a, b):
    return (a or b) is a


def or_copy(a, b):
    x = a
    return (x or b) is x


def and_copy(a, b):
    x = a
    return (b and x) is x


print(or_arg(0.1, 2.0), or_arg(1000, 1), or_arg(7, 1))
print(or_copy(0.1, 2.0), or_copy(1000, 1), and_copy(0.1, 2.0), and_copy(1000, 1))
