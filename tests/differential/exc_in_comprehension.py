# compiled: inverses, safe_inverses, keyed, run.<locals>.<listcomp>
# Exceptions raised inside list/dict/set comprehensions propagate out to compiled callers.

def inverses(values):
    return [100 // v for v in values]


def keyed(pairs):
    return {k: int(v) for k, v in pairs}


def safe_inverses(values):
    try:
        return inverses(values)
    except ZeroDivisionError as e:
        return f"caught {type(e).__name__}: {e}"


def run(groups):
    out = []
    for g in groups:
        try:
            out.append([len(x) for x in g])
        except TypeError as e:
            out.append(str(e))
    return out


print(safe_inverses([1, 2, 3]), safe_inverses([5, 0, 1]))
try:
    print(keyed([("a", "1"), ("b", "x")]))
except ValueError as e:
    print("ValueError", e)
print(run([["ab", "c"], ["a", 3, "b"], []]))
try:
    print({1 // (x - 2) for x in range(4)})
except ZeroDivisionError as e:
    print("set comp", e)
