"""Runs one fuzz program interpreted and compiled, and compares what the program can see.

Two ways, both needed:

* in process (`run_in_process`): the program is compiled from source into a fresh module
  namespace and run plain (psyco off), then once per backend under `psyco.full(backend=...)`
  at threshold 0 with a filter that compiles only the program's own code, then
  `psyco.disable()` drops everything compiled. Fast: no process start-up per run.
* in fresh processes (`run_fresh`): the program is written to `prog.py` and run by a new
  interpreter, plain and with psyco enabled from its first line (the test suite's headers),
  for what process-level state could hide: start-up, import-time policy, exit, stderr.

Both return an `Outcome` (stdout, the uncaught exception's formatted traceback or exit
status, and the psyco counters for the program's functions); `difference` compares two.

Run as a script, this module is the fuzzer's worker: it reads JSON requests, one a line, on
stdin and answers each with one JSON line (see `serve`).
"""

import contextlib
import faulthandler
import gc
import io
import json
import linecache
import os
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generator  # noqa: E402  (this directory is not a package)

# Set before psyco is enabled in this process and inherited by fresh children: compile every
# function at its first call, generic code included, so that compiled paths are what runs.
JIT_ENV = {"PSYCO_THRESHOLD": "0", "PSYCO_DECLINE_GENERIC": "0", "PYTHONHASHSEED": "0"}
FRESH_TIMEOUT = 60
STATS_ENV = "PSYCO_FUZZ_STATS"
PSYCO_HEADER = (
    "import psyco; psyco.full(); import atexit as _atexit, json as _json, os as _os; "
    f"_atexit.register(lambda: open(_os.environ['{STATS_ENV}'], 'w').write(_json.dumps(psyco.stats())))"
)


@dataclass
class Outcome:
    """What one run of a program showed: its output, how it ended, and for compiled runs the
    psyco counters of its functions (qualname -> stats entry; the module body excluded)."""

    stdout: str
    ending: str  # "ok", a formatted uncaught traceback, or a process's exit status and stderr
    codes: dict = field(default_factory=dict)


def difference(plain, jit):
    """None if the compiled run showed exactly what the plain run did, else a short text
    naming the first difference."""
    if plain.stdout != jit.stdout:
        a, b = plain.stdout.splitlines(), jit.stdout.splitlines()
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"stdout line {i + 1}: plain {x[:300]!r} != psyco {y[:300]!r}"
        return f"stdout has {len(a)} lines plain, {len(b)} under psyco"
    if plain.ending != jit.ending:
        return f"ending: plain {plain.ending[-600:]!r} != psyco {jit.ending[-600:]!r}"
    return None


def program_codes(stats, filename):
    """The program's code objects in psyco.stats(), keyed by qualname (module body left out:
    psyco never compiles it)."""
    out = {}
    for key, entry in stats.get("codes", {}).items():
        if entry["filename"] == filename:
            qualname = key[len(filename) + 1 :].split(":", 1)[1]
            if qualname != "<module>":
                out[qualname] = entry
    return out


