//! The hand-written dynasm backend: fast to compile, straightforward code.
//!
//! Strategy: every SSA value lives in its own 8-byte stack slot (`[rbp - 8 * (n + 1)]`);
//! each instruction loads its operands into scratch registers, computes and stores its
//! result. Block parameters are slots like any other; a jump copies its arguments through
//! the machine stack, which makes the parallel copy safe whatever the overlap. Every guard
//! and checked operation jumps to a per-snapshot exit stub emitted after the body, which
//! stores the snapshot's values into the exit buffer and returns `Outcome { exit: id + 1 }`.
//!
//! Registers: `r12` holds the argument pointer and `rbx` the exit-buffer pointer for the
//! whole activation (both callee-saved, so calls keep them); `rax`, `rcx`, `rdx`, `xmm0`
//! and `xmm1` are scratch.
//!
//! Peepholes that matter in loops: an integer compare used only by the branch or guard that
//! follows it becomes `cmp` + `jcc` (no 0/1 materialized); constants that fit in 32 bits are
//! immediate operands; division and remainder by a constant become a multiplication.

use crate::{Backend, CompileError, CompiledCode};
use dynasmrt::{dynasm, x64::Assembler, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi};
use ir::{Block, CheckedOp, Cond, FloatOp, Function, IntOp, Mem, Op, SnapshotId, Terminator, Type, Value};
use std::collections::HashMap;

/// Pins the architecture for every `dynasm!` use in this file.
macro_rules! asm {
    ($ops:expr; $($t:tt)*) => {
        dynasm!($ops ; .arch x64 ; $($t)*)
    };
}

/// The dynasm backend.
pub struct DynasmBackend;

/// Word-argument registers of the System V ABI, by dynasm register number.
const ARG_REGS: [u8; 6] = [7 /* rdi */, 6 /* rsi */, 2 /* rdx */, 1 /* rcx */, 8, 9];
const MAX_FLOAT_ARGS: usize = 8;

impl Backend for DynasmBackend {
    fn name(&self) -> &'static str {
        "dynasm"
    }

    fn compile(&self, f: &Function) -> Result<CompiledCode, CompileError> {
        let mut cg = Codegen::new(f)?;
        cg.emit_function()?;
        let Codegen { ops, entry, .. } = cg;
        let buffer = ops.finalize().map_err(|_| CompileError("could not finalize code buffer".into()))?;
        Ok(CompiledCode { buffer, entry: entry.0, exit_buffer_len: f.exit_buffer_len() })
    }
}

struct Codegen<'f> {
    f: &'f Function,
    ops: Assembler,
    entry: AssemblyOffset,
    /// Frame offset (negative, from rbp) of each value that has a slot.
    slots: HashMap<Value, i32>,
    frame_size: i32,
    block_labels: Vec<DynamicLabel>,
    exit_labels: Vec<Option<DynamicLabel>>,
    epilogue: DynamicLabel,
    /// Values defined by `IConst`.
    consts: HashMap<Value, i64>,
    /// Compares that are emitted as part of the branch or guard that uses them.
    fused: HashMap<Value, (Cond, Value, Value)>,
}

/// How often each value is used (by instructions, terminators and snapshots).
fn use_counts(f: &Function) -> HashMap<Value, usize> {
    let mut uses = HashMap::new();
    let mut count = |v: Value| *uses.entry(v).or_insert(0) += 1;
    for b in f.block_ids() {
        let data = f.block(b);
        for &v in &data.insts {
            f.inst(v).op.operands().into_iter().for_each(&mut count);
        }
        data.term.operands().into_iter().for_each(&mut count);
    }
    for s in &f.snapshots {
        s.exit_values().for_each(&mut count);
    }
    uses
}

/// Integer compares used once, by the branch ending their block or a guard right after them.
fn fusable_compares(f: &Function) -> HashMap<Value, (Cond, Value, Value)> {
    let uses = use_counts(f);
    let mut fused = HashMap::new();
    for b in f.block_ids() {
        let data = f.block(b);
        let mut candidates = Vec::new();
        for (i, &v) in data.insts.iter().enumerate() {
            if let Op::Guard { cond, .. } = f.inst(v).op {
                if i > 0 && data.insts[i - 1] == cond {
                    candidates.push(cond);
                }
            }
        }
        if let (Terminator::Branch { cond, .. }, Some(&last)) = (&data.term, data.insts.last()) {
            if *cond == last {
                candidates.push(last);
            }
        }
        for v in candidates {
            if let Op::ICmp(c, a, b) = f.inst(v).op {
                if uses.get(&v) == Some(&1) {
                    fused.insert(v, (c, a, b));
                }
            }
        }
    }
    fused
}

