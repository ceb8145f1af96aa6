# compiled: consume, pipeline, total_of
# Generators (send, return values, yield from, close) and generator expressions fed to compiled code.

def counter(n):
    i = 0
    while i < n:
        got = yield i
        if got is not None:
            i = got
        i += 1
    return "counted"


def evens(xs):
    for x in xs:
        if x % 2 == 0:
            yield x


def chained(a, b):
    r = yield from counter(a)
    yield r
    yield from b


def consume(gen):
    out = []
    for x in gen:
        out.append(x)
    return out


def total_of(n):
    return sum(x * x for x in range(n)), max((x % 7 for x in range(n)), default=None)


def pipeline(data):
    squares = (x * x for x in data)
    big = (x for x in squares if x > 10)
    return consume(evens(big))


print(consume(counter(5)), consume(evens([1, 2, 3, 4, 10, 11])))
print(consume(chained(3, "xy")))
print(total_of(10), total_of(0))
print(pipeline(range(12)))
g = counter(10)
print(next(g), g.send(5), next(g), g.send(8))
try:
    next(g)
except StopIteration as e:
    print("StopIteration", e.value)
g2 = counter(10)
next(g2)
g2.close()
print(consume(g2))
