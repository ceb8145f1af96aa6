"""The differential fuzzer's driver (`cargo xtask fuzz`, or run this file with the venv's
python):

    fuzz.py [--count N] [--seed S] [--backend B] [--jobs J] [--fresh-every K] [--write-dir D]

Cases are seeds S, S+1, ..., S+N-1; each is generated (`generator.py`) and compared by a
worker process (`runner.py`) plain and compiled, in process, on every backend (or only B);
every K-th case is compared in fresh processes too. A worker that dies or hangs is replaced
and the case recorded as a crash or hang. Every divergence is then shrunk (`shrink.py`) and,
if the shrunk program also diverges in fresh processes (as `tests/test_differential.py`
runs it), written to D (default `tests/differential/`) as `fuzz_<backend>_<seed>.py`.

The batch fails (exit status 1) on any divergence, when fewer cases were compared than
asked, or when fewer than `--min-native` of the programs' functions ran natively on some
backend: a fuzzer whose code runs interpreted compares nothing.
"""

import argparse
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import generator
import runner
import shrink

HERE = Path(__file__).resolve().parent
DIFF_DIR = HERE.parent / "differential"
CASE_TIMEOUT = 60  # seconds for one request (a case on every backend, or one shrink check)
MAX_SHRUNK = 5  # divergences shrunk per batch (the others are listed only)


