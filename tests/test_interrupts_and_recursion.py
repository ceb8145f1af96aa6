"""Ctrl-C in a compiled hot loop, and recursion limits in compiled recursive code.

* SIGINT sent to a process spinning in `while True: i += 1` (compiled) must raise
  KeyboardInterrupt in that function within 0.5 s, whether the signal comes from a timer
  thread in the child (which then also needs the GIL back from the loop) or from the parent.
* Unbounded recursion raises RecursionError exactly as plain CPython does; with
  sys.setrecursionlimit(100000) deep recursion must not crash the process (either the
  result or a RecursionError is fine), and every run is bounded by a timeout.
"""

import re
import signal
import subprocess
import time

import pytest

from conftest import (
    PYTHON,
    STATS_ENV,
    assert_not_crashed,
    assert_same_as_cpython,
    child_env,
    codes_of_file,
    run_py,
    write_program,
)

SIGNAL_DEADLINE = 0.5  # seconds from SIGINT to KeyboardInterrupt

# The children raise KeyboardInterrupt on SIGINT even when started with SIGINT ignored (a
# test run launched in the background inherits SIG_IGN, and Python then installs no handler).
HEADER = """
import os, signal, sys, threading, time, traceback
import psyco
signal.signal(signal.SIGINT, signal.default_int_handler)
"""

# The two shapes of loop back-edge: JUMP_BACKWARD, and the conditional
# POP_JUMP_BACKWARD_IF_TRUE that closes a `while cond:` loop.
SPINS = {
    "while_true": """
def spin():
    i = 0
    while True:
        i += 1
    return i
""",
    "while_condition": """
def spin():
    i = 0
    while i >= 0:
        i += 1
    return i
""",
}

TIMER_THREAD_PROGRAM = """
sent = []

def fire():
    time.sleep(0.5)
    sent.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=fire, daemon=True).start()
try:
    spin()
except KeyboardInterrupt:
    elapsed = time.perf_counter() - sent[0]
    traceback.print_exc()
    print("KeyboardInterrupt after %.6f" % elapsed)
print("compiled", psyco.is_compiled(spin))
"""

PARENT_SIGNAL_PROGRAM = """
print("spinning", flush=True)
try:
    spin()
except KeyboardInterrupt:
    traceback.print_exc()
    print("KeyboardInterrupt", flush=True)
print("compiled", psyco.is_compiled(spin))
"""


def assert_interrupted_in_spin(stdout, stderr):
    assert "KeyboardInterrupt" in stdout, f"no KeyboardInterrupt caught\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert re.search(r'line \d+, in spin\n', stderr), f"traceback does not end in spin():\n{stderr}"
    assert stderr.rstrip().endswith("KeyboardInterrupt"), stderr
    assert "compiled True" in stdout, f"spin() was not compiled: {stdout}"


@pytest.mark.parametrize("loop", sorted(SPINS))
def test_sigint_from_timer_thread_interrupts_compiled_loop(loop):
    proc = run_py(HEADER + SPINS[loop] + TIMER_THREAD_PROGRAM, psyco=True, timeout=10)
    assert_not_crashed(proc)
    assert_interrupted_in_spin(proc.stdout, proc.stderr)
    elapsed = float(re.search(r"KeyboardInterrupt after ([\d.]+)", proc.stdout).group(1))
    print(f"SIGINT -> KeyboardInterrupt: {elapsed:.4f}s")
    assert elapsed < SIGNAL_DEADLINE
    assert proc.codes["spin"]["native_entries"] > 0


@pytest.mark.parametrize("loop", sorted(SPINS))
def test_sigint_from_parent_interrupts_compiled_loop(loop):
    prog = write_program(HEADER + SPINS[loop] + PARENT_SIGNAL_PROGRAM, psyco=True)
    env = child_env({STATS_ENV: str(prog.with_name("stats.json"))})
    child = subprocess.Popen([PYTHON, str(prog)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline() == "spinning\n", child.stderr.read()
        time.sleep(0.5)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    except subprocess.TimeoutExpired:
        child.kill()
        stdout, stderr = child.communicate()
        pytest.fail(f"child still running 10s after SIGINT\nstdout:\n{stdout}\nstderr:\n{stderr}", pytrace=False)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    print(f"SIGINT -> exit of the child: {elapsed:.4f}s")
    assert child.returncode == 0, f"exit status {child.returncode}\nstderr:\n{stderr}"
    assert_interrupted_in_spin(stdout, stderr)
    assert elapsed < SIGNAL_DEADLINE, f"the child took {elapsed:.3f}s to exit after SIGINT"


def test_unbounded_recursion_raises_recursion_error():
    assert_same_as_cpython(
        """
        import sys

        def down(n):
            return down(n + 1) + 1

        def descend(n):
            if n < 0:
                return 0
            return descend(n + 1) * 2

        for f in (down, descend, down):
            try:
                f(0)
            except RecursionError as e:
                print("OK", e)
        print(sys.getrecursionlimit())
        """,
        compiled=["down", "descend"],
        timeout=60,
    )


def test_recursion_error_traceback_matches_cpython():
    assert_same_as_cpython(
        """
        def down(n):
            return down(n + 1) + 1

        down(0)
        """,
        compiled=["down"],
    )


DEEP = {
    "sum_to_50000": ("sum_to", "print(sum_to(50000))", "1250025000"),
    "sum_to_99000": ("sum_to", "print(sum_to(99000))", "4900549500"),
    "unbounded": ("down", "print(down(0))", None),
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_recursion_with_high_limit_does_not_crash(case):
    func, call, result = DEEP[case]
    program = f"""
        import sys
        sys.setrecursionlimit(100000)

        def sum_to(n):
            if n == 0:
                return 0
            return n + sum_to(n - 1)

        def down(n):
            return down(n + 1) + 1

        try:
            {call}
        except RecursionError:
            print("RecursionError")
    """
    proc = run_py(program, psyco=True, timeout=120)
    assert_not_crashed(proc)
    out = proc.stdout.strip()
    allowed = {"RecursionError"} | ({result} if result else set())
    assert out in allowed, f"got {out!r}, expected one of {allowed}\nstderr:\n{proc.stderr[-2000:]}"
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.codes[func]["native_entries"] > 0, f"{func} was not compiled: {proc.codes.get(func)}"
