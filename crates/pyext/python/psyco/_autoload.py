"""Start-up switch: `PSYCO=full` (or `PSYCO=profile`) in the environment enables psyco in every
interpreter of this environment as it starts (the `psyco_autoload.pth` file installed beside
the package imports this module when PSYCO is set; its name sorts after the editable
install's `psyco.pth`), so that processes one does not start oneself — test workers,
subprocesses — run under psyco too (their main interpreters: psyco stays off in
subinterpreters). A bad value warns on stderr and leaves psyco off: start-up
must never fail because of it.

`PSYCO_STATS_DIR=<dir>` (with PSYCO set) makes every such interpreter write, at exit, its
`psyco.stats()` totals as JSON to `<dir>/<pid>.json`: everything but the per-code `codes`
entry, which is summarized as `code_objects` (how many were seen), `code_objects_native`
(how many had native entries) and `native_entries` (their sum). `cargo xtask cpython-tests`
aggregates these files to show how much of a test run really ran compiled."""

import os
import sys


def _write_stats(directory, json, psyco):
    """atexit hook: dump this process's totals. Never raises (exit must not fail). It gets its
    modules imported beforehand: an import at exit runs code through the path that clears
    CPython's record of an unhandled KeyboardInterrupt, and the process would then exit with
    status 1 instead of dying of SIGINT (test_runpy's TestExit checks that)."""
    try:
        stats = dict(psyco.stats())
        codes = stats.pop("codes", None) or {}
        stats["code_objects"] = len(codes)
        stats["code_objects_native"] = sum(1 for c in codes.values() if c.get("native_entries", 0) > 0)
        stats["native_entries"] = sum(c.get("native_entries", 0) for c in codes.values())
        stats["pid"] = os.getpid()
        stats["argv"] = list(sys.argv[:4])
        path = os.path.join(directory, f"{os.getpid()}.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(stats, f)
        os.replace(tmp, path)
    except BaseException as e:  # noqa: BLE001 - exit must go on whatever happens
        try:
            print(f"psyco: PSYCO_STATS_DIR: could not write stats: {e!r}", file=sys.stderr)
        except BaseException:  # noqa: BLE001
            pass


def _start():
    from psyco import _psyco

    if _psyco.in_subinterpreter():  # psyco runs in the main interpreter only
        return
    mode = os.environ.get("PSYCO", "")
    if mode not in ("full", "profile"):
        print(f"psyco: PSYCO={mode!r} is not understood (expected 'full' or 'profile'); psyco stays off", file=sys.stderr)
        return
    try:
        import psyco

        psyco.full() if mode == "full" else psyco.profile()
    except Exception as e:  # start-up must go on whatever happens
        print(f"psyco: PSYCO={mode} could not enable psyco: {e}", file=sys.stderr)
        return
    directory = os.environ.get("PSYCO_STATS_DIR")
    if directory:
        import atexit
        import json

        atexit.register(_write_stats, directory, json, psyco)


_start()
