"""Harness for psyco's end-to-end tests.

Every test program runs in a fresh interpreter (psyco installs a process-wide hook, and a
JIT bug may crash or hang the child, never pytest).  A program is written to `prog.py` in
a fresh directory with one header line:

* under psyco: `import psyco; psyco.full()` plus an atexit hook that dumps `psyco.stats()`
  to a JSON file, so tests can look at what was compiled without touching the output;
* plain CPython: an empty line, so line numbers (and tracebacks) are the same in both.

`assert_same_as_cpython(code)` runs a program both ways from the same path and asserts
identical stdout, stderr (tracebacks included, byte for byte) and exit status.

The backend comes from the environment: PSYCO_BACKEND is passed through (unset = default),
so the whole suite can be run once per backend.  PSYCO_THRESHOLD is 0 (every function compiled
at its first call, not when the default policy finds it warm) unless a test sets it, and
PYTHONHASHSEED is fixed so set/dict orders match between the two runs.
"""

import difflib
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

PYTHON = sys.executable
# The public benchmark programs live beside the checkout, in the team's shared folder.
def _bench_dir():
    if os.environ.get("PSYCO_BENCH_DIR"):
        return Path(os.environ["PSYCO_BENCH_DIR"])
    beside = Path(__file__).resolve().parents[2] / "shared" / "bench"
    return beside if beside.is_dir() else Path("/work/shared/bench")


BENCH_DIR = _bench_dir()
STATS_ENV = "PSYCO_TEST_STATS"

PSYCO_HEADER = (
    "import psyco; psyco.full(); import atexit as _atexit, json as _json, os as _os, pathlib as _pathlib; "
    f"_atexit.register(lambda: _pathlib.Path(_os.environ['{STATS_ENV}']).write_text(_json.dumps(psyco.stats())))"
)
PLAIN_HEADER = ""

_workdirs = None  # set by the session fixture below


def pytest_report_header(config):
    return f"psyco backend: {os.environ.get('PSYCO_BACKEND') or '(default)'}; python: {PYTHON}"


def child_env(extra=None):
    """The environment of a test program: ours, plus `extra`. Test programs compile
    everything they can, as early as they can (PSYCO_DECLINE_GENERIC=0, PSYCO_THRESHOLD=0),
    so that the compiled paths are what the comparisons exercise; `PSYCO_THRESHOLD=""`
    restores the default policy."""
    env = dict(os.environ)
    env["PSYCO_THRESHOLD"] = "0"
    env.pop(STATS_ENV, None)
    env["PYTHONHASHSEED"] = "0"
    env["PSYCO_DECLINE_GENERIC"] = "0"
    env.update(extra or {})
    return env


@pytest.fixture(scope="session", autouse=True)
def psyco_importable(tmp_path_factory):
    """Fails every test (never skips) if the interpreter cannot import and enable psyco."""
    global _workdirs
    _workdirs = tmp_path_factory.mktemp("progs")
    check = "import psyco; psyco.full(); print(psyco.__file__, psyco.BACKENDS)"
    proc = subprocess.run([PYTHON, "-c", check], capture_output=True, text=True, env=child_env(), timeout=60)
    if proc.returncode != 0:
        pytest.fail(
            f"`import psyco; psyco.full()` fails in {PYTHON} "
            f"(PSYCO_BACKEND={os.environ.get('PSYCO_BACKEND')!r}); the extension must be built and "
            f"installed in this interpreter (maturin develop).\nexit status {proc.returncode}\n{proc.stderr}",
            pytrace=False,
        )


def new_workdir():
    """A fresh directory for one program (under pytest's tmp dir during a session)."""
    global _workdirs
    if _workdirs is None:  # helpers used outside a pytest session
        _workdirs = Path(tempfile.mkdtemp(prefix="psyco-tests-"))
    return Path(tempfile.mkdtemp(dir=_workdirs))


def write_program(code, *, psyco, workdir=None):
    """Writes `code` (dedented) with the psyco or plain header; returns its path."""
    workdir = Path(workdir) if workdir else new_workdir()
    prog = workdir / "prog.py"
    header = PSYCO_HEADER if psyco else PLAIN_HEADER
    prog.write_text(header + "\n" + textwrap.dedent(code))
    return prog


