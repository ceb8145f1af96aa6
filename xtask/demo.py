"""The README's demo: one program, run plain and under psyco, with its speed-up.

The program below is ordinary Python (integer and float loops, calls); psyco is enabled
with the two classic lines and nothing else changes."""

import os
import subprocess
import sys
import time

PROGRAM = r'''
import sys, time

def collatz_steps(limit):
    best = steps_best = 0
    for start in range(1, limit):
        n, steps = start, 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        if steps > steps_best:
            best, steps_best = start, steps
    return best, steps_best

def integrate(f_scale, n):
    total = 0.0
    h = 1.0 / n
    for i in range(n):
        x = (i + 0.5) * h
        total += f_scale * 4.0 / (1.0 + x * x)
    return total * h

if sys.argv[1] == "psyco":
    import psyco
    psyco.full()

t = time.perf_counter()
result = (collatz_steps(60000), integrate(1.0, 2000000))
print(repr(result), "%.4f" % (time.perf_counter() - t))
'''


def run(mode):
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True)
    result, seconds = out.stdout.rsplit(" ", 1)
    return result, float(seconds)


def main():
    plain_result, plain = run("plain")
    psyco_result, jit = run("psyco")
    if plain_result != psyco_result:
        sys.exit(f"results differ: plain {plain_result} vs psyco {psyco_result}")
    backend = os.environ.get("PSYCO_BACKEND", "dynasm")
    print(f"result           {psyco_result}")
    print(f"plain CPython    {plain:.3f} s")
    print(f"psyco ({backend:7}) {jit:.3f} s")
    print(f"speed-up         {plain / jit:.1f}x")


if __name__ == "__main__":
    main()
