"""Differential tests: every Python program in `tests/differential/` is run plain and under
psyco (for the backend named by PSYCO_BACKEND) from the same path, and stdout, stderr
(tracebacks included) and exit status must be identical.

Each program declares, in a comment among its first lines, the functions (qualnames) that
must have run compiled under psyco:

    # compiled: f, g.<locals>.h, C.method

Every program must list at least one; each listed function must show compiled versions and
native entries in `psyco.stats()`.  A program that reproduces a known psyco bug carries a
second line

    # xfail: <reason>

and its test is marked `xfail(strict=True)`, so that it starts failing loudly once the bug
is fixed.  Programs run as `prog.py` in a temporary directory, so they must not depend on
their own file name.
"""

import re
from pathlib import Path

import pytest

from conftest import assert_same_as_cpython

DIFF_DIR = Path(__file__).resolve().parent / "differential"
MIN_PROGRAMS = 30
HEADER_LINES = 5  # the directives are looked for in this many first lines

PROGRAMS = sorted(DIFF_DIR.glob("*.py"))
if len(PROGRAMS) < MIN_PROGRAMS:
    # Fails collection (an error, not a pass or skip) when the directory was emptied or moved.
    raise RuntimeError(
        f"{DIFF_DIR} holds {len(PROGRAMS)} programs; the differential suite needs at least {MIN_PROGRAMS}"
    )

_DIRECTIVE = re.compile(r"^#\s*(compiled|xfail)\s*:(.*)$")


def directives(source):
    """The `# compiled:` qualnames (a list, or None when the line is missing) and the
    `# xfail:` reason (or None) of a program."""
    compiled, xfail = None, None
    for line in source.splitlines()[:HEADER_LINES]:
        m = _DIRECTIVE.match(line.strip())
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "compiled":
            compiled = [name.strip() for name in value.split(",") if name.strip()]
        else:
            xfail = value or "known psyco bug"
    return compiled, xfail


def _param(path):
    _, xfail = directives(path.read_text())
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", [_param(p) for p in PROGRAMS])
def test_program_matches_cpython(path):
    source = path.read_text()
    compiled, _ = directives(source)
    if not compiled:
        pytest.fail(
            f"{path.name} has no `# compiled: name, ...` line listing at least one function that "
            f"must run compiled (within its first {HEADER_LINES} lines)",
            pytrace=False,
        )
    plain, jit = assert_same_as_cpython(source, compiled=compiled)
    total = sum(jit.codes[name]["native_entries"] for name in compiled)
    assert total > 0, f"no native entries into {compiled}: {[jit.codes[n] for n in compiled]}"