impl<'f> Codegen<'f> {
    fn new(f: &'f Function) -> Result<Codegen<'f>, CompileError> {
        let mut ops = Assembler::new().map_err(|e| CompileError(format!("code buffer: {e}")))?;
        let mut slots = HashMap::new();
        for (i, inst) in f.insts.iter().enumerate() {
            if inst.ty.is_some() {
                let n = slots.len() as i32;
                slots.insert(Value(i as u32), -8 * (n + 1));
            }
        }
        // After `push rbp; push rbx; push r12` the stack is 16-byte aligned; keep it so.
        let words = slots.len() as i32 + 2; // + the two saved registers below rbp
        let frame_size = (words * 8 + 15) & !15;
        let block_labels = f.blocks.iter().map(|_| ops.new_dynamic_label()).collect();
        let epilogue = ops.new_dynamic_label();
        let entry = ops.offset();
        let consts = f
            .insts
            .iter()
            .enumerate()
            .filter_map(|(i, inst)| match inst.op {
                Op::IConst(c) => Some((Value(i as u32), c)),
                _ => None,
            })
            .collect();
        let fused = fusable_compares(f);
        Ok(Codegen {
            f,
            ops,
            entry,
            slots,
            frame_size,
            block_labels,
            exit_labels: vec![None; f.snapshots.len()],
            epilogue,
            consts,
            fused,
        })
    }

    fn slot(&self, v: Value) -> Result<i32, CompileError> {
        self.slots.get(&v).copied().ok_or_else(|| CompileError(format!("{v} has no value")))
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

    /// The value of `v` if it is a constant that fits an immediate operand.
    fn imm32(&self, v: Value) -> Option<i32> {
        self.consts.get(&v).and_then(|&c| i32::try_from(c).ok())
    }

    /// `cmp a, b` (setting the flags for a signed or unsigned condition).
    fn emit_compare(&mut self, a: Value, b: Value) -> Result<(), CompileError> {
        self.load_rcx(a)?;
        match self.imm32(b) {
            Some(imm) => asm!(self.ops; cmp rcx, imm),
            None => {
                let ob = self.slot(b)?;
                asm!(self.ops; cmp rcx, QWORD [rbp + ob]);
            }
        }
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

    fn load_rax(&mut self, v: Value) -> Result<(), CompileError> {
        let off = self.slot(v)?;
        asm!(self.ops; mov rax, QWORD [rbp + off]);
        Ok(())
    }

    fn load_rcx(&mut self, v: Value) -> Result<(), CompileError> {
        let off = self.slot(v)?;
        asm!(self.ops; mov rcx, QWORD [rbp + off]);
        Ok(())
    }

    fn store_rax(&mut self, v: Value) -> Result<(), CompileError> {
        let off = self.slot(v)?;
        asm!(self.ops; mov QWORD [rbp + off], rax);
        Ok(())
    }

    fn emit_function(&mut self) -> Result<(), CompileError> {
        let frame_below_saved = self.frame_size - 16;
        asm!(self.ops
            ; push rbp
            ; mov rbp, rsp
            ; push rbx
            ; push r12
            ; sub rsp, frame_below_saved
            ; mov r12, rdi
            ; mov rbx, rsi
        );
        // Saved registers sit at rbp-8 and rbp-16; value slots must not overlap them.
        for off in self.slots.values_mut() {
            *off -= 16;
        }
        for b in self.f.block_ids() {
            self.emit_block(b)?;
        }
        self.emit_exit_stubs()?;
        let epilogue = self.epilogue;
        asm!(self.ops
            ; =>epilogue
            ; lea rsp, [rbp - 16]
            ; pop r12
            ; pop rbx
            ; pop rbp
            ; ret
        );
        Ok(())
    }

    fn emit_block(&mut self, b: Block) -> Result<(), CompileError> {
        let label = self.block_labels[b.0 as usize];
        asm!(self.ops; =>label);
        let data = self.f.block(b);
        for &v in &data.insts {
            self.emit_inst(v)?;
        }
        match &data.term {
            Terminator::Jump(call) => self.emit_edge(call)?,
            Terminator::Branch { cond, then, otherwise } => {
                let then_edge = self.ops.new_dynamic_label();
                if let Some(&(c, a, b)) = self.fused.get(cond) {
                    self.emit_compare(a, b)?;
                    self.emit_jcc(c, then_edge);
                } else {
                    self.load_rax(*cond)?;
                    asm!(self.ops; test rax, rax; jnz =>then_edge);
                }
                self.emit_edge(otherwise)?;
                asm!(self.ops; =>then_edge);
                self.emit_edge(then)?;
            }
            Terminator::Return(v) => {
                let epilogue = self.epilogue;
                let off = self.slot(*v)?;
                asm!(self.ops; xor eax, eax; mov rdx, QWORD [rbp + off]; jmp =>epilogue);
            }
            Terminator::Exit(s) => {
                let l = self.exit_label(*s);
                asm!(self.ops; jmp =>l);
            }
        }
        Ok(())
    }

    /// Copies block arguments into the target's parameter slots and jumps there.
    fn emit_edge(&mut self, call: &ir::BlockCall) -> Result<(), CompileError> {
        let params = self.f.block(call.block).params.clone();
        let moves: Vec<(i32, i32)> = call
            .args
            .iter()
            .zip(&params)
            .map(|(a, p)| Ok((self.slot(*a)?, self.slot(*p)?)))
            .collect::<Result<Vec<_>, CompileError>>()?
            .into_iter()
            .filter(|(from, to)| from != to)
            .collect();
        // Scratch registers hold every source before any destination is written, which makes
        // the parallel copy safe whatever the overlap; long copies go through the stack.
        const SCRATCH: [u8; 9] = [0, 1, 2, 6, 7, 8, 9, 10, 11];
        if moves.len() <= SCRATCH.len() {
            for (&(from, _), &r) in moves.iter().zip(&SCRATCH) {
                asm!(self.ops; mov Rq(r), QWORD [rbp + from]);
            }
            for (&(_, to), &r) in moves.iter().zip(&SCRATCH) {
                asm!(self.ops; mov QWORD [rbp + to], Rq(r));
            }
        } else {
            for &(from, _) in &moves {
                asm!(self.ops; push QWORD [rbp + from]);
            }
            for &(_, to) in moves.iter().rev() {
                asm!(self.ops; pop QWORD [rbp + to]);
            }
        }
        let target = self.block_labels[call.block.0 as usize];
        asm!(self.ops; jmp =>target);
        Ok(())
    }

    fn emit_inst(&mut self, v: Value) -> Result<(), CompileError> {
        let inst = self.f.inst(v).clone();
        match inst.op {
            Op::Param(i) => {
                let off = 8 * i as i32;
                asm!(self.ops; mov rax, QWORD [r12 + off]);
                self.store_rax(v)?;
            }
            Op::BlockParam(..) => {}
            Op::IConst(c) => {
                asm!(self.ops; mov rax, QWORD c);
                self.store_rax(v)?;
            }
            Op::FConst(c) => {
                let bits = c.to_bits() as i64;
                asm!(self.ops; mov rax, QWORD bits);
                self.store_rax(v)?;
            }
            Op::Load(mem, base, off) => {
                self.load_rcx(base)?;
                match mem {
                    Mem::I64 | Mem::F64 => asm!(self.ops; mov rax, QWORD [rcx + off]),
                    Mem::I32 => asm!(self.ops; movsxd rax, DWORD [rcx + off]),
                    Mem::U32 => asm!(self.ops; mov eax, DWORD [rcx + off]),
                    Mem::U16 => asm!(self.ops; movzx eax, WORD [rcx + off]),
                    Mem::U8 => asm!(self.ops; movzx eax, BYTE [rcx + off]),
                }
                self.store_rax(v)?;
            }
            Op::Store(mem, base, off, value) => {
                self.load_rcx(base)?;
                self.load_rax(value)?;
                match mem {
                    Mem::I64 | Mem::F64 => asm!(self.ops; mov QWORD [rcx + off], rax),
                    Mem::I32 | Mem::U32 => asm!(self.ops; mov DWORD [rcx + off], eax),
                    Mem::U16 => asm!(self.ops; mov WORD [rcx + off], ax),
                    Mem::U8 => asm!(self.ops; mov BYTE [rcx + off], al),
                }
            }
            Op::Int(op, a, b) if self.imm32(b).is_some() && !matches!(op, IntOp::Shl | IntOp::Sar) => {
                let imm = self.imm32(b).unwrap();
                self.load_rax(a)?;
                match op {
                    IntOp::Add => asm!(self.ops; add rax, imm),
                    IntOp::Sub => asm!(self.ops; sub rax, imm),
                    IntOp::Mul => asm!(self.ops; imul rax, rax, imm),
                    IntOp::And => asm!(self.ops; and rax, imm),
                    IntOp::Or => asm!(self.ops; or rax, imm),
                    IntOp::Xor => asm!(self.ops; xor rax, imm),
                    IntOp::Shl | IntOp::Sar => unreachable!("excluded by the match guard"),
                }
                self.store_rax(v)?;
            }
            Op::Int(op, a, b) => {
                self.load_rax(a)?;
                self.load_rcx(b)?;
                match op {
                    IntOp::Add => asm!(self.ops; add rax, rcx),
                    IntOp::Sub => asm!(self.ops; sub rax, rcx),
                    IntOp::Mul => asm!(self.ops; imul rax, rcx),
                    IntOp::And => asm!(self.ops; and rax, rcx),
                    IntOp::Or => asm!(self.ops; or rax, rcx),
                    IntOp::Xor => asm!(self.ops; xor rax, rcx),
                    IntOp::Shl => asm!(self.ops; shl rax, cl),
                    IntOp::Sar => asm!(self.ops; sar rax, cl),
                }
                self.store_rax(v)?;
            }
            Op::Checked(op @ (CheckedOp::FloorDiv | CheckedOp::Mod), a, b, _)
                if self.consts.get(&b).is_some_and(|&d| d >= 2) =>
            {
                let d = self.consts[&b];
                self.emit_divide_by_constant(op, a, d)?;
                self.store_rax(v)?;
            }
            Op::Checked(op @ (CheckedOp::Add | CheckedOp::Sub | CheckedOp::Mul), a, b, s) if self.imm32(b).is_some() => {
                let exit = self.exit_label(s);
                let imm = self.imm32(b).unwrap();
                self.load_rax(a)?;
                match op {
                    CheckedOp::Add => asm!(self.ops; add rax, imm; jo =>exit),
                    CheckedOp::Sub => asm!(self.ops; sub rax, imm; jo =>exit),
                    _ => asm!(self.ops; imul rax, rax, imm; jo =>exit),
                }
                self.store_rax(v)?;
            }
            Op::Checked(op, a, b, s) => {
                let exit = self.exit_label(s);
                self.load_rax(a)?;
                self.load_rcx(b)?;
                match op {
                    CheckedOp::Add => asm!(self.ops; add rax, rcx; jo =>exit),
                    CheckedOp::Sub => asm!(self.ops; sub rax, rcx; jo =>exit),
                    CheckedOp::Mul => asm!(self.ops; imul rax, rcx; jo =>exit),
                    CheckedOp::FloorDiv | CheckedOp::Mod => {
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
                            // Python rounds towards -inf: when the remainder is non-zero and
                            // its sign differs from the divisor's, adjust.
                            ; test rdx, rdx
                            ; jz >exact
                            ; mov r8, rdx
                            ; xor r8, rcx
                            ; jns >exact
                        );
                        if op == CheckedOp::FloorDiv {
                            asm!(self.ops; sub rax, 1; exact:);
                        } else {
                            asm!(self.ops; add rdx, rcx; exact: ; mov rax, rdx);
                        }
                        asm!(self.ops; =>done);
                    }
                    CheckedOp::Shl => {
                        asm!(self.ops
                            ; cmp rcx, 63
                            ; ja =>exit          // negative (unsigned huge) or >= 64
                            ; mov rdx, rax
                            ; shl rax, cl
                            ; mov r8, rax
                            ; sar r8, cl
                            ; cmp r8, rdx
                            ; jne =>exit         // bits lost
                        );
                    }
                }
                self.store_rax(v)?;
            }
            Op::NegChecked(a, s) => {
                let exit = self.exit_label(s);
                self.load_rax(a)?;
                asm!(self.ops; neg rax; jo =>exit);
                self.store_rax(v)?;
            }
            Op::Float(op, a, b) => {
                let (oa, ob) = (self.slot(a)?, self.slot(b)?);
                asm!(self.ops; movsd xmm0, QWORD [rbp + oa]);
                match op {
                    FloatOp::Add => asm!(self.ops; addsd xmm0, QWORD [rbp + ob]),
                    FloatOp::Sub => asm!(self.ops; subsd xmm0, QWORD [rbp + ob]),
                    FloatOp::Mul => asm!(self.ops; mulsd xmm0, QWORD [rbp + ob]),
                    FloatOp::Div => asm!(self.ops; divsd xmm0, QWORD [rbp + ob]),
                }
                let ov = self.slot(v)?;
                asm!(self.ops; movsd QWORD [rbp + ov], xmm0);
            }
            Op::FNeg(a) => {
                self.load_rax(a)?;
                asm!(self.ops; btc rax, 63);
                self.store_rax(v)?;
            }
            Op::IntToFloat(a) => {
                let (oa, ov) = (self.slot(a)?, self.slot(v)?);
                asm!(self.ops; cvtsi2sd xmm0, QWORD [rbp + oa]; movsd QWORD [rbp + ov], xmm0);
            }
            Op::ICmp(..) if self.fused.contains_key(&v) => {}
            Op::ICmp(cond, a, b) => {
                asm!(self.ops; xor eax, eax);
                self.emit_compare(a, b)?;
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
                self.store_rax(v)?;
            }
            Op::FCmp(cond, a, b) => {
                let (oa, ob) = (self.slot(a)?, self.slot(b)?);
                // `a < b` is computed as `b > a` so that unordered (NaN) gives false via CF.
                let (first, second) = match cond {
                    Cond::Lt | Cond::Le => (ob, oa),
                    _ => (oa, ob),
                };
                asm!(self.ops; xor eax, eax; movsd xmm0, QWORD [rbp + first]; ucomisd xmm0, QWORD [rbp + second]);
                match cond {
                    Cond::Eq => asm!(self.ops; sete al; setnp cl; and al, cl),
                    Cond::Ne => asm!(self.ops; setne al; setp cl; or al, cl),
                    Cond::Lt | Cond::Gt => asm!(self.ops; seta al),
                    Cond::Le | Cond::Ge => asm!(self.ops; setae al),
                    _ => return Err(CompileError(format!("unsigned float compare in {v}"))),
                }
                self.store_rax(v)?;
            }
            Op::Select(c, a, b) => {
                let oc = self.slot(c)?;
                self.load_rax(a)?;
                self.load_rcx(b)?;
                asm!(self.ops; cmp QWORD [rbp + oc], 0; cmove rax, rcx);
                self.store_rax(v)?;
            }
            Op::Call { target, ref args, ret } => {
                self.emit_call(target as i64, args)?;
                match ret {
                    Some(Type::I64) => self.store_rax(v)?,
                    Some(Type::F64) => {
                        let ov = self.slot(v)?;
                        asm!(self.ops; movsd QWORD [rbp + ov], xmm0);
                    }
                    None => {}
                }
            }
            Op::Guard { cond, expect, snapshot } if self.fused.contains_key(&cond) => {
                let exit = self.exit_label(snapshot);
                let (c, a, b) = self.fused[&cond];
                self.emit_compare(a, b)?;
                self.emit_jcc(if expect { negate(c) } else { c }, exit);
            }
            Op::Guard { cond, expect, snapshot } => {
                let exit = self.exit_label(snapshot);
                let oc = self.slot(cond)?;
                asm!(self.ops; cmp QWORD [rbp + oc], 0);
                if expect {
                    asm!(self.ops; je =>exit);
                } else {
                    asm!(self.ops; jne =>exit);
                }
            }
        }
        Ok(())
    }

    /// Python's `a // d` or `a % d` (into rax) for a constant `d >= 2`, by multiplying with
    /// the divisor's magic number (Hacker's Delight 10-1) instead of dividing.
    fn emit_divide_by_constant(&mut self, op: CheckedOp, a: Value, d: i64) -> Result<(), CompileError> {
        let (magic, shift) = signed_magic(d);
        let oa = self.slot(a)?;
        let shift = shift as i8;
        asm!(self.ops
            ; mov rax, QWORD magic
            ; imul QWORD [rbp + oa]          // rdx:rax = a * magic
        );
        if magic < 0 {
            asm!(self.ops; add rdx, QWORD [rbp + oa]);
        }
        asm!(self.ops
            ; sar rdx, shift
            ; mov rax, QWORD [rbp + oa]
            ; shr rax, 63
            ; add rdx, rax                   // rdx = a / d, truncated
            ; mov rcx, QWORD d
            ; imul rcx, rdx
            ; mov rax, QWORD [rbp + oa]
            ; sub rax, rcx                   // rax = a % d, truncated (sign of a)
            // Floor: a negative remainder moves the quotient down and the remainder up.
            ; test rax, rax
            ; jns >floored
        );
        if op == CheckedOp::FloorDiv {
            asm!(self.ops; sub rdx, 1; floored: ; mov rax, rdx);
        } else {
            asm!(self.ops; mov rcx, QWORD d; add rax, rcx; floored:);
        }
        Ok(())
    }

    fn emit_call(&mut self, target: i64, args: &[Value]) -> Result<(), CompileError> {
        let (mut words, mut doubles) = (0usize, 0u8);
        for &a in args {
            let off = self.slot(a)?;
            match self.f.value_type(a) {
                Some(Type::F64) => {
                    if doubles as usize >= MAX_FLOAT_ARGS {
                        return Err(CompileError("too many double arguments".into()));
                    }
                    asm!(self.ops; movsd Rx(doubles), QWORD [rbp + off]);
                    doubles += 1;
                }
                _ => {
                    let Some(&reg) = ARG_REGS.get(words) else {
                        return Err(CompileError("more than 6 word arguments".into()));
                    };
                    asm!(self.ops; mov Rq(reg), QWORD [rbp + off]);
                    words += 1;
                }
            }
        }
        asm!(self.ops; mov rax, QWORD target; call rax);
        Ok(())
    }

    fn emit_exit_stubs(&mut self) -> Result<(), CompileError> {
        for (i, label) in self.exit_labels.clone().into_iter().enumerate() {
            let Some(label) = label else { continue };
            asm!(self.ops; =>label);
            let snapshot = &self.f.snapshots[i];
            for (n, value) in snapshot.exit_values().enumerate() {
                let off = self.slot(value)?;
                let dst = 8 * n as i32;
                asm!(self.ops; mov rax, QWORD [rbp + off]; mov QWORD [rbx + dst], rax);
            }
            let exit = i as i32 + 1;
            let epilogue = self.epilogue;
            asm!(self.ops; mov eax, exit; xor edx, edx; jmp =>epilogue);
        }
        Ok(())
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

/// The magic multiplier and shift for signed division by `d >= 2` (Hacker's Delight,
/// figure 10-1, for 64-bit words): `a / d == ((mulhi(a, m) [+ a if m < 0]) >> s) + (a < 0)`.
fn signed_magic(d: i64) -> (i64, u32) {
    debug_assert!(d >= 2);
    let two63: u64 = 1 << 63;
    let ad = d as u64;
    let anc = two63 - 1 - two63 % ad;
    let mut p = 63u32;
    let (mut q1, mut r1) = (two63 / anc, two63 % anc);
    let (mut q2, mut r2) = (two63 / ad, two63 % ad);
    loop {
        p += 1;
        q1 = q1.wrapping_mul(2);
        r1 = r1.wrapping_mul(2);
        if r1 >= anc {
            q1 = q1.wrapping_add(1);
            r1 -= anc;
        }
        q2 = q2.wrapping_mul(2);
        r2 = r2.wrapping_mul(2);
        if r2 >= ad {
            q2 = q2.wrapping_add(1);
            r2 -= ad;
        }
        let delta = ad - r2;
        if !(q1 < delta || (q1 == delta && r1 == 0)) {
            break;
        }
    }
    (q2.wrapping_add(1) as i64, p - 64)
}
