"""`python -m psyco [--full|--profile] [--backend B] [--log FILE] script.py|-m module [args]`:
run a script or module under psyco (`full()` unless `--profile`)."""

import argparse
import runpy
import sys

import psyco


def main(argv):
    ap = argparse.ArgumentParser(
        prog="python -m psyco",
        description="Run a Python script or module with psyco enabled.",
        usage="python -m psyco [--full|--profile] [--backend B] [--log FILE] script.py|-m module [args ...]",
    )
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--full", action="store_true", help="compile every function at its first call (default)")
    how.add_argument("--profile", action="store_true", help="compile the functions a sampling profiler finds hot")
    ap.add_argument("--backend", choices=psyco.BACKENDS, help="code generator (default: PSYCO_BACKEND or dynasm)")
    ap.add_argument("--log", metavar="FILE", help="write psyco's log to FILE")
    ap.add_argument("-m", dest="module", metavar="module", help="run a library module as a script")
    ap.add_argument("target", nargs=argparse.REMAINDER, help="script.py [args ...] (or the module's args after -m)")
    args = ap.parse_args(argv)
    if args.module is None and not args.target:
        ap.print_usage(sys.stderr)
        print("python -m psyco: error: a script or -m module is required", file=sys.stderr)
        return 2
    if args.log:
        psyco.log(args.log)
    if args.profile:
        psyco.profile(backend=args.backend)
    else:
        psyco.full(backend=args.backend)
    if args.module is not None:
        sys.argv = [args.module, *args.target]
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = args.target
        runpy.run_path(args.target[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
