"""Seeing what the JIT did and why: `psyco.dis`, `psyco.explain` and `psyco.dumpcodebuf`."""

from . import _psyco


def line_of(code, offset):
    """The source line of the instruction at bytecode `offset` (bytes), or None."""
    for start, end, line in code.co_lines():
        if start <= offset < end:
            return line
    return None


def dis_text(code):
    exits = _psyco.exit_sites(code)
    versions = _psyco.versions(code)
    if not versions:
        return f"{code.co_qualname}: no compiled versions\n"
    out = []
    for i, (key, ir, asm) in enumerate(versions):
        out.append(f"=== {code.co_qualname} version {i}: ({key})")
        taken = [(reason, offset, count) for v, reason, offset, count in exits if v == i]
        if taken:
            out.append("side exits taken:")
            out += [f"  {count:>8}  {reason} at offset {offset} (line {line_of(code, offset)})" for reason, offset, count in taken]
        out += ["--- IR", ir.rstrip(), "--- x86-64", asm.rstrip(), ""]
    return "\n".join(out) + "\n"


def explain_text(code):
    name = f"{code.co_qualname} ({code.co_filename}:{code.co_firstlineno})"
    versions = _psyco.versions(code)
    declined = _psyco.declined_reason(code)
    out = []
    if versions:
        out.append(f"{name}: compiled, {len(versions)} version(s):")
        out += [f"  ({key})" for key, _, _ in versions]
    elif declined:
        out.append(f"{name}: not compiled: {declined}")
    else:
        out.append(f"{name}: not compiled: not called (or not hot) since psyco was enabled")
    exits = _psyco.exit_sites(code)
    unsupported = sorted({(reason, offset) for _, reason, offset, _ in exits if reason.startswith("unsupported_")})
    for reason, offset in unsupported:
        opname = reason[len("unsupported_"):].upper()
        out.append(f"  runs interpreted from {opname} at line {line_of(code, offset)} (offset {offset}): not compiled natively")
    guards = [(reason, offset, count) for _, reason, offset, count in exits if not reason.startswith("unsupported_")]
    if guards:
        out.append("  guards that failed most:")
        merged = {}
        for reason, offset, count in guards:
            merged[(reason, offset)] = merged.get((reason, offset), 0) + count
        for (reason, offset), count in sorted(merged.items(), key=lambda kv: -kv[1])[:10]:
            out.append(f"    {count:>8}  {reason} at line {line_of(code, offset)} (offset {offset})")
    return "\n".join(out) + "\n"


def dump(path):
    codes = sorted(_psyco.compiled_codes(), key=lambda c: (c.co_filename, c.co_firstlineno))
    with open(path, "w", encoding="utf-8") as f:
        for code in codes:
            f.write(f"##### {code.co_qualname} ({code.co_filename}:{code.co_firstlineno})\n")
            f.write(dis_text(code))
    return len(codes)
