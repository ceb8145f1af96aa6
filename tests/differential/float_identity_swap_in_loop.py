# compiled: swap, walrus_args, listed
# Was an xfail: floats swapped between two locals inside a loop (`x, y = y, x`) were
# re-boxed, so `x is a` was False after the loop. A local rebound while its value is still
# on the stack now gives that stack entry its object first (`Frontend::before_rebinding`).

def swap(a, b, n):
    x, y = a, b
    for i in range(n):
        x, y = y, x
    return x is a, y is b


print(swap(2.5, 1.5, 2))
print(swap(2**70, 2**71, 2), swap("s", "t", 2))
print(swap(2.5, 1.5, 301), swap(2**62, 2**61, 1000), swap(-0.0, float("nan"), 7))


def walrus_args(x, n):
    out = []
    for i in range(n):
        keep = x
        out.append(same(x, (x := x + 1.5), keep))
    return out, x


def same(a, b, keep):
    return a is keep


def listed(x):
    keep = x
    return [x, (x := 7.5)][0] is keep, [x, x, (x := 1.0)]


print(walrus_args(2.5, 3), walrus_args(2**62, 2), listed(0.25), listed(2**62))
