# compiled: make
# Reduced from CPython 3.11's Lib/test/test_exceptions.py (test_recursion_normalizing_exception
# expects the ResourceWarning of a file left open in a suspended generator at exit).


class Finalized:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("finalized", self.name)


def gen():
    obj = Finalized("generator local")
    try:
        yield obj
    finally:
        print("generator closed")


def make(name):
    return Finalized(name)


made_at_module_level = Finalized("module level")
made_by_compiled_code = make("made by make()")
suspended = gen()
next(suspended)
print("exiting")
