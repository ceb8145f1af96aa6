"""psyco: a specializing just-in-time compiler for CPython 3.11.

    import psyco
    psyco.full()        # compile every function that runs enough

Compiled code runs on CPython's own frames and leaves for the interpreter whenever
something does not fit what it was specialized for; programs cannot tell the difference,
except in speed. The API is Psyco 1.6's (`full`, `profile`, `background`, `runonly`, `stop`,
`bind`, `unbind`, `proxy`, `unproxy`, `cannotcompile`, `setfilter`, `log`, `dumpcodebuf`),
plus `disable`, `stats`, `dis`, `explain`, `is_compiled` and a `backend=` keyword.

psyco runs in the main interpreter only: in a subinterpreter, `full`, `profile`,
`background`, `runonly` and `bind` raise RuntimeError, the other functions change nothing,
and everything runs interpreted.

Environment: PSYCO=full or PSYCO=profile enables psyco as any (main) interpreter of the
environment starts; PSYCO_DISABLE=1 makes every function of this module a no-op; PSYCO_THRESHOLD (calls
before `full()` compiles a function; 0 = first call); PSYCO_BACKEND (dynasm or cranelift).
"""

import atexit as _atexit
import os as _os
import sys as _sys
import types as _types

if _sys.version_info[:2] != (3, 11) or _sys.implementation.name != "cpython":
    raise ImportError(
        "psyco supports CPython 3.11 only (it reads 3.11's private frame and code layouts); "
        f"this is {_sys.implementation.name} {_sys.version.split()[0]}"
    )

from . import _log, _profilers, _psyco  # noqa: E402  (_inspect: on first use, start-up is short)

__all__ = [
    "full", "profile", "background", "runonly", "stop", "disable", "bind", "unbind", "proxy", "unproxy",
    "cannotcompile", "setfilter", "log", "dumpcodebuf", "stats", "dis", "explain", "is_compiled",
    "error", "warning", "BACKENDS",
]
__version__ = "0.1.0"
version_info = (0, 1, 0, "final", 0)
hexversion = 0x000100F0

BACKENDS = tuple(_psyco.BACKENDS)


class error(Exception):
    """Misuse of the psyco API (never raised by compiled code)."""


class warning(Warning):
    """Something psyco cannot do exactly as asked."""


def _disabled():
    """PSYCO_DISABLE=1: every function of the API does nothing."""
    return _os.environ.get("PSYCO_DISABLE") == "1"


@_atexit.register
def _drop_code_at_exit():
    """Compiled code holds references to the functions and constants it was specialized for
    (and through them to module globals): they are released before the interpreter finalizes
    modules, so that objects left in globals are finalized as they would be without psyco.
    Registered at import, so it runs after the program's own atexit handlers."""
    _profilers.QUEUE.clear()
    _psyco.disable()


# ----- argument checks -------------------------------------------------------------------------


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


