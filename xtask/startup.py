"""The start-up benchmark (`cargo xtask bench --startup`): what `psyco.full()` costs a program
that mostly starts up: importing stdlib modules, compiling regular expressions, running an
empty script. Plain CPython vs psyco on each backend, as fresh processes in alternating rounds,
with a Markdown report.

Per sample: a fresh process; plain = psyco not imported; psyco = `import psyco;
psyco.full(backend=B)` first, then the work. Workloads:

- `import X` for a dozen stdlib modules: the child times the import (time.perf_counter);
- `re.compile`: 200 distinct patterns compiled after `re.purge()` (`import re` is untimed);
- `-m psyco`: `python -m psyco --backend B empty.py` vs `python empty.py`, the whole process.

The parent also times every whole process; peak RSS is the child's own VmHWM (see
`sample`). A psyco child reports `psyco.stats()` as soon as the work is done (compile time,
and `compile_phases` where the build has it) and fails unless psyco really was compiling
with that backend. Each round runs every mode once,
in an order that rotates from round to round. Ratio = psyco time / plain time, the median
over the rounds of the per-round ratios: LOWER is better (1.00 = start-up costs nothing).

`--psyco-path DIR` puts DIR first on PYTHONPATH of the psyco children only, so that a saved
copy of another build's `psyco` package (DIR/psyco/, with its `_psyco*.so`) is measured.

    python xtask/startup.py [--reps 5] [--backends dynasm,cranelift] [--workloads json,re_compile]
                            [--psyco-path DIR] [--note TEXT] [--out DIR | --no-report]
"""

import argparse
import ast
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench import RssPopen, interleaved
from report_context import git_head, machine

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMPORTS = ["typing", "argparse", "json", "dataclasses", "enum", "decimal", "fractions", "inspect",
           "tomllib", "email.parser", "http.client", "asyncio"]
RE_COMPILE, EMPTY_SCRIPT = "re_compile", "empty_script"
WORKLOADS = IMPORTS + [RE_COMPILE, EMPTY_SCRIPT]
TITLES = {**{m: f"import {m}" for m in IMPORTS}, RE_COMPILE: "re.compile x200",
          EMPTY_SCRIPT: "python [-m psyco] empty.py (whole process)"}
# Inherited, these would turn psyco on in plain children (PSYCO=full autoloads it) or off in
# psyco ones; the other PSYCO_* knobs pass through and are listed in the header.
# PYTHONDONTWRITEBYTECODE too: psyco's own package would be compiled from source in every
# child (a user's interpreter caches its .pyc as it does the standard library's); the probe
# child that runs first writes the cache.
SCRUBBED_ENV = ("PSYCO", "PSYCO_STATS_DIR", "PSYCO_DISABLE", "PYTHONDONTWRITEBYTECODE")

