# compiled: total, describe, loop_with_swap
# Builtins replaced through the `builtins` module while compiled code that uses them is live.
import builtins

real_abs = builtins.abs
real_str = builtins.str


def total(values):
    return sum(abs(v) for v in values), max(values), abs(values[0])


def describe(x):
    return str(x) + "!"


def loop_with_swap(values):
    out = []
    for i, v in enumerate(values):
        if i == 2:
            builtins.abs = lambda x: 1000
        if i == 4:
            builtins.abs = real_abs
        out.append(abs(v))
    return out


print(total([-3, 4, -5]), describe(12))
builtins.str = lambda x: "<" + real_str(x) + ">"
print(describe(12), describe("s"))
builtins.str = real_str
print(describe(12))
print(loop_with_swap([-1, -2, -3, -4, -5, -6]))
del builtins.max
try:
    total([1])
except NameError as e:
    print("NameError", e)