def _number(name, value, *, positive=True, maximum=None):
    """A real number argument (bools are not numbers here), checked against its range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if value != value or (positive and value <= 0) or (not positive and value < 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'non-negative'}, not {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, not {value!r}")
    return value


def _limits(memory, time, memorymax, timemax):
    limits = dict(memory=memory, time=time, memorymax=memorymax, timemax=timemax)
    return {k: (None if v is None else _number(k, v)) for k, v in limits.items()}


def _profile_params(watermark, halflife, pollfreq, parentframe):
    return dict(
        watermark=_number("watermark", watermark, maximum=1),
        halflife=_number("halflife", halflife),
        pollfreq=_number("pollfreq", pollfreq, maximum=10_000),
        parentframe=_number("parentframe", parentframe, positive=False, maximum=1),
    )


def _rec(rec):
    """bind()/proxy()'s `rec`: levels of callees compiled along (None: Psyco's 10)."""
    if rec is None:
        return 10
    if isinstance(rec, bool) or not isinstance(rec, int):
        raise TypeError(f"rec must be an int or None, not {type(rec).__name__}")
    if not 0 <= rec <= 200:
        raise ValueError(f"rec must be between 0 and 200, not {rec!r}")
    return rec


def _functions_of(x, what):
    """The plain functions `x` stands for: a function, a bound or unbound method, or a class
    (the functions in its own __dict__, including static and class methods)."""
    if isinstance(x, _types.MethodType):
        x = x.__func__
    if isinstance(x, _types.FunctionType):
        return [x]
    if isinstance(x, type):
        found = []
        for v in vars(x).values():
            if isinstance(v, (staticmethod, classmethod)):
                v = v.__func__
            if isinstance(v, property):
                found += [f for f in (v.fget, v.fset, v.fdel) if isinstance(f, _types.FunctionType)]
            elif isinstance(v, _types.FunctionType):
                found.append(v)
        return found
    raise TypeError(f"psyco.{what}() expects a function, method or class, not {type(x).__name__}")


def _code_of(x, what):
    if isinstance(x, _types.CodeType):
        return x
    if isinstance(x, _types.MethodType):
        x = x.__func__
    if isinstance(x, _types.FunctionType):
        return x.__code__
    raise TypeError(f"psyco.{what}() expects a function, method or code object, not {type(x).__name__}")


# ----- profilers ---------------------------------------------------------------------------------


def full(memory=None, time=None, memorymax=None, timemax=None, *, backend=None):
    """Compile every function that runs enough: one with a loop at its first call, one
    without at its ninth; module and class bodies never (or every function after
    PSYCO_THRESHOLD calls).

    Limits (None: none): `memory` kB more of compiled code, then compile nothing more;
    `memorymax` kB of compiled code in all, past which all compiled code is freed and nothing
    more is compiled; `time` seconds of this profiler running; `timemax` seconds from this
    call. Queued after a running profiler, it starts when that one reaches a limit."""
    if _disabled():
        return
    limits = _limits(memory, time, memorymax, timemax)
    _profilers.QUEUE.add(_profilers.Profiler("full", _check_backend(backend), **limits), _threshold_from_env())


def profile(watermark=0.09, halflife=0.5, pollfreq=20, parentframe=0.25, memory=None, time=None,
            memorymax=None, timemax=None, *, backend=None):
    """Compile the functions a sampling profiler finds hot: a code object whose share of the
    (decaying, half-life `halflife` s) charge reaches `watermark` is compiled at its next
    call; `pollfreq` samples per second; `parentframe` of each sample goes to the caller.
    Limits and queueing as for `full()`."""
    if _disabled():
        return
    params = _profile_params(watermark, halflife, pollfreq, parentframe)
    limits = _limits(memory, time, memorymax, timemax)
    _profilers.QUEUE.add(_profilers.Profiler("profile", _check_backend(backend), **limits, **params), None)


def background(watermark=0.09, halflife=0.5, pollfreq=100, parentframe=0.25, memory=None, time=None,
               memorymax=None, timemax=None, *, backend=None):
    """`profile()`'s passive form, Psyco's background profiler (a sampling thread; by default
    100 samples per second)."""
    if _disabled():
        return
    params = _profile_params(watermark, halflife, pollfreq, parentframe)
    limits = _limits(memory, time, memorymax, timemax)
    _profilers.QUEUE.add(_profilers.Profiler("background", _check_backend(backend), **limits, **params), None)


def runonly(memory=None, time=None, memorymax=None, timemax=None):
    """Run what is compiled, compile nothing new (queued like the other profilers)."""
    if _disabled():
        return
    _profilers.QUEUE.add(_profilers.Profiler("runonly", None, **_limits(memory, time, memorymax, timemax)), None)


def stop():
    """Empty the profiler queue and compile nothing more; what is compiled keeps running
    (Psyco's meaning; see `disable()` to drop compiled code)."""
    if _disabled():
        return
    _profilers.QUEUE.clear()
    _psyco.stop()


def disable():
    """Remove psyco from the interpreter: drop all compiled code, run everything interpreted."""
    if _disabled():
        return
    _profilers.QUEUE.clear()
    _psyco.disable()


# ----- choosing functions -------------------------------------------------------------------------


def bind(x, rec=None, *, backend=None):
    """Compile `x` (a function, method, or every function of a class) at its next call, by
    `backend` (default: PSYCO_BACKEND, else the backend `full()` chose), with `rec` levels of
    the Python functions it calls directly (None: 10)."""
    if _disabled():
        return
    functions, rec, backend = _functions_of(x, "bind"), _rec(rec), _check_backend(backend)
    for f in functions:
        _psyco.bind_code(f.__code__, backend, rec)


def unbind(x):
    """Undo `bind(x)`: `x` runs interpreted from its next call (until bound again)."""
    if _disabled():
        return
    for f in _functions_of(x, "unbind"):
        _psyco.release_code(f.__code__, False)


def _copy_function(f, code):
    g = _types.FunctionType(code, f.__globals__, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    g.__dict__.update(f.__dict__)
    g.__qualname__, g.__doc__, g.__module__ = f.__qualname__, f.__doc__, f.__module__
    return g


def proxy(x, rec=None, *, backend=None):
    """A compiled copy of the function or method `x` (a bound method stays bound); `x` itself
    is unaffected."""
    if _disabled():
        return x
    rec, backend = _rec(rec), _check_backend(backend)
    if isinstance(x, _types.MethodType):
        return _types.MethodType(proxy(x.__func__, rec, backend=backend), x.__self__)
    if not isinstance(x, _types.FunctionType):
        raise TypeError(f"psyco.proxy() expects a function or method, not {type(x).__name__}")
    # A code object of its own: what is bound is the copy, not `x`'s code.
    copy = _copy_function(x, x.__code__.replace())
    copy.__psyco_proxy_of__ = x
    _psyco.bind_code(copy.__code__, backend, rec)
    return copy


def unproxy(p):
    """The interpreted function (or method) a `proxy()` copy was made from."""
    if _disabled():
        return p
    if isinstance(p, _types.MethodType):
        return _types.MethodType(unproxy(p.__func__), p.__self__)
    original = getattr(p, "__psyco_proxy_of__", None) if isinstance(p, _types.FunctionType) else None
    if original is None:
        raise TypeError(f"psyco.unproxy() expects what psyco.proxy() returned, not {type(p).__name__}")
    return original


def cannotcompile(x):
    """Never compile the function, method or code object `x` (its callees are unaffected)."""
    if _disabled():
        return
    _psyco.release_code(_code_of(x, "cannotcompile"), True)


def setfilter(fn):
    """`fn(code) -> bool` is asked once per code object before psyco first compiles it; false
    keeps it interpreted. None removes the filter. Returns the previous filter (or None)."""
    if _disabled():
        return None
    if fn is not None and not callable(fn):
        raise TypeError(f"psyco.setfilter() expects a callable or None, not {type(fn).__name__}")
    return _psyco.set_filter(fn)


# ----- seeing what psyco did ------------------------------------------------------------------------


def log(logfile="", mode="w", top=10):
    """Write psyco's log to `logfile` (default: `<script>.log-psyco`, or `psyco.log` when
    interactive); `mode` 'w' or 'a'; `top` functions in the summary at exit."""
    if _disabled():
        return
    if not isinstance(logfile, (str, _os.PathLike)):
        raise TypeError(f"logfile must be a path, not {type(logfile).__name__}")
    if mode not in ("w", "a"):
        raise ValueError(f"mode must be 'w' or 'a', not {mode!r}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise ValueError(f"top must be a non-negative int, not {top!r}")
    if logfile == "":
        script = _sys.argv[0] if _sys.argv and _sys.argv[0] not in ("", "-c", "-") else ""
        logfile = script + ".log-psyco" if script else "psyco.log"
    _log.start(logfile, mode, top)


def dumpcodebuf(path="psyco.dump"):
    """Write every compiled version (entry kinds, side exits, IR, x86-64) to `path`; returns
    the number of code objects written."""
    if _disabled():
        return 0
    if not isinstance(path, (str, _os.PathLike)):
        raise TypeError(f"path must be a path, not {type(path).__name__}")
    from . import _inspect

    return _inspect.dump(path)


def dis(x, file=None):
    """Print, per compiled version of `x`: its entry kinds, the side exits it took (with
    source lines), its IR and its x86-64 code."""
    if _disabled():
        return
    from . import _inspect

    print(_inspect.dis_text(_code_of(x, "dis")), end="", file=file or _sys.stdout)


def explain(x):
    """Why `x` runs compiled or not: its versions, or the reason it was declined; where it
    leaves for the interpreter (the unsupported instruction and its line); the guards that
    fail most, with counts and lines. Returns the text."""
    if _disabled():
        return ""
    from . import _inspect

    return _inspect.explain_text(_code_of(x, "explain"))


def is_compiled(x):
    """Whether the function `x` has compiled code: versions entered by calls, or continuations
    (a loop's call version compiled again with its sites' profiles leaves only those until the
    next call)."""
    if _disabled():
        return False
    return _psyco.is_compiled_code(_code_of(x, "is_compiled"))


def stats():
    """A dict of counters: functions compiled, versions, side exits by reason, code bytes,
    compile time, what was declined and why, and per code object ('codes') its calls,
    native entries, back-edges run natively and side exits by reason."""
    if _disabled():
        return {}
    return _psyco.stats()
