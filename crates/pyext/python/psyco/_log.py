"""`psyco.log()`: a readable log of what psyco does, one event per line:

    hh:mm:ss.cc  message

Events: profilers starting and reaching limits, functions the profilers tag, every version
compiled (code, entry kinds, backend, bytes, compile time), what was declined and why, memory
limits reached; at exit a summary: memory, the `top` functions by native entries, side exits
by reason. Events are recorded by the JIT and written out by the profiler watcher, by
`psyco.log()` calls and at exit."""

import atexit
import time

from . import _psyco

_lock = None  # made by start(): importing psyco must not import threading
_file = None
_top = 10


def start(path, mode, top):
    global _file, _top, _lock
    if _lock is None:
        import threading

        _lock = threading.Lock()
    with _lock:
        if _file is not None:
            _file.close()
        _file = open(path, mode, encoding="utf-8")
        _top = top
    _psyco.set_logging(True)
    note(f"psyco log started (top={top})")


def _stamp(t):
    return time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 100) % 100:02d}"


def _write(t, message):
    _file.write(f"{_stamp(t)}  {message}\n")


def note(message):
    """Writes a message (with the JIT's pending events first, to keep the order)."""
    if _file is None:
        return
    flush(extra=message)


def flush(extra=None):
    if _file is None:
        return
    with _lock:
        if _file is None:
            return
        for t, message in _psyco.take_events():
            _write(t, message)
        if extra is not None:
            _write(time.time(), extra)
        _file.flush()


def _summary():
    if _file is None:
        return
    s = _psyco.stats()
    lines = [f"memory: {s['code_bytes']} bytes of compiled code live ({s['code_bytes_total']} ever allocated)",
             f"compiled: {s['functions_compiled']} functions, {s['versions_compiled']} versions, "
             f"{s['continuations_compiled']} continuations in {s['compile_time'] * 1000:.1f} ms"]
    codes = sorted(s["codes"].items(), key=lambda kv: -kv[1]["native_entries"])[:_top]
    for key, c in codes:
        if c["native_entries"]:
            lines.append(f"  top: {key}: {c['native_entries']} native entries, {c['back_edges']} back-edges, "
                         f"side exits {c['side_exits'] or '{}'}")
    lines.append(f"side exits by reason: {s['side_exits'] or '{}'}")
    lines.append(f"declined by reason: {s['declined'] or '{}'}")
    for line in lines:
        note(line)


atexit.register(_summary)