class Worker:
    """One `runner.py` process answering one request at a time."""

    def __init__(self):
        env = {k: v for k, v in os.environ.items() if k not in ("PSYCO", "PSYCO_BACKEND")}
        env.update(runner.JIT_ENV)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, str(HERE / "runner.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, env=env, text=True)
        self.request, self.deadline = None, None

    def send(self, request):
        self.request, self.deadline = request, time.monotonic() + CASE_TIMEOUT
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        """The reply to the request in flight, or None if the worker died (stdout closed)."""
        line = self.proc.stdout.readline()
        self.request = None
        return json.loads(line) if line else None

    def death(self):
        """What a worker whose stdout closed died of: its exit status and its last stderr
        (faulthandler's traceback of the program's frames on a crash)."""
        status = self.proc.wait()
        how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        self.stderr.seek(0)
        return f"crash ({how}): {self.stderr.read().decode(errors='replace')[-2000:]}"

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def ask(worker, request):
    """Sends one request and waits for its reply: (reply or None, what went wrong or None)."""
    worker.send(request)
    ready, _, _ = select.select([worker.proc.stdout], [], [], CASE_TIMEOUT)
    if not ready:
        worker.kill()
        return None, "hang"
    reply = worker.receive()
    return (reply, None) if reply is not None else (None, worker.death())


class Batch:
    """Totals of a batch: per backend, cases, functions, native ones, native entries, side
    exits; fresh-process cases; divergences as (seed, backend, mode, detail)."""

    def __init__(self, backends):
        self.backends = backends
        self.totals = {b: dict(cases=0, functions=0, native_functions=0, native_entries=0, side_exits=0)
                       for b in backends}
        self.fresh_cases = 0
        self.divergences = []

    def add(self, seed, request, reply):
        for backend in self.backends:
            self.totals[backend]["cases"] += 1
            for key, value in reply["counters"][backend].items():
                self.totals[backend][key] += value
        for backend, detail in reply["diffs"].items():
            self.divergences.append((seed, backend, "in-process", detail))
        if request.get("fresh"):
            self.fresh_cases += 1
            for backend, detail in reply["fresh_diffs"].items():
                self.divergences.append((seed, backend, "fresh", detail))


def run_batch(seeds, backends, jobs, fresh_every, progress=True):
    """Compares every seed's program on `jobs` workers; returns the Batch."""
    batch = Batch(backends)
    pending = list(reversed(seeds))
    workers = [Worker() for _ in range(min(jobs, len(seeds)))]
    start, done, reported = time.monotonic(), 0, 0
    while pending or any(w.request for w in workers):
        for w in workers:
            if w.request is None and pending:
                seed = pending.pop()
                w.send({"seed": seed, "backends": backends, "fresh": fresh_every > 0 and seed % fresh_every == 0})
        busy = [w for w in workers if w.request is not None]
        timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
        ready, _, _ = select.select([w.proc.stdout for w in busy], [], [], timeout)
        for i, w in enumerate(workers):
            if w.request is None:
                continue
            request = w.request
            if w.proc.stdout in ready:
                reply = w.receive()
                if reply is not None:
                    batch.add(request["seed"], request, reply)
                    done += 1
                    continue
                what = w.death()
            elif time.monotonic() >= w.deadline:
                w.kill()
                what = f"hang: no reply in {CASE_TIMEOUT}s"
            else:
                continue
            # The worker is gone: which backend was at fault is found by fresh processes.
            batch.divergences.append((request["seed"], None, "worker", what))
            done += 1
            workers[i] = Worker()
        if progress and done >= reported + 500:
            reported = done
            rate = done / (time.monotonic() - start)
            print(f"fuzz: {done}/{len(seeds)} cases, {rate:.1f}/s, {len(batch.divergences)} divergences",
                  file=sys.stderr, flush=True)
    for w in workers:
        w.close()
    return batch


def shrink_divergence(seed, backend, mode, source=None):
    """The shrunk program of a divergence and the native functions of its fresh psyco run,
    or None when the shrunk program does not diverge in fresh processes."""
    source = source or generator.generate(seed)
    backends = [backend] if backend else list(all_backends())
    if mode == "in-process":
        worker = Worker()

        def diverges(text):
            nonlocal worker
            reply, trouble = ask(worker, {"source": text, "backends": [backend]})
            if trouble:
                worker = Worker()
                return False
            return bool(reply["diffs"])

        small = shrink.shrink(source, diverges)
        worker.close()
    else:
        # Crashes, hangs and fresh-only divergences are shrunk in fresh processes (slower).
        if backend is None:
            diffs, _ = runner.compare_fresh(source, backends)
            failing = [b for b, d in diffs.items() if d]
            if not failing:
                return None
            backend = failing[0]
        small = shrink.shrink(source, lambda text: bool(runner.compare_fresh(text, [backend])[0][backend]),
                              max_checks=400)
    diffs, codes = runner.compare_fresh(small, [backend])
    if not diffs[backend]:
        return None
    native = sorted(q for q, e in codes[backend].items() if e["native_entries"] > 0)
    return backend, small, diffs[backend], native


def all_backends():
    import psyco  # imported, never enabled, in this process: the workers run the programs

    return psyco.BACKENDS


def write_case(directory, seed, backend, source, detail, native, original_lines):
    """Writes a shrunk divergence as a tests/differential program (header conventions of
    tests/test_differential.py); returns its path."""
    path = Path(directory) / f"fuzz_{backend}_{seed}.py"
    detail = " ".join(detail.split())[:300]
    header = [
        f"# compiled: {', '.join(native) or 'main'}",
        f"# Found by the differential fuzzer (tests/fuzz, seed {seed}, backend {backend}); shrunk from "
        f"{original_lines} to {len(source.splitlines())} lines.",
        f"# Divergence: {detail}",
    ]
    path.write_text("\n".join(header) + "\n" + source)
    return path


def report(batch, elapsed, min_native):
    """Prints the totals; returns the list of reasons the batch fails."""
    failures = []
    cases = max(t["cases"] for t in batch.totals.values()) if batch.totals else 0
    print(f"fuzz: {cases} cases x {len(batch.backends)} backends ({', '.join(batch.backends)}) in "
          f"{elapsed:.1f}s = {cases / elapsed if elapsed else 0:.1f} cases/s; {batch.fresh_cases} also in fresh processes")
    for backend, t in batch.totals.items():
        fraction = t["native_functions"] / t["functions"] if t["functions"] else 0.0
        print(f"fuzz: {backend}: {t['native_functions']}/{t['functions']} functions ran natively ({fraction:.1%}), "
              f"{t['native_entries']} native entries, {t['side_exits']} side exits")
        if fraction < min_native:
            failures.append(f"{backend}: only {fraction:.1%} of the functions ran natively (need {min_native:.0%})")
    print(f"fuzz: {len(batch.divergences)} divergences")
    for seed, backend, mode, detail in batch.divergences:
        print(f"  seed {seed} [{backend or '?'}, {mode}]: {' '.join(detail.split())[:400]}")
    if batch.divergences:
        failures.append(f"{len(batch.divergences)} divergences")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default=None, help="one backend (default: every backend)")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--fresh-every", type=int, default=200, help="every K-th case also in fresh processes (0: none)")
    parser.add_argument("--write-dir", default=str(DIFF_DIR), help="where shrunk divergences are written")
    parser.add_argument("--no-write", action="store_true", help="report divergences without shrinking them")
    parser.add_argument("--min-native", type=float, default=0.5)
    args = parser.parse_args(argv)
    backends = [args.backend] if args.backend else list(all_backends())
    if args.count < 1 or args.jobs < 1:
        parser.error("--count and --jobs must be positive")

    start = time.monotonic()
    batch = run_batch(list(range(args.seed, args.seed + args.count)), backends, args.jobs, args.fresh_every)
    elapsed = time.monotonic() - start
    failures = report(batch, elapsed, args.min_native)
    compared = min(t["cases"] for t in batch.totals.values())
    crashed = sum(1 for d in batch.divergences if d[2] == "worker")
    if compared + crashed < args.count:
        failures.append(f"only {compared} of {args.count} cases were compared")

    if not args.no_write:
        seen = set()
        for seed, backend, mode, _ in batch.divergences:
            if seed in seen or len(seen) >= MAX_SHRUNK:
                continue
            seen.add(seed)
            source = generator.generate(seed)
            found = shrink_divergence(seed, backend, mode, source)
            if found is None:
                print(f"fuzz: seed {seed}: the shrunk program does not diverge in fresh processes; not written")
                continue
            backend, small, detail, native = found
            path = write_case(args.write_dir, seed, backend, small, detail, native, len(source.splitlines()))
            print(f"fuzz: seed {seed}: shrunk to {len(small.splitlines())} lines: {path}")
    if failures:
        print("fuzz: FAILED: " + "; ".join(failures))
        return 1
    print("fuzz: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
