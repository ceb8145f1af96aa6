# compiled: run
# Was an xfail: with PSYCO=full from start-up, subinterpreters broke once an earlier one had
# ended (imports failed with 'NoneType' object has no attribute 'meta_path', or the process
# crashed: test_capi SubinterpreterTest.test_subinterps): versions of code shared by the
# interpreters (frozen importlib) outlived the one they were compiled in. psyco now runs in
# the main interpreter only (PSYCO=full leaves subinterpreters alone).
# Under psyco (the program imported it) a child interpreter runs with PSYCO=full, as every
# process of `cargo xtask cpython-tests` does, and creates subinterpreters; plain, it runs
# without PSYCO. The child's output and exit status are printed.
import os
import subprocess
import sys

CHILD = r"""
import _testcapi
for n in range(3):
    code = f"import os, json; os.write(1, b'subinterpreter {n}: ' + json.dumps([{n}]).encode() + b'\\n')"
    print("status", _testcapi.run_in_subinterp(code), flush=True)
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
