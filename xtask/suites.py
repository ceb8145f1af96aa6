"""Real libraries' test suites, plain and under psyco: `cargo xtask suites`.

    python xtask/suites.py [--backends dynasm,cranelift] [--policies default,eager]
                           [--libraries toolz,...] [--out bench/suites.md]

For each library below (pure Python, pinned), the sdist is downloaded once from PyPI into
`target/suites/` and unpacked; its own test suite runs with pytest from the unpacked tree (so the
library imported is that tree's source: no C speedups), first plain, then under `PSYCO=full` on
each backend (every interpreter started by the run compiles, as a user's `PSYCO=full` would),
and the outcome of every test is compared; the *eager* policy compiles every function at its
first call (see `POLICIES`), so that far more of the suite runs compiled. A regression is a test that passed plain and does
not pass under psyco; none is allowed (the exit status is 1 if any). `PSYCO_STATS_DIR` collects
what each psyco run compiled and ran natively. The report is a Markdown table (written to
`--out`) with, per library and backend: tests run, passed both ways, regressions (named),
skipped, run times, and how much ran compiled.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET

from report_context import git_head, machine

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = ROOT / "target" / "suites"

# name -> (pinned version, pytest's arguments: the tests inside the unpacked sdist).
LIBRARIES = {
    "more-itertools": ("10.5.0", ["tests"]),
    "toolz": ("1.0.0", ["toolz/tests"]),
    # The railroad-diagram tests need a package pyparsing does not require.
    "pyparsing": ("3.1.4", ["tests", "--ignore=tests/test_diagram.py"]),
    # The tree's own source, never built: simplejson runs without its C speedups.
    "simplejson": ("3.19.3", ["simplejson/tests"]),
    "idna": ("3.7", ["tests"]),
    "six": ("1.16.0", ["test_six.py"]),
}

# How much psyco compiles: `default` is what `PSYCO=full` does; `eager` compiles every function
# at its first call, mostly generic code too, so that far more of the suites runs compiled.
POLICIES = {
    "default": {},
    "eager": {"PSYCO_THRESHOLD": "0", "PSYCO_DECLINE_GENERIC": "0"},
}

SCRUBBED_ENV = ("PSYCO", "PSYCO_STATS_DIR", "PSYCO_THRESHOLD", "PSYCO_BACKEND", "PSYCO_DISABLE", "PSYCO_DECLINE_GENERIC")


def unpacked(project, version):
    """The unpacked sdist of `project==version` (downloaded and unpacked on first use)."""
    target = CACHE / f"{project}-{version}"
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "-d", tmp, f"{project}=={version}"],
            check=True,
        )
        archive = next(pathlib.Path(tmp).glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        tree = next(p for p in pathlib.Path(tmp).iterdir() if p.is_dir())
        shutil.move(str(tree), target)
    return target


def run_suite(tree, pytest_args, mode, workdir):
    """Runs pytest with `pytest_args` in `tree`, plain (`mode` None) or under psyco (`mode` a
    (backend, policy) pair); returns ({test id: outcome}, seconds, stats)."""
    label = "plain" if mode is None else "-".join(mode)
    junit = workdir / f"{label}.xml"
    stats_dir = workdir / f"stats-{label}"
    stats_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if mode is not None:
        backend, policy = mode
        env.update({"PSYCO": "full", "PSYCO_BACKEND": backend, "PSYCO_STATS_DIR": str(stats_dir), **POLICIES[policy]})
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
            f"--junitxml={junit}", *pytest_args]
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if not junit.exists():
        sys.exit(f"{tree.name}: pytest wrote no report ({label}, status {proc.returncode}):\n"
                 f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return outcomes(junit), seconds, totals(stats_dir)


def outcomes(junit):
    """Each test case's outcome from a JUnit XML report: passed, failed, error or skipped."""
    result = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        result[test_id] = {"failure": "failed"}.get(outcome, outcome)
    return result


