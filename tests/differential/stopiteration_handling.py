# compiled: first, drain, pairs, safe_next
# next() with and without default, StopIteration caught, StopIteration inside a generator.

def first(it):
    try:
        return next(it)
    except StopIteration:
        return "empty"


def safe_next(it, default):
    return next(it, default)


def drain(it):
    out = []
    while True:
        try:
            out.append(next(it))
        except StopIteration as e:
            out.append(("stop", e.value))
            break
    return out


def gen():
    yield 1
    yield 2
    return "retval"


def bad_gen():
    yield 1
    raise StopIteration("inside")


def pairs(a, b):
    ia, ib = iter(a), iter(b)
    out = []
    for x in ia:
        try:
            out.append((x, next(ib)))
        except StopIteration:
            out.append((x, None))
    return out


print(first(iter([])), first(iter("abc")), safe_next(iter(()), "dflt"), safe_next(iter([9]), 0))
print(drain(gen()), drain(iter([1])))
try:
    print(drain(bad_gen()))
except RuntimeError as e:
    print("RuntimeError", e, type(e.__cause__).__name__)
print(pairs([1, 2, 3], "ab"))
