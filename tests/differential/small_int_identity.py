# compiled: add_is, loop_results, same_obj
# Results of compiled int arithmetic: small ints come from CPython's cache (`is` works for -5..256).

def add_is(a, b):
    c = a + b
    return c is 256, c is 5, c == 257, c is -5


def loop_results(n):
    out = []
    for i in range(n):
        x = i * 2
        out.append(x)
    return [o is 10 for o in out], out[-1] is out[-1]


def same_obj(x, n):
    y = x
    for i in range(n):
        y = y + 0
    return y is x, y == x


print(add_is(250, 6), add_is(2, 3), add_is(200, 57), add_is(-10, 5))
print(loop_results(8))
print(same_obj(5, 3), same_obj(300, 0), same_obj(2**80, 0), same_obj(-3, 4), same_obj(True, 2))
