//! The hand-written dynasm backend: fast to compile, straightforward code.
//!
//! Strategy: [`crate::regalloc`] decides where every SSA value lives for its whole life (a
//! register of its class, a stack slot, or nowhere for constants, which are rematerialized
//! as immediates); then one pass emits the blocks in the allocator's order. Each instruction
//! reads its operands where they live (register, `[rbp - n]` or immediate), computes into
//! its result's register (or a scratch register when the result lives on the stack) and
//! stores it home. A jump performs its block arguments as one parallel copy (cycles broken
//! through a scratch register), and a call moves its arguments into the System V registers
//! the same way. Every guard and checked operation jumps to a per-snapshot exit stub emitted
//! after the body, which stores the snapshot's values from their homes into the exit buffer
//! and returns `Outcome { exit: id + 1 }`.
//!
//! Registers: `rsi`, `rdi`, `r8`-`r10` (caller-saved) and `rbx`, `r12`-`r15` (callee-saved,
//! saved in the prologue when used) hold words, `xmm2`-`xmm15` doubles; values live across a
//! call get callee-saved registers or stack slots. `rax`, `rcx`, `rdx`, `r11`, `xmm0` and
//! `xmm1` are scratch: division, shifts and the call sequence need `rax`, `rdx` and `cl`,
//! and the parallel copies need two registers outside every argument register. The argument
//! and exit-buffer pointers wait in the frame (`[rbp - 8]`, `[rbp - 16]`).
//!
//! Peepholes that matter in loops: a compare read only by a guard or branch of its block
//! becomes `cmp` or `ucomisd` + `jcc` there (no 0/1 materialized, also through `icmp.ne c,
//! 0`); constants that fit in 32 bits are immediate operands; division and remainder by a
//! constant become a shift, a mask or a multiplication; a jump to the next block falls
//! through.

// `dynasm!` converts each dynamic register operand with `.into()`; ours are already `u8`s.
#![allow(clippy::useless_conversion)]

use crate::regalloc::{self, sequentialize, Allocation, Condition, Fused, Loc, Registers};
use crate::{code_heap, Backend, CodeMemory, CompileError, CompiledCode};
use dynasmrt::{dynasm, x64::X64Relocation, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use ir::{Block, BlockCall, CheckedOp, Cond, FloatOp, Function, IntOp, Mem, Op, SnapshotId, Terminator, Type, Value};

/// Pins the architecture for every `dynasm!` use in this file.
macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

/// `op d, rhs` for a two-operand ALU instruction and any [`Rhs`].
macro_rules! alu {
    ($ops:expr, $op:ident, $d:ident, $rhs:expr) => {
        match $rhs {
            Rhs::Reg(r) => asm!($ops; $op Rq($d), Rq(r)),
            Rhs::Mem(o) => asm!($ops; $op Rq($d), QWORD [rbp + o]),
            Rhs::Imm(i) => asm!($ops; $op Rq($d), i),
        }
    };
}

/// `op x, rhs` for a scalar double instruction, `rhs` an xmm register or a frame slot.
macro_rules! sse {
    ($ops:expr, $op:ident, $x:ident, $rhs:expr) => {
        match $rhs {
            Rhs::Reg(r) => asm!($ops; $op Rx($x), Rx(r)),
            Rhs::Mem(o) => asm!($ops; $op Rx($x), QWORD [rbp + o]),
            Rhs::Imm(_) => unreachable!("doubles are never immediate operands"),
        }
    };
}

/// The dynasm backend.
pub struct DynasmBackend;

// Register numbers as dynasm numbers them.
const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const R11: u8 = 11;
const XMM0: u8 = 0;
const XMM1: u8 = 1;

/// Word registers the allocator hands out: caller-saved `rsi`, `rdi`, `r8`-`r10`, then
/// callee-saved `rbx`, `r12`-`r15`.
const WORD_REGS: [u8; 10] = [6, 7, 8, 9, 10, 3, 12, 13, 14, 15];
const WORD_CALLEE_SAVED: [bool; 10] = [false, false, false, false, false, true, true, true, true, true];
/// Double registers the allocator hands out (System V preserves none across calls).
const DOUBLE_REGS: [u8; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const DOUBLE_CALLEE_SAVED: [bool; 14] = [false; 14];
const REGISTERS: Registers<'static> = Registers { word: &WORD_CALLEE_SAVED, double: &DOUBLE_CALLEE_SAVED };

/// Word-argument registers of the System V ABI.
const ARG_REGS: [u8; 6] = [7 /* rdi */, 6 /* rsi */, 2 /* rdx */, 1 /* rcx */, 8, 9];
const MAX_FLOAT_ARGS: u8 = 8;

/// Frame offsets of the saved entry arguments; callee-saved registers and stack slots follow.
const ARGS_POINTER: i32 = -8;
const EXIT_POINTER: i32 = -16;

impl Backend for DynasmBackend {
    fn name(&self) -> &'static str {
        "dynasm"
    }

    fn prepare(&self) {
        code_heap::reserve();
    }

    fn compile(&self, f: &Function) -> Result<CompiledCode, CompileError> {
        let mut cg = Codegen::new(f)?;
        cg.emit_function()?;
        let Codegen { ops, entry, .. } = cg;
        let bytes = ops.finalize().map_err(|e| CompileError(format!("could not assemble: {e}")))?;
        Ok(CompiledCode::new(CodeMemory::Dynasm(code_heap::install(&bytes)?), entry.0, f.exit_buffer_len()))
    }
}

/// Where a value is, as an operand: a register, a frame slot (`[rbp + offset]`) or an
/// immediate (a constant's bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Gpr(u8),
    Xmm(u8),
    Mem(i32),
    Imm(i64),
}

/// The right operand of an instruction: a register of the instruction's class, a frame slot
/// or a 32-bit immediate.
#[derive(Clone, Copy)]
enum Rhs {
    Reg(u8),
    Mem(i32),
    Imm(i32),
}

