"""Integers that outgrow 64 bits inside compiled code must give exact CPython results.

Each program runs plain and under psyco; output must be identical, and the function doing
the arithmetic must have run compiled.  Operands come in as arguments or loop variables,
never as literals, so CPython's constant folding cannot do the work at compile time.
"""

import pytest

from conftest import assert_same_as_cpython

# Signed 64-bit edges and a few bigger and smaller values, shared by several programs.
EDGES = "[0, 1, -1, 7, -7, 2**31, -2**31, 2**32 + 5, 2**62, -2**62, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64 + 3, -(2**70)]"

PROGRAMS = {
    "factorial": """
        def fact(n):
            r = 1
            i = 1
            while i <= n:
                r = r * i
                i += 1
            return r

        for n in range(0, 40):
            print(n, fact(n))
    """,
    "repeated_squaring": """
        def squares(x, k):
            out = []
            for _ in range(k):
                x = x * x
                out.append(x)
            return out

        print(squares(3, 8))
        print(squares(-3, 8))
        print(squares(2**31, 3))
    """,
    "doubling_additions": """
        def double_up(x, k):
            out = []
            for _ in range(k):
                x += x
                out.append(x)
                out.append(x - 1)
                out.append(-x - x)
            return out

        print(double_up(1, 70))
        print(double_up(-1, 70))
        print(double_up(2**62, 3))
    """,
    "min_int_negation": """
        def negations(m):
            out = []
            for _ in range(3):
                out.append(-m)
                out.append(~m)
                out.append(abs(m))
                out.append(-(m - 1))
            return out

        print(negations(-2**63))
        print(negations(2**63 - 1))
    """,
    "min_int_division_by_minus_one": """
        def edge_ops(m, minus_one):
            out = []
            for _ in range(3):
                out.append(m // minus_one)
                out.append(m * minus_one)
                out.append(m % minus_one)
                out.append(m - 1)
                out.append(m + m)
                out.append(minus_one - m)
            return out

        print(edge_ops(-2**63, -1))
        print(edge_ops(2**63 - 1, -1))
    """,
    "floordiv_mod_sign_combinations": f"""
        def divmods(values, divisors):
            out = []
            for a in values:
                for b in divisors:
                    if b != 0:
                        out.append(a // b)
                        out.append(a % b)
            return out

        values = {EDGES}
        divisors = [1, -1, 2, -2, 3, -3, 7, -7, 2**32, -2**32, 2**63 - 1, -2**63, 2**64, -(2**64)]
        result = divmods(values, divisors)
        print(len(result))
        print(result)
    """,
    "shifts_0_to_70": f"""
        def shifts(values):
            out = []
            for v in values:
                for s in range(71):
                    out.append(v << s)
                    out.append(v >> s)
            return out

        result = shifts({EDGES} + [3, -3, 0xFF])
        print(len(result))
        print(result)
    """,
    "one_shifted_and_powers": """
        def powers(one, two, k):
            out = []
            for s in range(k):
                out.append(one << s)
                out.append(two ** s)
                out.append(-(one << s))
                out.append((one << s) - 1)
            return out

        print(powers(1, 2, 71))
        print(powers(1, 2, 71)[-4:])
    """,
    "bitwise_with_big_and_negative": f"""
        def bits(values):
            out = []
            for a in values:
                for b in values:
                    out.append(a & b)
                    out.append(a | b)
                    out.append(a ^ b)
            return out

        print(bits({EDGES}))
    """,
    "mixed_add_sub_mul": f"""
        def mix(values):
            out = []
            for a in values:
                for b in values:
                    out.append(a + b)
                    out.append(a - b)
                    out.append(a * b)
                    out.append(a < b)
                    out.append(a == b)
            return out

        print(mix({EDGES}))
    """,
    "overflow_then_small_again": """
        def wrap(n):
            x = 1
            total = 0
            for i in range(n):
                x = x * 3 + i
                if x > 2**62:
                    x = x % 1000003
                total += x
            return total

        print(wrap(10), wrap(1000), wrap(5000))
    """,
    "accumulator_grows_past_64_bits": """
        def accumulate(n, step):
            t = 0
            for i in range(n):
                t += step
                t += i
            return t

        print(accumulate(100, 2**62))
        print(accumulate(100, -2**62))
        print(accumulate(10, 2**63 - 1))
    """,
}

# The function doing the arithmetic in each program, which must run compiled.
HOT = {
    "factorial": "fact",
    "repeated_squaring": "squares",
    "doubling_additions": "double_up",
    "min_int_negation": "negations",
    "min_int_division_by_minus_one": "edge_ops",
    "floordiv_mod_sign_combinations": "divmods",
    "shifts_0_to_70": "shifts",
    "one_shifted_and_powers": "powers",
    "bitwise_with_big_and_negative": "bits",
    "mixed_add_sub_mul": "mix",
    "overflow_then_small_again": "wrap",
    "accumulator_grows_past_64_bits": "accumulate",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_big_int_results_match_cpython(name):
    assert_same_as_cpython(PROGRAMS[name], compiled=[HOT[name]])


def test_negative_shift_count_raises_like_cpython():
    assert_same_as_cpython(
        """
        def shift_all(v, counts):
            out = []
            for s in counts:
                out.append(v << s)
            return out

        print(shift_all(5, [0, 1, 70]))
        shift_all(5, [3, 2, 1, 0, -1])
        """,
        compiled=["shift_all"],
    )
