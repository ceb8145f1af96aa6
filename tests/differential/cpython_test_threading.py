# compiled: imported
# Reduced from CPython 3.11's Lib/test/test_threading.py (test_import_from_another_thread),
# whose child process fails when threading is in sys.modules before it imports it.
import sys


def imported(name):
    return name in sys.modules


print("threading imported before the program imported it:", imported("threading"))
