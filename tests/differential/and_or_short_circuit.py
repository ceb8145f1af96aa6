# compiled: check, pick, count_hits
# `and`/`or` short-circuiting with side effects and their value (not just truth) results.

log = []


def t(x):
    log.append(x)
    return x


def check(a, b, c):
    log.clear()
    r1 = t(a) and t(b) or t(c)
    r2 = t(a) or t(b) and t(c)
    r3 = not (t(a) and t(b))
    return r1, r2, r3, list(log)


def pick(x, default):
    return x or default, x and default


def count_hits(values):
    n = 0
    for v in values:
        if v and v % 2 or v is None:
            n += 1
        if not v or v > 10:
            n += 100
    return n


for a in (0, 1, "", "s"):
    for b in (None, 2):
        for c in ([], [3]):
            print(a, b, c, check(a, b, c))
print(pick(0, 5), pick(7, 5), pick("", "dflt"), pick([1], []), pick(0.0, None))
print(count_hits([0, 1, 2, 3, None, 11, 12, 13]))
