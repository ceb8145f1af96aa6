"""Psyco 1.6's API and what goes beyond it: profilers and their limits and queue, choosing
functions (bind with rec and classes, unbind, proxy/unproxy, cannotcompile, setfilter), the
log, dumpcodebuf, dis, explain, PSYCO=profile / PSYCO_DISABLE / PSYCO_STATS_DIR, `python -m psyco` options, and
argument checking of every function. Each program drives psyco itself, in a fresh process."""

import json
import signal

import pytest

from conftest import PYTHON, new_workdir, run_cmd
from test_api import run_ok

# Functions generated for the memory tests: each compiled version is a few kB.
MANY_FUNCTIONS = """
import time

def make(i):
    ns = {}
    exec(f"def f{i}(n):\\n    t = 0\\n    for k in range(n):\\n        t += k * {i}\\n    return t\\n", ns)
    return ns[f"f{i}"]

fs = [make(i) for i in range(40)]
expected = [sum(k * i for k in range(10)) for i in range(40)]
"""

# Module-level code (not compiled), so that the generated functions are all psyco compiles.
RUN_ALL = """
results = []
for f in fs:
    results.append(f(10))
assert results == expected
time.sleep(0.2)  # the limit watcher polls every 50 ms
s = psyco.stats()
live, compiled, mode = s["code_bytes"], sum(psyco.is_compiled(f) for f in fs), s["mode"]
"""


def test_memory_limit_stops_compiling():
    out = run_ok(MANY_FUNCTIONS + """
psyco.full(memory=20)
""" + RUN_ALL + """
print(live, compiled, mode)
""")
    live, compiled, mode = out[0].split()
    print(f"memory=20 kB: {live} bytes live, {compiled} of 40 functions compiled, mode {mode}")
    assert int(live) >= 20 * 1024, out
    assert 0 < int(compiled) < 40, out
    assert mode == "stopped", out


def test_memorymax_frees_compiled_code_and_stays_under():
    out = run_ok(MANY_FUNCTIONS + """
psyco.full(memorymax=20)
""" + RUN_ALL + """
print(live, compiled, mode, psyco.stats()["code_bytes_total"])
""" + RUN_ALL + """
print((live, compiled))
""")
    live, compiled, mode, allocated = out[0].split()
    print(f"memorymax=20 kB: {live} bytes live after the limit, {allocated} ever allocated, {compiled} compiled")
    assert int(live) == 0 and int(compiled) == 0 and mode == "stopped", out
    assert 0 < int(allocated) <= 20 * 1024, out
    assert out[1] == "(0, 0)", out


def test_profile_compiles_hot_functions_only():
    out = run_ok("""
import time

def hot(n):
    t = 0
    for i in range(n):
        t += i * i
    return t

def cold(n):
    return n + 1

psyco.profile(watermark=0.2, pollfreq=200)
start = time.time()
while time.time() - start < 1.0 and not psyco.is_compiled(hot):
    hot(20000)
cold(1)
print(psyco.is_compiled(hot), psyco.is_compiled(cold), psyco.stats()["mode"])
""")
    assert out == ["True False bound"], out


def test_background_profiler_and_queue_after_a_time_limit():
    out = run_ok("""
import time

def hot(n):
    t = 0
    for i in range(n):
        t += i
    return t

def later(n):
    return n * 2

psyco.runonly(time=0.3)
psyco.background(watermark=0.2, pollfreq=200)
later(1)
print(psyco.is_compiled(later), psyco.stats()["mode"])
time.sleep(0.5)
start = time.time()
while time.time() - start < 1.0 and not psyco.is_compiled(hot):
    hot(20000)
print(psyco.is_compiled(hot), psyco.stats()["mode"])
""")
    assert out == ["False stopped", "True bound"], out


def test_bind_class_rec_unbind():
    out = run_ok("""
def leaf(n):
    return n + 1

def middle(n):
    return leaf(n) * 2

def top(n):
    return middle(n) + 1

class C:
    def m(self, n):
        return n * 3
    @staticmethod
    def s(n):
        return n - 1

psyco.bind(top, rec=1)
print(top(3), psyco.is_compiled(top), psyco.is_compiled(middle))
middle(1); leaf(1)
print(psyco.is_compiled(middle), psyco.is_compiled(leaf))
psyco.bind(C)
print(C().m(2), C.s(2), psyco.is_compiled(C.m), psyco.is_compiled(C.s))
psyco.unbind(top)
print(top(3), psyco.is_compiled(top))
psyco.bind(top, rec=0)
print(top(3), psyco.is_compiled(top))
""")
    # top was compiled at its call and bound middle (rec=1), which top then called: compiled;
    # middle was bound with rec=0, so leaf stays interpreted.
    assert out == ["9 True True", "True False", "6 1 True True", "9 False", "9 True"], out


