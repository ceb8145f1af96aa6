"""Writes crates/runtime/src/opcodes.rs from CPython 3.11's own `opcode` and `dis` modules.

The stack effects are written here as (pops, pushes) of each opcode, because 3.11's
`dis.stack_effect` only gives their difference; the script checks that difference against
it for every opcode and many arguments before it writes anything."""
import dis
import opcode
import pathlib
import re
import sys
import sysconfig

assert sys.version_info[:2] == (3, 11), "run with python3.11"

# What each opcode takes from the top of the stack and leaves there when it falls through to
# the next instruction, as expressions of `arg` that read the same in Python and in Rust. A
# value the instruction reads and leaves in place counts on both sides (3.12's
# `(inputs -- outputs)` convention: `CHECK_EXC_MATCH` is `(left, right -- left, match)`,
# `LIST_APPEND` reaches down to its list past `arg - 1` values).
POPCOUNT_LOW4 = "(arg & 1) + ((arg >> 1) & 1) + ((arg >> 2) & 1) + ((arg >> 3) & 1)"
STACK_EFFECTS = {
    "CACHE": ("0", "0"), "POP_TOP": ("1", "0"), "PUSH_NULL": ("0", "1"), "NOP": ("0", "0"),
    "UNARY_POSITIVE": ("1", "1"), "UNARY_NEGATIVE": ("1", "1"), "UNARY_NOT": ("1", "1"),
    "UNARY_INVERT": ("1", "1"), "BINARY_SUBSCR": ("2", "1"), "GET_LEN": ("1", "2"),
    "MATCH_MAPPING": ("1", "2"), "MATCH_SEQUENCE": ("1", "2"), "MATCH_KEYS": ("2", "3"),
    "PUSH_EXC_INFO": ("1", "2"), "CHECK_EXC_MATCH": ("2", "2"), "CHECK_EG_MATCH": ("2", "2"),
    "WITH_EXCEPT_START": ("4", "5"), "GET_AITER": ("1", "1"), "GET_ANEXT": ("1", "2"),
    "BEFORE_ASYNC_WITH": ("1", "2"), "BEFORE_WITH": ("1", "2"), "END_ASYNC_FOR": ("2", "0"),
    "STORE_SUBSCR": ("3", "0"), "DELETE_SUBSCR": ("2", "0"), "GET_ITER": ("1", "1"),
    "GET_YIELD_FROM_ITER": ("1", "1"), "PRINT_EXPR": ("1", "0"), "LOAD_BUILD_CLASS": ("0", "1"),
    "LOAD_ASSERTION_ERROR": ("0", "1"), "RETURN_GENERATOR": ("0", "0"), "LIST_TO_TUPLE": ("1", "1"),
    "RETURN_VALUE": ("1", "0"), "IMPORT_STAR": ("1", "0"), "SETUP_ANNOTATIONS": ("0", "0"),
    "YIELD_VALUE": ("1", "1"), "ASYNC_GEN_WRAP": ("1", "1"), "PREP_RERAISE_STAR": ("2", "1"),
    "POP_EXCEPT": ("1", "0"), "STORE_NAME": ("1", "0"), "DELETE_NAME": ("0", "0"),
    "UNPACK_SEQUENCE": ("1", "arg"), "FOR_ITER": ("1", "2"),
    "UNPACK_EX": ("1", "(arg & 0xFF) + (arg >> 8) + 1"), "STORE_ATTR": ("2", "0"),
    "DELETE_ATTR": ("1", "0"), "STORE_GLOBAL": ("1", "0"), "DELETE_GLOBAL": ("0", "0"),
    "SWAP": ("arg", "arg"), "LOAD_CONST": ("0", "1"), "LOAD_NAME": ("0", "1"),
    "BUILD_TUPLE": ("arg", "1"), "BUILD_LIST": ("arg", "1"), "BUILD_SET": ("arg", "1"),
    "BUILD_MAP": ("2 * arg", "1"), "LOAD_ATTR": ("1", "1"), "COMPARE_OP": ("2", "1"),
    "IMPORT_NAME": ("2", "1"), "IMPORT_FROM": ("1", "2"), "JUMP_FORWARD": ("0", "0"),
    "JUMP_IF_FALSE_OR_POP": ("1", "0"), "JUMP_IF_TRUE_OR_POP": ("1", "0"),
    "POP_JUMP_FORWARD_IF_FALSE": ("1", "0"), "POP_JUMP_FORWARD_IF_TRUE": ("1", "0"),
    "LOAD_GLOBAL": ("0", "1 + (arg & 1)"), "IS_OP": ("2", "1"), "CONTAINS_OP": ("2", "1"),
    "RERAISE": ("1", "0"), "COPY": ("arg", "arg + 1"), "BINARY_OP": ("2", "1"), "SEND": ("2", "2"),
    "LOAD_FAST": ("0", "1"), "STORE_FAST": ("1", "0"), "DELETE_FAST": ("0", "0"),
    "POP_JUMP_FORWARD_IF_NOT_NONE": ("1", "0"), "POP_JUMP_FORWARD_IF_NONE": ("1", "0"),
    "RAISE_VARARGS": ("arg", "0"), "GET_AWAITABLE": ("1", "1"),
    "MAKE_FUNCTION": ("1 + " + POPCOUNT_LOW4, "1"), "BUILD_SLICE": ("arg", "1"),
    "JUMP_BACKWARD_NO_INTERRUPT": ("0", "0"), "MAKE_CELL": ("0", "0"), "LOAD_CLOSURE": ("0", "1"),
    "LOAD_DEREF": ("0", "1"), "STORE_DEREF": ("1", "0"), "DELETE_DEREF": ("0", "0"),
    "JUMP_BACKWARD": ("0", "0"), "CALL_FUNCTION_EX": ("3 + (arg & 1)", "1"), "EXTENDED_ARG": ("0", "0"),
    "LIST_APPEND": ("arg + 1", "arg"), "SET_ADD": ("arg + 1", "arg"), "MAP_ADD": ("arg + 2", "arg"),
    "LOAD_CLASSDEREF": ("0", "1"), "COPY_FREE_VARS": ("0", "0"), "RESUME": ("0", "0"),
    "MATCH_CLASS": ("3", "1"), "FORMAT_VALUE": ("1 + ((arg >> 2) & 1)", "1"),
    "BUILD_CONST_KEY_MAP": ("arg + 1", "1"), "BUILD_STRING": ("arg", "1"), "LOAD_METHOD": ("1", "2"),
    "LIST_EXTEND": ("arg + 1", "arg"), "SET_UPDATE": ("arg + 1", "arg"), "DICT_MERGE": ("arg + 1", "arg"),
    "DICT_UPDATE": ("arg + 1", "arg"),
    # At run time `PRECALL` leaves the stack alone and `CALL` takes the callable (or the
    # method and its self, or NULL and the callable) and the arguments; the compiler's
    # accounting, which `dis.stack_effect` gives, splits that between the two.
    "PRECALL": ("0", "0"), "CALL": ("arg + 2", "1"),
    "KW_NAMES": ("0", "0"), "POP_JUMP_BACKWARD_IF_NOT_NONE": ("1", "0"),
    "POP_JUMP_BACKWARD_IF_NONE": ("1", "0"), "POP_JUMP_BACKWARD_IF_FALSE": ("1", "0"),
    "POP_JUMP_BACKWARD_IF_TRUE": ("1", "0"),
}