struct Codegen<'f> {
    f: &'f Function,
    /// The code is position-independent (calls go through a register), so it is assembled
    /// at address 0 and copied into the code heap.
    ops: VecAssembler<X64Relocation>,
    entry: AssemblyOffset,
    alloc: Allocation,
    /// The callee-saved registers the code uses, saved below the entry arguments.
    saved: Vec<u8>,
    frame_size: i32,
    block_labels: Vec<DynamicLabel>,
    exit_labels: Vec<Option<DynamicLabel>>,
    epilogue: DynamicLabel,
}

impl<'f> Codegen<'f> {
    fn new(f: &'f Function) -> Result<Codegen<'f>, CompileError> {
        let mut ops = VecAssembler::new(0);
        let alloc = regalloc::allocate(f, &REGISTERS);
        let mut saved: Vec<u8> = alloc
            .locs
            .iter()
            .enumerate()
            .filter_map(|(v, loc)| match (loc, f.insts[v].ty) {
                (Loc::Reg(r), Some(Type::I64)) if WORD_CALLEE_SAVED[*r as usize] => Some(WORD_REGS[*r as usize]),
                _ => None,
            })
            .collect();
        saved.sort_unstable();
        saved.dedup();
        // After `push rbp` the stack is 16-byte aligned; a frame of whole 16 bytes keeps it so
        // at every call.
        let words = 2 + saved.len() as i32 + alloc.slots as i32;
        let frame_size = (words * 8 + 15) & !15;
        let block_labels = f.blocks.iter().map(|_| ops.new_dynamic_label()).collect();
        let epilogue = ops.new_dynamic_label();
        let entry = ops.offset();
        Ok(Codegen {
            f,
            ops,
            entry,
            alloc,
            saved,
            frame_size,
            block_labels,
            exit_labels: vec![None; f.snapshots.len()],
            epilogue,
        })
    }

    fn slot_offset(&self, slot: u32) -> i32 {
        -8 * (3 + self.saved.len() as i32 + slot as i32)
    }

    fn saved_offset(i: usize) -> i32 {
        EXIT_POINTER - 8 * (i as i32 + 1)
    }

    /// Where `v` is, for reading it.
    fn place(&self, v: Value) -> Result<Place, CompileError> {
        self.home(v)?.ok_or_else(|| CompileError(format!("{v} has no value")))
    }

    /// Where the result `v` goes; `None` when nothing reads it.
    fn home(&self, v: Value) -> Result<Option<Place>, CompileError> {
        let double = self.f.value_type(v) == Some(Type::F64);
        Ok(match self.alloc.locs.get(v.0 as usize) {
            Some(Loc::Reg(r)) if double => Some(Place::Xmm(DOUBLE_REGS[*r as usize])),
            Some(Loc::Reg(r)) => Some(Place::Gpr(WORD_REGS[*r as usize])),
            Some(Loc::Slot(s)) => Some(Place::Mem(self.slot_offset(*s))),
            Some(Loc::None) => match self.f.inst(v).op {
                Op::IConst(c) => Some(Place::Imm(c)),
                Op::FConst(c) => Some(Place::Imm(c.to_bits() as i64)),
                _ => None,
            },
            None => return Err(CompileError(format!("{v} is not a value of the function"))),
        })
    }

    /// The exit stub label of a snapshot, created on first use.
    fn exit_label(&mut self, s: SnapshotId) -> DynamicLabel {
        if let Some(l) = self.exit_labels[s.0 as usize] {
            return l;
        }
        let l = self.ops.new_dynamic_label();
        self.exit_labels[s.0 as usize] = Some(l);
        l
    }

    /// Copies 64 bits from `from` to `to` (any pair but an immediate destination); uses
    /// `r11` between memory operands and for immediate doubles. Leaves the flags alone.
    fn emit_move(&mut self, from: Place, to: Place) {
        use Place::*;
        match (from, to) {
            _ if from == to => {}
            (Gpr(a), Gpr(b)) => asm!(self.ops; mov Rq(b), Rq(a)),
            (Mem(o), Gpr(r)) => asm!(self.ops; mov Rq(r), QWORD [rbp + o]),
            (Imm(c), Gpr(r)) => match i32::try_from(c) {
                Ok(c) => asm!(self.ops; mov Rq(r), c),
                Err(_) => asm!(self.ops; mov Rq(r), QWORD c),
            },
            (Xmm(x), Gpr(r)) => asm!(self.ops; movq Rq(r), Rx(x)),
            (Gpr(r), Mem(o)) => asm!(self.ops; mov QWORD [rbp + o], Rq(r)),
            (Xmm(x), Mem(o)) => asm!(self.ops; movsd QWORD [rbp + o], Rx(x)),
            (Mem(a), Mem(b)) => asm!(self.ops; mov r11, QWORD [rbp + a]; mov QWORD [rbp + b], r11),
            (Imm(c), Mem(o)) => match i32::try_from(c) {
                Ok(c) => asm!(self.ops; mov QWORD [rbp + o], c),
                Err(_) => asm!(self.ops; mov r11, QWORD c; mov QWORD [rbp + o], r11),
            },
            (Xmm(a), Xmm(b)) => asm!(self.ops; movaps Rx(b), Rx(a)),
            (Mem(o), Xmm(x)) => asm!(self.ops; movsd Rx(x), QWORD [rbp + o]),
            (Gpr(r), Xmm(x)) => asm!(self.ops; movq Rx(x), Rq(r)),
            (Imm(0), Xmm(x)) => asm!(self.ops; xorps Rx(x), Rx(x)),
            (Imm(c), Xmm(x)) => asm!(self.ops; mov r11, QWORD c; movq Rx(x), r11),
            (_, Imm(_)) => unreachable!("an immediate is no destination"),
        }
    }

    /// A general-purpose register holding `v`'s bits: its own, or `scratch` loaded with them.
    fn word_reg(&mut self, v: Value, scratch: u8) -> Result<u8, CompileError> {
        match self.place(v)? {
            Place::Gpr(r) => Ok(r),
            other => {
                self.emit_move(other, Place::Gpr(scratch));
                Ok(scratch)
            }
        }
    }

    /// An xmm register holding `v`: its own, or `scratch` loaded with it.
    fn double_reg(&mut self, v: Value, scratch: u8) -> Result<u8, CompileError> {
        match self.place(v)? {
            Place::Xmm(x) => Ok(x),
            other => {
                self.emit_move(other, Place::Xmm(scratch));
                Ok(scratch)
            }
        }
    }

    /// `v` as a right operand of a word instruction (`scratch` holds a wide constant).
    fn word_rhs(&mut self, v: Value, scratch: u8) -> Result<Rhs, CompileError> {
        Ok(match self.place(v)? {
            Place::Gpr(r) => Rhs::Reg(r),
            Place::Mem(o) => Rhs::Mem(o),
            Place::Imm(c) if i32::try_from(c).is_ok() => Rhs::Imm(c as i32),
            other => {
                self.emit_move(other, Place::Gpr(scratch));
                Rhs::Reg(scratch)
            }
        })
    }

    /// `v` as a right operand of a double instruction (`scratch` holds a constant).
    fn double_rhs(&mut self, v: Value, scratch: u8) -> Result<Rhs, CompileError> {
        Ok(match self.place(v)? {
            Place::Xmm(x) => Rhs::Reg(x),
            Place::Mem(o) => Rhs::Mem(o),
            other => {
                self.emit_move(other, Place::Xmm(scratch));
                Rhs::Reg(scratch)
            }
        })
    }

    /// The general-purpose register to compute `v` in: its home, else `rax`.
    fn word_target(home: Option<Place>) -> u8 {
        match home {
            Some(Place::Gpr(r)) => r,
            _ => RAX,
        }
    }

    /// Stores a result computed in `from` to its home, if anything reads it.
    fn put(&mut self, from: Place, home: Option<Place>) {
        if let Some(home) = home {
            self.emit_move(from, home);
        }
    }

    fn emit_function(&mut self) -> Result<(), CompileError> {
        let frame_size = self.frame_size;
        asm!(self.ops
            ; push rbp
            ; mov rbp, rsp
            ; sub rsp, frame_size
            ; mov QWORD [rbp + ARGS_POINTER], rdi
            ; mov QWORD [rbp + EXIT_POINTER], rsi
        );
        for (i, &r) in self.saved.clone().iter().enumerate() {
            let off = Self::saved_offset(i);
            asm!(self.ops; mov QWORD [rbp + off], Rq(r));
        }
        let order = self.alloc.order.clone();
        for (i, &b) in order.iter().enumerate() {
            self.emit_block(b, order.get(i + 1).copied())?;
        }
        self.emit_exit_stubs()?;
        if self.exit_labels.iter().any(Option::is_some) {
            let epilogue = self.epilogue;
            asm!(self.ops; =>epilogue);
            self.emit_epilogue();
        }
        Ok(())
    }

    /// Restores the callee-saved registers and returns (`rax:rdx` already set).
    fn emit_epilogue(&mut self) {
        for (i, &r) in self.saved.clone().iter().enumerate() {
            let off = Self::saved_offset(i);
            asm!(self.ops; mov Rq(r), QWORD [rbp + off]);
        }
        asm!(self.ops; mov rsp, rbp; pop rbp; ret);
    }

    fn emit_block(&mut self, b: Block, next: Option<Block>) -> Result<(), CompileError> {
        let label = self.block_labels[b.0 as usize];
        asm!(self.ops; =>label);
        let data = self.f.block(b);
        for &v in &data.insts {
            self.emit_inst(v)?;
        }
        match &data.term {
            Terminator::Jump(call) => {
                self.emit_edge_copies(call)?;
                self.emit_jump(call.block, next);
            }
            Terminator::Branch { cond, then, otherwise } => {
                let then_copies = self.edge_copies(then)?;
                let otherwise_copies = self.edge_copies(otherwise)?;
                if then_copies.is_empty() && next != Some(then.block) {
                    let target = self.block_labels[then.block.0 as usize];
                    self.emit_jump_if(*cond, true, target)?;
                    self.emit_moves(&otherwise_copies);
                    self.emit_jump(otherwise.block, next);
                } else if otherwise_copies.is_empty() {
                    let target = self.block_labels[otherwise.block.0 as usize];
                    self.emit_jump_if(*cond, false, target)?;
                    self.emit_moves(&then_copies);
                    self.emit_jump(then.block, next);
                } else {
                    let then_edge = self.ops.new_dynamic_label();
                    self.emit_jump_if(*cond, true, then_edge)?;
                    self.emit_moves(&otherwise_copies);
                    self.emit_jump(otherwise.block, None);
                    asm!(self.ops; =>then_edge);
                    self.emit_moves(&then_copies);
                    self.emit_jump(then.block, next);
                }
            }
            Terminator::Return(v) => {
                let value = self.place(*v)?;
                self.emit_move(value, Place::Gpr(RDX));
                asm!(self.ops; xor eax, eax);
                self.emit_epilogue();
            }
            Terminator::Exit(s) => {
                let l = self.exit_label(*s);
                asm!(self.ops; jmp =>l);
            }
        }
        Ok(())
    }

    /// Jumps to `target` unless it is the block emitted next.
    fn emit_jump(&mut self, target: Block, next: Option<Block>) {
        if next != Some(target) {
            let label = self.block_labels[target.0 as usize];
            asm!(self.ops; jmp =>label);
        }
    }

    /// The moves of the parallel copy from a jump's arguments to its target's parameters.
    fn edge_copies(&self, call: &BlockCall) -> Result<Vec<(Place, Place)>, CompileError> {
        let mut moves = Vec::new();
        for (&arg, &param) in call.args.iter().zip(&self.f.block(call.block).params) {
            if let Some(to) = self.home(param)? {
                moves.push((self.place(arg)?, to));
            }
        }
        Ok(moves)
    }

    fn emit_edge_copies(&mut self, call: &BlockCall) -> Result<(), CompileError> {
        let moves = self.edge_copies(call)?;
        self.emit_moves(&moves);
        Ok(())
    }

    /// Performs a parallel copy, `rax` breaking cycles (it is no source or destination).
    fn emit_moves(&mut self, moves: &[(Place, Place)]) {
        for (from, to) in sequentialize(moves, Place::Gpr(RAX)) {
            self.emit_move(from, to);
        }
    }

    /// Jumps to `target` if `cond != 0` is `when`, evaluating a fused compare here (an `and`
    /// of two as two jumps: to `target` when either fails, or past the second when the
    /// first does).
    fn emit_jump_if(&mut self, cond: Value, when: bool, target: DynamicLabel) -> Result<(), CompileError> {
        if let Some(&Fused { first, and }) = self.alloc.fused.get(&cond) {
            let Some(second) = and else { return self.emit_condition_jump(first, when, target) };
            if when {
                let failed = self.ops.new_dynamic_label();
                self.emit_condition_jump(first, false, failed)?;
                self.emit_condition_jump(second, true, target)?;
                asm!(self.ops; =>failed);
            } else {
                self.emit_condition_jump(first, false, target)?;
                self.emit_condition_jump(second, false, target)?;
            }
            return Ok(());
        }
        match self.place(cond)? {
            Place::Imm(k) => {
                if (k != 0) == when {
                    asm!(self.ops; jmp =>target);
                }
                return Ok(());
            }
            Place::Gpr(r) => asm!(self.ops; test Rq(r), Rq(r)),
            Place::Mem(o) => asm!(self.ops; cmp QWORD [rbp + o], 0),
            Place::Xmm(_) => return Err(CompileError(format!("condition {cond} is a double"))),
        }
        if when {
            asm!(self.ops; jnz =>target);
        } else {
            asm!(self.ops; jz =>target);
        }
        Ok(())
    }

    /// Jumps to `target` if the condition is `when`.
    fn emit_condition_jump(&mut self, c: Condition, when: bool, target: DynamicLabel) -> Result<(), CompileError> {
        let want = when != c.negated;
        if !c.float {
            let cond = self.emit_int_compare(c.cond, c.a, c.b)?;
            self.emit_jcc(if want { cond } else { negate(cond) }, target);
            return Ok(());
        }
        self.emit_float_compare(c.cond, c.a, c.b)?;
        // After `ucomisd`, unordered sets ZF, PF and CF: "above" conditions are false for NaN.
        match (c.cond, want) {
            (Cond::Gt | Cond::Lt, true) => asm!(self.ops; ja =>target),
            (Cond::Gt | Cond::Lt, false) => asm!(self.ops; jbe =>target),
            (Cond::Ge | Cond::Le, true) => asm!(self.ops; jae =>target),
            (Cond::Ge | Cond::Le, false) => asm!(self.ops; jb =>target),
            (Cond::Eq, true) | (Cond::Ne, false) => asm!(self.ops; jp >unordered; je =>target; unordered:),
            (Cond::Eq, false) | (Cond::Ne, true) => asm!(self.ops; jp =>target; jne =>target),
            _ => return Err(CompileError(format!("unsigned float compare {:?}", c.cond))),
        }
        Ok(())
    }

    /// `cmp a, b` (a constant left operand goes right); gives the condition to test on the
    /// flags, which differs from `cond` when the operands were swapped.
    fn emit_int_compare(&mut self, cond: Cond, a: Value, b: Value) -> Result<Cond, CompileError> {
        // A value left in memory (`Allocation::in_memory`) is compared there, with a constant
        // of its width (the allocator checked that it decides alike) or, for a word, with a
        // value in a register (`cmp y, [x]`: the condition of `y ? x`).
        for (x, y, c) in [(a, b, cond), (b, a, swap(cond))] {
            if let Some((mem, base, off)) = self.alloc.in_memory(x) {
                let Place::Imm(k) = self.place(y)? else {
                    if mem != Mem::I64 {
                        return Err(CompileError(format!("{x} in memory is narrower than the value it is compared with")));
                    }
                    let ry = self.word_reg(y, R11)?;
                    let base = self.word_reg(base, RCX)?;
                    asm!(self.ops; cmp Rq(ry), QWORD [Rq(base) + off]);
                    return Ok(swap(c));
                };
                let base = self.word_reg(base, RCX)?;
                match mem {
                    Mem::I64 if i32::try_from(k).is_ok() => asm!(self.ops; cmp QWORD [Rq(base) + off], k as i32),
                    Mem::I64 => asm!(self.ops; mov r11, QWORD k; cmp QWORD [Rq(base) + off], r11),
                    Mem::I32 | Mem::U32 => asm!(self.ops; cmp DWORD [Rq(base) + off], k as u32 as i32),
                    Mem::U16 => asm!(self.ops; cmp WORD [Rq(base) + off], k as u16 as i16),
                    Mem::U8 => asm!(self.ops; cmp BYTE [Rq(base) + off], k as u8 as i8),
                    Mem::F64 => return Err(CompileError(format!("{x} in memory is a double"))),
                }
                return Ok(c);
            }
        }
        let (mut a, mut b, mut cond) = (a, b, cond);
        if matches!(self.place(a)?, Place::Imm(_)) && !matches!(self.place(b)?, Place::Imm(_)) {
            (a, b, cond) = (b, a, swap(cond));
        }
        let ra = self.word_reg(a, RCX)?;
        let rhs = self.word_rhs(b, R11)?;
        alu!(self.ops, cmp, ra, rhs);
        Ok(cond)
    }

    /// `ucomisd` of the operands of an ordered float compare, `a < b` as `b > a` so that the
    /// unsigned "above" conditions (false when unordered) test every one of them.
    fn emit_float_compare(&mut self, cond: Cond, a: Value, b: Value) -> Result<(), CompileError> {
        let (first, second) = match cond {
            Cond::Lt | Cond::Le => (b, a),
            _ => (a, b),
        };
        let x = self.double_reg(first, XMM0)?;
        let rhs = self.double_rhs(second, XMM1)?;
        sse!(self.ops, ucomisd, x, rhs);
        Ok(())
    }

    /// Jumps to `target` if `cond` holds for the flags of the last `cmp`.
    fn emit_jcc(&mut self, cond: Cond, target: DynamicLabel) {
        match cond {
            Cond::Eq => asm!(self.ops; je =>target),
            Cond::Ne => asm!(self.ops; jne =>target),
            Cond::Lt => asm!(self.ops; jl =>target),
            Cond::Le => asm!(self.ops; jle =>target),
            Cond::Gt => asm!(self.ops; jg =>target),
            Cond::Ge => asm!(self.ops; jge =>target),
            Cond::ULt => asm!(self.ops; jb =>target),
            Cond::ULe => asm!(self.ops; jbe =>target),
            Cond::UGt => asm!(self.ops; ja =>target),
            Cond::UGe => asm!(self.ops; jae =>target),
        }
    }

    fn emit_inst(&mut self, v: Value) -> Result<(), CompileError> {
        let inst = self.f.inst(v);
        let home = self.home(v)?;
        let pure = !matches!(
            inst.op,
            Op::Store(..) | Op::Checked(..) | Op::NegChecked(..) | Op::Call { .. } | Op::Guard { .. }
        );
        if pure && home.is_none() {
            // Nothing reads it: a constant, a compare its consumer evaluates, a dead value.
            return Ok(());
        }
        if let (Op::Store(_, base, off, _), Some(delta)) = (&inst.op, self.alloc.increment(v)) {
            let base = self.word_reg(*base, RCX)?;
            asm!(self.ops; add QWORD [Rq(base) + *off], delta);
            return Ok(());
        }
        match inst.op {
            Op::Param(i) => {
                let d = Self::word_target(home);
                let off = 8 * i as i32;
                asm!(self.ops; mov r11, QWORD [rbp + ARGS_POINTER]; mov Rq(d), QWORD [r11 + off]);
                self.put(Place::Gpr(d), home);
            }
            Op::BlockParam(..) | Op::IConst(_) | Op::FConst(_) => {}
            Op::Load(mem, base, off) => {
                let base = self.word_reg(base, RCX)?;
                if mem == Mem::F64 {
                    let x = match home {
                        Some(Place::Xmm(x)) => x,
                        _ => XMM0,
                    };
                    asm!(self.ops; movsd Rx(x), QWORD [Rq(base) + off]);
                    self.put(Place::Xmm(x), home);
                } else {
                    let d = Self::word_target(home);
                    match mem {
                        Mem::I64 | Mem::F64 => asm!(self.ops; mov Rq(d), QWORD [Rq(base) + off]),
                        Mem::I32 => asm!(self.ops; movsxd Rq(d), DWORD [Rq(base) + off]),
                        Mem::U32 => asm!(self.ops; mov Rd(d), DWORD [Rq(base) + off]),
                        Mem::U16 => asm!(self.ops; movzx Rd(d), WORD [Rq(base) + off]),
                        Mem::U8 => asm!(self.ops; movzx Rd(d), BYTE [Rq(base) + off]),
                    }
                    self.put(Place::Gpr(d), home);
                }
            }
            Op::Store(mem, base, off, value) => {
                let base = self.word_reg(base, RCX)?;
                match (mem, self.place(value)?) {
                    (Mem::F64, Place::Xmm(x)) => asm!(self.ops; movsd QWORD [Rq(base) + off], Rx(x)),
                    (Mem::I64 | Mem::F64, Place::Imm(c)) if i32::try_from(c).is_ok() => {
                        let c = c as i32;
                        asm!(self.ops; mov QWORD [Rq(base) + off], c);
                    }
                    _ => {
                        let r = self.word_reg(value, RAX)?;
                        match mem {
                            Mem::I64 | Mem::F64 => asm!(self.ops; mov QWORD [Rq(base) + off], Rq(r)),
                            Mem::I32 | Mem::U32 => asm!(self.ops; mov DWORD [Rq(base) + off], Rd(r)),
                            Mem::U16 => asm!(self.ops; mov WORD [Rq(base) + off], Rw(r)),
                            Mem::U8 => asm!(self.ops; mov BYTE [Rq(base) + off], Rb(r)),
                        }
                    }
                }
            }
            Op::Int(op, a, b) => self.emit_alu(home, Alu::Int(op), a, b, None)?,
            Op::Checked(op @ (CheckedOp::Add | CheckedOp::Sub | CheckedOp::Mul), a, b, s) => {
                let exit = self.exit_label(s);
                let op = match op {
                    CheckedOp::Add => IntOp::Add,
                    CheckedOp::Sub => IntOp::Sub,
                    _ => IntOp::Mul,
                };
                self.emit_alu(home, Alu::Int(op), a, b, Some(exit))?;
            }
            Op::Checked(op @ (CheckedOp::FloorDiv | CheckedOp::Mod), a, b, s) => {
                let result = match self.place(b)? {
                    Place::Imm(d) if d >= 2 => self.emit_divide_by_constant(op, a, d, home)?,
                    _ => {
                        let exit = self.exit_label(s);
                        self.emit_divide(op, a, b, exit)?;
                        RAX
                    }
                };
                self.put(Place::Gpr(result), home);
            }
            Op::Checked(CheckedOp::Shl, a, b, s) => {
                let exit = self.exit_label(s);
                let (pa, pb) = (self.place(a)?, self.place(b)?);
                self.emit_move(pa, Place::Gpr(RAX));
                self.emit_move(pb, Place::Gpr(RCX));
                asm!(self.ops
                    ; cmp rcx, 63
                    ; ja =>exit          // negative (unsigned huge) or >= 64
                    ; mov rdx, rax
                    ; shl rax, cl
                    ; mov r11, rax
                    ; sar r11, cl
                    ; cmp r11, rdx
                    ; jne =>exit         // bits lost
                );
                self.put(Place::Gpr(RAX), home);
            }
            Op::NegChecked(a, s) => {
                let exit = self.exit_label(s);
                let d = Self::word_target(home);
                let pa = self.place(a)?;
                self.emit_move(pa, Place::Gpr(d));
                asm!(self.ops; neg Rq(d); jo =>exit);
                self.put(Place::Gpr(d), home);
            }
            Op::Float(op, a, b) => self.emit_alu(home, Alu::Float(op), a, b, None)?,
            Op::FNeg(a) => {
                let pa = self.place(a)?;
                self.emit_move(pa, Place::Gpr(RAX));
                asm!(self.ops; btc rax, 63);
                self.put(Place::Gpr(RAX), home);
            }
            Op::IntToFloat(a) => {
                let x = match home {
                    Some(Place::Xmm(x)) => x,
                    _ => XMM0,
                };
                let rhs = self.word_rhs(a, RAX)?;
                // Zeroing first breaks `cvtsi2sd`'s dependency on the register's old value.
                asm!(self.ops; xorps Rx(x), Rx(x));
                match rhs {
                    Rhs::Reg(r) => asm!(self.ops; cvtsi2sd Rx(x), Rq(r)),
                    Rhs::Mem(o) => asm!(self.ops; cvtsi2sd Rx(x), QWORD [rbp + o]),
                    Rhs::Imm(c) => asm!(self.ops; mov rax, c; cvtsi2sd Rx(x), rax),
                }
                self.put(Place::Xmm(x), home);
            }
            Op::ICmp(cond, a, b) => {
                asm!(self.ops; xor eax, eax);
                let cond = self.emit_int_compare(cond, a, b)?;
                match cond {
                    Cond::Eq => asm!(self.ops; sete al),
                    Cond::Ne => asm!(self.ops; setne al),
                    Cond::Lt => asm!(self.ops; setl al),
                    Cond::Le => asm!(self.ops; setle al),
                    Cond::Gt => asm!(self.ops; setg al),
                    Cond::Ge => asm!(self.ops; setge al),
                    Cond::ULt => asm!(self.ops; setb al),
                    Cond::ULe => asm!(self.ops; setbe al),
                    Cond::UGt => asm!(self.ops; seta al),
                    Cond::UGe => asm!(self.ops; setae al),
                }
                self.put(Place::Gpr(RAX), home);
            }
            Op::FCmp(cond, a, b) => {
                asm!(self.ops; xor eax, eax);
                self.emit_float_compare(cond, a, b)?;
                match cond {
                    Cond::Eq => asm!(self.ops; sete al; setnp cl; and al, cl),
                    Cond::Ne => asm!(self.ops; setne al; setp cl; or al, cl),
                    Cond::Lt | Cond::Gt => asm!(self.ops; seta al),
                    Cond::Le | Cond::Ge => asm!(self.ops; setae al),
                    _ => return Err(CompileError(format!("unsigned float compare in {v}"))),
                }
                self.put(Place::Gpr(RAX), home);
            }
            Op::Select(c, a, b) => {
                // Bits through rax and rcx, whatever the type: rax = c != 0 ? a : b.
                let (pa, pb) = (self.place(a)?, self.place(b)?);
                self.emit_move(pa, Place::Gpr(RAX));
                match self.place(c)? {
                    Place::Imm(k) => {
                        if k == 0 {
                            self.emit_move(pb, Place::Gpr(RAX));
                        }
                    }
                    pc => {
                        self.emit_move(pb, Place::Gpr(RCX));
                        match pc {
                            Place::Gpr(r) => asm!(self.ops; test Rq(r), Rq(r)),
                            Place::Mem(o) => asm!(self.ops; cmp QWORD [rbp + o], 0),
                            _ => return Err(CompileError(format!("select condition {c} is a double"))),
                        }
                        asm!(self.ops; cmove rax, rcx);
                    }
                }
                self.put(Place::Gpr(RAX), home);
            }
            Op::Call { helper, ref args, ret } => {
                self.emit_call(self.f.helper(helper).address as i64, args)?;
                match ret {
                    Some(Type::I64) => self.put(Place::Gpr(RAX), home),
                    Some(Type::F64) => self.put(Place::Xmm(XMM0), home),
                    None => {}
                }
            }
            Op::Guard { cond, expect, snapshot } => {
                let exit = self.exit_label(snapshot);
                self.emit_jump_if(cond, !expect, exit)?;
            }
        }
        Ok(())
    }

    /// `home = a op b` for a two-address operation (integer, or double in xmm registers),
    /// computed in the result's register when it has one; `overflow` is the exit taken when
    /// the overflow flag is set (checked add, sub and mul).
    fn emit_alu(
        &mut self,
        home: Option<Place>,
        op: Alu,
        a: Value,
        b: Value,
        overflow: Option<DynamicLabel>,
    ) -> Result<(), CompileError> {
        let double = matches!(op, Alu::Float(_));
        let (scratch, wrap): (u8, fn(u8) -> Place) = if double { (XMM0, Place::Xmm) } else { (RAX, Place::Gpr) };
        let mut d = match home {
            Some(Place::Gpr(r)) if !double => r,
            Some(Place::Xmm(x)) if double => x,
            _ => scratch,
        };
        let (mut a, mut b) = (a, b);
        // A constant goes right, where it can be an immediate operand.
        if op.commutative() && matches!(self.place(a)?, Place::Imm(_)) {
            (a, b) = (b, a);
        }
        // `mov d, a` would overwrite `b`: swap the operands or compute elsewhere.
        if a != b && self.place(b)? == wrap(d) {
            if op.commutative() {
                (a, b) = (b, a);
            } else {
                d = scratch;
            }
        }
        let pa = self.place(a)?;
        // `d = a + c` (or `- c`) from another register, without flags to check: one `lea`.
        if let (Alu::Int(int @ (IntOp::Add | IntOp::Sub)), None, Place::Gpr(ra), Place::Imm(c)) = (op, overflow, pa, self.place(b)?) {
            let disp = if int == IntOp::Add { Some(c) } else { c.checked_neg() }.and_then(|c| i32::try_from(c).ok());
            if let Some(disp) = disp.filter(|_| ra != d) {
                asm!(self.ops; lea Rq(d), [Rq(ra) + disp]);
                self.put(Place::Gpr(d), home);
                return Ok(());
            }
        }
        self.emit_move(pa, wrap(d));
        match op {
            Alu::Int(op @ (IntOp::Shl | IntOp::Sar)) => {
                // x86 masks the count to 6 bits, as the IR specifies.
                match self.place(b)? {
                    Place::Imm(c) => {
                        let c = (c & 63) as i8;
                        match op {
                            IntOp::Shl => asm!(self.ops; shl Rq(d), c),
                            _ => asm!(self.ops; sar Rq(d), c),
                        }
                    }
                    pb => {
                        self.emit_move(pb, Place::Gpr(RCX));
                        match op {
                            IntOp::Shl => asm!(self.ops; shl Rq(d), cl),
                            _ => asm!(self.ops; sar Rq(d), cl),
                        }
                    }
                }
            }
            Alu::Int(op) => {
                let rhs = self.word_rhs(b, RCX)?;
                match op {
                    IntOp::Add => alu!(self.ops, add, d, rhs),
                    IntOp::Sub => alu!(self.ops, sub, d, rhs),
                    IntOp::And => alu!(self.ops, and, d, rhs),
                    IntOp::Or => alu!(self.ops, or, d, rhs),
                    IntOp::Xor => alu!(self.ops, xor, d, rhs),
                    IntOp::Mul => match rhs {
                        Rhs::Reg(r) => asm!(self.ops; imul Rq(d), Rq(r)),
                        Rhs::Mem(o) => asm!(self.ops; imul Rq(d), QWORD [rbp + o]),
                        Rhs::Imm(i) => asm!(self.ops; imul Rq(d), Rq(d), i),
                    },
                    IntOp::Shl | IntOp::Sar => unreachable!("shifts are matched above"),
                }
            }
            Alu::Float(op) => {
                let rhs = self.double_rhs(b, XMM1)?;
                match op {
                    FloatOp::Add => sse!(self.ops, addsd, d, rhs),
                    FloatOp::Sub => sse!(self.ops, subsd, d, rhs),
                    FloatOp::Mul => sse!(self.ops, mulsd, d, rhs),
                    FloatOp::Div => sse!(self.ops, divsd, d, rhs),
                }
            }
        }
        if let Some(exit) = overflow {
            asm!(self.ops; jo =>exit);
        }
        self.put(wrap(d), home);
        Ok(())
    }

    /// Python's `a // b` or `a % b` into rax, leaving through `exit` for a zero divisor and
    /// for `i64::MIN // -1`.
    fn emit_divide(&mut self, op: CheckedOp, a: Value, b: Value, exit: DynamicLabel) -> Result<(), CompileError> {
        let (pa, pb) = (self.place(a)?, self.place(b)?);
        self.emit_move(pa, Place::Gpr(RAX));
        self.emit_move(pb, Place::Gpr(RCX));
        let ok = self.ops.new_dynamic_label();
        let done = self.ops.new_dynamic_label();
        asm!(self.ops
            ; test rcx, rcx
            ; jz =>exit
            ; cmp rcx, -1
            ; jne =>ok
        );
        if op == CheckedOp::FloorDiv {
            // i64::MIN // -1 does not fit; x // -1 is -x otherwise.
            asm!(self.ops; neg rax; jo =>exit; jmp =>done);
        } else {
            asm!(self.ops; xor eax, eax; jmp =>done);
        }
        asm!(self.ops
            ; =>ok
            ; cqo
            ; idiv rcx
            // Python rounds towards -inf: when the remainder is non-zero and its sign
            // differs from the divisor's, adjust.
            ; test rdx, rdx
            ; jz >exact
            ; mov r11, rdx
            ; xor r11, rcx
            ; jns >exact
        );
        if op == CheckedOp::FloorDiv {
            asm!(self.ops; sub rax, 1; exact:);
        } else {
            asm!(self.ops; add rdx, rcx; exact: ; mov rax, rdx);
        }
        asm!(self.ops; =>done);
        Ok(())
    }

    /// Python's `a // d` or `a % d` for a constant `d >= 2`, without dividing; gives the
    /// register that holds the result (`home`'s if it is one). A power of two is a shift or
    /// a mask. Otherwise, with `s = a >> 63` (0 or -1), `a // d == ((a ^ s) / d) ^ s`, and
    /// `a ^ s` is below 2^63, where an unsigned division is a multiplication by
    /// [`floor_magic`]'s number; then `a % d == a - (a // d) * d` (in wrapping arithmetic).
    fn emit_divide_by_constant(
        &mut self,
        op: CheckedOp,
        a: Value,
        d: i64,
        home: Option<Place>,
    ) -> Result<u8, CompileError> {
        let pa = self.place(a)?;
        if d & (d - 1) == 0 {
            let target = Self::word_target(home);
            self.emit_move(pa, Place::Gpr(target));
            if op == CheckedOp::FloorDiv {
                let k = d.trailing_zeros() as i8;
                asm!(self.ops; sar Rq(target), k);
            } else if let Ok(mask) = i32::try_from(d - 1) {
                asm!(self.ops; and Rq(target), mask);
            } else {
                asm!(self.ops; mov rcx, QWORD d - 1; and Rq(target), rcx);
            }
            return Ok(target);
        }
        let ra = self.word_reg(a, R11)?;
        let (magic, shift) = floor_magic(d);
        let (magic, shift) = (magic as i64, shift as i8);
        asm!(self.ops
            ; mov rcx, Rq(ra)
            ; sar rcx, 63
            ; mov rax, Rq(ra)
            ; xor rax, rcx
            ; mov rdx, QWORD magic
            ; mul rdx                        // rdx = (a ^ s) * magic / 2^64
        );
        if shift > 0 {
            asm!(self.ops; shr rdx, shift);
        }
        asm!(self.ops; xor rdx, rcx); // rdx = a // d
        if op == CheckedOp::FloorDiv {
            return Ok(RDX);
        }
        match i32::try_from(d) {
            Ok(d) => asm!(self.ops; imul rdx, rdx, d),
            Err(_) => asm!(self.ops; mov rax, QWORD d; imul rdx, rax),
        }
        asm!(self.ops; mov rax, Rq(ra); sub rax, rdx);
        Ok(RAX)
    }

    /// Moves the arguments into the System V argument registers (one parallel copy: they
    /// may sit in each other's registers) and calls `target`.
    fn emit_call(&mut self, target: i64, args: &[Value]) -> Result<(), CompileError> {
        let (mut words, mut doubles) = (0usize, 0u8);
        let mut moves = Vec::with_capacity(args.len());
        for &a in args {
            let to = if self.f.value_type(a) == Some(Type::F64) {
                if doubles >= MAX_FLOAT_ARGS {
                    return Err(CompileError("too many double arguments".into()));
                }
                doubles += 1;
                Place::Xmm(doubles - 1)
            } else {
                let Some(&reg) = ARG_REGS.get(words) else {
                    return Err(CompileError("more than 6 word arguments".into()));
                };
                words += 1;
                Place::Gpr(reg)
            };
            moves.push((self.place(a)?, to));
        }
        self.emit_moves(&moves);
        asm!(self.ops; mov rax, QWORD target; call rax);
        Ok(())
    }

    fn emit_exit_stubs(&mut self) -> Result<(), CompileError> {
        for (i, label) in self.exit_labels.clone().into_iter().enumerate() {
            let Some(label) = label else { continue };
            asm!(self.ops; =>label; mov r11, QWORD [rbp + EXIT_POINTER]);
            let snapshot = &self.f.snapshots[i];
            for (n, value) in snapshot.exit_values().enumerate() {
                let dst = 8 * n as i32;
                match self.place(value)? {
                    Place::Gpr(r) => asm!(self.ops; mov QWORD [r11 + dst], Rq(r)),
                    Place::Xmm(x) => asm!(self.ops; movsd QWORD [r11 + dst], Rx(x)),
                    Place::Imm(c) if i32::try_from(c).is_ok() => {
                        let c = c as i32;
                        asm!(self.ops; mov QWORD [r11 + dst], c);
                    }
                    from => {
                        self.emit_move(from, Place::Gpr(RAX));
                        asm!(self.ops; mov QWORD [r11 + dst], rax);
                    }
                }
            }
            let exit = i as i32 + 1;
            let epilogue = self.epilogue;
            asm!(self.ops; mov eax, exit; xor edx, edx; jmp =>epilogue);
        }
        Ok(())
    }
}

/// A two-address operation [`Codegen::emit_alu`] emits.
#[derive(Clone, Copy)]
enum Alu {
    Int(IntOp),
    Float(FloatOp),
}

impl Alu {
    /// Whether the operands may be swapped (for doubles, only a NaN's payload could differ,
    /// which the IR leaves open).
    fn commutative(self) -> bool {
        matches!(
            self,
            Alu::Int(IntOp::Add | IntOp::Mul | IntOp::And | IntOp::Or | IntOp::Xor)
                | Alu::Float(FloatOp::Add | FloatOp::Mul)
        )
    }
}

/// The condition that holds exactly when `c` does not (integer compares).
fn negate(c: Cond) -> Cond {
    match c {
        Cond::Eq => Cond::Ne,
        Cond::Ne => Cond::Eq,
        Cond::Lt => Cond::Ge,
        Cond::Le => Cond::Gt,
        Cond::Gt => Cond::Le,
        Cond::Ge => Cond::Lt,
        Cond::ULt => Cond::UGe,
        Cond::ULe => Cond::UGt,
        Cond::UGt => Cond::ULe,
        Cond::UGe => Cond::ULt,
    }
}

/// The condition on `(b, a)` that holds exactly when `c` holds on `(a, b)`.
fn swap(c: Cond) -> Cond {
    match c {
        Cond::Eq | Cond::Ne => c,
        Cond::Lt => Cond::Gt,
        Cond::Le => Cond::Ge,
        Cond::Gt => Cond::Lt,
        Cond::Ge => Cond::Le,
        Cond::ULt => Cond::UGt,
        Cond::ULe => Cond::UGe,
        Cond::UGt => Cond::ULt,
        Cond::UGe => Cond::ULe,
    }
}

/// The multiplier `m` and shift `k` that divide by `d` (at least 3, not a power of two) every
/// `n < 2^63`: `n / d == (n * m / 2^64) >> k`. With `l = ceil(log2 d)`, `m = 2^(63+l) / d + 1`
/// fits in 64 bits and `m * d - 2^(63+l)` lies in `(0, d]`, below `2^l`, which is what makes
/// the rounding exact for 63-bit `n` (Granlund & Montgomery, theorem 4.2); `k = l - 1`.
fn floor_magic(d: i64) -> (u64, u32) {
    debug_assert!(d > 2 && d & (d - 1) != 0);
    let l = 64 - (d as u64 - 1).leading_zeros();
    let m = (1u128 << (63 + l)) / d as u128 + 1;
    (u64::try_from(m).expect("the multiplier fits in 64 bits"), l - 1)
}
