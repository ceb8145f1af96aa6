"""The tools people run on their programs work under psyco exactly as without it.

Each test runs one program plain and under psyco (everything compiled at its first call, see
conftest) and asserts the same output: pdb driven by scripted commands at a breakpoint inside
a function that was running compiled, cProfile and profile (the functions listed and their
call counts), coverage.py (the lines covered), pytest (a run with failures: outcomes and the
assertion rewriting's messages), faulthandler's stack dumps, tracemalloc's allocation sites,
warnings' stacklevel, threads running compiled loops, signal handlers, and recursion limits
changed while the program runs. Where the tool runs the program's functions through a trace
or profile hook, compiled code hands those frames to the interpreter; the tests check that
the functions did run compiled before or after.
"""

import subprocess

import pytest

from conftest import PYTHON, assert_same_as_cpython, child_env, new_workdir, output_diff


def test_pdb_breakpoint_step_next_up_and_locals_in_a_function_that_ran_compiled():
    code = """
    import pdb, sys

    def inner(k):
        total = 0
        for i in range(k):
            total += i * i
        return total

    def outer(n):
        acc = 0
        for j in range(n):
            acc += inner(j)
            if j == 30:
                pdb.Pdb(stdin=sys.stdin, stdout=sys.stdout, nosigint=True).set_trace()
                acc += 1
        return acc

    print(outer(20))       # compiled, no breakpoint reached
    print(outer(35))       # the breakpoint, inside the compiled loop
    """
    commands = "p j, acc\nn\nn\np acc\ns\nn\np k, total\nup\np j\ndown\nwhere\nc\n"
    plain, _ = assert_same_as_cpython(code, compiled=["outer", "inner"], input=commands)
    assert plain.returncode == 0, plain.stderr
    assert "(Pdb)" in plain.stdout and "-> acc += 1" in plain.stdout


@pytest.mark.parametrize("module", ["cProfile", "profile"])
def test_profilers_list_the_same_functions_and_call_counts(module):
    code = f"""
    import {module} as profiler, pstats

    def leaf(x):
        return x * 2 + 1

    def middle(n):
        return sum(leaf(i) for i in range(n))

    def top(n):
        total = 0
        for k in range(n):
            total += middle(k)
        return total

    print(top(30))         # compiled before profiling starts
    p = profiler.Profile()
    result = p.runcall(top, 40)
    stats = pstats.Stats(p).stats
    print(result)
    for (filename, line, name), (cc, nc, tt, ct, callers) in sorted(stats.items(), key=lambda kv: (kv[0][2], kv[0][1])):
        if filename.endswith("prog.py") or name.startswith("<built-in"):
            print(name, line, nc, cc)
    """
    plain, _ = assert_same_as_cpython(code, compiled=["top", "middle", "leaf"])
    assert "leaf 5 780 780" in plain.stdout, plain.stdout


def test_coverage_reports_the_same_lines():
    import coverage  # noqa: F401  (installed by `cargo xtask setup`: missing, the test fails)

    code = """
    import coverage

    def work(n):
        total = 0
        for i in range(n):
            if i % 3 == 0:
                total += i
            elif i % 3 == 1:
                total -= 1
            else:
                pass
        if total < 0:
            print("never")
        return total

    print(work(50))        # compiled before coverage starts
    cov = coverage.Coverage(data_file=None, branch=True)
    cov.start()
    print(work(60))
    cov.stop()
    data = cov.get_data()
    print(sorted(data.lines(__file__)))
    print(sorted(data.arcs(__file__)))
    """
    plain, _ = assert_same_as_cpython(code, compiled=["work"])
    assert "[6, 7, 8" in plain.stdout, plain.stdout