def run_in_process(source, filename, backend=None):
    """Runs `source` as a module named __main__ from `filename`, plain (backend None) or
    compiled by `backend`; stdout is captured, an uncaught exception formatted."""
    import psyco

    # Tracebacks show source lines (and carets) from linecache, as for a file.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    namespace = {"__name__": "__main__", "__file__": filename}
    out = io.StringIO()
    error = None
    codes = {}
    if backend is not None:
        psyco.setfilter(lambda c: c.co_filename == filename)
        psyco.full(backend=backend)
    # No automatic collection while the program runs: compiled code allocates less (unboxed
    # numbers), so the collector would run at other points than in the plain run, and a
    # finalizer it runs can print or take a recursion level.
    gc.disable()
    try:
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001  (the program's own exception is data here)
        error = e
    finally:
        gc.enable()
        if backend is not None:
            codes = program_codes(psyco.stats(), filename)
            psyco.disable()
            psyco.setfilter(None)
    if error is None:
        ending = "ok"
    else:
        # The first frame is this function's exec(): not the program's.
        ending = "".join(traceback.format_exception(type(error), error, error.__traceback__.tb_next))
        error = None
    # Functions refer to their namespace (a cycle): break it and collect, so that this run's
    # garbage (code objects with psyco's entries, generators with `finally` blocks) is gone
    # before the next run starts, rather than finalized in the middle of it.
    namespace.clear()
    gc.collect()
    return Outcome(out.getvalue(), ending, codes)


def run_fresh(source, backend=None, workdir=None):
    """Runs `source` as `prog.py` in a new interpreter, plain or (backend named) under
    psyco.full() from its first line; the header keeps line numbers equal."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="psyco-fuzz-"))
    prog = workdir / "prog.py"
    prog.write_text((PSYCO_HEADER if backend else "") + "\n" + source)
    stats_file = workdir / "stats.json"
    stats_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PSYCO", "PSYCO_BACKEND")}
    env.update(JIT_ENV, **{STATS_ENV: str(stats_file)})
    if backend:
        env["PSYCO_BACKEND"] = backend
    try:
        proc = subprocess.run([sys.executable, str(prog)], capture_output=True, cwd=workdir, env=env,
                              encoding="utf-8", errors="backslashreplace", timeout=FRESH_TIMEOUT)
    except subprocess.TimeoutExpired:
        return Outcome("", f"timed out after {FRESH_TIMEOUT}s")
    codes = {}
    if backend and stats_file.exists():
        codes = program_codes(json.loads(stats_file.read_text()), str(prog))
        # Line 1 is the psyco header (its atexit lambda): not the program's.
        codes = {q: e for q, e in codes.items() if e["firstlineno"] > 1}
    return Outcome(proc.stdout, f"exit status {proc.returncode}\n{proc.stderr}", codes)


def compare_in_process(source, filename, backends):
    """Runs `source` plain, then under each backend: (per backend: difference or None,
    per backend: the compiled run's codes)."""
    plain = run_in_process(source, filename)
    diffs, codes = {}, {}
    for backend in backends:
        jit = run_in_process(source, filename, backend)
        diffs[backend], codes[backend] = difference(plain, jit), jit.codes
    return diffs, codes


def compare_fresh(source, backends):
    """The same comparison in fresh processes (one per run)."""
    with tempfile.TemporaryDirectory(prefix="psyco-fuzz-") as workdir:
        plain = run_fresh(source, None, workdir)
        diffs, codes = {}, {}
        for backend in backends:
            jit = run_fresh(source, backend, workdir)
            diffs[backend], codes[backend] = difference(plain, jit), jit.codes
    return diffs, codes


def counters(codes):
    """Per-run totals for the report: functions psyco saw, those entered natively, native
    entries and side exits."""
    return {
        "functions": len(codes),
        "native_functions": sum(1 for e in codes.values() if e["native_entries"] > 0),
        "native_entries": sum(e["native_entries"] for e in codes.values()),
        "side_exits": sum(sum(e["side_exits"].values()) for e in codes.values()),
    }


def handle(request):
    """One worker request: {"seed": S, "backends": [...], "fresh": bool} generates and
    compares the seed's program; {"source": text, "backends": [...], "fresh": bool} compares
    the given program (used while shrinking)."""
    source = request.get("source") or generator.generate(request["seed"])
    backends = request["backends"]
    filename = f"fuzz_case_{request.get('seed', 'x')}.py"
    diffs, codes = compare_in_process(source, filename, backends)
    reply = {
        "diffs": {b: d for b, d in diffs.items() if d},
        "counters": {b: counters(c) for b, c in codes.items()},
    }
    if request.get("fresh"):
        fresh, _ = compare_fresh(source, backends)
        reply["fresh_diffs"] = {b: d for b, d in fresh.items() if d}
    return reply


def serve():
    """The worker loop: a JSON request per stdin line, a JSON reply per stdout line. The
    program's own output goes to a StringIO, so stdout carries only replies."""
    os.environ.update(JIT_ENV)
    faulthandler.enable()  # a crash prints the frames it happened in to stderr (the driver reports it)
    import psyco  # noqa: F401  (imported before the first request: its start-up is not a case's)

    replies = sys.stdout
    for line in sys.stdin:
        reply = handle(json.loads(line))
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
