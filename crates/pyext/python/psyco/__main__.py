"""`python -m psyco script.py [args]`: run a script with every function compiled."""

import runpy
import sys

import psyco


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m psyco script.py [args...]", file=sys.stderr)
        return 2
    sys.argv = argv
    psyco.full()
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
