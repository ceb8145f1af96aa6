//! `cargo xtask <command>`: the project's entry points, so that a fresh machine needs only
//! cargo and `python3.11`.
//!
//! - `setup`: create `.venv` (CPython 3.11), pip-install the tools, build the extension in
//!   release mode and install it there (the root `pyproject.toml`, as `pip install .` does);
//! - `wheel`: `setup` when needed, then a release wheel for this platform into `dist/`;
//! - `demo`: `setup`, then run a program plain and under psyco and print the speed-up;
//! - `test`: `setup` when needed, then every test: Rust (`cargo test`), Python (pytest, once
//!   per backend), a fixed-seed fuzz batch (2,000 cases, both backends) and the quick CPython
//!   test-suite gate (`cpython-tests --quick`, dynasm);
//! - `bench [args]`: `setup` when needed, then the benchmark harness (`xtask/bench.py`);
//!   `bench --startup [args]`: the start-up benchmark instead (`xtask/startup.py`);
//! - `fuzz [args]`: `setup` when needed, then the differential fuzzer (`tests/fuzz/fuzz.py`:
//!   `--count N --seed S --backend B --jobs J`, generated programs compared plain and compiled);
//! - `cpython-tests [args]`: `setup` when needed, then CPython's own test suite plain and under
//!   psyco, compared per module against `tests/cpython-expected-failures.toml`
//!   (`xtask/cpython_tests.py`; `--quick` subset by default, `--full`, `--backend`, `-j`, ...);
//! - `suites [args]`: `setup` when needed, then real libraries' test suites plain and under
//!   psyco, compared per test (`xtask/suites.py`, report `bench/suites.md`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};

const PYTHON: &str = "python3.11";
// coverage: tests/test_tools.py checks that coverage.py reports the same lines under psyco.
const PIP_PACKAGES: &[&str] = &["maturin>=1.5,<2", "pytest>=8", "coverage>=7"];

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    env::set_current_dir(&root).expect("cannot enter the project root");
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(&root, true),
        Some("wheel") => setup(&root, false).and_then(|_| wheel(&root)),
        Some("demo") => setup(&root, false).and_then(|_| demo(&root)),
        Some("test") => setup(&root, false).and_then(|_| test(&root)),
        Some("bench") => setup(&root, false).and_then(|_| bench(&root, &args[1..])),
        Some("fuzz") => setup(&root, false).and_then(|_| fuzz(&root, &args[1..])),
        Some("cpython-tests") => setup(&root, false).and_then(|_| cpython_tests(&root, &args[1..])),
        Some("suites") => setup(&root, false).and_then(|_| suites(&root, &args[1..])),
        _ => Err("usage: cargo xtask setup|demo|test|wheel|bench|fuzz|cpython-tests|suites [options]".to_string()),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        exit(1);
    }
}

/// The workspace, from the manifest directory cargo passes at run time (`cargo xtask` is
/// `cargo run`): with a target directory shared by several worktrees, the binary run may be
/// one built for another worktree, whose path the compile-time value holds.
fn project_root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir.parent().expect("xtask lives in the workspace").to_path_buf()
}

fn venv_python(root: &Path) -> PathBuf {
    root.join(".venv/bin/python")
}