# The child imports nothing but sys and time (both loaded at start-up anyway): not json,
# which is a workload, and which psyco would compile after the work too, in the whole-process
# time and the JIT accounting. It prints its report as a literal (the parent's
# ast.literal_eval reads it), from psyco.stats() taken as soon as the work is done.
CHILD = r'''
import sys, time
workload, mode = sys.argv[1], sys.argv[2]
if mode != "plain":
    import psyco
    psyco.full(backend=mode)
preloaded = workload in sys.modules  # psyco itself imported it: the import costs nothing
if workload == "re_compile":
    import re
    # 200 distinct, realistic patterns: each template with an index (and a quantifier bound
    # derived from it) embedded, so that none is a cache hit of another.
    TEMPLATES = [
        r"^(?P<key_{i}>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>\d+|'[^']*'|\"[^\"]*\")\s*(?:#.*)?$",
        r"^\s*(GET|POST|PUT|DELETE|PATCH)\s+/api/v{i}/(\w+)(?:/(\d{1,{k}}))?\s+HTTP/1\.[01]$",
        r"\b(25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}:(?:{i}|\d{2,5})\b",
        r"(?i)[\w.+-]+@(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev{i})",
        r"(?i)^\s*(error|warning|note)\s+E{i}(\d{0,{k}}):\s+(.*?)(?:\s+at line (\d+))?\s*$",
        r"(\d{4})-(0[1-9]|1[0-2])-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,{k}})?)?(Z|[+-]\d{2}:?\d{2})?#{i}",
        r"(?m)^(#{1,6})\s+(.+?)\s*(?:\{#sec-{i}\})?$|^\s*[-*+]\s+\[( |x)\]\s+(.*)$",
        r"(?x) (?P<num> [+-]? (?: \d+ \.? \d* | \. \d+ ) (?: [eE] [+-]? \d{1,{k}} )? ) \s* (?P<unit> k?m|s|g|px{i})?",
        r"<(?P<tag>[a-z][a-z0-9]*)(?:\s+(?:id|class|data-x{i})=\"[^\"]*\")*\s*/?>|</(?P=tag)>",
        r"(?:(?<=\s)|^)(?:0x[0-9a-fA-F]{1,{k}}|0o[0-7]+|0b[01]+|\d+(?:_\d+)*)[lLuU]?(?=\W|$)|v{i}\.\d+",
    ]
    patterns = [t.replace("{i}", str(i)).replace("{k}", str(2 + i % 7)) for i in range(20) for t in TEMPLATES]
    assert len(set(patterns)) == 200
    re.purge()
    t = time.perf_counter()
    for p in patterns:
        re.compile(p)
    elapsed = time.perf_counter() - t
else:
    t = time.perf_counter()
    __import__(workload)
    elapsed = time.perf_counter() - t
report = {"time": elapsed, "preloaded": preloaded}
if mode != "plain":
    s = psyco.stats()
    if s.get("mode") != "full" or s.get("backend") != mode:
        sys.exit(f"psyco was not compiling: stats() says mode={s.get('mode')!r}, "
                 f"backend={s.get('backend')!r} (wanted 'full', {mode!r})")
    declined = s.get("declined", 0)
    report["stats"] = {
        "compile_time": s["compile_time"],
        "functions_compiled": s["functions_compiled"],
        "versions": s["versions"],
        "continuations": s.get("continuations_compiled", 0),
        "declined": sum(declined.values()) if isinstance(declined, dict) else declined,
        "code_bytes": s["code_bytes"],
        "compile_phases": s.get("compile_phases"),
    }
# This process's own peak RSS (kB): the high-water mark of its memory map, which starts at exec.
with open("/proc/self/status") as f:
    report["hwm_kib"] = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(repr(report))
'''

PROBE = "import json, psyco; print(json.dumps({'file': psyco.__file__, 'backends': list(psyco.BACKENDS)}))"


def child_envs(psyco_path):
    """(plain env, psyco env): ours without the switches, and for psyco children psyco_path
    first on PYTHONPATH (PYTHONPATH entries come before site-packages and the editable
    install's .pth entry, so a copied package there wins)."""
    base = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    jit = dict(base)
    if psyco_path:
        jit["PYTHONPATH"] = os.pathsep.join(p for p in [psyco_path, base.get("PYTHONPATH")] if p)
    return base, jit


def gnu_time():
    """`/usr/bin/time` if it is GNU time (it understands `-f %M -o FILE`), else None."""
    exe = shutil.which("time")
    if exe is None:
        return None
    with tempfile.NamedTemporaryFile("r") as f:
        ok = subprocess.run([exe, "-f", "%M", "-o", f.name, "true"], capture_output=True).returncode == 0
        return exe if ok and f.read().strip().isdigit() else None


