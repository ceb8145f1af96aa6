"""Tests of the differential fuzzer's own machinery (`tests/fuzz/`): the generator is
deterministic per seed and its programs print the same under any hash seed; a deliberately
wrong "compiled" run is detected and shrunk to a small program; a worker's crash or hang is
reported; a batch compares real compiled runs and fails when its code ran interpreted."""

import ast
import os
import subprocess
import sys
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent / "fuzz"
sys.path.insert(0, str(FUZZ_DIR))

import fuzz  # noqa: E402
import generator  # noqa: E402
import runner  # noqa: E402
import shrink  # noqa: E402
from test_differential import directives  # noqa: E402


def test_generator_is_deterministic_per_seed():
    assert [generator.generate(s) for s in range(20)] == [generator.generate(s) for s in range(20)]
    assert len({generator.generate(s) for s in range(200)}) >= 195
    # The same text in another process under another hash seed (random.Random(int) only).
    code = f"import sys; sys.path.insert(0, {str(FUZZ_DIR)!r}); import generator; print(generator.generate(7))"
    texts = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert texts[0] == texts[1] == generator.generate(7) + "\n"


def test_generated_programs_print_the_same_under_any_hash_seed(tmp_path):
    for seed in range(8):
        prog = tmp_path / f"p{seed}.py"
        prog.write_text(generator.generate(seed))
        outs = [subprocess.run([sys.executable, str(prog)], capture_output=True, text=True,
                               env={"PYTHONHASHSEED": h}, timeout=60) for h in ("1", "2")]
        assert outs[0].stdout and outs[0].stdout == outs[1].stdout, seed
        assert outs[0].stderr == outs[1].stderr, seed


class _MulIsAdd(ast.NodeTransformer):
    """A deliberately wrong "compiler": every `*` computes `+`."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult):
            node.op = ast.Add()
        return node


def _plain(text):
    return runner.run_in_process(text, "fuzz_selftest.py")


def _miscompiled(text):
    return runner.run_in_process(ast.unparse(_MulIsAdd().visit(ast.parse(text))), "fuzz_selftest.py")


def _diverges(text):
    return runner.difference(_plain(text), _miscompiled(text)) is not None


def test_a_wrong_compiled_result_is_detected_and_shrunk(tmp_path):
    seed = next(s for s in range(100) if _diverges(generator.generate(s)))
    source = generator.generate(seed)
    assert runner.difference(_plain(source), _plain(source)) is None  # no false alarm
    small = shrink.shrink(source, _diverges)
    assert _diverges(small)
    assert len(small.splitlines()) * 3 < len(source.splitlines()), small
    assert any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult) for n in ast.walk(ast.parse(small))), small
    # Written as a differential case, its header is what test_differential.py reads.
    path = fuzz.write_case(tmp_path, seed, "dynasm", small, "stdout line 1: 'a' != 'b'", ["main"], 80)
    compiled, xfail = directives(path.read_text())
    assert compiled == ["main"] and xfail is None
    assert path.read_text().endswith(small)


def test_a_worker_that_crashes_or_hangs_is_reported(monkeypatch):
    crash = "import ctypes\ndef f():\n    ctypes.string_at(0)\nf()\n"
    reply, trouble = fuzz.ask(fuzz.Worker(), {"source": crash, "backends": ["dynasm"]})
    assert reply is None and trouble.startswith("crash (killed by signal 11)"), trouble
    assert 'line 3 in f' in trouble  # faulthandler's frames of the program
    monkeypatch.setattr(fuzz, "CASE_TIMEOUT", 2)
    reply, trouble = fuzz.ask(fuzz.Worker(), {"source": "while True:\n    pass\n", "backends": ["dynasm"]})
    assert reply is None and trouble == "hang"


def _fuzz_main(*args, env=None):
    """Runs the fuzzer's driver in a fresh interpreter: (exit status, stdout)."""
    proc = subprocess.run([sys.executable, str(FUZZ_DIR / "fuzz.py"), *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    return proc.returncode, proc.stdout


def test_a_small_batch_runs_compiled_on_every_backend():
    status, out = _fuzz_main("--count", "6", "--seed", "1000", "--fresh-every", "3", "--no-write")
    assert status == 0, out
    assert "6 cases x 2 backends" in out and "2 also in fresh processes" in out, out
    for backend in ("dynasm", "cranelift"):
        line = next(ln for ln in out.splitlines() if ln.startswith(f"fuzz: {backend}:"))
        native, total = map(int, line.split()[2].split("/"))
        assert total > 20 and native * 2 > total, line


def test_a_batch_that_ran_interpreted_fails():
    # PSYCO_DISABLE=1 turns psyco.full() into a no-op: every "compiled" run is interpreted,
    # so outputs agree, and the batch must still fail.
    status, out = _fuzz_main("--count", "3", "--backend", "dynasm", "--fresh-every", "0", "--no-write",
                             env={"PSYCO_DISABLE": "1"})
    assert status == 1, out
    assert "0 divergences" in out and "dynasm: only 0.0% of the functions ran natively" in out, out
