"""The benchmark harness (`cargo xtask bench`): every program of the public benchmark folder,
plain CPython vs psyco on each backend (and PyPy where `pypy3` is installed), as fresh
processes in alternating rounds, with a Markdown report and an SVG chart.

Per sample: a fresh process; plain = psyco not imported; psyco = `import psyco;
psyco.full(backend=B)` before the program is imported. The child checks `CHECKS`, warms
`bench(N)` once, times one more `bench(N)` (steady state), and reports its result and
`psyco.stats()`; the parent times the whole process and reads its peak RSS. Each round runs
every mode once, in an order that rotates from round to round. Speed-up = plain / mode, the
median over the rounds of the per-round ratios; a result that differs from plain's is
reported as a failure, not a number.

    python xtask/bench.py [--bench-dir DIR] [--reps 3] [--backends dynasm,cranelift]
                          [--no-pypy] [--out DIR | --no-report] [program ...]
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import time

from report_context import git_head, machine

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_BENCH_DIR = ROOT.parent / "shared" / "bench"

CHILD = r'''
import importlib.util, json, sys, time
path, mode = sys.argv[1], sys.argv[2]
if mode not in ("plain", "pypy"):
    import psyco
    psyco.full(backend=mode)
spec = importlib.util.spec_from_file_location("benchprog", path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
checks_ok = all(mod.bench(n) == want for n, want in mod.CHECKS.items())
mod.bench(mod.N)
t = time.perf_counter()
result = mod.bench(mod.N)
steady = time.perf_counter() - t
report = {"steady": steady, "result": repr(result), "checks_ok": checks_ok}
if mode not in ("plain", "pypy"):
    s = psyco.stats()
    report["stats"] = {
        "code_bytes": s["code_bytes"],
        "versions": s["versions"] + s["continuations_compiled"],
        "side_exits": sum(s["side_exits"].values()),
        "compile_time": s["compile_time"],
        # JIT time (every attempt) per bytecode instruction compiled, per function of the program.
        "us_per_instruction": [c["compile_time"] * 1e6 / c["instructions_compiled"] for c in s["codes"].values()
                               if c["filename"] == path and c.get("instructions_compiled", 0) > 0],
    }
print(json.dumps(report))
'''


class RssPopen(subprocess.Popen):
    """Popen that reaps its child with wait4, keeping the child's own peak RSS (getrusage of
    all children would give the largest so far, not this one's)."""

    peak_rss = None

    def _try_wait(self, wait_flags):
        pid, status, usage = os.wait4(self.pid, wait_flags)
        if pid == self.pid:
            self.peak_rss = usage.ru_maxrss / 1024
        return pid, status


def interleaved(names, modes, reps, sample):
    """Yields (name, {mode: [sample(name, mode) per round]}) for each name: `reps` rounds, each
    running every mode once, in an order that rotates from round to round (so that a drift of
    the machine weighs on every mode alike); progress goes to stderr."""
    total, done = len(names) * reps * len(modes), 0
    for name in names:
        runs = {m: [] for m in modes}
        for rep in range(reps):
            order = modes[rep % len(modes):] + modes[:rep % len(modes)]
            for mode in order:
                done += 1
                print(f"\r[{done}/{total}] {name}: {mode}, round {rep + 1}/{reps}   ",
                      end="", file=sys.stderr, flush=True)
                runs[mode].append(sample(name, mode))
        yield name, runs


