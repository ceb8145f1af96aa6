//! Disassembly of generated code (for `psyco.dis` and codegen snapshots), with iced-x86.
//!
//! Addresses inside the code are printed relative to its start, so listings are stable from
//! run to run; absolute constants (helper addresses, object pointers) are printed as the IR
//! gave them, so tests that want stable listings give the IR stable fake addresses.
//!
//! Code may end in data that its instructions read RIP-relative (Cranelift's constant pool,
//! after the last instruction): from the first byte such an operand reads, the rest is
//! printed as data words, and the zero bytes that align it as padding, not as instructions.

use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, OpKind};

/// One line per instruction: `offset: mnemonic operands`, then any trailing data.
pub fn disassemble(code: &[u8], address: u64) -> String {
    let data_start = data_start(code, address);
    let mut decoder = Decoder::with_ip(64, &code[..data_start], address, DecoderOptions::NONE);
    let mut instructions: Vec<Instruction> = decoder.iter().collect();
    // Alignment before the data decodes as `add [rax], al` (two zero bytes each).
    let is_padding = |insn: &Instruction| {
        let at = (insn.ip() - address) as usize;
        code[at..at + insn.len()].iter().all(|&b| b == 0)
    };
    while data_start < code.len() && instructions.last().is_some_and(is_padding) {
        instructions.pop();
    }
    let mut formatter = IntelFormatter::new();
    formatter.options_mut().set_first_operand_char_index(8);
    formatter.options_mut().set_rip_relative_addresses(true);
    let mut out = String::new();
    let mut text = String::new();
    for insn in &instructions {
        text.clear();
        formatter.format(insn, &mut text);
        // Branch targets inside the function print as offsets from its start.
        if insn.op_count() == 1 && insn.op0_kind() == OpKind::NearBranch64 {
            let target = insn.near_branch_target().wrapping_sub(address);
            text.clear();
            formatter.format_mnemonic(insn, &mut text);
            text = format!("{text:<8}{target:#x}");
        }
        // A RIP-relative operand also names the offset it reads.
        if insn.is_ip_rel_memory_operand() {
            text = format!("{text:<40}; {:#x}", insn.ip_rel_memory_address().wrapping_sub(address));
        }
        out.push_str(&format!("{:5x}: {}\n", insn.ip() - address, text));
    }
    let code_end = instructions.last().map_or(0, |insn| (insn.next_ip() - address) as usize);
    if code_end < data_start {
        out.push_str(&format!("{code_end:5x}: (padding)\n"));
    }
    for (i, chunk) in code[data_start..].chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        let directive = if chunk.len() == 8 { "dq" } else { "db" };
        let value = match chunk.len() {
            8 => format!("{:X}h", u64::from_le_bytes(word)),
            _ => chunk.iter().map(|b| format!("{b:02X}h")).collect::<Vec<_>>().join(","),
        };
        out.push_str(&format!("{:5x}: {directive:<8}{value}\n", data_start + 8 * i));
    }
    out
}

/// The offset of the first byte of `code` that a RIP-relative operand reads (the length of
/// the code if none does). Decoding stops there, so that data never passes for an operand.
fn data_start(code: &[u8], address: u64) -> usize {
    let mut start = address + code.len() as u64;
    for insn in Decoder::with_ip(64, code, address, DecoderOptions::NONE).iter() {
        if insn.ip() >= start {
            break;
        }
        if insn.is_ip_rel_memory_operand() && (address..start).contains(&insn.ip_rel_memory_address()) {
            start = insn.ip_rel_memory_address();
        }
    }
    (start - address) as usize
}