def test_proxy_unproxy_cannotcompile_setfilter():
    out = run_ok("""
def f(n):
    return n * n

class K:
    def g(self, n):
        return n + 10

p = psyco.proxy(f)
print(p(4), f(4), psyco.is_compiled(p), psyco.is_compiled(f), psyco.unproxy(p) is f)
bm = psyco.proxy(K().g)
print(bm(1), psyco.is_compiled(bm), psyco.unproxy(bm).__func__ is K.g)

def never(n):
    return n - 1

def skip_me(n):
    return n + 2

def kept(n):
    return n + 3

psyco.cannotcompile(never)
previous = psyco.setfilter(lambda code: not code.co_name.startswith("skip_"))
psyco.full()
print(never(1), skip_me(1), kept(1))
print(psyco.is_compiled(never), psyco.is_compiled(skip_me), psyco.is_compiled(kept), previous)
print(psyco.setfilter(None) is not None)
print(psyco.explain(never).strip())
""")
    assert out[:4] == ["16 16 True False True", "11 True True", "0 3 4", "False False True None"], out
    assert out[4] == "True", out
    assert "not compiled: psyco.cannotcompile()" in out[5], out


def test_log_dis_explain_dumpcodebuf(tmp_path):
    log, dump = tmp_path / "run.log", tmp_path / "code.dump"
    out = run_ok(f"""
import io

def loop(n):
    t = 0
    for i in range(n):
        t += i * 1000000000000
    return t

def gen():
    yield 1

psyco.log({str(log)!r}, top=3)
psyco.full()
print(loop(10), loop(20), list(gen()))
buf = io.StringIO()
psyco.dis(loop, file=buf)
text = buf.getvalue()
print("IR" in text, "x86-64" in text, "int_overflow" in text)
print(psyco.explain(loop).splitlines()[0].split(": ", 1)[1])
print(psyco.explain(gen).strip().split(": ", 1)[1])
print(psyco.dumpcodebuf({str(dump)!r}) >= 1)
""")
    assert out[0] == "45000000000000 190000000000000 [1]", out
    assert out[1] == "True True True", out
    assert out[2].startswith("compiled, 1 version(s)"), out
    assert "generator or coroutine" in out[3], out
    assert out[4] == "True", out
    assert "loop" in dump.read_text()
    text = log.read_text()
    print(text)
    assert "psyco log started" in text and "compiled loop (" in text and "declined gen (" in text
    assert "top: " in text and "side exits by reason" in text
    assert all(line[:2].isdigit() and line[8] == "." for line in text.splitlines()), text


def test_explain_names_the_guard_that_fails_with_its_line():
    out = run_ok("""
def grow(n):
    acc = 1
    for i in range(n):
        acc = acc * 3
    return acc

psyco.full()
grow(100)
print(grow.__code__.co_firstlineno + 3)
print(psyco.explain(grow))
""")
    text = "\n".join(out[1:])
    assert "guards that failed most" in text and f"int_overflow at line {out[0]} " in text, text


def test_psyco_profile_and_disable_environment():
    code = "import psyco; print(psyco.stats().get('mode'))"
    on = run_cmd([PYTHON, "-c", code], env={"PSYCO": "profile"})
    assert on.stdout.split() == ["bound"], on.stderr
    off = run_cmd([PYTHON, "-c", "import psyco; psyco.full(); print(psyco.stats(), psyco.is_compiled(len) if False else 0)"],
                  env={"PSYCO_DISABLE": "1"})
    assert off.stdout.split() == ["{}", "0"], off.stderr


def test_psyco_stats_dir_writes_totals_and_keeps_the_sigint_exit(tmp_path):
    # An unhandled KeyboardInterrupt ends the process by SIGINT; the stats hook at exit must
    # not turn that into status 1 (it did: it imported json at exit; test_runpy caught it).
    stats = tmp_path / "stats"
    stats.mkdir()
    (tmp_path / "ham.py").write_text("raise KeyboardInterrupt\n")
    env = {"PSYCO": "full", "PSYCO_STATS_DIR": str(stats)}
    out = run_cmd([PYTHON, "-E", "-c", "import ham"], env=env, cwd=tmp_path)
    assert out.returncode == -signal.SIGINT and out.stderr.endswith("\nKeyboardInterrupt\n"), (out.returncode, out.stderr)
    (written,) = stats.glob("*.json")
    totals = json.loads(written.read_text())
    assert totals["mode"] == "full" and totals["pid"] > 0 and "codes" not in totals, totals


