"""psyco as Python users install it: a release wheel built from the repository root (what
`cargo xtask wheel` and `pip install .` run), installed into a fresh virtual environment, runs a
program under `psyco.full()`; its metadata accepts CPython 3.11 only."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import new_workdir

ROOT = Path(__file__).resolve().parent.parent
MATURIN = Path(sys.executable).with_name("maturin")


@pytest.fixture(scope="module")
def wheel():
    """A release wheel of the checkout, built once for this module's tests."""
    out = new_workdir()
    build = subprocess.run(
        [str(MATURIN), "build", "--release", "--quiet", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (path,) = out.glob("psyco-*.whl")
    return path


def test_wheel_is_for_cpython_311_on_this_platform_with_its_metadata(wheel):
    # This machine kind's glibc allows a manylinux tag (maturin checks the symbols it uses).
    assert wheel.name.startswith("psyco-0.1.0-cp311-cp311-manylinux_") and wheel.name.endswith("_x86_64.whl"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read("psyco-0.1.0.dist-info/METADATA").decode()
    assert "psyco/__init__.py" in names and any(n.startswith("psyco/_psyco.") and n.endswith(".so") for n in names)
    assert "psyco-0.1.0.data/purelib/psyco_autoload.pth" in names
    assert "Requires-Python: >=3.11, <3.12" in metadata
    assert "Classifier: Programming Language :: Python :: Implementation :: CPython" in metadata
    assert "License-File: LICENSE" in metadata or "License: " in metadata


def test_wheel_installed_into_a_fresh_venv_runs_a_program_under_psyco(wheel):
    venv = new_workdir() / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    program = (
        "import psyco, sys\n"
        "psyco.full()\n"
        "def total(n):\n"
        "    t = 0\n"
        "    for i in range(n):\n"
        "        t += i * i\n"
        "    return t\n"
        "print(total(1000), psyco.is_compiled(total), psyco.__file__.startswith(sys.prefix))\n"
    )
    # From a directory outside the checkout, so that the checkout's package cannot be found.
    run = subprocess.run([str(python), "-c", program], capture_output=True, text=True, timeout=120, cwd=venv)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["332833500", "True", "True"], run.stdout
