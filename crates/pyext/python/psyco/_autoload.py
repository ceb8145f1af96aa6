"""Start-up switch: `PSYCO=full` in the environment enables psyco in every interpreter of this
environment as it starts (the `psyco_autoload.pth` file installed beside the package imports
this module when PSYCO is set; its name sorts after the editable install's `psyco.pth`), so that processes one does not start oneself — test workers,
subprocesses — run under psyco too. A bad value warns on stderr and leaves psyco off: start-up
must never fail because of it."""

import os
import sys


def _start():
    mode = os.environ.get("PSYCO", "")
    if mode != "full":
        print(f"psyco: PSYCO={mode!r} is not understood (expected 'full'); psyco stays off", file=sys.stderr)
        return
    try:
        import psyco

        psyco.full()
    except Exception as e:  # start-up must go on whatever happens
        print(f"psyco: PSYCO={mode} could not enable psyco: {e}", file=sys.stderr)


_start()
