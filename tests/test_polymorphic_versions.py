"""One function called with ints, then floats, then strings and tuples.

Results must equal plain CPython's, and psyco.stats() must show several specialized
versions (versions >= 2) for the function.
"""

import pytest

from conftest import assert_same_as_cpython

PROGRAMS = {
    "straight_line": (
        "add3",
        """
        def add3(a, b, c):
            return a + b + c

        for args in [(1, 2, 3), (2**62, 2**62, 2**62), (1.5, 2.25, 3.0), ("a", "b", "c"),
                     ((1,), (2, 3), ()), (1, 2.5, 3), (True, False, True), (4, 5, 6)]:
            print(repr(add3(*args)))
        """,
    ),
    "loop": (
        "fold",
        """
        def fold(items, start):
            acc = start
            for x in items:
                acc = acc + x
                if acc < start:
                    acc = start
            return acc

        print(repr(fold([1, 2, 3, 2**63], 0)))
        print(repr(fold([0.5, 0.25, 1e300, 1e300], 0.0)))
        print(repr(fold(["x", "y", "z"], "")))
        print(repr(fold([(1,), (2,), (3, 4)], ())))
        print(repr(fold(range(10), 0)))
        print(repr(fold([1, 2.5], 0)))
        """,
    ),
    "mixed_compare_and_multiply": (
        "scale",
        """
        def scale(x, k):
            r = x
            for _ in range(3):
                if r < x * k:
                    r = r * k
                else:
                    r = r + x
            return r

        print(repr(scale(3, 2)))
        print(repr(scale(3.0, 2.5)))
        print(repr(scale("ab", 2)))
        print(repr(scale((1, 2), 2)))
        print(repr(scale(2**40, 2**30)))
        print(repr(scale(-1.5, -2)))
        """,
    ),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_versions_per_argument_types(name):
    func, code = PROGRAMS[name]
    _, jit = assert_same_as_cpython(code, compiled=[func])
    entry = jit.codes[func]
    print(f"{func}: {entry}")
    assert entry["versions"] >= 2, f"{func} has {entry['versions']} version(s): {entry}"