def totals(stats_dir):
    """What the psyco processes of a run compiled and ran natively (sums over processes)."""
    keys = ("functions_compiled", "versions_compiled", "code_objects", "code_objects_native", "native_entries")
    total = dict.fromkeys(keys, 0)
    total["compile_time"] = 0.0
    for path in stats_dir.glob("*.json"):
        stats = json.loads(path.read_text())
        for key in total:
            total[key] += stats.get(key, 0)
    total["processes"] = len(list(stats_dir.glob("*.json")))
    return total


def compare(plain, jit):
    """(tests, passed both ways, regressions, skipped both) between two runs' outcomes."""
    regressions = sorted(t for t, o in plain.items() if o == "passed" and jit.get(t) != "passed")
    both = sum(1 for t, o in plain.items() if o == "passed" and jit.get(t) == "passed")
    skipped = sum(1 for t, o in plain.items() if o == "skipped")
    return len(plain), both, regressions, skipped


def report(rows, modes):
    lines = [
        "# Real libraries' test suites under psyco",
        "",
        f"- machine: {machine()}",
        f"- CPython {sys.version.split()[0]}; checkout commit {git_head()}",
        "- each suite runs with pytest from its unpacked sdist (pure-Python source), plain and under "
        "`PSYCO=full` per backend and policy (*default*: as `PSYCO=full` is; *eager*: "
        "`PSYCO_THRESHOLD=0 PSYCO_DECLINE_GENERIC=0`, every function compiled at its first call); "
        "outcomes compared per test",
        "",
        "A *regression* is a test that passed plain and does not pass under psyco. *compiled*: "
        "functions compiled / code objects that ran native code / code objects psyco saw, and native "
        "entries, summed over the run's processes.",
        "",
        "| library | version | backend | policy | tests | passed both | regressions | skipped | plain s | psyco s "
        "| compiled | native entries |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    failing = []
    for row in rows:
        for backend, policy in modes:
            r = row["modes"][(backend, policy)]
            s = r["stats"]
            lines.append(
                f"| {row['name']} | {row['version']} | {backend} | {policy} | {r['tests']} | {r['both']} | "
                f"{len(r['regressions'])} | {r['skipped']} | {row['plain_seconds']:.1f} | {r['seconds']:.1f} | "
                f"{s['functions_compiled']} / {s['code_objects_native']} / {s['code_objects']} | {s['native_entries']} |"
            )
            failing += [f"- {row['name']} ({backend}, {policy}): `{t}`" for t in r["regressions"]]
    lines += ["", "## Regressions", ""] + (failing or ["None."])
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="dynasm,cranelift")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--out", default=str(ROOT / "bench" / "suites.md"))
    args = parser.parse_args()
    modes = [(b, p) for b in args.backends.split(",") for p in args.policies.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.libraries.split(","):
            version, pytest_args = LIBRARIES[name]
            tree = unpacked(name, version)
            workdir = pathlib.Path(tmp) / name
            workdir.mkdir()
            plain, plain_seconds, _ = run_suite(tree, pytest_args, None, workdir)
            if not plain:
                sys.exit(f"{name}: the plain run collected no tests")
            row = {"name": name, "version": version, "plain_seconds": plain_seconds, "modes": {}}
            for mode in modes:
                jit, seconds, stats = run_suite(tree, pytest_args, mode, workdir)
                count, both, regressions, skipped = compare(plain, jit)
                row["modes"][mode] = {"tests": count, "both": both, "regressions": regressions,
                                      "skipped": skipped, "seconds": seconds, "stats": stats}
                print(f"{name} {version} {' '.join(mode)}: {count} tests, {both} passed both, "
                      f"{len(regressions)} regressions, plain {plain_seconds:.1f}s, psyco {seconds:.1f}s, "
                      f"{stats['functions_compiled']} functions compiled", flush=True)
            rows.append(row)
    text = report(rows, modes)
    pathlib.Path(args.out).write_text(text)
    print(f"report: {args.out}")
    if any(r["regressions"] for row in rows for r in row["modes"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
