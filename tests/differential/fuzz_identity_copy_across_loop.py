# compiled: arg_self, copy_pass
# xfail: psyco bug: a number copied into a second local (`y = x`) loses its identity across a loop when the loop reassigns the copy (`y = y`) or when the value was computed (`x = a + b`, never boxed before the loop), so `y is x` is False after the loop (floats and ints outside the small-int cache; both backends)
# Found by the differential fuzzer (tests/fuzz, seed 6, shrunk and reduced by hand). ARCHITECTURE.md
# (Object identity) says a local assigned from another shares its box; float_identity_loop_copy.py
# covers the one shape that works: an argument copied, the loop not touching the copy.


def arg_self(x, n):
    y = x
    for i in range(n):
        y = y
    return y is x


def copy_pass(a, b, n):
    x = a + b
    y = x
    for i in range(n):
        pass
    return y is x


print(arg_self(1.5, 3), arg_self(1000, 3), arg_self(2**62 + 1, 3), arg_self(7, 3))
print(copy_pass(1.5, 2.5, 3), copy_pass(1000, 1, 3), copy_pass(2, 3, 3))
