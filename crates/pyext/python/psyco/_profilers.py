"""Psyco's profilers and their queue: `full`, `profile`, `background` and `runonly` each
describe how psyco chooses what to compile, with optional limits; only the first queued one
runs, and when it reaches a limit the next one starts (Psyco 1.6's semantics).

`profile()` and `background()` are sampling profilers with decay: a thread looks at every
thread's running frame `pollfreq` times a second, charges its code object (and a `parentframe`
share to the caller's), lets charges decay with a half-life of `halflife` seconds, and binds
every code object whose share of the total charge reaches `watermark`: it is compiled at its
next call (frames already running stay interpreted).

`threading` is imported only when a profiler thread starts: importing psyco must not import
it (a program may need to be the first to import threading)."""

import sys
import time

from . import _log, _psyco


class Profiler:
    """One queued profiler: its kind, parameters and limits (None: no limit)."""

    def __init__(self, kind, backend, memory=None, time=None, memorymax=None, timemax=None, **params):
        self.kind, self.backend, self.params = kind, backend, params
        self.memory, self.time, self.memorymax, self.timemax = memory, time, memorymax, timemax
        self.called_at = _now()
        self.started_at = None
        self.sampler = None

    def limited(self):
        return any(x is not None for x in (self.memory, self.time, self.memorymax, self.timemax))

    def start(self, threshold):
        """Starts this profiler. Enabling psyco comes last: psyco's own code run after it in
        this thread would be compiled, and spend the memory limits."""
        self.started_at = _now()
        live, _ = _psyco.memory()
        _psyco.set_memory_limits(
            live + int(self.memory * 1024) if self.memory is not None else None,
            int(self.memorymax * 1024) if self.memorymax is not None else None,
        )
        _log.note(f"starting profiler {self.kind}" + (f" ({self.describe_limits()})" if self.limited() else ""))
        if self.kind in ("profile", "background"):
            self.sampler = Sampler(self.backend, **self.params)
            self.sampler.start()
        if self.kind == "full":
            _psyco.enable(True, threshold, self.backend)
        elif self.kind == "runonly":
            _psyco.enable(False, None, self.backend)
            _psyco.stop()
        else:
            _psyco.enable(False, None, self.backend)

    def end(self):
        if self.sampler is not None:
            self.sampler.stop()
            self.sampler = None

    def reached_limit(self):
        """Which limit this running profiler reached, or None."""
        _, limit = _psyco.memory()
        if limit is not None:
            return limit
        now = _now()
        if self.time is not None and now - self.started_at >= self.time:
            return "time"
        if self.timemax is not None and now - self.called_at >= self.timemax:
            return "timemax"
        return None

    def describe_limits(self):
        names = ("memory", "time", "memorymax", "timemax")
        return ", ".join(f"{n}={getattr(self, n)}" for n in names if getattr(self, n) is not None)


def _now():
    return time.monotonic()


class Sampler:
    """The sampling profiler thread of `profile()` and `background()`."""

    def __init__(self, backend, watermark, halflife, pollfreq, parentframe):
        import threading

        self.backend, self.watermark, self.halflife = backend, watermark, halflife
        self.period, self.parentframe = 1.0 / pollfreq, parentframe
        self.charges = {}
        self.bound = set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="psyco-profiler", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()

    def run(self):
        _psyco.set_thread_quiet(True)
        try:
            self.sample_until_stopped()
        finally:
            _psyco.set_thread_quiet(False)

    def sample_until_stopped(self):
        last = _now()
        while not self.stopping.wait(self.period):
            now = _now()
            self.decay(0.5 ** ((now - last) / self.halflife))
            last = now
            me = self.thread.ident
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    self.charge(frame)
            self.tag_hot()

    def decay(self, factor):
        for code in list(self.charges):
            self.charges[code] *= factor
            if self.charges[code] < 1e-3:
                del self.charges[code]

    def charge(self, frame):
        share = 1.0 - self.parentframe if frame.f_back is not None else 1.0
        self.charges[frame.f_code] = self.charges.get(frame.f_code, 0.0) + share
        if frame.f_back is not None:
            back = frame.f_back.f_code
            self.charges[back] = self.charges.get(back, 0.0) + self.parentframe

    def tag_hot(self):
        total = sum(self.charges.values())
        if total < 1.0:
            return
        for code, charge in self.charges.items():
            if code not in self.bound and charge / total >= self.watermark and _compilable(code):
                self.bound.add(code)
                _psyco.bind_code(code, self.backend)
                _log.note(f"tag function: {code.co_qualname} ({code.co_filename}:{code.co_firstlineno}), "
                          f"charge {charge / total:.0%}")


def _compilable(code):
    # psyco's own code and the standard library's threading machinery are left alone.
    return not code.co_filename.startswith(("<frozen", __file__.rsplit("/", 1)[0]))


class _NoLock:
    """The queue's lock while only one thread touches it (contextlib.nullcontext, without
    importing contextlib at start-up)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Queue:
    """The profiler queue and the watcher thread that moves along it."""

    def __init__(self):
        # No lock is needed until psyco starts a thread (see `threaded`).
        self.lock = _NoLock()
        self.profilers = []
        self.watcher = None
        self.threshold = None

    def threaded(self):
        """Called before psyco starts a thread of its own: from then on the queue is locked.
        (Until then only the caller's thread touches it; importing threading earlier would
        break programs that must import it first.)"""
        import threading

        if isinstance(self.lock, _NoLock):
            self.lock = threading.Lock()

    def add(self, profiler, threshold):
        # Before any thread starts: one still running when a subinterpreter ends aborts the
        # process, and psyco would not run there anyway (`_psyco.enable` refuses too).
        if _psyco.in_subinterpreter():
            raise RuntimeError("psyco runs only in the main interpreter")
        if profiler.limited() or profiler.kind in ("profile", "background"):
            self.threaded()
        with self.lock:
            self.threshold = threshold
            self.profilers.append(profiler)
            self.ensure_watcher()
            if len(self.profilers) == 1:
                profiler.start(threshold)

    def clear(self):
        with self.lock:
            for p in self.profilers[:1]:
                p.end()
            self.profilers.clear()
        _psyco.set_memory_limits(None, None)

    def ensure_watcher(self):
        if self.watcher is None and any(p.limited() for p in self.profilers):
            import threading

            self.watcher = threading.Thread(target=self.watch, name="psyco-limits", daemon=True)
            self.watcher.start()

    def watch(self):
        _psyco.set_thread_quiet(True)
        try:
            self.watch_limits()
        finally:
            _psyco.set_thread_quiet(False)

    def watch_limits(self):
        while True:
            time.sleep(0.05)
            with self.lock:
                if not self.profilers:
                    self.watcher = None
                    return
                current = self.profilers[0]
                limit = current.reached_limit()
                if limit is None:
                    _log.flush()
                    continue
                current.end()
                self.profilers.pop(0)
                _log.note(f"profiler {current.kind} reached its {limit} limit")
                if self.profilers:
                    self.profilers[0].start(self.threshold)
                else:
                    # Compile nothing more (memorymax has already freed the code).
                    _psyco.stop()
                    self.watcher = None
                    return


QUEUE = Queue()
