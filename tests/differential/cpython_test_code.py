# compiled: work, temp
# Was an xfail (test_code CoExtra: the worker died with SIGSEGV at exit after every test
# passed). A code object's deallocation calls the free function of every co_extra slot it
# has; CPython's _PyCode_SetExtra gives it a slot for every index handed out so far, so the
# free function this program registers after psyco was called for every code object psyco
# touched, late in finalization too, where the ctypes callback crashes. psyco now grows a
# code object's slots only up to its own index.
import ctypes
import weakref

freefunc = ctypes.CFUNCTYPE(None, ctypes.c_voidp)
RequestCodeExtraIndex = ctypes.pythonapi._PyEval_RequestCodeExtraIndex
RequestCodeExtraIndex.argtypes = (freefunc,)
RequestCodeExtraIndex.restype = ctypes.c_ssize_t


FREED = []


def myfree(ptr):
    FREED.append(ptr)


FREE_FUNC = freefunc(myfree)
FREE_INDEX = RequestCodeExtraIndex(FREE_FUNC)


def work(n):
    return n + 1


print(sum(work(i) for i in range(10)))


# A function whose code object dies here: this program never set its slot, so its free
# function must not run for it.
def make():
    ns = {}
    exec(compile("def temp(n):\n    return n * 2", __file__, "exec"), ns)
    return ns["temp"]


temp = make()
print(sum(temp(i) for i in range(10)))
code = weakref.ref(temp.__code__)
del temp
print("code object freed:", code() is None)
print("free function calls:", FREED)
print("exiting")