# Opcodes whose argument can only take these values (`dis.stack_effect` answers for any).
VALID_ARGS = {"BUILD_SLICE": (2, 3)}


def effect(name, arg):
    pops, pushes = STACK_EFFECTS[name]
    return eval(pops, {"arg": arg}), eval(pushes, {"arg": arg})


def check_stack_effects():
    """Every opcode has an effect, and pushes - pops is `dis.stack_effect` when it falls through."""
    assert set(STACK_EFFECTS) == set(opcode.opmap), set(STACK_EFFECTS) ^ set(opcode.opmap)
    for name, op in opcode.opmap.items():
        if name in ("CACHE", "PRECALL", "CALL"):
            continue  # CACHE is no instruction; PRECALL and CALL are checked as a pair below
        for arg in VALID_ARGS.get(name, range(0, 600) if op >= opcode.HAVE_ARGUMENT else [0]):
            pops, pushes = effect(name, arg)
            expected = dis.stack_effect(op, arg if op >= opcode.HAVE_ARGUMENT else None, jump=False)
            assert pushes - pops == expected, (name, arg, pops, pushes, expected)
    for arg in range(0, 600):
        pops, pushes = (a + b for a, b in zip(effect("PRECALL", arg), effect("CALL", arg)))
        expected = sum(dis.stack_effect(opcode.opmap[n], arg, jump=False) for n in ("PRECALL", "CALL"))
        assert pushes - pops == expected, ("PRECALL + CALL", arg)


