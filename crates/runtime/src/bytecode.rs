//! Decoding CPython 3.11 bytecode into instructions with their offsets and jump targets.
//!
//! Offsets are in 16-bit code units (what `prev_instr` counts), not bytes. An instruction's
//! `start` is its first `EXTENDED_ARG` prefix, if any: jumps and side exits land there, never
//! after a prefix (which would drop the argument's high bits) and never on a cache unit.

use crate::opcodes::*;

// `BINARY_OP` arguments (`NB_*` in Include/opcode.h); the in-place forms add 13.
pub const NB_ADD: u32 = 0;
pub const NB_AND: u32 = 1;
pub const NB_FLOOR_DIVIDE: u32 = 2;
pub const NB_LSHIFT: u32 = 3;
pub const NB_MULTIPLY: u32 = 5;
pub const NB_REMAINDER: u32 = 6;
pub const NB_OR: u32 = 7;
pub const NB_POWER: u32 = 8;
pub const NB_RSHIFT: u32 = 9;
pub const NB_SUBTRACT: u32 = 10;
pub const NB_TRUE_DIVIDE: u32 = 11;
pub const NB_XOR: u32 = 12;

/// The operator of a `BINARY_OP` argument, its in-place form as the plain one.
pub fn binary_operator(arg: u32) -> u32 {
    if arg >= 13 { arg - 13 } else { arg }
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instr {
    /// Offset of the first `EXTENDED_ARG` prefix, or of the opcode itself.
    pub start: u32,
    /// Offset of the opcode.
    pub pc: u32,
    pub opcode: u8,
    pub arg: u32,
    /// Offset of the next instruction (past the inline caches).
    pub next: u32,
}

impl Instr {
    /// The target of a jump instruction, if this is one.
    pub fn jump_target(&self) -> Option<u32> {
        match self.opcode {
            JUMP_FORWARD | POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE
            | POP_JUMP_FORWARD_IF_NONE | POP_JUMP_FORWARD_IF_NOT_NONE | JUMP_IF_FALSE_OR_POP
            | JUMP_IF_TRUE_OR_POP | FOR_ITER | SEND => Some(self.next + self.arg),
            JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT | POP_JUMP_BACKWARD_IF_FALSE
            | POP_JUMP_BACKWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_NONE
            | POP_JUMP_BACKWARD_IF_NOT_NONE => Some(self.next - self.arg),
            _ => None,
        }
    }

    /// Whether control can continue to the next instruction.
    pub fn falls_through(&self) -> bool {
        !matches!(
            self.opcode,
            JUMP_FORWARD | JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT | RETURN_VALUE | RAISE_VARARGS | RERAISE
        )
    }
}

/// Decodes unquickened bytecode (as `PyCode_GetCode` returns it) given as code units.
pub fn decode(units: &[u16]) -> Vec<Instr> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while i < units.len() {
        let start = i as u32;
        let mut arg: u32 = 0;
        let (mut opcode, mut oparg) = split(units[i]);
        while opcode == EXTENDED_ARG && i + 1 < units.len() {
            arg = (arg | oparg as u32) << 8;
            i += 1;
            (opcode, oparg) = split(units[i]);
        }
        arg |= oparg as u32;
        let pc = i as u32;
        let next = pc + 1 + CACHE_ENTRIES[opcode as usize] as u32;
        out.push(Instr { start, pc, opcode, arg, next });
        i = next as usize;
    }
    out
}

fn split(unit: u16) -> (u8, u8) {
    // Code units are stored little-endian: opcode in the low byte, argument in the high byte.
    ((unit & 0xFF) as u8, (unit >> 8) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(op: u8, arg: u8) -> u16 {
        op as u16 | (arg as u16) << 8
    }

    #[test]
    fn decodes_prefixes_caches_and_jumps() {
        let code = [
            unit(RESUME, 0),
            unit(EXTENDED_ARG, 1),
            unit(LOAD_CONST, 44), // arg 300
            unit(BINARY_OP, 0),
            0, // BINARY_OP's cache unit
            unit(JUMP_BACKWARD, 5),
            unit(RETURN_VALUE, 0),
        ];
        let instrs = decode(&code);
        assert_eq!(instrs.len(), 5);
        assert_eq!(instrs[1], Instr { start: 1, pc: 2, opcode: LOAD_CONST, arg: 300, next: 3 });
        assert_eq!(instrs[2].next, 5, "skips the cache");
        assert_eq!(instrs[3].jump_target(), Some(1), "backward from the next instruction");
        assert!(!instrs[3].falls_through());
    }
}
