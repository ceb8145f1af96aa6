//! Disassembly of generated code (for `psyco.dis` and codegen snapshots), with iced-x86.
//!
//! Addresses inside the code are printed relative to its start, so listings are stable from
//! run to run; absolute constants (helper addresses, object pointers) are printed as the IR
//! gave them, so tests that want stable listings give the IR stable fake addresses.

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter, OpKind};

/// One line per instruction: `offset: mnemonic operands`.
pub fn disassemble(code: &[u8], address: u64) -> String {
    let mut decoder = Decoder::with_ip(64, code, address, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    formatter.options_mut().set_first_operand_char_index(8);
    formatter.options_mut().set_rip_relative_addresses(true);
    let mut out = String::new();
    let mut text = String::new();
    for insn in &mut decoder {
        text.clear();
        formatter.format(&insn, &mut text);
        // Branch targets inside the function print as offsets from its start.
        if insn.op_count() == 1 && insn.op0_kind() == OpKind::NearBranch64 {
            let target = insn.near_branch_target().wrapping_sub(address);
            text.clear();
            formatter.format_mnemonic(&insn, &mut text);
            text = format!("{text:<8}{target:#x}");
        }
        out.push_str(&format!("{:5x}: {}\n", insn.ip() - address, text));
    }
    out
}
