# compiled: run_test
# xfail: under PSYCO=full the recursion depth seen by sys.setrecursionlimit() inside test.support.infinite_recursion(4) is higher than plain, so the limit is refused as too low (test_support TestSupport.test_recursion: "cannot set the recursion limit to 34 at the recursion depth 34")
# Not reduced yet: the depth difference only shows in regrtest's own call stack, so this runs
# CPython's test in a child regrtest, under PSYCO=full when this program runs under psyco (as
# `cargo xtask cpython-tests` does), plain otherwise, and prints its outcome.
import os
import subprocess
import sys


def run_test(module, test, under_psyco):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PSYCO") or k == "PSYCO_BACKEND"}
    if under_psyco:
        env.update(PSYCO="full", PSYCO_THRESHOLD="0", PSYCO_DECLINE_GENERIC="0")
    child = subprocess.run([sys.executable, "-m", "test", "-v", module, "-m", test], env=env,
                           capture_output=True, text=True)
    errors = [line for line in child.stdout.splitlines() if line.startswith("RecursionError")]
    result = [line for line in child.stdout.splitlines() if line.startswith("Result:")]
    return child.returncode, errors, result


print(run_test("test_support", "test_recursion", "psyco" in sys.modules))