def test_python_m_psyco_options(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys, psyco\ndef f(n):\n    return n + 1\nprint(f(1), sys.argv[1:], psyco.stats()['mode'], psyco.stats()['backend'])\n")
    workdir = new_workdir()
    full = run_cmd([PYTHON, "-m", "psyco", "--backend", "cranelift", "--log", str(tmp_path / "l.log"), str(script), "a"], cwd=workdir)
    assert full.stdout.split() == ["2", "['a']", "full", "cranelift"], full.stderr
    assert (tmp_path / "l.log").read_text().startswith(tuple("0123456789"))
    prof = run_cmd([PYTHON, "-m", "psyco", "--profile", str(script)], cwd=workdir)
    assert prof.stdout.split()[2] == "bound", prof.stderr
    mod = run_cmd([PYTHON, "-m", "psyco", "-m", "json.tool", "--help"], cwd=workdir)
    assert mod.returncode == 0 and "json.tool" in mod.stdout, mod.stderr
    bad = run_cmd([PYTHON, "-m", "psyco", "--backend", "gcc", str(script)], cwd=workdir)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


BAD_CALLS = [
    ("psyco.full(memory='1')", TypeError), ("psyco.full(memory=-1)", ValueError),
    ("psyco.full(timemax=True)", TypeError), ("psyco.full(time=float('nan'))", ValueError),
    ("psyco.profile(watermark=2)", ValueError), ("psyco.profile(halflife=0)", ValueError),
    ("psyco.profile(pollfreq='x')", TypeError), ("psyco.profile(parentframe=-0.1)", ValueError),
    ("psyco.background(pollfreq=0)", ValueError), ("psyco.runonly(memorymax=[])", TypeError),
    ("psyco.bind(f, rec=-1)", ValueError), ("psyco.bind(f, rec=1.5)", TypeError),
    ("psyco.bind(42)", TypeError), ("psyco.bind(f, backend=3)", TypeError), ("psyco.bind(f, backend='x')", ValueError),
    ("psyco.unbind('f')", TypeError), ("psyco.proxy(len)", TypeError), ("psyco.unproxy(f)", TypeError),
    ("psyco.cannotcompile(None)", TypeError), ("psyco.setfilter(42)", TypeError),
    ("psyco.log(42)", TypeError), ("psyco.log('x.log', mode='r')", ValueError), ("psyco.log('x.log', top=-1)", ValueError),
    ("psyco.dumpcodebuf(3)", TypeError), ("psyco.dis(1)", TypeError), ("psyco.explain([])", TypeError),
    ("psyco.is_compiled('f')", TypeError), ("psyco.full(backend='gcc')", ValueError),
]


@pytest.mark.parametrize("call, exc", BAD_CALLS, ids=[c for c, _ in BAD_CALLS])
def test_bad_arguments_raise_clear_errors(call, exc, tmp_path):
    out = run_ok(f"""
def f(n):
    return n
try:
    {call}
except {exc.__name__} as e:
    print("raised", type(e).__name__, e)
else:
    print("no error")
""", workdir=tmp_path)
    assert out and out[0].startswith(f"raised {exc.__name__} "), out
    assert len(out[0]) > len(f"raised {exc.__name__} ") + 10, f"message too short: {out}"


def test_subinterpreters_run_interpreted_and_leave_the_main_one_alone():
    # psyco runs in the main interpreter only (runtime::api): in a subinterpreter enabling
    # raises (before a profiler thread starts: one left running aborts the process when the
    # subinterpreter ends), the other changes do nothing, and no code shows compiled versions.
    out = run_ok("""
import _testcapi, psyco

def work(n):
    t = 0
    for i in range(n):
        t += i
    return t

psyco.full()
work(10)
SUB = '''
import os, psyco
def sub_work(n):
    t = 0
    for i in range(n):
        t += i
    return t
results = []
for call in (psyco.full, psyco.profile, psyco.background, psyco.runonly, lambda: psyco.full(time=5),
             lambda: psyco.bind(sub_work)):
    try:
        call()
        results.append("enabled")
    except Exception as e:
        results.append(f"{type(e).__name__}: {e}")
psyco.stop()
psyco.disable()
psyco.unbind(sub_work)
psyco.cannotcompile(sub_work)
psyco.setfilter(lambda code: True)
results += [sub_work(100), psyco.is_compiled(sub_work)]
os.write(1, (repr(results) + "\\\\n").encode())
'''
print(_testcapi.run_in_subinterp(SUB), flush=True)
print(psyco.stats()["mode"], psyco.is_compiled(work), work(100))

def later(n):
    return sum(range(n))

print(later(10), psyco.is_compiled(later))
""")
    error = "RuntimeError: psyco runs only in the main interpreter"
    assert out == [repr([error] * 6 + [4950, False]), "0", "full True 4950", "45 True"]
