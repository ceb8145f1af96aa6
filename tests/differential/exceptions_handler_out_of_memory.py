# compiled: outer
# A compiled handler entered out of memory: making the frame object for the traceback fails,
# which must raise MemoryError as the interpreter does (it crashed: the pending exception was
# cleared and the handler got NULL; found by test_exceptions' and test_repl's no-memory tests).
import _testcapi

def inner(n):
    return [n] * 10

def outer(n):
    try:
        return inner(n)
    except MemoryError:
        return "caught"

for i in range(3):
    outer(i)
_testcapi.set_nomemory(0)
r = outer(5)
_testcapi.remove_mem_hooks()
print(r)
