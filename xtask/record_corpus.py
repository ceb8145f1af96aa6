"""Records the backend benchmark corpus (`crates/backend-x86/benches/corpus/`): the IR of
every version psyco compiles while running each program of the public benchmark folder
(`CHECKS` sizes), with fake, stable addresses, plus `instructions.txt` (the number of bytecode
instructions of each version's code object, for compile time per instruction).

    .venv/bin/python xtask/record_corpus.py [--bench-dir DIR] [--out DIR]

Every function is compiled at its first call and nothing is declined as mostly generic
(the script sets PSYCO_THRESHOLD=0 and PSYCO_DECLINE_GENERIC=0 itself), so that the corpus
does not depend on the compilation policy.

The IR is only compiled by the benches, never run, so fake addresses do no harm."""

import argparse
import dis
import importlib.util
import os
import pathlib
import types

import psyco
from psyco import _psyco

ROOT = pathlib.Path(__file__).resolve().parent.parent


def code_objects(co):
    yield co
    for c in co.co_consts:
        if isinstance(c, types.CodeType):
            yield from code_objects(c)


def functions_of(module):
    for obj in vars(module).values():
        if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__:
            yield obj.__code__
        elif isinstance(obj, type) and obj.__module__ == module.__name__:
            yield from (v.__code__ for v in vars(obj).values() if isinstance(v, types.FunctionType))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench-dir", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--out", default=str(ROOT / "crates/backend-x86/benches/corpus"))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.update(PSYCO_THRESHOLD="0", PSYCO_DECLINE_GENERIC="0")
    psyco.full()
    counts = {}
    for path in sorted(pathlib.Path(args.bench_dir).glob("*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for n in module.CHECKS:
            module.bench(n)
        seen = set()
        for top in functions_of(module):
            for co in code_objects(top):
                name = co.co_qualname.replace("<", "").replace(">", "")
                for i, (_, ir, _) in enumerate(_psyco.versions(co, stable_addresses=True)):
                    file = f"{path.stem}.{name}.{i}.ir"
                    if file in seen:  # two code objects with one qualname: keep the first
                        continue
                    seen.add(file)
                    (out / file).write_text(ir)
                    counts[file] = sum(1 for _ in dis.get_instructions(co))
    lines = ["# corpus file, then the number of bytecode instructions of its code object"]
    lines += [f"{file} {n}" for file, n in sorted(counts.items())]
    (out / "instructions.txt").write_text("\n".join(lines) + "\n")
    print(f"{len(counts)} functions recorded in {out}")


if __name__ == "__main__":
    main()
