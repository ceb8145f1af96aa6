# compiled: g
# Smallest reproducer: the copy `k = x` of a float argument loses its identity across a loop.

def g(x, n):
    k = x
    for i in range(n):
        pass
    return k is x


print(g(2.5, 3))
print(g(2**70, 3), g(7, 3), g("s", 3))
