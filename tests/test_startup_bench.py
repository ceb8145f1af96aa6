"""Smoke test of the start-up benchmark (xtask/startup.py): one round of two workloads on the
backend under test (PSYCO_BACKEND, default dynasm) must run, pass its own checks (psyco really
compiling in the psyco children) and write a report with both tables filled in."""

import os
import subprocess
import sys
from pathlib import Path

STARTUP = Path(__file__).resolve().parents[1] / "xtask" / "startup.py"


def test_startup_bench_runs(tmp_path):
    backend = os.environ.get("PSYCO_BACKEND") or "dynasm"
    proc = subprocess.run(
        [sys.executable, str(STARTUP), "--reps", "1", "--workloads", "json,empty_script", "--backends", backend,
         "--note", "smoke test", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, f"startup.py failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    report = (tmp_path / "startup.md").read_text()
    assert "- note: smoke test" in report
    assert "FAILED" not in report
    assert f"| import json | {backend} |" in report  # the JIT accounting row
    rows = [line for line in report.splitlines() if line.startswith("| import json |")]
    assert len(rows) == 3, report  # time, whole-process and JIT accounting tables
