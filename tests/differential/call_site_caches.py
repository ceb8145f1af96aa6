# compiled: call_each, caller, call_k
# Call sites cache the callee's compiled version: callables that change from call to call,
# a function whose __code__ is replaced, one code object under two globals dicts, callees
# with defaults, closures created anew, and things that are not functions at all.
import types


def inc(x):
    return x + 1


def dbl(x):
    return x * 2


def call_each(fs, x):
    out = []
    for fn in fs:
        out.append(fn(x))
    return out


print(call_each([inc, dbl, inc, abs, str, lambda v: -v, dbl], 3))
print(call_each([dbl] * 3 + [inc] * 3, 2.5))


def h(x):
    return x


def caller(n):
    out = []
    for i in range(n):
        out.append(h(i))
    return out


print(caller(3))
h.__code__ = dbl.__code__
print(caller(3))
h.__code__ = inc.__code__
print(caller(3))

ns1 = {"OFFSET": 1}
exec("def k(x):\n    return x + OFFSET\n", ns1)
k2 = types.FunctionType(ns1["k"].__code__, {"OFFSET": 100})


def call_k(fn, n):
    out = []
    for i in range(n):
        out.append(fn(i))
    return out


for fn in [ns1["k"], k2, ns1["k"], k2]:
    print(call_k(fn, 3))


def with_default(x, y=10):
    return x + y


def adder(n):
    return lambda x: x + n


print(call_each([with_default, adder(1), adder(2), adder(3), with_default], 5))
print(call_each([type, len if False else repr, adder(7)], 1))
