"""The public API of the psyco package and its entry points.

* the ImportError guard of psyco/__init__.py, under a faked sys.version_info or
  sys.implementation (the extension must not even be loaded);
* full(backend=...) / PSYCO_BACKEND validation, bind() argument checking, bind() alone;
* disable(): compiled code dropped, functions still correct;
* stop(): compiled functions stay compiled, new ones are not compiled;
* `python -m psyco script.py args`: argv passed, functions compiled;
* PSYCO_THRESHOLD: "how many calls make a function hot (0 = first call)" -- with
  threshold t the first t calls run interpreted and call t+1 runs compiled; without it, the
  default policy (loops at the first call, straight code at the ninth, bodies never; loops
  first run while a module is imported wait as straight code does).
"""

import textwrap

import pytest

from conftest import PYTHON, new_workdir, run_cmd, run_py

# Looks up a function's entry in psyco.stats()['codes'] (empty dict if psyco never saw it).
ENTRY_HELPER = """
import psyco

def entry(f):
    c = f.__code__
    return psyco.stats()["codes"].get(f"{c.co_filename}:{c.co_firstlineno}:{c.co_qualname}", {})
"""


def run_ok(code, **kwargs):
    """Runs a plain program (which drives psyco itself); it must exit 0."""
    proc = run_py(ENTRY_HELPER + textwrap.dedent(code), psyco=False, **kwargs)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    return proc.stdout.splitlines()


FAKE_PYTHONS = {
    "3.12": "sys.version_info = (3, 12, 0, 'final', 0); sys.version = '3.12.0 (fake)'",
    "3.10": "sys.version_info = (3, 10, 13, 'final', 0); sys.version = '3.10.13 (fake)'",
    "2.7": "sys.version_info = (2, 7, 18, 'final', 0); sys.version = '2.7.18 (fake)'",
    "pypy": (
        "impl = types.SimpleNamespace(**vars(sys.implementation)); impl.name = 'pypy'; "
        "sys.implementation = impl"
    ),
}