def sample(workload, mode, envs, tmp, time_exe):
    """One fresh process: the child's report plus whole-process time (s) and peak RSS (MiB).

    Peak RSS: not wait4's ru_maxrss. Linux carries the high-water mark of the memory map a
    child had before exec over the exec, and a child of this process starts with this
    process's map (vfork): its ru_maxrss is at least the harness's own peak, more than a
    plain `python empty.py` uses. So the `-c` children report their VmHWM (that of their
    own map), and empty.py, which cannot, is run once more, untimed, under GNU time (whose
    child is forked from the small `time` process); without GNU time, wait4's floored value
    is shown as a lower bound (">=")."""
    if workload == EMPTY_SCRIPT:
        psyco_args = [] if mode == "plain" else ["-m", "psyco", "--backend", mode]
        cmd = [sys.executable, *psyco_args, str(tmp / "empty.py")]
    else:
        cmd = [sys.executable, "-c", CHILD, workload, mode]
    env = envs[0] if mode == "plain" else envs[1]
    start = time.perf_counter()
    # cwd: the empty temp dir, so that nothing in the caller's directory shadows a module.
    child = RssPopen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp)
    out, err = child.communicate()
    whole = time.perf_counter() - start
    if child.returncode != 0:
        lines = err.strip().splitlines()
        return {"error": f"{mode}: " + (lines[-1] if lines else f"exit {child.returncode}")}
    # empty.py reports nothing: its time is the whole process's (and no stats: the script
    # cannot be changed to print them, and PSYCO_STATS_DIR needs PSYCO=full, which would
    # enable psyco a second time, earlier, in a different process than the one measured).
    report = {"time": whole} if workload == EMPTY_SCRIPT else ast.literal_eval(out.strip().splitlines()[-1])
    report.update(whole=whole, rss=child.peak_rss, rss_floored=True)
    if "hwm_kib" in report:
        report.update(rss=report["hwm_kib"] / 1024, rss_floored=False)
    elif time_exe:
        rss_file = tmp / "rss.txt"
        if subprocess.run([time_exe, "-f", "%M", "-o", str(rss_file), *cmd], capture_output=True, env=env,
                          cwd=tmp).returncode == 0:
            report.update(rss=int(rss_file.read_text().split()[-1]) / 1024, rss_floored=False)
    return report


def median_stats(runs):
    """The median of each JIT counter over the rounds (phases: per phase present), or None."""
    all_stats = [r["stats"] for r in runs if r.get("stats")]
    if not all_stats:
        return None
    keys = [k for k in all_stats[0] if k != "compile_phases"]
    out = {k: statistics.median(s[k] for s in all_stats) for k in keys}
    phases = [s["compile_phases"] for s in all_stats if isinstance(s.get("compile_phases"), dict)]
    if phases:
        out["compile_phases"] = {p: statistics.median(ph.get(p, 0.0) for ph in phases) for p in phases[0]}
    return out


def summarize(runs, modes):
    """Per mode: medians of time, whole-process time and RSS, ratios to plain, JIT stats."""
    errors = [r["error"] for m in modes for r in runs[m] if "error" in r]
    row = {"status": f"FAILED: {errors[0]}" if errors else "ok", "modes": {}}
    plain = runs["plain"]
    if any("error" in r for r in plain):
        return row  # no ratios without plain
    for mode in modes:
        rs = runs[mode]
        if any("error" in r for r in rs):
            continue
        row["modes"][mode] = {
            "time": statistics.median(r["time"] for r in rs),
            "whole": statistics.median(r["whole"] for r in rs),
            "rss": statistics.median(r["rss"] for r in rs),
            "rss_floored": any(r["rss_floored"] for r in rs),
            "ratio": statistics.median(r["time"] / p["time"] for p, r in zip(plain, rs)),
            "whole_ratio": statistics.median(r["whole"] / p["whole"] for p, r in zip(plain, rs)),
            "stats": median_stats(rs),
        }
    preloaded = [m for m in modes[1:] if any(r.get("preloaded") for r in runs[m])]
    if preloaded and row["status"] == "ok":
        row["status"] = f"ok; already imported by psyco ({', '.join(preloaded)})"
    return row


