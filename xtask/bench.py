"""The benchmark harness: every program of the public benchmark folder, plain CPython vs
psyco, as fresh processes in alternating pairs.

Per sample: a fresh process; plain = psyco not imported; psyco = `import psyco;
psyco.full()` before the program is imported. The child checks `CHECKS`, warms `bench(N)`
once, times one more `bench(N)` (steady state), and reports its result; the parent times the
whole process. Speed-up = plain / psyco, the median over the pairs; a result that differs
from plain's is reported as a failure, not a number.

    python xtask/bench.py [--bench-dir DIR] [--reps 3] [--backend dynasm] [program ...]
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_BENCH_DIR = ROOT.parent / "shared" / "bench"

CHILD = r'''
import importlib.util, json, sys, time
path, mode = sys.argv[1], sys.argv[2]
if mode != "plain":
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
if mode != "plain":
    s = psyco.stats()
    report["stats"] = {k: s[k] for k in ("functions_compiled", "versions", "code_bytes", "compile_time")}
    report["stats"]["side_exits"] = sum(s["side_exits"].values())
print(json.dumps(report))
'''


def sample(program, mode):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(program), mode], capture_output=True, text=True)
    whole = time.perf_counter() - start
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["whole"] = whole
    return report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("programs", nargs="*", help="program names (default: all)")
    ap.add_argument("--bench-dir", default=str(DEFAULT_BENCH_DIR))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--backend", default=os.environ.get("PSYCO_BACKEND", "dynasm"))
    args = ap.parse_args()
    bench_dir = pathlib.Path(args.bench_dir)
    programs = sorted(p for p in bench_dir.glob("*.py") if not args.programs or p.stem in args.programs)
    if not programs:
        sys.exit(f"no benchmark programs found in {bench_dir}")
    print(f"# psyco benchmark ({args.backend}), {args.reps} alternating pairs, {time.strftime('%Y-%m-%d')}")
    print(f"{'program':12} {'steady x':>9} {'whole x':>8} {'plain s':>8} {'psyco s':>8} {'exits':>6}  status")
    failures = 0
    for program in programs:
        plain, jit = [], []
        for rep in range(args.reps):
            print(f"  {program.stem}: pair {rep + 1}/{args.reps}", end="\r", file=sys.stderr, flush=True)
            plain.append(sample(program, "plain"))
            jit.append(sample(program, args.backend))
        errors = [r["error"] for r in plain + jit if "error" in r]
        if errors:
            failures += 1
            print(f"{program.stem:12} FAILED: {errors[0]}")
            continue
        wrong = [r for r in jit if r["result"] != plain[0]["result"] or not r["checks_ok"]]
        if wrong:
            failures += 1
            print(f"{program.stem:12} FAILED: result {wrong[0]['result']} != plain {plain[0]['result']}")
            continue
        steady = statistics.median(p["steady"] / j["steady"] for p, j in zip(plain, jit))
        whole = statistics.median(p["whole"] / j["whole"] for p, j in zip(plain, jit))
        ps = statistics.median(p["steady"] for p in plain)
        js = statistics.median(j["steady"] for j in jit)
        exits = jit[-1]["stats"]["side_exits"]
        print(f"{program.stem:12} {steady:9.2f} {whole:8.2f} {ps:8.3f} {js:8.3f} {exits:6}  ok")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