def describe_status(returncode):
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def run_cmd(argv, *, env=None, timeout=60, cwd=None, what="program", input=None):
    """Runs argv (with `input` on its stdin); a timeout fails the test with what the child
    printed so far."""
    try:
        return subprocess.run(
            argv,
            input=input,
            capture_output=True,
            encoding="utf-8",
            errors="backslashreplace",
            env=child_env(env),
            timeout=timeout,
            cwd=cwd,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        pytest.fail(f"{what} timed out after {timeout}s\n--- stdout:\n{out}\n--- stderr:\n{err}", pytrace=False)


def run_py(code, *, psyco, env=None, timeout=60, args=(), workdir=None, input=None):
    """Runs `code` in a fresh interpreter, under psyco.full() or plain.

    Returns the CompletedProcess with extra attributes: `prog` (the program's path),
    `stats` (psyco.stats() at exit, or None) and `codes` (that dict's 'codes' entries for
    the program's own file, keyed by qualname)."""
    prog = write_program(code, psyco=psyco, workdir=workdir)
    stats_file = prog.with_name("stats.json")
    stats_file.unlink(missing_ok=True)
    env = {**(env or {}), STATS_ENV: str(stats_file)}
    what = f"{'psyco' if psyco else 'plain CPython'} run of {prog}"
    proc = run_cmd([PYTHON, str(prog), *args], env=env, timeout=timeout, cwd=prog.parent, what=what, input=input)
    proc.prog = prog
    proc.stats = json.loads(stats_file.read_text()) if stats_file.exists() else None
    proc.codes = codes_of_file(proc.stats, str(prog)) if proc.stats else {}
    return proc


def codes_of_file(stats, filename):
    """stats['codes'] entries whose code objects come from `filename`, keyed by qualname."""
    out = {}
    for key, entry in stats["codes"].items():
        if entry["filename"] == filename:
            qualname = key[len(filename) + 1 :].split(":", 1)[1]
            out[qualname] = entry
    return out


def assert_not_crashed(proc, what="psyco run"):
    if proc.returncode < 0:
        pytest.fail(
            f"{what} crashed: {describe_status(proc.returncode)}\n--- stdout:\n{proc.stdout[-3000:]}"
            f"\n--- stderr:\n{proc.stderr[-3000:]}",
            pytrace=False,
        )


def assert_compiled(proc, *qualnames):
    """Each named function of the program ran compiled code: it has compiled code (call
    versions, or continuations only once a loop had its call version compiled again with the
    profiles: `reoptimize`) and entered it."""
    for name in qualnames:
        entry = proc.codes.get(name)
        if entry is None:
            pytest.fail(f"psyco never saw {name!r}; code objects seen in the program: {sorted(proc.codes)}", pytrace=False)
        if not (entry["versions"] + entry["continuations"] > 0 and entry["native_entries"] > 0):
            pytest.fail(f"{name!r} was not run compiled, so this test does not exercise the JIT: {entry}", pytrace=False)


def output_diff(what, plain, jit):
    """A unified diff of one output stream, plain CPython -> psyco."""
    lines = difflib.unified_diff(plain.splitlines(True), jit.splitlines(True), "plain CPython", "psyco")
    return f"{what} differs from plain CPython:\n" + "".join(lines)


def assert_same_as_cpython(code, *, compiled=(), env=None, timeout=60, args=(), input=None):
    """Runs `code` plain and under psyco from the same path (with `input` on stdin): stdout,
    stderr and exit status must be identical.  Then each function in `compiled` must have run
    compiled.  Returns (plain, psyco) CompletedProcesses."""
    workdir = new_workdir()
    plain = run_py(code, psyco=False, env=env, timeout=timeout, args=args, workdir=workdir, input=input)
    assert plain.returncode >= 0, f"the test program itself crashes plain CPython:\n{plain.stderr}"
    jit = run_py(code, psyco=True, env=env, timeout=timeout, args=args, workdir=workdir, input=input)
    assert_not_crashed(jit)
    if jit.stdout != plain.stdout:
        message = output_diff("stdout", plain.stdout, jit.stdout)
        if jit.stderr != plain.stderr:
            message += "\n" + output_diff("stderr", plain.stderr, jit.stderr)
        pytest.fail(message, pytrace=False)
    if jit.stderr != plain.stderr:
        pytest.fail(output_diff("stderr", plain.stderr, jit.stderr), pytrace=False)
    assert jit.returncode == plain.returncode, "exit status differs from plain CPython"
    assert_compiled(jit, *compiled)
    return plain, jit