@pytest.mark.parametrize("fake", sorted(FAKE_PYTHONS))
def test_import_guard_rejects_other_pythons(fake):
    proc = run_py(
        f"""
        import sys, types
        {FAKE_PYTHONS[fake]}
        try:
            import psyco
        except ImportError as e:
            print("ImportError:", e)
        else:
            print("imported")
        print("extension loaded:", "psyco._psyco" in sys.modules)
        """,
        psyco=False,
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first.startswith("ImportError:") and "3.11" in first, proc.stdout
    assert second == "extension loaded: False"


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_unknown_backend_is_a_value_error_naming_the_valid_ones(how):
    call = "psyco.full(backend='nope')" if how == "argument" else "psyco.full()"
    env = {"PSYCO_BACKEND": "nope"} if how == "environment" else None
    out = run_ok(
        f"""
        try:
            {call}
        except ValueError as e:
            print("ValueError", e)
        print(",".join(psyco.BACKENDS))
        """,
        env=env,
    )
    assert out[0].startswith("ValueError") and "'nope'" in out[0], out
    backends = out[1].split(",")
    assert backends and all(b in out[0] for b in backends), out


@pytest.mark.parametrize("arg", ["42", "'f'", "None", "len"])
def test_bind_rejects_non_functions(arg):
    out = run_ok(
        f"""
        try:
            psyco.bind({arg})
        except TypeError as e:
            print("TypeError", e)
        """
    )
    assert out and out[0].startswith("TypeError"), out


def test_bind_compiles_only_the_bound_function():
    out = run_ok(
        """
        def bound(n):
            t = 0
            for i in range(n):
                t += i
            return t

        def other(n):
            return n + 1

        class C:
            def method(self, n):
                return n * 2

        psyco.bind(bound)
        psyco.bind(C().method)
        print(bound(10), other(1), C().method(4), bound(10))
        print(psyco.is_compiled(bound), psyco.is_compiled(other), psyco.is_compiled(C.method))
        """
    )
    assert out == ["45 2 8 45", "True False True"]


def test_disable_drops_compiled_code_and_keeps_results_right():
    out = run_ok(
        """
        psyco.full()

        def f(n):
            t = 0
            for i in range(n):
                t += i * i
            return t

        expected = sum([i * i for i in range(1000)])
        print(f(1000) == expected, psyco.is_compiled(f))
        psyco.disable()
        print(psyco.is_compiled(f))
        print(f(1000) == expected, f(5), f(2**5))
        print(psyco.is_compiled(f))
        """
    )
    assert out == ["True True", "False", f"True 30 {sum(i * i for i in range(32))}", "False"]


def test_stop_keeps_compiled_functions_and_compiles_nothing_new():
    out = run_ok(
        """
        psyco.full()

        def old(n):
            t = 0
            for i in range(n):
                t += i
            return t

        def new(n):
            t = 0
            for i in range(n):
                t += 2 * i
            return t

        print(old(10), psyco.is_compiled(old))
        before = entry(old)["native_entries"]
        psyco.stop()
        print(old(10), new(10), old(20), new(20))
        print(psyco.is_compiled(old), entry(old)["native_entries"] - before)
        print(psyco.is_compiled(new), entry(new).get("native_entries", 0))
        """
    )
    assert out == ["45 True", "45 90 190 380", "True 2", "False 0"]


def test_python_m_psyco_runs_script_with_argv_and_compiles():
    script = new_workdir() / "script.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            import psyco

            def work(n):
                t = 0
                for i in range(n):
                    t += i
                return t

            print(sys.argv[1:], __name__)
            print(work(100))
            print(psyco.is_compiled(work), psyco.stats()["functions_compiled"] > 0)
            """
        )
    )
    proc = run_cmd([PYTHON, "-m", "psyco", str(script), "arg1", "--flag"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["['arg1', '--flag'] __main__", "4950", "True True"]


def test_python_m_psyco_without_script_prints_usage():
    proc = run_cmd([PYTHON, "-m", "psyco"], timeout=60)
    assert proc.returncode == 2
    assert "usage" in proc.stderr


@pytest.mark.parametrize("threshold", [0, 1, 3])
def test_threshold_counts_calls_before_compiling(threshold):
    out = run_ok(
        """
        psyco.full()

        def f(x):
            return x + 1

        for k in range(1, 7):
            f(k)
            print(k, psyco.is_compiled(f), entry(f).get("native_entries", 0))
        """,
        env={"PSYCO_THRESHOLD": str(threshold)},
    )
    expected = [f"{k} {k > threshold} {max(0, k - threshold)}" for k in range(1, 7)]
    assert out == expected


def test_default_policy_compiles_loops_at_once_straight_code_once_warm_and_never_bodies():
    out = run_ok(
        """
        psyco.full()

        def straight(x):
            return x + 1

        def looping(n):
            t = 0
            for i in range(n):
                t += i
            return t

        for k in range(1, 11):
            straight(k)
            print(k, psyco.is_compiled(straight))
        looping(3)
        print("looping", psyco.is_compiled(looping))

        class Body:
            x = 1
        module = [(k, v) for k, v in psyco.stats()["codes"].items() if k.endswith(":<module>") or k.endswith(":Body")]
        print(sorted(v["declined"] for k, v in module))
        """,
        env={"PSYCO_THRESHOLD": ""},
    )
    assert out[:10] == [f"{k} {k > 8}" for k in range(1, 11)], out
    assert out[10] == "looping True", out
    assert out[11] == "['module or class body (runs once; names looked up in dicts)']", out


def test_default_policy_waits_for_loops_run_while_a_module_is_imported():
    workdir = new_workdir()
    (workdir / "imported_at_start.py").write_text(textwrap.dedent(
        """
        def table(n):
            t = []
            for i in range(n):
                t.append(i * i)
            return t

        SQUARES = table(10)
        """
    ))
    out = run_ok(
        """
        import sys
        psyco.full()
        sys.path.insert(0, ".")
        import imported_at_start
        print("after import", psyco.is_compiled(imported_at_start.table))
        imported_at_start.table(3)
        print("called by the program", psyco.is_compiled(imported_at_start.table))
        """,
        env={"PSYCO_THRESHOLD": ""},
        workdir=workdir,
    )
    assert out == ["after import False", "called by the program True"], out


def test_while_importing_warm_code_compiles_only_once_it_paid_for_its_compilation():
    """During an import, code warm by calls waits until it has run interpreted several times as
    long as compiling it is expected to take: a cheap function called a few dozen times stays
    interpreted (until the program calls it), one whose calls run long is compiled during the
    import. Far apart on purpose (microseconds against a tenth of a second), so timing noise
    cannot flip them."""
    workdir = new_workdir()
    (workdir / "imported_with_work.py").write_text(textwrap.dedent(
        """
        def cheap(x):
            return x + 1

        def long_running(n):
            return sum(range(n))

        for k in range(40):
            cheap(k)
        for k in range(40):
            long_running(100_000)
        """
    ))
    out = run_ok(
        """
        import sys
        psyco.full()
        sys.path.insert(0, ".")
        import imported_with_work as m
        print("cheap", psyco.is_compiled(m.cheap), "long_running", psyco.is_compiled(m.long_running))
        m.cheap(1)
        print("cheap called by the program", psyco.is_compiled(m.cheap))
        entry = [v for k, v in psyco.stats()["codes"].items() if k.endswith(":_find_and_load")]
        print([v["declined"] for v in entry])
        """,
        env={"PSYCO_THRESHOLD": ""},
        workdir=workdir,
    )
    assert out == [
        "cheap False long_running True",
        "cheap called by the program True",
        "[\"the import system's entry point (runs once per import)\"]",
    ], out


@pytest.mark.parametrize("value", ["-1", "abc", "1.5"])
def test_bad_threshold_is_a_value_error(value):
    out = run_ok(
        """
        try:
            psyco.full()
        except ValueError as e:
            print("ValueError", e)
        """,
        env={"PSYCO_THRESHOLD": value},
    )
    assert out == [f"ValueError PSYCO_THRESHOLD must be a non-negative integer, not {value!r}"]


def test_mostly_generic_code_is_left_to_the_interpreter_unless_bound():
    """By default, code made mostly of generic object operations (which CPython 3.11's own
    specialized instructions run faster) is declined with a named reason; bind() compiles it
    anyway. Results are the same either way. (Its first call runs a version that profiles its
    sites until its loop has run long enough; the second call's version is compiled with the
    profiles, and declined: dict subscripts and set operations are not specialized.)"""
    lines = run_ok(
        """
        import psyco
        psyco.full()

        def render(rows):
            out = []
            for r in rows:
                out.append(len(r["k"] | r["v"] - r["w"] & r["x"] ^ r["y"]))
            return out[:3]

        render_bound = type(render)(render.__code__.replace(), globals(), "render_bound")
        rows = [{"k": {i}, "v": {i + 1, i + 2}, "w": {i + 2}, "x": {i, i + 2}, "y": {7}} for i in range(2000)]
        print(render(rows) == render(rows), entry(render).get("declined"), psyco.is_compiled(render))
        psyco.bind(render_bound)
        print(render_bound(rows) == render(rows), psyco.is_compiled(render_bound))
        """,
        env={"PSYCO_DECLINE_GENERIC": "1"},
    )
    assert lines[0] == "True mostly generic operations (the interpreter is faster) False"
    assert lines[1] == "True True"


def test_bind_chooses_the_backend_per_function():
    out = run_ok(
        """
        def by_default(n):
            return sum(i * i for i in range(n)) + n

        def by_cranelift(n):
            t = 0
            for i in range(n):
                t += i * i
            return t

        psyco.full(backend="dynasm")
        psyco.bind(by_cranelift, backend="cranelift")
        print(by_default(10), by_cranelift(10))
        print(entry(by_default)["backends"], entry(by_cranelift)["backends"])
        try:
            psyco.bind(by_default, backend="gcc")
        except ValueError as e:
            print("ValueError", e)
        """
    )
    assert out[0] == "295 285", out
    assert out[1] == "['dynasm'] ['cranelift']", out
    assert out[2].startswith("ValueError") and "'gcc'" in out[2] and "cranelift" in out[2], out


def test_a_case_a_handler_does_not_compile_leaves_there_instead_of_declining():
    """The truth of a constant object (here a function) is the interpreter's to decide:
    compiled code leaves before that instruction, with a named reason, and the function
    stays compiled (it used to be declined as a whole)."""
    lines = run_ok(
        """
        import psyco
        psyco.full()

        def helper():
            pass

        def run(n):
            t = 0
            for i in range(n):
                t += i
            if helper:
                t += 1
            return t

        print(run(10), psyco.is_compiled(run), entry(run).get("declined"))
        print(entry(run)["side_exits"])
        """
    )
    assert lines == ["46 True None", "{'truth_of_constant_object': 1}"], lines


@pytest.mark.parametrize("backend", ["dynasm", "cranelift"])
def test_compiled_code_survives_fork_in_parent_and_child(backend):
    """The dynasm backend packs functions into chunks of memory shared between their writable
    and executable mappings, which a fork shares with the child: each process must keep
    running what was compiled before the fork, and compile new code without writing over the
    other's: the child compiles first, then the parent, then the child runs what it compiled
    (had both written at the same place, the child would run the parent's functions)."""
    out = run_ok(
        f"""
        import os
        psyco.full(backend={backend!r})

        def make(k):
            # A code object of its own for each k: each is compiled on its own.
            namespace = {{}}
            exec(f"def f(n):\\n    t = 0\\n    for i in range(n):\\n        t += i * {{k}}\\n    return t", namespace)
            return namespace["f"]

        before = [make(k) for k in range(20)]
        print("before", [f(10) for f in before] == [45 * k for k in range(20)])
        child_compiled, parent_compiled = os.pipe(), os.pipe()
        pid = os.fork()
        if pid == 0:
            after = [make(k) for k in range(100, 160)]
            [f(0) for f in after]  # compiled now, run later
            os.write(child_compiled[1], b"x")
            os.read(parent_compiled[0], 1)
            ok = [f(10) for f in after] == [45 * k for k in range(100, 160)]
            ok = ok and [f(10) for f in before] == [45 * k for k in range(20)]
            ok = ok and all(psyco.is_compiled(f) for f in after)
            os._exit(0 if ok else 1)
        os.read(child_compiled[0], 1)
        after = [make(k) for k in range(200, 260)]
        ok = [f(10) for f in after] == [45 * k for k in range(200, 260)]
        os.write(parent_compiled[1], b"x")
        _, status = os.waitpid(pid, 0)
        print("parent", ok and [f(10) for f in before] == [45 * k for k in range(20)])
        print("child exit", os.waitstatus_to_exitcode(status))
        """,
        env={"PSYCO_THRESHOLD": "0"},
    )
    assert out == ["before True", "parent True", "child exit 0"], out
