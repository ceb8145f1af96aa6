"""`python -m psyco [--full|--profile] [--backend B] [--log FILE] script.py|-m module [args]`:
run a script or module under psyco (`full()` unless `--profile`)."""

import argparse
import runpy
import sys

import psyco

USAGE = "python -m psyco [--full|--profile] [--backend B] [--log FILE] script.py|-m module [args ...]"


def split_argv(argv):
    """psyco's own options, then the script or `-m module`, then the program's arguments
    (which may look like options: they are not psyco's)."""
    takes_value = {"--backend", "--log"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-m":
            if i + 1 >= len(argv):
                return argv[:i], None, None, []
            return argv[:i], None, argv[i + 1], argv[i + 2:]
        if arg in takes_value:
            i += 2
        elif arg.startswith("-"):
            i += 1
        else:
            return argv[:i], arg, None, argv[i + 1:]
    return argv, None, None, []


def main(argv):
    ap = argparse.ArgumentParser(prog="python -m psyco", usage=USAGE,
                                 description="Run a Python script or module with psyco enabled.")
    how = ap.add_mutually_exclusive_group()
    how.add_argument("--full", action="store_true", help="compile every function at its first call (default)")
    how.add_argument("--profile", action="store_true", help="compile the functions a sampling profiler finds hot")
    ap.add_argument("--backend", choices=psyco.BACKENDS, help="code generator (default: PSYCO_BACKEND or dynasm)")
    ap.add_argument("--log", metavar="FILE", help="write psyco's log to FILE")
    own, script, module, rest = split_argv(argv)
    args = ap.parse_args(own)
    if script is None and module is None:
        ap.print_usage(sys.stderr)
        print("python -m psyco: error: a script or -m module is required", file=sys.stderr)
        return 2
    if args.log:
        psyco.log(args.log)
    if args.profile:
        psyco.profile(backend=args.backend)
    else:
        psyco.full(backend=args.backend)
    if module is not None:
        sys.argv = [module, *rest]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [script, *rest]
        runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
