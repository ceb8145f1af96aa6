# compiled: total, weighted, mix, squares, gen_total
# Ints that a guard typed (list items, generator values, attributes) combined with machine
# ints are read as words: one digit inline, more through the C API, and an int beyond a word
# leaves before the operation. Sums that cross one digit and then a word, negative and huge
# items, bools and floats among ints, and every operator that computes on words.


class P:
    def __init__(self, v):
        self.v = v


def total(xs):
    t = 0
    for x in xs:
        t += x
    return t


def weighted(xs):
    t = 0
    k = 1
    for x in xs:
        t = t + k * x - (x % 7) + (x // 3) + (x & 255) + (x | 1) + (x ^ 5) + (x << 2) + (x >> 1)
        k += 1
    return t


def mix(ps):
    t = 0
    for p in ps:
        t -= p.v
        t = 3 * t + p.v
        if t > 10**15:
            t = t % 1000003
    return t


def squares(n):
    return [y * 7 - 3 for y in range(n)]


def numbers(n):
    i = 0
    while i < n:
        yield i
        i += 1


def gen_total(n):
    t = 0
    for x in numbers(n):
        t += x
    return t


def attempt(f, *args):
    try:
        return f(*args)
    except (TypeError, OverflowError, ZeroDivisionError) as e:
        return f"{type(e).__name__}: {e}"


def run():
    small = list(range(2000))
    print(total(small), total(small * 50), total([2**29] * 100), total([-(2**30)] * 9))
    print(total([1, 2, 2**40, 3, -(2**50)]), total([2**62, 2**62, 2**62]), total([1, 2**64, 3]))
    print(total([1, 2, True, 4]), total([1, 2.5, 3]), attempt(total, [1, 2, "x"]))
    print(total([2**63 - 1, 1]), total([-(2**63), -1]), total([10**30, -(10**30), 5]))
    print(weighted(small), weighted([2**31 + i for i in range(300)]), weighted([-i for i in range(300)]))
    print(attempt(weighted, [1, 2, 2**70]), weighted([0, 1, True]))
    print(mix([P(i) for i in range(500)]), mix([P(2**40)] * 200), mix([P(i * 2**33) for i in range(50)]))
    print(attempt(mix, [P(1), P(2), P(None)]), mix([P(1), P(2.5), P(3)]))
    print(squares(1000)[-3:], len(squares(5000)), squares(3))
    print(gen_total(100000), gen_total(10))


run()
