# compiled: keep_while, swap_in_loop, from_list, returned, branchy, aug_zero
# xfail: psyco bug: float identity lost after a loop-carried swap and after a conditional expression (see float_identity_swap_in_loop, float_identity_conditional_expr)
# Identity of float/int/bigint objects held in locals across loop heads, branches and swaps.

def keep_while(x, n):
    y = x
    i = 0
    while i < n:
        i += 1
    return y is x, x is x


def swap_in_loop(a, b, n):
    x, y = a, b
    for i in range(n):
        x, y = y, x
    return x is a, y is b, x is b


def from_list(values):
    first = values[0]
    hits = 0
    for v in values:
        if v is first:
            hits += 1
    return hits, first is values[0]


def returned(x, n):
    for i in range(n):
        if i > 100:
            x = x + 1.0
    return x


def branchy(x, flag):
    y = x if flag else x * 1
    for i in range(2):
        z = y
    return z is x, y is x


def aug_zero(x):
    y = x
    y += 0
    return y is x, y == x


for v in (2.5, float("inf"), 2**70, 10**3, 7, -0.0):
    r = returned(v, 3)
    print(repr(v), keep_while(v, 3), swap_in_loop(v, 1.25, 3), swap_in_loop(v, 1.25, 4),
          from_list([v, 1.0, v]), r is v, branchy(v, True), aug_zero(v)[1])
