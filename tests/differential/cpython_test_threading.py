# compiled: imported
# xfail: importing psyco (as PSYCO=full does at every start-up) imports threading, so a program cannot be the first to import it (test_threading ThreadTests.test_import_from_another_thread: "threading is already imported")
# Reduced from CPython 3.11's Lib/test/test_threading.py (test_import_from_another_thread),
# whose child process fails when threading is in sys.modules before it imports it.
import sys


def imported(name):
    return name in sys.modules


print("threading imported before the program imported it:", imported("threading"))
