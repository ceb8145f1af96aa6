# compiled: add
# xfail: co_code_adaptive is not quickened for code that runs compiled, so dis(adaptive=True) shows RESUME and BINARY_OP where CPython shows RESUME_QUICK and BINARY_OP_ADD_INT (test_dis DisTests.test_binary_specialize and the other specialization tests; ARCHITECTURE.md, Known differences)
# Reduced from CPython 3.11's Lib/test/test_dis.py (test_binary_specialize).
import dis


def add(a, b):
    return a + b


for i in range(100):
    add(i, 1)
dis.dis(add, adaptive=True)
