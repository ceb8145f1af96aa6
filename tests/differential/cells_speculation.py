# compiled: make.<locals>.probe, midloop.<locals>.scan
# Free variables are speculated on as they were when the code was compiled: a cell that
# another function rebinds to a bigger int, a big int, a float, a str, a list instead of a
# set, during a loop or between calls; identity of the objects the cells hold.


def make(n, items):
    seen = set(items)

    def probe(k):
        hits = 0
        for c in range(k):
            if c in seen or c >= n:
                hits += 1
        return hits, n, seen

    def rebind(new_n, new_seen):
        nonlocal n, seen
        n, seen = new_n, new_seen

    return probe, rebind


probe, rebind = make(3, [1, 2])
for _ in range(3):
    print(probe(6))
rebind(300, {5})
print(probe(6))
rebind(2**70, [0, 1])
print(probe(6))
rebind(2.5, frozenset({4}))
print(probe(6))
rebind(True, {0})
print(probe(3))
rebind("x", {1})
try:
    probe(6)
except TypeError as e:
    print("TypeError:", e)
big = 10**6
rebind(big, set())
hits, n, seen = probe(2)
print(hits, n is big, type(seen).__name__)
small = 7
rebind(small, {7})
print(probe(9)[1] is small)


def midloop():
    limit = 5

    def bump(to):
        nonlocal limit
        limit = to

    def scan(k, to):
        out = []
        for c in range(k):
            if c == 2:
                bump(to)
            out.append(c < limit)
        return out, limit

    return scan


scan = midloop()
print(scan(4, 1000))
print(scan(4, 1))
print(scan(4, 2.5))
print(scan(4, 2**80))
print(scan(4, 3))
print(scan(5, None) if False else "skipped None")


def counter():
    count = 0

    def tick(n):
        nonlocal count
        for _ in range(n):
            count += 1
        return count

    return tick


tick = counter()
print(tick(10), tick(300), tick(2**3))