/// Runs `cmd`; its failure names the command (with the environment it was given).
fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// The library directory of the venv's interpreter: Rust test binaries that embed Python
/// need it on the loader path (Debian's own libpython3.11 would be found first otherwise).
fn python_libdir(root: &Path) -> Result<String, String> {
    let out = Command::new(venv_python(root))
        .args(["-c", "import sysconfig; print(sysconfig.get_config_var('LIBDIR'))"])
        .output()
        .map_err(|e| format!("cannot ask the venv for LIBDIR: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Environment every cargo and Python child gets: build against the venv's interpreter.
fn python_env(cmd: &mut Command, root: &Path) -> Result<(), String> {
    let libdir = python_libdir(root)?;
    let ld = match env::var("LD_LIBRARY_PATH") {
        Ok(old) if !old.is_empty() => format!("{libdir}:{old}"),
        _ => libdir,
    };
    cmd.env("PYO3_PYTHON", venv_python(root)).env("LD_LIBRARY_PATH", ld).env("VIRTUAL_ENV", root.join(".venv"));
    Ok(())
}

/// Creates the venv and installs the extension. With `force`, rebuilds even if installed.
fn setup(root: &Path, force: bool) -> Result<(), String> {
    let python = venv_python(root);
    if !python.exists() {
        eprintln!("xtask: creating .venv with {PYTHON}");
        run(Command::new(PYTHON).args(["-m", "venv"]).arg(root.join(".venv")))?;
    }
    if !imports(&python, "maturin, pytest, coverage") {
        eprintln!("xtask: installing {} into .venv", PIP_PACKAGES.join(", "));
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--upgrade", "pip"]))?;
        run(Command::new(&python).args(["-m", "pip", "install", "--quiet"]).args(PIP_PACKAGES))?;
    }
    if force || !imports(&python, "psyco._psyco") || env::var_os("PSYCO_REBUILD").is_some() {
        eprintln!("xtask: building psyco (release) and installing it into .venv");
        let mut cmd = Command::new(root.join(".venv/bin/maturin"));
        cmd.args(["develop", "--release", "--quiet"]);
        python_env(&mut cmd, root)?;
        run(&mut cmd)?;
    }
    Ok(())
}

/// Whether `python` can import `modules` (a probe: what it prints is of no interest).
fn imports(python: &Path, modules: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A release wheel for this platform into `dist/` (maturin picks the manylinux tag the build
/// allows).
fn wheel(root: &Path) -> Result<(), String> {
    eprintln!("xtask: building a release wheel into dist/");
    let mut cmd = Command::new(root.join(".venv/bin/maturin"));
    cmd.args(["build", "--release", "--quiet", "--out"]).arg(root.join("dist"));
    python_env(&mut cmd, root)?;
    run(&mut cmd)
}

fn demo(root: &Path) -> Result<(), String> {
    run(Command::new(venv_python(root)).arg(root.join("xtask/demo.py")))
}

fn test(root: &Path) -> Result<(), String> {
    // Rust: every crate, with the venv's libpython on the loader path for the runtime's tests,
    // in the release profile the extension was built with (one build of Cranelift, not two).
    let mut cargo = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["test", "--release", "--workspace", "--exclude", "psyco-pyext"]);
    python_env(&mut cargo, root)?;
    run(&mut cargo)?;
    // Python: the end-to-end suite once per backend (the wheel's tests, which build one, only
    // once). pytest exits with 5 when it collected nothing, which must fail too; any non-zero
    // status does.
    for (backend, skip) in [("dynasm", None), ("cranelift", Some("--ignore=tests/test_packaging.py"))] {
        eprintln!("xtask: pytest with PSYCO_BACKEND={backend}");
        let mut pytest = Command::new(venv_python(root));
        pytest.args(["-m", "pytest", "-q", "tests"]).args(skip).env("PSYCO_BACKEND", backend).env("PSYCO_VERIFY", "1");
        python_env(&mut pytest, root)?;
        run(&mut pytest)?;
    }
    // The differential fuzzer, a fixed-seed batch on both backends: fails on any divergence
    // (shrunk ones are written to tests/differential/) or when its code ran mostly interpreted.
    fuzz(root, &["--count", "2000", "--seed", "0", "--jobs", "2"].map(String::from))?;
    // CPython's own test suite, the quick subset, plain and under psyco (dynasm): fails on a
    // module that passes plain, fails under psyco and is not in the expectation file.
    cpython_tests(root, &["--quick".to_string(), "--backend".to_string(), "dynasm".to_string()])
}

fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let (script, args) = match args.split_first() {
        Some((first, rest)) if first == "--startup" => ("xtask/startup.py", rest),
        _ => ("xtask/bench.py", args),
    };
    run(Command::new(venv_python(root)).arg(root.join(script)).args(args))
}

fn suites(root: &Path, args: &[String]) -> Result<(), String> {
    let mut cmd = Command::new(venv_python(root));
    cmd.arg(root.join("xtask/suites.py")).args(args);
    python_env(&mut cmd, root)?;
    run(&mut cmd)
}

fn fuzz(root: &Path, args: &[String]) -> Result<(), String> {
    let mut cmd = Command::new(venv_python(root));
    cmd.arg(root.join("tests/fuzz/fuzz.py")).args(args).env("PSYCO_VERIFY", "1");
    python_env(&mut cmd, root)?;
    run(&mut cmd)
}

fn cpython_tests(root: &Path, args: &[String]) -> Result<(), String> {
    let mut cmd = Command::new(venv_python(root));
    cmd.arg(root.join("xtask/cpython_tests.py")).args(args);
    python_env(&mut cmd, root)?;
    run(&mut cmd)
}
