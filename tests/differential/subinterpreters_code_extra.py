# compiled: run
# Subinterpreters under PSYCO=full (as in every process of `cargo xtask cpython-tests`):
# psyco's state is one per process, but the hook and the code-extra indices are per
# interpreter. A subinterpreter that asked for an index of its own got the slot psyco reads
# in the main one: psyco's hook there took the program's co_extra data for its own, and
# crashed. psyco now
# stays off in subinterpreters. Plain, the child runs without PSYCO.
import os
import subprocess
import sys

SUB = r"""
import atexit, ctypes
request = ctypes.pythonapi._PyEval_RequestCodeExtraIndex
request.argtypes, request.restype = (ctypes.c_voidp,), ctypes.c_ssize_t
set_extra = ctypes.pythonapi._PyCode_SetExtra
set_extra.argtypes, set_extra.restype = (ctypes.py_object, ctypes.c_ssize_t, ctypes.c_voidp), ctypes.c_int
get_extra = ctypes.pythonapi._PyCode_GetExtra
get_extra.argtypes = (ctypes.py_object, ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_voidp))
index = request(None)  # no free function: a ctypes callback would deadlock in a subinterpreter

def f(n):
    return n + 1

set_extra(f.__code__, index, 100)
total = sum(f(i) for i in range(50))
extra = ctypes.c_voidp()
get_extra(f.__code__, index, ctypes.byref(extra))
ns = {}
exec("def g(n):\n    return n * 2", ns)
total += sum(ns["g"](i) for i in range(50))
del ns
atexit.register(lambda: None)
atexit.__atexit = atexit  # a reference cycle through atexit, as in test_atexit
print("sub @N: index", index, "total", total, "extra", extra.value, flush=True)
"""

CHILD = f"""
import _testcapi
SUB = {SUB!r}

def work(n):
    return sum(i * i for i in range(n))

for n in range(3):
    print("status", _testcapi.run_in_subinterp(SUB.replace("@N", str(n))), flush=True)
    print("main", work(100 + n), flush=True)
print("done")
"""


def run(under_psyco):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSYCO") or k == "PSYCO_BACKEND"}
    if under_psyco:
        env.update(PSYCO="full", PSYCO_THRESHOLD="0", PSYCO_DECLINE_GENERIC="0")
    child = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True)
    return child.returncode, child.stdout, [line for line in child.stderr.splitlines() if "Error" in line][-1:]


status, out, errors = run("psyco" in sys.modules)
print(out, end="")
print("exit status", status, errors)
