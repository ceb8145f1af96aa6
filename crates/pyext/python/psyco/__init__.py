"""psyco: a specializing just-in-time compiler for CPython 3.11.

    import psyco
    psyco.full()        # compile every function at its first call

Compiled code runs on CPython's own frames and leaves for the interpreter whenever
something does not fit what it was specialized for; programs cannot tell the difference,
except in speed.
"""

import os as _os
import sys as _sys
import types as _types

if _sys.version_info[:2] != (3, 11) or _sys.implementation.name != "cpython":
    raise ImportError(
        "psyco supports CPython 3.11 only (it reads 3.11's private frame and code layouts); "
        f"this is {_sys.implementation.name} {_sys.version.split()[0]}"
    )

from . import _psyco  # noqa: E402

__all__ = ["full", "bind", "stop", "disable", "stats", "is_compiled", "BACKENDS"]
__version__ = "0.1.0"

BACKENDS = tuple(_psyco.BACKENDS)


def _threshold_from_env():
    raw = _os.environ.get("PSYCO_THRESHOLD")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"PSYCO_THRESHOLD must be a non-negative integer, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"PSYCO_THRESHOLD must be a non-negative integer, not {raw!r}")
    return value


def _check_backend(backend):
    if backend is None:
        backend = _os.environ.get("PSYCO_BACKEND") or None
    if backend is None:
        return None
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a str or None, not {type(backend).__name__}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    return backend


def full(*, backend=None):
    """Compile every function at its first call (or after PSYCO_THRESHOLD calls)."""
    _psyco.enable(True, _threshold_from_env(), _check_backend(backend))


def _code_of(x):
    if isinstance(x, _types.MethodType):
        x = x.__func__
    if isinstance(x, _types.FunctionType):
        return x.__code__
    raise TypeError(f"psyco.bind() expects a function or method, not {type(x).__name__}")


def bind(x, *, backend=None):
    """Compile the function (or method) `x` at its next call, by `backend` (default:
    PSYCO_BACKEND, else the backend `full()` chose)."""
    _psyco.bind_code(_code_of(x), _check_backend(backend))


def stop():
    """Compile nothing more; what is compiled keeps running (Psyco's meaning)."""
    _psyco.stop()


def disable():
    """Remove psyco from the interpreter: drop all compiled code, run everything interpreted."""
    _psyco.disable()


def is_compiled(x):
    """Whether the function `x` has compiled versions."""
    return _psyco.is_compiled_code(_code_of(x))


def stats():
    """A dict of counters: functions compiled, versions, side exits by reason, code bytes,
    compile time, what was declined and why, and per code object ('codes') its calls,
    native entries, back-edges run natively and side exits by reason."""
    return _psyco.stats()
