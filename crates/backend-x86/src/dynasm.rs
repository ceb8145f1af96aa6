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
        Ok(Codegen { f, ops, entry, slots, frame_size, block_labels, exit_labels: vec![None; f.snapshots.len()], epilogue })
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
                self.load_rax(*cond)?;
                asm!(self.ops; test rax, rax; jnz =>then_edge);
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
        if moves.len() == 1 {
            let (from, to) = moves[0];
            asm!(self.ops; mov rax, QWORD [rbp + from]; mov QWORD [rbp + to], rax);
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
            Op::ICmp(cond, a, b) => {
                self.load_rcx(a)?;
                let ob = self.slot(b)?;
                asm!(self.ops; xor eax, eax; cmp rcx, QWORD [rbp + ob]);
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
