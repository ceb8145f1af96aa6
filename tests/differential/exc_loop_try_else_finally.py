# compiled: process, nested_try, finally_counts
# try/except/else/finally inside loop bodies, with break/continue crossing finally blocks.

log = []


def process(values):
    total = 0
    for v in values:
        try:
            r = 100 // v
        except ZeroDivisionError:
            log.append(("zero", v))
            continue
        except TypeError as e:
            log.append(("type", str(e)))
            break
        else:
            total += r
            log.append(("ok", r))
        finally:
            log.append(("finally", v))
    return total


def nested_try(n):
    out = []
    for i in range(n):
        try:
            try:
                if i % 3 == 0:
                    raise ValueError(i)
                out.append(("inner ok", i))
            finally:
                out.append(("inner finally", i))
            if i % 3 == 1:
                raise KeyError(i)
        except ValueError as e:
            out.append(("ValueError", e.args))
        except KeyError as e:
            out.append(("KeyError", e.args))
        else:
            out.append(("else", i))
    return out


def finally_counts(n):
    count = 0
    i = 0
    while True:
        try:
            i += 1
            if i > n:
                break
            if i % 2:
                continue
        finally:
            count += 1
    return count, i


print(process([5, 0, -3, 7, 0, "x", 9]))
for entry in log:
    print(entry)
for entry in nested_try(6):
    print(entry)
print(finally_counts(7))
