# compiled: add_chain, sub_chain, mul_chain, neg_all, mixed
# Small ints that overflow machine words in +, -, * and unary minus, inside loops and out.
import sys

M = sys.maxsize


def add_chain(start, step, n):
    x = start
    out = []
    for i in range(n):
        x = x + step
        out.append(x)
    return out


def sub_chain(start, step, n):
    x = start
    out = []
    for i in range(n):
        x = x - step
        out.append(x)
    return out


def mul_chain(x, k, n):
    out = []
    for i in range(n):
        x = x * k
        out.append(x)
    return out


def neg_all(values):
    return [-v for v in values] + [-(-v) for v in values] + [-v - 1 for v in values]


def mixed(a, b):
    s = a + b
    d = a - b
    p = a * b
    q = -a
    a += b
    a *= 3
    a -= 1
    return s, d, p, q, a


print(add_chain(M - 3, 1, 6))
print(add_chain(-M + 1, -1, 5))
print(sub_chain(-M + 2, 1, 6))
print(sub_chain(M - 1, -1, 4))
print(mul_chain(3, 7, 40)[-3:])
print(mul_chain(-2, 2, 70)[60:])
print(mul_chain(M, -1, 3))
print(neg_all([0, 1, -1, M, -M, -M - 1, 2**62, -(2**62), 2**63, 2**100]))
for a, b in [(M, M), (M, -M), (-M - 1, -1), (2**62, 2**62), (-(2**63), -(2**63)), (10**30, 3), (7, -8)]:
    print(a, b, mixed(a, b))
print(mixed(M, 1.5))