def console_line(workload, row, modes):
    ms = row["modes"]
    cells = [f"plain {ms['plain']['time'] * 1000:8.1f} ms" if "plain" in ms else "plain FAILED"]
    cells += [f"{m} {ms[m]['time'] * 1000:8.1f} ms {ms[m]['ratio']:5.2f}x" if m in ms else f"{m} FAILED"
              for m in modes[1:]]
    return f"{workload:14} " + "  ".join(cells) + f"  {row['status']}"


def markdown(rows, modes, args, header):
    backends = modes[1:]
    ms_cell = lambda ms, m, k, f=1000, fmt="{:.1f}": fmt.format(ms[m][k] * f) if m in ms else "FAILED"  # noqa: E731
    lines = ["# psyco start-up benchmark", "", *header, "",
             "Ratio = psyco time / plain time, the median over the rounds of the per-round ratios: "
             "**lower is better** (1.00 = psyco costs nothing; 2.00 = twice as slow). Times are "
             "medians in ms. *import X*: the import alone, timed in the child after `import psyco; "
             "psyco.full()`; *re.compile x200*: 200 distinct patterns after `re.purge()`; "
             "*empty.py*: the whole process, `python -m psyco --backend B empty.py` vs "
             "`python empty.py`.", "",
             "| workload | plain ms | " + " | ".join(f"{b} ms | {b} ratio" for b in backends) + " | status |",
             "|---|---:|" + "---:|---:|" * len(backends) + "---|"]
    for name, row in rows:
        ms = row["modes"]
        cells = " | ".join(f"{ms_cell(ms, b, 'time')} | {ms_cell(ms, b, 'ratio', 1, '{:.2f}')}" for b in backends)
        lines.append(f"| {TITLES[name]} | {ms_cell(ms, 'plain', 'time')} | {cells} | {row['status']} |")
    lines += ["", "## Whole process: wall time and peak RSS", "",
              "Each sample's whole process as the parent sees it (interpreter start-up and exit "
              "included); ratio as above, lower is better. Peak RSS: the child's own high-water "
              "mark (VmHWM; for empty.py, GNU time's %M of an extra untimed run), median.", "",
              "| workload | plain ms | " + " | ".join(f"{b} ms | {b} ratio" for b in backends)
              + " | plain RSS MiB | " + " | ".join(f"{b} RSS MiB" for b in backends) + " |",
              "|---|---:|" + "---:|---:|" * len(backends) + "---:|" * (1 + len(backends))]
    for name, row in rows:
        ms = row["modes"]
        times = " | ".join(f"{ms_cell(ms, b, 'whole')} | {ms_cell(ms, b, 'whole_ratio', 1, '{:.2f}')}" for b in backends)
        rss = " | ".join((">=" if ms.get(m, {}).get("rss_floored") else "") + ms_cell(ms, m, "rss", 1, "{:.1f}")
                         for m in modes)
        lines.append(f"| {TITLES[name]} | {ms_cell(ms, 'plain', 'whole')} | {times} | {rss} |")
    # Phases: whatever names the build reports (stats()['compile_phases']), in first-seen order.
    phases = []
    for _, row in rows:
        for st in (m.get("stats") or {} for m in row["modes"].values()):
            phases += [p for p in st.get("compile_phases") or {} if p not in phases]
    lines += ["", "## JIT accounting", "",
              "From `psyco.stats()` at the end of each psyco child (medians over the rounds): compile "
              "time in ms" + (" and per phase (`compile_phases`)" if phases else
                              " (this build reports no `compile_phases`)")
              + ", functions compiled, live versions, continuations, declined (sum over reasons), "
              "live code KiB. Not collected for empty.py (see the script's comments).", "",
              "| workload | backend | compile ms | " + "".join(f"{p} ms | " for p in phases)
              + "functions | versions | continuations | declined | code KiB |",
              "|---|---|---:|" + "---:|" * len(phases) + "---:|" * 5]
    for name, row in rows:
        for b in backends:
            st = row["modes"].get(b, {}).get("stats")
            if not st:
                continue
            ph = st.get("compile_phases") or {}
            cells = [f"{st['compile_time'] * 1000:.1f}", *(f"{ph[p] * 1000:.1f}" if p in ph else "-" for p in phases),
                     f"{st['functions_compiled']:.0f}", f"{st['versions']:.0f}", f"{st['continuations']:.0f}",
                     f"{st['declined']:.0f}", f"{st['code_bytes'] / 1024:.0f}"]
            lines.append(f"| {TITLES[name]} | {b} | " + " | ".join(cells) + " |")
    command = " ".join(["--reps", str(args.reps)] + [f"--{k} {v!r}" for k, v in
                       (("backends", args.backends), ("workloads", args.workloads), ("psyco-path", args.psyco_path),
                        ("note", args.note)) if v])
    lines += ["", f"Command: `cargo xtask bench --startup {command}` (or `python xtask/startup.py {command}`).", ""]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5, help="rounds (each runs every mode once)")
    ap.add_argument("--backends", help="comma-separated psyco backends (default: all the build offers)")
    ap.add_argument("--workloads", help=f"comma-separated subset of: {','.join(WORKLOADS)}")
    ap.add_argument("--psyco-path", help="directory put first on PYTHONPATH of psyco children (a saved build)")
    ap.add_argument("--note", help="a line added to the report's header")
    ap.add_argument("--out", default=str(ROOT / "bench"), help="where startup.md goes")
    ap.add_argument("--no-report", action="store_true", help="print the rows only")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    workloads = args.workloads.split(",") if args.workloads else WORKLOADS
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {', '.join(unknown)}; valid: {', '.join(WORKLOADS)}")
    if args.psyco_path:
        args.psyco_path = str(pathlib.Path(args.psyco_path).resolve())
    envs, time_exe = child_envs(args.psyco_path), gnu_time()
    with tempfile.TemporaryDirectory(prefix="psyco-startup-") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "empty.py").write_text("")
        # Which psyco the psyco children get, and its backends: asked of a child with their
        # environment, so that --psyco-path is checked, not assumed.
        probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=envs[1], cwd=tmp)
        if probe.returncode != 0:
            sys.exit(f"psyco cannot be imported by the psyco children:\n{probe.stderr}")
        found = json.loads(probe.stdout)
        if args.psyco_path and not found["file"].startswith(args.psyco_path + os.sep):
            sys.exit(f"--psyco-path {args.psyco_path}: the children import {found['file']} instead "
                     f"(the directory must contain the package: {args.psyco_path}/psyco/__init__.py)")
        backends = args.backends.split(",") if args.backends else found["backends"]
        bad = [b for b in backends if b not in found["backends"]]
        if bad:
            ap.error(f"unknown backend(s) {', '.join(bad)}; valid: {', '.join(found['backends'])}")
        modes = ["plain", *backends]
        knobs = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("PSYCO_") and k not in SCRUBBED_ENV)
        header = [f"- date: {datetime.date.today().isoformat()}", f"- machine: {machine()}",
                  f"- CPython {platform.python_version()}; checkout commit {git_head()}; psyco children import "
                  f"`{found['file']}`" + (f" (--psyco-path {args.psyco_path})" if args.psyco_path else ""),
                  f"- {args.reps} rounds per workload, each a fresh process per mode ({', '.join(modes)}), "
                  f"order rotating"]
        header += [f"- environment: {' '.join(knobs)}"] if knobs else []
        header += [f"- note: {args.note}"] if args.note else []
        print("\n".join(header))
        rows, failures = [], 0
        runs_of = interleaved(workloads, modes, args.reps, lambda name, mode: sample(name, mode, envs, tmp, time_exe))
        for workload, runs in runs_of:
            row = summarize(runs, modes)
            failures += row["status"].startswith("FAILED")
            rows.append((workload, row))
            print("\r" + console_line(workload, row, modes) + " " * 10)
    if not args.no_report:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "startup.md").write_text(markdown(rows, modes, args, header))
        print(f"wrote {out / 'startup.md'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
