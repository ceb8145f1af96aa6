"""`python -m psyco [--full|--profile] [--backend B] [--log FILE] script.py|-m module [args]`:
run a script or module under psyco (`full()` unless `--profile`).

Start-up must cost next to nothing beyond plain `python script.py`: the options are parsed by
hand (argparse, and the typing and re it brings, took longer than psyco itself) and a script
file runs without runpy (which imports pkgutil, importlib.util and typing)."""

import sys

import psyco

USAGE = "usage: python -m psyco [--full|--profile] [--backend B] [--log FILE] script.py|-m module [args ...]"

HELP = f"""{USAGE}

Run a Python script or module with psyco enabled.

options:
  -h, --help     show this help message and exit
  --full         compile every function that runs enough (default)
  --profile      compile the functions a sampling profiler finds hot
  --backend B    code generator: {', '.join(psyco.BACKENDS)} (default: PSYCO_BACKEND or dynasm)
  --log FILE     write psyco's log to FILE
"""


class UsageError(Exception):
    """A bad command line: reported as argparse would, with status 2."""


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


def parse_options(own):
    """psyco's options as a dict: `how` (full or profile), `backend`, `log`, `help`."""
    options = {"how": None, "backend": None, "log": None, "help": False}
    args = iter(own)
    for arg in args:
        if arg in ("-h", "--help"):
            options["help"] = True
        elif arg in ("--full", "--profile"):
            how = arg[2:]
            if options["how"] not in (None, how):
                raise UsageError(f"argument {arg}: not allowed with argument --{options['how']}")
            options["how"] = how
        elif arg in ("--backend", "--log"):
            value = next(args, None)
            if value is None:
                raise UsageError(f"argument {arg}: expected one argument")
            if arg == "--backend" and value not in psyco.BACKENDS:
                choices = ", ".join(repr(b) for b in psyco.BACKENDS)
                raise UsageError(f"argument --backend: invalid choice: {value!r} (choose from {choices})")
            options[arg[2:]] = value
        else:
            raise UsageError(f"unrecognized arguments: {arg}")
    return options


def run_script(path):
    """Runs a script file as `python path` would: its code in a fresh `__main__` module.
    Directories, zip files and compiled files take runpy's road."""
    if not path.endswith(".py"):
        import runpy

        runpy.run_path(path, run_name="__main__")
        return
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = type(sys)("__main__")
    main.__dict__.update(__file__=path, __cached__=None, __loader__=None, __package__=None, __spec__=None)
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def main(argv):
    own, script, module, rest = split_argv(argv)
    try:
        options = parse_options(own)
    except UsageError as e:
        print(USAGE, file=sys.stderr)
        print(f"python -m psyco: error: {e}", file=sys.stderr)
        return 2
    if options["help"]:
        print(HELP, end="")
        return 0
    if script is None and module is None:
        print(USAGE, file=sys.stderr)
        print("python -m psyco: error: a script or -m module is required", file=sys.stderr)
        return 2
    if options["log"]:
        psyco.log(options["log"])
    if options["how"] == "profile":
        psyco.profile(backend=options["backend"])
    else:
        psyco.full(backend=options["backend"])
    if module is not None:
        import runpy  # what plain `python -m module` imports too

        sys.argv = [module, *rest]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = [script, *rest]
        run_script(script)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
