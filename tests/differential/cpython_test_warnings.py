# compiled: func
# Reduced from CPython 3.11's Lib/test/test_warnings/__init__.py (test_tracemalloc): the
# warning's location must be the line that drops the last reference, not the line that opened it.
import warnings

warnings.simplefilter("always")


def func():
    f = open(__file__, "rb")
    # Emit ResourceWarning
    f = None


for _ in range(2):
    func()
