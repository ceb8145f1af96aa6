# compiled: double, triple, run, rebind
# A global function replaced mid-loop by the loop itself; a global constant rebound.

FACTOR = 2


def double(x):
    return x * FACTOR


def triple(x):
    return x * 3


def rebind(i):
    global step, FACTOR
    if i == 3:
        step = triple
    if i == 6:
        FACTOR = 10
        step = double
    if i == 8:
        step = lambda x: -x


step = double


def run(n):
    out = []
    for i in range(n):
        out.append(step(i))
        rebind(i)
    return out


print(run(10))
print(run(4))
del step
try:
    run(2)
except NameError as e:
    print("NameError", e)