def sample(program, mode, pypy):
    """One fresh process: the child's report plus whole-process time and peak RSS (MiB)."""
    exe = pypy if mode == "pypy" else sys.executable
    start = time.perf_counter()
    child = RssPopen([exe, "-c", CHILD, str(program), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = child.communicate()
    whole = time.perf_counter() - start
    if child.returncode != 0:
        lines = err.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {child.returncode}"}
    report = json.loads(out.strip().splitlines()[-1])
    report["whole"] = whole
    report["rss"] = child.peak_rss
    return report


def summarize(program, runs, modes):
    """Per mode: ratios and medians, or the failure."""
    plain = runs["plain"]
    errors = [r["error"] for m in modes for r in runs[m] if "error" in r]
    if errors:
        return {"status": f"FAILED: {errors[0]}"}
    row = {"status": "ok", "plain_steady": statistics.median(r["steady"] for r in plain),
           "plain_rss": statistics.median(r["rss"] for r in plain), "modes": {}}
    for mode in modes[1:]:
        wrong = [r for r in runs[mode] if r["result"] != plain[0]["result"] or not r["checks_ok"]]
        if wrong:
            row["status"] = f"FAILED ({mode}): result {wrong[0]['result']} != plain {plain[0]['result']}"
            continue
        row["modes"][mode] = {
            "steady": statistics.median(p["steady"] / r["steady"] for p, r in zip(plain, runs[mode])),
            "whole": statistics.median(p["whole"] / r["whole"] for p, r in zip(plain, runs[mode])),
            "rss": statistics.median(r["rss"] for r in runs[mode]),
            "stats": runs[mode][-1].get("stats"),
        }
    return row


def markdown(rows, modes, args, header):
    jit_modes = [m for m in modes[1:] if m != "pypy"]
    lines = [f"# psyco benchmark report", "", *header, "",
             "Speed-up = plain CPython time / mode time, median over the rounds (higher is better). "
             "*steady*: one `bench(N)` after a warm-up call in the same process; *whole*: the whole "
             "process (start-up and compilation included).", "",
             "| program | " + " | ".join(f"{m} steady" for m in modes[1:]) + " | "
             + " | ".join(f"{m} whole" for m in modes[1:]) + " | plain steady s | status |",
             "|---|" + "---:|" * (2 * len(modes[1:]) + 1) + "---|"]
    for name, row in rows:
        ms = row.get("modes", {})
        cell = lambda m, k: f"{ms[m][k]:.2f}" if m in ms else "-"  # noqa: E731
        steady = " | ".join(cell(m, "steady") for m in modes[1:])
        whole = " | ".join(cell(m, "whole") for m in modes[1:])
        plain_s = f"{row['plain_steady']:.3f}" if "plain_steady" in row else "-"
        lines.append(f"| {name} | {steady} | {whole} | {plain_s} | {row['status']} |")
    lines += ["", "## Memory and compilation", "",
              "| program | plain RSS MiB | " + " | ".join(f"{m} RSS MiB" for m in modes[1:]) + " | "
              + " | ".join(f"{m} code KiB / versions / exits / compile ms" for m in jit_modes) + " |",
              "|---|" + "---:|" * (1 + len(modes[1:]) + len(jit_modes))]
    for name, row in rows:
        ms = row.get("modes", {})
        if "plain_rss" not in row:
            continue
        rss = " | ".join(f"{ms[m]['rss']:.0f}" if m in ms else "-" for m in modes[1:])
        stats = []
        for m in jit_modes:
            s = ms.get(m, {}).get("stats")
            stats.append(f"{s['code_bytes'] / 1024:.0f} / {s['versions']} / {s['side_exits']} / {s['compile_time'] * 1000:.1f}"
                         if s else "-")
        lines.append(f"| {name} | {row['plain_rss']:.0f} | {rss} | {' | '.join(stats)} |")
    per_instruction = []
    for m in jit_modes:
        values = sorted(v for _, row in rows for v in (row.get("modes", {}).get(m, {}).get("stats") or {}).get("us_per_instruction", []))
        if values:
            per_instruction.append(f"{m} {statistics.median(values):.2f} µs over {len(values)} functions")
    if per_instruction:
        lines += ["", "JIT time per bytecode instruction compiled (all of a function's compile time, declined "
                  "attempts included, over the instructions of its versions), median over the programs' "
                  "functions: " + "; ".join(per_instruction) + "."]
    lines += ["", f"Command: `cargo xtask bench --reps {args.reps}` "
              f"(or `python xtask/bench.py --reps {args.reps}`).", ""]
    return "\n".join(lines)


def svg_chart(rows, modes, title):
    """Grouped bars of the steady speed-up per program and mode, on a log scale."""
    colours = {"dynasm": "#1f77b4", "cranelift": "#ff7f0e", "pypy": "#2ca02c"}
    shown = [m for m in modes[1:]]
    names = [n for n, r in rows if r.get("modes")]
    values = [max(r["modes"][m]["steady"] for m in r["modes"]) for n, r in rows if r.get("modes")]
    import math
    top = max([2.0] + values)
    lo, hi = math.log10(0.5), math.log10(top * 1.2)
    width, height, left, bottom, top_pad = 60 + 70 * len(names), 360, 50, 90, 40
    plot_h = height - bottom - top_pad
    y = lambda v: top_pad + plot_h * (1 - (math.log10(max(v, 0.5)) - lo) / (hi - lo))  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + left}" height="{height}" font-family="sans-serif" font-size="11">',
           f'<text x="{left}" y="18" font-size="13">{title}</text>']
    for tick in [0.5, 1, 2, 5, 10, 20, 50, 100]:
        if tick <= top * 1.2:
            out.append(f'<line x1="{left}" x2="{left + width - 20}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                       f'stroke="{"#000" if tick == 1 else "#ddd"}"/>')
            out.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}x</text>')
    bar = 56 / max(1, len(shown))
    for i, (name, row) in enumerate((n, r) for n, r in rows if r.get("modes")):
        x0 = left + 10 + 70 * i
        for j, m in enumerate(shown):
            if m not in row["modes"]:
                continue
            v = row["modes"][m]["steady"]
            y1, y0 = y(v), y(1)
            top_y, h = min(y1, y0), abs(y0 - y1)
            out.append(f'<rect x="{x0 + j * bar:.1f}" y="{top_y:.1f}" width="{bar - 2:.1f}" height="{max(h, 1):.1f}" '
                       f'fill="{colours.get(m, "#888")}"><title>{name} {m}: {v:.2f}x</title></rect>')
        out.append(f'<text x="{x0 + 28}" y="{height - bottom + 14}" text-anchor="end" '
                   f'transform="rotate(-40 {x0 + 28} {height - bottom + 14})">{name}</text>')
    for j, m in enumerate(shown):
        out.append(f'<rect x="{left + 120 * j}" y="{height - 18}" width="10" height="10" fill="{colours.get(m, "#888")}"/>'
                   f'<text x="{left + 120 * j + 14}" y="{height - 9}">{m}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("programs", nargs="*", help="program names (default: all)")
    ap.add_argument("--bench-dir", default=str(DEFAULT_BENCH_DIR))
    ap.add_argument("--reps", type=int, default=3, help="rounds (each runs every mode once)")
    ap.add_argument("--backends", help="comma-separated psyco backends (default: all)")
    ap.add_argument("--no-pypy", action="store_true", help="leave PyPy out even if pypy3 is installed")
    ap.add_argument("--out", default=str(ROOT / "bench"), help="where report.md and speedup.svg go")
    ap.add_argument("--no-report", action="store_true", help="print the table only")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    import psyco  # the backends this build offers

    backends = args.backends.split(",") if args.backends else list(psyco.BACKENDS)
    unknown = [b for b in backends if b not in psyco.BACKENDS]
    if unknown:
        ap.error(f"unknown backend(s) {', '.join(unknown)}; valid: {', '.join(psyco.BACKENDS)}")
    pypy = None if args.no_pypy else shutil.which("pypy3")
    modes = ["plain", *backends] + (["pypy"] if pypy else [])
    bench_dir = pathlib.Path(args.bench_dir)
    programs = sorted(p for p in bench_dir.glob("*.py") if not args.programs or p.stem in args.programs)
    if not programs:
        sys.exit(f"no benchmark programs found in {bench_dir}")
    header = [f"- date: {datetime.date.today().isoformat()}", f"- machine: {machine()}",
              f"- CPython {platform.python_version()}; psyco {psyco.__version__} (commit {git_head()}); "
              f"modes: {', '.join(modes)}" + ("" if pypy or args.no_pypy else " (pypy3 not installed)"),
              f"- {args.reps} rounds per program, each a fresh process per mode, order rotating"]
    print("\n".join(header))
    rows, failures = [], 0
    by_name = {p.stem: p for p in programs}
    runs_of = interleaved(list(by_name), modes, args.reps, lambda name, mode: sample(by_name[name], mode, pypy))
    for name, runs in runs_of:
        row = summarize(name, runs, modes)
        failures += row["status"] != "ok"
        rows.append((name, row))
        ms = row.get("modes", {})
        cells = "  ".join(f"{m} {ms[m]['steady']:6.2f}x/{ms[m]['whole']:5.2f}x" for m in modes[1:] if m in ms)
        print(f"\r{name:12} {cells}  {row['status']}" + " " * 10)
    if not args.no_report:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.md").write_text(markdown(rows, modes, args, header))
        title = f"psyco steady-state speed-up over CPython {platform.python_version()} ({datetime.date.today()})"
        (out / "speedup.svg").write_text(svg_chart(rows, modes, title))
        print(f"wrote {out / 'report.md'} and {out / 'speedup.svg'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