check_stack_effects()
out = [
    "//! CPython 3.11's opcode numbers, inline-cache sizes and stack effects, from the `opcode` and",
    "//! `dis` modules of 3.11.7 (the base, unquickened opcodes that `PyCode_GetCode()` returns).",
    "//!",
    "//! Generated by `python3.11 xtask/gen_opcodes.py`; regenerate rather than edit.",
    "",
    "#![allow(dead_code)] // a complete table: not every opcode is named by the front end",
    "",
]
ops = sorted(opcode.opmap.items(), key=lambda item: item[1])
out += [f"pub const {name}: u8 = {num};" for name, num in ops]
out += ["", "/// `HAVE_ARGUMENT`: opcodes at or above it use their argument.",
        f"pub const HAVE_ARGUMENT: u8 = {opcode.HAVE_ARGUMENT};", "",
        "/// Inline cache entries (16-bit code units) that follow each opcode.",
        "pub const CACHE_ENTRIES: [u8; 256] = ["]
caches = [0] * 256
for op, n in enumerate(opcode._inline_cache_entries):
    caches[op] = n
out += ["    " + ", ".join(map(str, caches[i:i + 16])) + "," for i in range(0, 256, 16)]
out += ["];", "", "/// The name of an opcode, for reasons and listings.",
        "pub fn name(op: u8) -> &'static str {", "    match op {"]
out += [f'        {num} => "{name}",' for name, num in ops]
out += ['        _ => "<unknown>",', "    }", "}", "",
        "/// What an instruction that falls through to the next takes from the top of the stack",
        "/// and leaves there, `(pops, pushes)`; a value it reads and leaves in place counts on both",
        "/// sides (`CHECK_EXC_MATCH` is `(2, 2)`: it keeps the exception and pushes the match).",
        "/// `None` for a number that is no opcode.",
        "pub fn stack_effect(op: u8, arg: u32) -> Option<(u32, u32)> {", "    Some(match op {"]
out += [f"        {name} => ({STACK_EFFECTS[name][0]}, {STACK_EFFECTS[name][1]})," for name, _ in ops]
out += ["        _ => return None,", "    })", "}", ""]

# The specialized (quickened) opcodes 3.11 writes into `co_code_adaptive`, numbered as
# CPython's Tools/scripts/generate_opcode_h.py numbers them: in order, each taking the lowest
# number no base opcode or earlier specialization uses. Checked against the installed
# opcode.h when it is there.
used = set(opcode.opmap.values())
specialized, next_op = {}, 1
for name in opcode._specialized_instructions:
    while next_op in used:
        next_op += 1
    specialized[name] = next_op
    used.add(next_op)
header = pathlib.Path(sysconfig.get_paths()["include"]) / "opcode.h"
if header.exists():
    defines = dict(re.findall(r"#define (\w+)\s+(\d+)", header.read_text()))
    assert all(int(defines[n]) == v for n, v in specialized.items()), "specialized opcode numbers differ from opcode.h"
deopt = list(range(256))
for base, names in opcode._specializations.items():
    for name in names:
        deopt[specialized[name]] = opcode.opmap[base]
out += ["/// Specialized opcodes of the quickened bytecode (`co_code_adaptive`), as 3.11.7 numbers them."]
out += [f"pub const {name}: u8 = {num};" for name, num in specialized.items()]
out += ["", "/// The base opcode of each opcode (`_PyOpcode_Deopt`): specialized ones map to what they",
        "/// specialize, the others to themselves.", "pub const DEOPT: [u8; 256] = ["]
out += ["    " + ", ".join(map(str, deopt[i:i + 16])) + "," for i in range(0, 256, 16)]
out += ["];", ""]
path = pathlib.Path(__file__).resolve().parent.parent / "crates/runtime/src/opcodes.rs"
path.write_text("\n".join(out))
