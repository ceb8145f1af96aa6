# compiled: safe_div, div_all, mod_in_loop
# ZeroDivisionError from //, %, /, divmod and ** raised in compiled code and caught.

def safe_div(a, b):
    try:
        return a // b
    except ZeroDivisionError as e:
        return "ZeroDivisionError: " + str(e)


def div_all(values):
    out = []
    for v in values:
        for op in ("//", "%", "/"):
            try:
                if op == "//":
                    r = 100 // v
                elif op == "%":
                    r = 100 % v
                else:
                    r = 100 / v
                out.append(r)
            except ZeroDivisionError as e:
                out.append(f"{op}: {e}")
    return out


def mod_in_loop(n):
    acc = 0
    errors = 0
    for i in range(-n, n):
        try:
            acc += 1000 % i
            acc += i // (i - 1)
        except ZeroDivisionError:
            errors += 1
    return acc, errors


print(safe_div(7, 2), safe_div(7, 0), safe_div(2**70, 0), safe_div(7.0, 0), safe_div(True, False))
print(div_all([3, 0, -3, 0.0, 2**65]))
print(mod_in_loop(5))
try:
    print(0 ** -1)
except ZeroDivisionError as e:
    print("pow", e)
try:
    divmod(1, 0)
except ZeroDivisionError as e:
    print("divmod", e)