def test_pytest_run_with_failures_has_the_same_outcomes_and_messages():
    workdir = new_workdir()
    (workdir / "test_sample.py").write_text(
        "def total(n):\n"
        "    t = 0\n"
        "    for i in range(n):\n"
        "        t += i\n"
        "    return t\n"
        "\n"
        "def test_passes():\n"
        "    assert total(10) == 45\n"
        "\n"
        "def test_fails_with_rewritten_message():\n"
        "    values = [total(k) for k in range(5)]\n"
        "    assert values == [0, 0, 1, 3, 7]\n"
        "\n"
        "def test_fails_in_a_loop():\n"
        "    for k in range(100):\n"
        "        assert total(k) < 1000, f'k={k}'\n"
        "\n"
        "def test_raises():\n"
        "    import pytest\n"
        "    with pytest.raises(ZeroDivisionError):\n"
        "        total(3) / 0\n"
    )
    argv = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_sample.py"]
    runs = []
    for extra in ({}, {"PSYCO": "full"}):
        proc = subprocess.run(argv, capture_output=True, text=True, env=child_env(extra), timeout=120, cwd=workdir)
        # The last line says how long the run took.
        runs.append((proc.returncode, proc.stdout.rsplit(" in ", 1)[0], proc.stderr))
    plain, jit = runs
    assert plain[0] == 1 and "2 failed, 2 passed" in plain[1], plain
    assert jit[0] == plain[0]
    assert jit[1] == plain[1], output_diff("pytest's report", plain[1], jit[1])
    assert "assert [0, 0, 1, 3, 6] == [0, 0, 1, 3, 7]" in plain[1]


def test_faulthandler_dumps_the_same_stack_from_compiled_code():
    code = """
    import faulthandler, sys

    def deepest(n):
        total = 0
        for i in range(n):
            total += i
        faulthandler.dump_traceback(file=sys.stdout, all_threads=False)
        return total

    def caller(n):
        return deepest(n) + 1

    for k in range(3):
        print(caller(10 + k))
    """
    assert_same_as_cpython(code, compiled=["deepest", "caller"])


def test_tracemalloc_attributes_allocations_to_the_same_lines():
    code = """
    import tracemalloc

    def build(n):
        items = []
        for i in range(n):
            items.append("item-%d" % i)
        return items

    build(10)              # compiled before tracing starts
    tracemalloc.start(5)
    kept = build(2000)
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    mine = snapshot.filter_traces([tracemalloc.Filter(True, __file__)])
    top = mine.statistics("lineno")[0]
    print(top.traceback[0].lineno, top.count >= 2000, len(kept))
    """
    assert_same_as_cpython(code, compiled=["build"])


def test_warnings_stacklevel_names_the_callers_line():
    code = """
    import warnings, sys
    warnings.simplefilter("always")
    warnings.showwarning = lambda m, c, f, l, file=None, line=None: print(c.__name__, m, f.rsplit("/", 1)[-1], l)

    def deprecated(x):
        warnings.warn("deprecated is deprecated", DeprecationWarning, stacklevel=2)
        return x + 1

    def user(n):
        total = 0
        for i in range(n):
            total += deprecated(i)
        return total

    def indirect(n):
        warnings.warn("two up", UserWarning, stacklevel=3)
        return n

    def via(n):
        return indirect(n)

    print(user(3))
    print(via(4))
    """
    assert_same_as_cpython(code, compiled=["user", "deprecated"])


def test_threads_running_compiled_loops():
    code = """
    import sys, threading
    sys.setswitchinterval(1e-5)

    def work(k, n, out):
        total = 0
        for i in range(n):
            total += (i * k) % 7
        out[k] = total

    out = {}
    threads = [threading.Thread(target=work, args=(k, 200_000, out)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(out.items()))
    """
    assert_same_as_cpython(code, compiled=["work"])


def test_signal_handlers_run_while_compiled_code_loops():
    code = """
    import os, signal

    seen = []

    def handler(signum, frame):
        seen.append((signum, frame is not None))

    signal.signal(signal.SIGUSR1, handler)

    def loop(n):
        total = 0
        for i in range(n):
            if i == n // 2:
                os.kill(os.getpid(), signal.SIGUSR1)
            total += i
        return total

    print(loop(100_000), seen)
    print(loop(100_000), len(seen))
    """
    assert_same_as_cpython(code, compiled=["loop"])


def test_recursion_limit_changed_at_run_time():
    code = """
    import sys

    def depth(n):
        if n == 0:
            return 0
        return 1 + depth(n - 1)

    print(depth(100))
    for limit in (200, 5000, 150):
        sys.setrecursionlimit(limit)
        try:
            print(limit, depth(400))
        except RecursionError as e:
            print(limit, "RecursionError", e)
    sys.setrecursionlimit(1000)
    """
    assert_same_as_cpython(code, compiled=["depth"])
