# compiled: work
# xfail: once a program registers its own code-extra free function (_PyEval_RequestCodeExtraIndex), CPython calls it for every code object psyco attached its co_extra to; a Python one (ctypes) then runs for code objects psyco releases late in finalization and the process dies with SIGSEGV at exit (test_code CoExtra; since 3dd6b44)
# Reduced from CPython 3.11's Lib/test/test_code.py (CoExtra), whose worker crashes at exit
# after every test passed.
import ctypes

freefunc = ctypes.CFUNCTYPE(None, ctypes.c_voidp)
RequestCodeExtraIndex = ctypes.pythonapi._PyEval_RequestCodeExtraIndex
RequestCodeExtraIndex.argtypes = (freefunc,)
RequestCodeExtraIndex.restype = ctypes.c_ssize_t


def myfree(ptr):
    pass


FREE_FUNC = freefunc(myfree)
FREE_INDEX = RequestCodeExtraIndex(FREE_FUNC)


def work(n):
    return n + 1


print(sum(work(i) for i in range(10)))
print("exiting")
