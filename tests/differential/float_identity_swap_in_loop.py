# compiled: swap
# xfail: psyco bug: floats swapped between two locals inside a loop (`x, y = y, x`) are re-boxed, so `x is a` is False after the loop
# Smallest reproducer: the loop-carried swap of two float locals loses their identity.

def swap(a, b, n):
    x, y = a, b
    for i in range(n):
        x, y = y, x
    return x is a, y is b


print(swap(2.5, 1.5, 2))
print(swap(2**70, 2**71, 2), swap("s", "t", 2))
