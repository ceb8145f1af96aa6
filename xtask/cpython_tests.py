"""`cargo xtask cpython-tests`: CPython's own test suite (`python -m test`), plain and under psyco.

The suite runs twice with the same regrtest command line, on the same machine: once without
psyco (the baseline: what passes *here*), once with psyco enabled in every interpreter of the
run (`PSYCO=full PSYCO_THRESHOLD=0 PSYCO_DECLINE_GENERIC=0 PSYCO_VERIFY=1 PSYCO_BACKEND=<backend>`; regrtest's
`-j` workers and the subprocesses tests start inherit it). Modules are then compared:

- passing in both, failing in both (the environment, not psyco);
- regressions: passing plain, not passing under psyco, with their first failing test (from
  regrtest's `--junit-xml`, else from its output: crash, timeout, import error);
- improvements: failing plain, passing under psyco (flaky or environment-dependent tests).

How much really ran compiled: the psyco run sets `PSYCO_STATS_DIR`, so that every interpreter
writes its `psyco.stats()` totals at exit (see `psyco/_autoload.py`); the report sums them.

The gate (exit status 1) fails when
- a regression is not listed in `tests/cpython-expected-failures.toml` for this backend,
- a listed module passes under psyco again (the list only shrinks: remove it),
- the psyco run compiled nothing (psyco was not active), or a run produced no result.

    python xtask/cpython_tests.py [--quick | --full] [--backend dynasm|cranelift] [-j N]
        [--timeout SECONDS] [--report FILE.md] [--baseline FILE.json]
        [--save-baseline FILE.json] [--logs DIR] [module ...]

`--quick` (the default) runs QUICK, a subset covering what psyco compiles, in a few minutes;
`--full` runs every module but EXCLUDED_FULL (they hang or are hopeless here even without
psyco). Nothing is cached between invocations, except that `--baseline FILE` reuses a plain run
saved by `--save-baseline FILE` (same selection and options required).
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import xml.etree.ElementTree as ET

from report_context import git_head, machine
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_FILE = ROOT / "tests" / "cpython-expected-failures.toml"
BACKENDS = ("dynasm", "cranelift")

# The CI subset: modules exercising what psyco compiles (arithmetic, control flow, calls,
# closures, classes, exceptions, generators, comprehensions, containers, tracing, frames),
# and what psyco must survive: subinterpreters and finalization (test_atexit, test_capi),
# other users of co_extra (test_code).
# Plain + psyco together take well under 10 minutes at -j2 on a 2-core machine.
QUICK = [
    "test_int", "test_long", "test_float", "test_bool", "test_complex", "test_pow",
    "test_grammar", "test_opcodes", "test_scope", "test_global", "test_exceptions",
    "test_exception_group", "test_except_star", "test_raise", "test_with", "test_contextlib",
    "test_generators", "test_genexps", "test_coroutines", "test_listcomps", "test_setcomps",
    "test_dictcomps", "test_unpack", "test_unpack_ex", "test_patma", "test_named_expressions",
    "test_class", "test_descr", "test_property", "test_super", "test_dynamic", "test_funcattrs",
    "test_keywordonlyarg", "test_positional_only_arg", "test_call", "test_extcall",
    "test_augassign", "test_binop", "test_compare", "test_richcmp", "test_contains",
    "test_iter", "test_range", "test_slice", "test_list", "test_tuple", "test_dict", "test_set",
    "test_sort", "test_string", "test_fstring", "test_format", "test_math", "test_operator",
    "test_functools", "test_itertools", "test_collections", "test_sys_setprofile",
    "test_sys_settrace", "test_frame", "test_traceback", "test_threading_local",
    "test_signal", "test_bisect", "test_heapq", "test_statistics", "test_fractions",
    "test_decimal", "test_enum", "test_dataclasses", "test_types", "test_builtin",
    "test_atexit", "test_capi", "test_code",
]

# Left out of --full: they hang until the per-test timeout or cannot pass on this machine
# even without psyco (see /work/shared/cpython-baseline.md: measured plain, 2026-11-21).
EXCLUDED_FULL = {
    "test__xxsubinterpreters": "hangs until the per-test timeout without psyco",
    "test_interpreters": "hangs until the per-test timeout without psyco",
    "test_socket": "fails without psyco here, and takes most of the per-test timeout doing so",
}

PSYCO_VARS = ("PSYCO", "PSYCO_THRESHOLD", "PSYCO_BACKEND", "PSYCO_DECLINE_GENERIC", "PSYCO_VERIFY", "PSYCO_STATS_DIR")

PASSING = {"passed", "env_changed"}


# --- running regrtest ---------------------------------------------------------------------


def regrtest_command(args, xml_path):
    cmd = [sys.executable, "-m", "test", "-j", str(args.jobs), "--timeout", str(args.timeout),
           "--junit-xml", str(xml_path)]
    if args.modules:
        cmd += args.modules
    elif args.full:
        cmd += ["-x", *sorted(EXCLUDED_FULL)]
    else:
        cmd += QUICK
    return cmd


def run_regrtest(args, label, extra_env, logdir):
    """Runs regrtest once, streaming its output; returns the parsed run."""
    env = {k: v for k, v in os.environ.items() if k not in PSYCO_VARS}
    env.update(extra_env)
    log_path = logdir / f"{label}.log"
    xml_path = logdir / f"{label}.xml"
    cmd = regrtest_command(args, xml_path)
    shown_env = " ".join(f"{k}={v}" for k, v in extra_env.items() if k != "PSYCO_STATS_DIR")
    print(f"cpython-tests: [{label}] {shown_env} {' '.join(cmd[1:])}", flush=True)
    workdir = tempfile.mkdtemp(prefix=f"cpython-tests-{label}-")
    start = time.monotonic()
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        for line in proc.stdout:
            log.write(line)
            if not args.quiet_output or PROGRESS.search(line):
                sys.stdout.write(line)
                sys.stdout.flush()
        rc = proc.wait()
    duration = time.monotonic() - start
    shutil.rmtree(workdir, ignore_errors=True)
    run = parse_run(log_path.read_text(encoding="utf-8", errors="replace"),
                    xml_path if xml_path.exists() else None)
    run.update(label=label, returncode=rc, duration=duration, command=cmd[1:], env=shown_env,
               selection=selection_key(args))
    return run


def selection_key(args):
    return {"modules": args.modules or ("full" if args.full else "quick"),
            "excluded": sorted(EXCLUDED_FULL) if args.full and not args.modules else [],
            "jobs": args.jobs, "timeout": args.timeout}


# --- parsing regrtest's output and junit XML -----------------------------------------------

PROGRESS = re.compile(r"\[\s*\d+/(?P<total>\d+)(?:/\d+)?\] (test_\w+|test\.\S+)(?: (.*))?$")
RUN_LINE = re.compile(r"Run (\d+) tests? (?:in parallel|sequentially)")
SECTION = re.compile(r"^(?:All )?\d+ (?:re-run )?tests? (OK\.|failed:|skipped:|skipped \(resource denied\):"
                     r"|omitted:|run no tests:|altered the execution environment[^:]*:|re-run tests?:|failed again:)")
SECTION_STATUS = {
    "failed:": "failed", "failed again:": "failed", "skipped:": "skipped",
    "skipped (resource denied):": "resource_denied", "omitted:": "omitted",
    "run no tests:": "no_tests",
}
TEST_HEADER = re.compile(r"^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \((\S+)\)")


# A module's state from the start of its progress-line text (first match wins).
PROGRESS_STATES = (
    ("passed", "passed"),
    ("failed (env changed)", "env_changed"),
    ("skipped (resource denied)", "resource_denied"),
    ("skipped", "skipped"),
    ("ran no tests", "no_tests"),
    ("interrupted", "omitted"),
)


def state_from_progress(text):
    text = text or ""
    for prefix, state in PROGRESS_STATES:
        if text.startswith(prefix):
            return state
    return "failed"  # failed, crashed, timed out, worker non-zero exit code, worker bug


def parse_run(text, xml_path):
    lines = text.splitlines()
    modules = {}  # name -> {"status", "detail", "first_failure"}
    blocks = {}  # name -> output lines printed after its progress line
    current = None
    # Failing tests' output is echoed too, and may hold a child regrtest's own progress lines
    # and summary (test_regrtest): the run's summary is the last one, and its progress lines
    # are those counting up to the run's own total.
    summary_at = max((i for i, line in enumerate(lines) if line.startswith("== Tests result:")), default=None)
    total = next((m.group(1) for m in map(RUN_LINE.search, lines) if m), None)
    for i, line in enumerate(lines[:summary_at]):
        m = PROGRESS.search(line)
        if m and total is not None and m.group("total") != total:
            m = None
        if m:
            name, rest = m.group(2), (m.group(3) or "").strip()
            rest = rest.split(" -- running")[0].strip()
            modules[name] = {"status": state_from_progress(rest), "detail": rest, "first_failure": None}
            blocks[name] = []
            current = name
        elif current is not None:
            blocks[current].append(line)
    # The final summary is authoritative where it lists a module.
    if summary_at is not None:
        section = None
        for line in lines[summary_at + 1:]:
            m = SECTION.match(line)
            if m:
                kind = m.group(1)
                section = None if kind == "OK." else SECTION_STATUS.get(kind, "_other")
                if kind.startswith("altered"):
                    section = "env_changed"
                continue
            if section and line.startswith("    "):
                for name in line.split():
                    if section == "_other":
                        continue
                    entry = modules.setdefault(name, {"status": section, "detail": "", "first_failure": None})
                    if section != "env_changed" or entry["status"] == "passed":
                        entry["status"] = section
                continue
            section = None
    tests = {"run": 0, "failures": 0, "errors": 0, "skipped": 0}
    xml_failures = {}
    if xml_path is not None:
        try:
            root = ET.parse(xml_path).getroot()
        except ET.ParseError:
            root = None
        if root is not None:
            # A testcase is named test.<module>[.<submodule>].<Class>.<method>; regrtest's module
            # names are test_x or, for split packages, test.test_x.test_y: longest prefix wins.
            prefixes = sorted(((n if n.startswith("test.") else f"test.{n}") + ".", n) for n in modules)
            prefixes.sort(key=lambda p: -len(p[0]))
            for case in root.iter("testcase"):
                tests["run"] += 1
                name = case.get("name", "")
                module = next((n for prefix, n in prefixes if name.startswith(prefix)), None)
                if module is None:
                    parts = name.split(".")
                    module = parts[1] if len(parts) > 1 and parts[0] == "test" else parts[0]
                bad = None
                for child in case:
                    if child.tag in ("failure", "error"):
                        tests["failures" if child.tag == "failure" else "errors"] += 1
                        message = (child.get("message") or "").strip().splitlines()
                        first = message[0] if message else child.get("type", "")
                        if len(first) > 300:
                            first = first[:300] + "..."
                        bad = f"{child.tag.upper()}: {name}: {first}"
                    elif child.tag == "skipped":
                        tests["skipped"] += 1
                    elif child.tag == "outcome" and (child.text or "") == "UNEXPECTED_SUCCESS":
                        bad = f"UNEXPECTED SUCCESS: {name}"
                if bad and module not in xml_failures:
                    xml_failures[module] = bad
    for name, entry in modules.items():
        if entry["status"] in PASSING or entry["status"] in ("skipped", "resource_denied", "no_tests"):
            continue
        entry["first_failure"] = xml_failures.get(name) or failure_from_output(name, blocks.get(name, []), entry)
    return {"modules": modules, "tests": tests, "summary_found": summary_at is not None}


def failure_from_output(name, block, entry):
    for line in block:
        m = TEST_HEADER.match(line)
        if m:
            return f"{m.group(1)}: {m.group(3)}.{m.group(2)}"
    for i, line in enumerate(block):
        if line.startswith(f"test {name} crashed") or line.startswith("Traceback (most recent call last)"):
            # The exception line ends the traceback: the first unindented line after it.
            for later in block[i + 1:]:
                if later and not later.startswith(" "):
                    return f"{entry['detail']}: {later.strip()}"
        if line.startswith("Timeout (") or "Fatal Python error" in line:
            return f"{entry['detail']}: {line.strip()}"
    return entry["detail"] or entry["status"]


# --- psyco statistics ------------------------------------------------------------------------

SUMMED = ("functions_compiled", "versions_compiled", "versions", "continuations_compiled",
          "instructions_compiled", "compile_time", "code_bytes", "code_objects",
          "code_objects_native", "native_entries")


def aggregate_stats(directory):
    totals = {key: 0 for key in SUMMED}
    totals.update(processes=0, processes_compiling=0, declined={}, side_exits={}, unreadable=0)
    for path in sorted(Path(directory).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            totals["unreadable"] += 1
            continue
        totals["processes"] += 1
        if data.get("functions_compiled", 0) > 0:
            totals["processes_compiling"] += 1
        for key in SUMMED:
            totals[key] += data.get(key, 0) or 0
        for key in ("declined", "side_exits"):
            for reason, n in (data.get(key) or {}).items():
                totals[key][reason] = totals[key].get(reason, 0) + n
    return totals


# --- expectations ----------------------------------------------------------------------------


def load_expected(backend):
    """{module: {"reason", "reproducer", "backends"}} listed for `backend`."""
    if not EXPECTED_FILE.exists():
        return {}, []
    data = tomllib.loads(EXPECTED_FILE.read_text())
    problems = []
    listed = {}
    for module, entry in (data.get("modules") or {}).items():
        reason = (entry.get("reason") or "").strip()
        reproducer = entry.get("reproducer") or ""
        backends = entry.get("backends") or list(BACKENDS)
        if not reason:
            problems.append(f"{EXPECTED_FILE.name}: {module} has no reason")
        if not reproducer or not (ROOT / reproducer).exists():
            problems.append(f"{EXPECTED_FILE.name}: {module}: reproducer {reproducer!r} does not exist")
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown:
            problems.append(f"{EXPECTED_FILE.name}: {module}: unknown backends {unknown}")
        if backend in backends:
            listed[module] = {"reason": reason, "reproducer": reproducer, "backends": backends}
    return listed, problems


# --- comparison and report -----------------------------------------------------------------


def compare(plain, jit, expected):
    names = sorted(set(plain["modules"]) | set(jit["modules"]))
    rows = {"both_pass": [], "both_fail": [], "regressions": [], "improvements": [], "other": []}
    for name in names:
        p = plain["modules"].get(name, {"status": "missing"})
        j = jit["modules"].get(name, {"status": "missing"})
        p_ok, j_ok = p["status"] in PASSING, j["status"] in PASSING
        if p_ok and j_ok:
            rows["both_pass"].append(name)
        elif p_ok:
            rows["regressions"].append((name, j))
        elif j_ok:
            rows["improvements"].append((name, p))
        elif p["status"] == j["status"] and p["status"] in ("skipped", "resource_denied", "no_tests"):
            rows["other"].append((name, p["status"], j["status"]))
        elif p["status"] in ("skipped", "resource_denied", "no_tests") or j["status"] in ("skipped", "resource_denied", "no_tests"):
            rows["other"].append((name, p["status"], j["status"]))
        else:
            rows["both_fail"].append((name, p, j))
    unlisted = [(n, j) for n, j in rows["regressions"] if n not in expected]
    listed = [(n, j) for n, j in rows["regressions"] if n in expected]
    fixed = [n for n in expected if n in rows["both_pass"]]
    return names, rows, unlisted, listed, fixed


def fmt_duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s"


def count_passing(run):
    return sum(1 for e in run["modules"].values() if e["status"] in PASSING)


def report(args, plain, jit, stats, expected, names, rows, unlisted, listed, fixed, problems, verdict):
    sel = "explicit modules" if args.modules else ("full (every module but the excluded ones)" if args.full else "quick (the CI subset)")
    out = []
    w = out.append
    w(f"# CPython {platform.python_version()} test suite under psyco: {args.backend}")
    w("")
    w(f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')};"
      f" repository HEAD when the report was written: {git_head()}")
    w(f"- Machine: {machine()}")
    spec = importlib.util.find_spec("psyco")
    w(f"- Interpreter: `{sys.executable}`; psyco from `{spec.origin if spec else 'nowhere'}`")
    if args.note:
        w(f"- Note: {args.note}")
    shown = [a for a in sys.argv[1:] if a != args.note and a != "--note"]
    w(f"- Command: `cargo xtask cpython-tests {' '.join(shown)}`")
    w(f"- Selection: {sel}; regrtest `-j {args.jobs} --timeout {args.timeout}`")
    if args.full and not args.modules:
        w(f"- Excluded: " + ", ".join(f"{m} ({why})" for m, why in sorted(EXCLUDED_FULL.items())))
    w(f"- Psyco run environment: `{jit['env']}`")
    reused = " (reused from --baseline)" if plain.get("reused") else ""
    w(f"- Durations: plain {fmt_duration(plain['duration'])}{reused}, psyco {fmt_duration(jit['duration'])}")
    w(f"- Verdict: **{verdict}**")
    w("")
    w("## Modules")
    w("")
    w("| | plain | psyco |")
    w("|---|---:|---:|")
    w(f"| modules run | {len(plain['modules'])} | {len(jit['modules'])} |")
    w(f"| passing (OK or env changed) | {count_passing(plain)} | {count_passing(jit)} |")
    for status in ("env_changed", "failed", "skipped", "resource_denied", "no_tests", "omitted"):
        a = sum(1 for e in plain["modules"].values() if e["status"] == status)
        b = sum(1 for e in jit["modules"].values() if e["status"] == status)
        w(f"| {status.replace('_', ' ')} | {a} | {b} |")
    w(f"| tests run (junit) | {plain['tests']['run']:,} | {jit['tests']['run']:,} |")
    w(f"| test failures + errors | {plain['tests']['failures'] + plain['tests']['errors']} | {jit['tests']['failures'] + jit['tests']['errors']} |")
    w("")
    w(f"Passing in both: {len(rows['both_pass'])}. Failing in both: {len(rows['both_fail'])}"
      + (": " + ", ".join(n for n, _, _ in rows["both_fail"]) if rows["both_fail"] else "") + ".")
    w("")
    w(f"## Regressions (pass plain, fail under psyco): {len(rows['regressions'])}")
    w("")
    if not rows["regressions"]:
        w("None.")
    for name, j in rows["regressions"]:
        if name in expected:
            e = expected[name]
            w(f"- `{name}` (listed: {e['reason']}; reproducer `{e['reproducer']}`): {j.get('first_failure') or j['status']}")
        else:
            w(f"- `{name}` (**NOT LISTED**): {j.get('first_failure') or j['status']}")
    if fixed:
        w("")
        w("Listed in tests/cpython-expected-failures.toml but passing now (remove them): "
          + ", ".join(f"`{n}`" for n in fixed))
    if rows["improvements"]:
        w("")
        w("Failing plain but passing under psyco (flaky or environment): "
          + ", ".join(f"`{n}` ({p.get('first_failure') or p['status']})" for n, p in rows["improvements"]))
    if rows["other"]:
        w("")
        w("Skipped or ran no tests (plain / psyco): "
          + ", ".join(f"{n} ({a}/{b})" for n, a, b in rows["other"]))
    if rows["both_fail"]:
        w("")
        w("### Failing in both")
        w("")
        for name, p, j in rows["both_fail"]:
            w(f"- `{name}`: plain: {p.get('first_failure') or p['status']}; psyco: {j.get('first_failure') or j['status']}")
    if problems:
        w("")
        w("### Problems")
        w("")
        for p in problems:
            w(f"- {p}")
    w("")
    w("## How much ran compiled (all interpreters of the psyco run, summed)")
    w("")
    w(f"- Interpreters reporting: {stats['processes']} ({stats['processes_compiling']} compiled something)")
    w(f"- Functions compiled: {stats['functions_compiled']:,}; versions compiled: {stats['versions_compiled']:,}"
      f" (live at exit: {stats['versions']:,}); continuations: {stats['continuations_compiled']:,}")
    w(f"- Code objects seen: {stats['code_objects']:,}; entered natively: {stats['code_objects_native']:,};"
      f" native entries: {stats['native_entries']:,}")
    w(f"- Instructions compiled: {stats['instructions_compiled']:,}; code bytes: {stats['code_bytes']:,};"
      f" compile time: {stats['compile_time']:.1f} s")
    declined_total = sum(stats["declined"].values())
    w(f"- Code objects declined: {declined_total:,}")
    for reason, n in sorted(stats["declined"].items(), key=lambda kv: -kv[1]):
        w(f"  - {reason}: {n:,}")
    w(f"- Side exits: {sum(stats['side_exits'].values()):,}")
    for reason, n in sorted(stats["side_exits"].items(), key=lambda kv: -kv[1])[:25]:
        w(f"  - {reason}: {n:,}")
    if len(stats["side_exits"]) > 25:
        w(f"  - ({len(stats['side_exits']) - 25} more reasons)")
    return "\n".join(out) + "\n"


# --- main --------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(prog="cargo xtask cpython-tests", description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="the CI subset (default)")
    group.add_argument("--full", action="store_true", help="every module but the excluded ones")
    ap.add_argument("--backend", choices=BACKENDS, default="dynasm")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="regrtest worker processes (>= 1)")
    ap.add_argument("--timeout", type=int, default=None, help="per-test timeout (default 300 quick, 900 full)")
    ap.add_argument("--report", type=Path, help="write the Markdown report here")
    ap.add_argument("--baseline", type=Path, help="reuse a plain run saved by --save-baseline")
    ap.add_argument("--save-baseline", type=Path, help="save the plain run (JSON)")
    ap.add_argument("--logs", type=Path, help="keep the raw regrtest logs and junit XML here")
    ap.add_argument("--note", help="a line of context for the report")
    ap.add_argument("--quiet-output", action="store_true", help="echo only regrtest's progress lines")
    ap.add_argument("modules", nargs="*", help="test modules to run instead of a subset")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("-j must be at least 1 (regrtest's workers are what inherit PSYCO)")
    if args.timeout is None:
        args.timeout = 900 if args.full else 300

    logdir = args.logs or Path(tempfile.mkdtemp(prefix="cpython-tests-logs-"))
    logdir.mkdir(parents=True, exist_ok=True)
    if args.baseline:
        plain = json.loads(args.baseline.read_text())
        if plain.get("selection") != selection_key(args):
            ap.error(f"{args.baseline} was run with {plain.get('selection')}, not {selection_key(args)}")
        plain["reused"] = True
        print(f"cpython-tests: plain run reused from {args.baseline}", flush=True)
    else:
        plain = run_regrtest(args, "plain", {}, logdir)
    if args.save_baseline:
        args.save_baseline.write_text(json.dumps(plain, indent=1))
    stats_dir = Path(tempfile.mkdtemp(prefix="cpython-tests-stats-"))
    jit_env = {"PSYCO": "full", "PSYCO_THRESHOLD": "0", "PSYCO_DECLINE_GENERIC": "0", "PSYCO_VERIFY": "1",
               "PSYCO_BACKEND": args.backend, "PSYCO_STATS_DIR": str(stats_dir)}
    jit = run_regrtest(args, f"psyco-{args.backend}", jit_env, logdir)
    stats = aggregate_stats(stats_dir)
    shutil.rmtree(stats_dir, ignore_errors=True)
    if not args.logs:
        shutil.rmtree(logdir, ignore_errors=True)

    listed, problems = load_expected(args.backend)  # read after the runs, which take long
    names, rows, unlisted, listed_reg, fixed = compare(plain, jit, listed)
    failures = list(problems)
    for run in (plain, jit):
        if not run["summary_found"] or not run["modules"]:
            failures.append(f"the {run['label']} run produced no regrtest summary (exit status {run['returncode']})")
    if stats["functions_compiled"] == 0:
        failures.append("the psyco run compiled no function: psyco was not active in the test processes")
    for name, j in unlisted:
        failures.append(f"{name} passes plain but fails under psyco ({args.backend}), and "
                        f"{EXPECTED_FILE.relative_to(ROOT)} does not list it: {j.get('first_failure') or j['status']}")
    for name in fixed:
        failures.append(f"{name} is listed in {EXPECTED_FILE.relative_to(ROOT)} for {args.backend} but passes "
                        f"now: remove it (and drop the xfail of {listed[name]['reproducer']})")
    verdict = "FAILED: " + "; ".join(failures) if failures else "OK (no unlisted regression)"
    text = report(args, plain, jit, stats, listed, names, rows, unlisted, listed_reg, fixed, problems, verdict)
    print()
    print(text)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text)
        print(f"cpython-tests: report written to {args.report}")
    if failures:
        print("cpython-tests: FAILED", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print("cpython-tests: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
