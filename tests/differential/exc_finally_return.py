# compiled: swallow, override, finally_in_loop, both
# return inside finally swallows exceptions and overrides earlier returns; break in finally.

def swallow(x):
    try:
        return 10 // x
    finally:
        return "finally wins"


def override(x):
    try:
        if x:
            raise ValueError(x)
        return "try"
    except ValueError:
        return "except"
    finally:
        print("  finally ran for", x)


def finally_in_loop(n):
    out = []
    for i in range(n):
        try:
            if i == 2:
                raise RuntimeError("stop")
            out.append(i)
        finally:
            if i == 2:
                break
    return out


def both(n):
    try:
        try:
            raise KeyError(n)
        finally:
            n += 1
    except KeyError as e:
        return e.args, n


print(swallow(0), swallow(5))
print(override(0), override(1))
print(finally_in_loop(5))
print(both(41))
