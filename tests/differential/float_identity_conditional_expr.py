# compiled: pick
# xfail: psyco bug: a float passed through a conditional expression (`y = x if flag else 0.0`) is re-boxed, so `y is x` is False
# Smallest reproducer: the value merged at the end of a conditional expression loses its identity.

def pick(x, flag):
    y = x if flag else 0.0
    return y is x


print(pick(2.5, True))
print(pick(2**70, True), pick("s", True), pick(2.5, False))
