# compiled: run
# xfail: psyco enabled in a subinterpreter (as PSYCO=full does in every interpreter) breaks it: after a first subinterpreter has ended, imports in the next one fail ('NoneType' object has no attribute 'meta_path') or crash (test_atexit, test_capi: run_in_subinterp)
# Under psyco (the main interpreter imported it), each subinterpreter enables psyco too, as the
# PSYCO=full start-up switch does in every interpreter; plain, none does.
import sys

import _testcapi

UNDER_PSYCO = "psyco" in sys.modules


def run(n):
    enable = "import psyco; psyco.full(); " if UNDER_PSYCO else ""
    code = (f"{enable}import os, json; "
            f"os.write(1, b'subinterpreter {n}: ' + json.dumps([{n}]).encode() + b'\\n')")
    return _testcapi.run_in_subinterp(code)


for i in range(3):
    sys.stdout.flush()
    status = run(i)
    print("status", status, flush=True)
print("done")
