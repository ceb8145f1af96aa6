//! The Cranelift backend: slower to compile than dynasm, better code.
//!
//! Strategy: the IR is already SSA with block parameters, so it maps onto Cranelift IR one to
//! one: every reachable IR block becomes a Cranelift block with the same parameters, every
//! IR value one Cranelift value, and Cranelift does the rest (e-graph optimization,
//! instruction selection, register allocation). Blocks are translated in reverse postorder,
//! so every value exists before a dominated block reads it.
//!
//! Leaving: each snapshot gets one cold exit block whose parameters are the snapshot's exit
//! values; it stores them into the exit buffer and returns `(snapshot + 1, 0)`. A guard or a
//! checked operation ends its Cranelift block with a `brif` to that exit block (passing the
//! values) or to a fresh block where the rest of the IR block continues. Python's `//` and
//! `%` become explicit tests for the divisors that leave or need no division, then a
//! division adjusted towards negative infinity without branching.
//!
//! Every compile gets its own `JITModule` (nothing is shared between compiles but the
//! target description), which owns the memory of the one function it holds; the
//! [`CompiledCode`] keeps it and frees that memory when dropped.

use crate::{Backend, CodeMemory, CompileError, CompiledCode};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::Ieee64;
use cranelift_codegen::ir::{self as clif, types, AbiParam, BlockArg, InstBuilder, MemFlagsData, Signature};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa, TargetFrontendConfig};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Module};
use ir::{Block, CheckedOp, Cond, FloatOp, Function, IntOp, Mem, Op, SnapshotId, Terminator, Type, Value};
use std::mem::ManuallyDrop;
use std::sync::OnceLock;

/// The Cranelift backend. [`CraneliftBackend::HOST`], the one psyco runs, uses every feature
/// of this CPU (AVX, BMI...); [`CraneliftBackend::BASELINE`] targets x86-64-v2 only (SSE4.2,
/// POPCNT), so that its code is the same on every machine: the codegen snapshots use it.
pub struct CraneliftBackend {
    portable: bool,
}

impl CraneliftBackend {
    pub const HOST: CraneliftBackend = CraneliftBackend { portable: false };
    pub const BASELINE: CraneliftBackend = CraneliftBackend { portable: true };
}

impl Backend for CraneliftBackend {
    fn name(&self) -> &'static str {
        "cranelift"
    }

    fn compile(&self, f: &Function) -> Result<CompiledCode, CompileError> {
        let mut module = JITModule::new(JITBuilder::with_isa(target_isa(self.portable)?, default_libcall_names()));
        match define(&mut module, f) {
            Ok((code, len)) => {
                let memory = JitCode { module: ManuallyDrop::new(module), code, len };
                Ok(CompiledCode::new(CodeMemory::Cranelift(Box::new(memory)), 0, f.exit_buffer_len()))
            }
            Err(e) => {
                // SAFETY: no function of the module was finalized, so nothing points into
                // its memory.
                unsafe { module.free_memory() };
                Err(e)
            }
        }
    }
}

/// The machine this process runs on, as Cranelift targets it (`portable`: the x86-64-v2
/// baseline, refused on hosts without it); built once per flavour and shared by every compile.
fn target_isa(portable: bool) -> Result<OwnedTargetIsa, CompileError> {
    static HOST: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    static BASELINE: OnceLock<Result<OwnedTargetIsa, String>> = OnceLock::new();
    let isa = if portable { &BASELINE } else { &HOST }.get_or_init(|| {
        let mut flags = settings::builder();
        let settings: [(&str, &str); 5] = [
            ("opt_level", "speed"),
            // cranelift-jit places code anywhere and patches absolute addresses.
            ("is_pic", "false"),
            ("use_colocated_libcalls", "false"),
            // Nothing unwinds through compiled code (helpers never unwind into it).
            ("unwind_info", "false"),
            // Cranelift's own IR verifier, a debugging aid: on in debug builds, off in
            // release builds, where it would be a large part of the compile time.
            ("enable_verifier", if cfg!(debug_assertions) { "true" } else { "false" }),
        ];
        for (name, value) in settings {
            flags.set(name, value).map_err(|e| format!("cranelift setting {name}: {e}"))?;
        }
        let mut isa = cranelift_native::builder_with_options(!portable)
            .map_err(|e| format!("host not supported by cranelift: {e}"))?;
        if portable {
            let baseline = ["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"];
            if let Some(missing) = baseline.iter().find(|f| !host_has(f)) {
                return Err(format!("the CPU lacks {missing}, which the baseline target requires"));
            }
            for name in ["has_sse3", "has_ssse3", "has_sse41", "has_sse42", "has_popcnt"] {
                isa.enable(name).map_err(|e| format!("cranelift ISA flag {name}: {e}"))?;
            }
        }
        isa.finish(settings::Flags::new(flags)).map_err(|e| format!("cranelift target: {e}"))
    });
    isa.clone().map_err(CompileError)
}

/// Whether the CPU has the named feature (the names of `is_x86_feature_detected!`).
fn host_has(feature: &str) -> bool {
    match feature {
        "sse3" => std::arch::is_x86_feature_detected!("sse3"),
        "ssse3" => std::arch::is_x86_feature_detected!("ssse3"),
        "sse4.1" => std::arch::is_x86_feature_detected!("sse4.1"),
        "sse4.2" => std::arch::is_x86_feature_detected!("sse4.2"),
        "popcnt" => std::arch::is_x86_feature_detected!("popcnt"),
        _ => false,
    }
}

/// Translates `f` into `module` and finalizes it: gives the address and length of its code.
fn define(module: &mut JITModule, f: &Function) -> Result<(*const u8, usize), CompileError> {
    let failed = |e: cranelift_module::ModuleError| CompileError(format!("cranelift: {e}"));
    let mut ctx = module.make_context();
    ctx.func.signature = entry_signature();
    let mut builder_context = FunctionBuilderContext::new();
    let frontend = module.isa().frontend_config();
    Translator::translate(f, FunctionBuilder::new(&mut ctx.func, &mut builder_context), frontend)?;
    let id = module.declare_anonymous_function(&ctx.func.signature).map_err(failed)?;
    module.define_function(id, &mut ctx).map_err(failed)?;
    let len = ctx
        .compiled_code()
        .map(|code| code.code_buffer().len())
        .ok_or_else(|| CompileError("cranelift kept no compiled code".into()))?;
    module.finalize_definitions().map_err(failed)?;
    Ok((module.get_finalized_function(id), len))
}

/// The entry convention: `(args, exit_buffer) -> (exit, value)`, the pair in `rax:rdx`.
fn entry_signature() -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.extend([AbiParam::new(types::I64); 2]);
    sig.returns.extend([AbiParam::new(types::I64); 2]);
    sig
}

/// The memory of one compiled function: the `JITModule` that allocated it, kept only to
/// free that memory when the code is dropped.
pub(crate) struct JitCode {
    module: ManuallyDrop<JITModule>,
    code: *const u8,
    len: usize,
}

// SAFETY: after finalization nothing uses the module but `Drop`, which has it exclusively;
// the code bytes it owns are never written again, so reading them from any thread is fine.
unsafe impl Send for JitCode {}
// SAFETY: as for `Send`: shared references only read the immutable code bytes.
unsafe impl Sync for JitCode {}

impl JitCode {
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `code` is the start of the finalized function, `len` bytes long, in memory
        // that the module keeps mapped until `drop`.
        unsafe { std::slice::from_raw_parts(self.code, self.len) }
    }
}

impl Drop for JitCode {
    fn drop(&mut self) {
        // SAFETY: `CompiledCode` documents that dropping it frees the code, so its owner no
        // longer runs it; the module is taken exactly once, here.
        unsafe { ManuallyDrop::take(&mut self.module).free_memory() }
    }
}

/// Cranelift's type for an IR type.
fn clif_type(ty: Type) -> clif::Type {
    match ty {
        Type::I64 => types::I64,
        Type::F64 => types::F64,
    }
}

/// Memory accesses of the IR never trap (their addresses are the front end's promise), which
/// lets Cranelift drop unused loads as dynasm does.
fn mem_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

fn int_cc(cond: Cond) -> IntCC {
    match cond {
        Cond::Eq => IntCC::Equal,
        Cond::Ne => IntCC::NotEqual,
        Cond::Lt => IntCC::SignedLessThan,
        Cond::Le => IntCC::SignedLessThanOrEqual,
        Cond::Gt => IntCC::SignedGreaterThan,
        Cond::Ge => IntCC::SignedGreaterThanOrEqual,
        Cond::ULt => IntCC::UnsignedLessThan,
        Cond::ULe => IntCC::UnsignedLessThanOrEqual,
        Cond::UGt => IntCC::UnsignedGreaterThan,
        Cond::UGe => IntCC::UnsignedGreaterThanOrEqual,
    }
}

/// Python's float compares: ordered, except `!=`, which Cranelift's `ne` (unordered or not
/// equal) matches.
fn float_cc(cond: Cond) -> Option<FloatCC> {
    Some(match cond {
        Cond::Eq => FloatCC::Equal,
        Cond::Ne => FloatCC::NotEqual,
        Cond::Lt => FloatCC::LessThan,
        Cond::Le => FloatCC::LessThanOrEqual,
        Cond::Gt => FloatCC::GreaterThan,
        Cond::Ge => FloatCC::GreaterThanOrEqual,
        Cond::ULt | Cond::ULe | Cond::UGt | Cond::UGe => return None,
    })
}

/// The blocks reachable from `b0`, in reverse postorder (dominators before what they
/// dominate).
fn reverse_postorder(f: &Function) -> Vec<Block> {
    let mut visited = vec![false; f.blocks.len()];
    let mut postorder = Vec::with_capacity(f.blocks.len());
    // (block, index of the next successor to visit)
    let mut stack = vec![(Block(0), 0)];
    visited[0] = true;
    while let Some((block, next)) = stack.last_mut() {
        let successors = f.block(*block).term.successors();
        if let Some(call) = successors.get(*next) {
            *next += 1;
            let target = call.block;
            if !std::mem::replace(&mut visited[target.0 as usize], true) {
                stack.push((target, 0));
            }
        } else {
            postorder.push(*block);
            stack.pop();
        }
    }
    postorder.reverse();
    postorder
}

/// Translation of one IR function into a Cranelift function.
struct Translator<'f, 'b> {
    f: &'f Function,
    b: FunctionBuilder<'b>,
    /// The Cranelift value of each IR value, once translated.
    values: Vec<Option<clif::Value>>,
    /// The Cranelift block of each reachable IR block.
    blocks: Vec<Option<clif::Block>>,
    /// The exit block of each snapshot, created on first use.
    exits: Vec<Option<clif::Block>>,
    args: clif::Value,
    exit_buffer: clif::Value,
}

impl<'f, 'b> Translator<'f, 'b> {
    fn translate(
        f: &'f Function,
        mut b: FunctionBuilder<'b>,
        frontend: TargetFrontendConfig,
    ) -> Result<(), CompileError> {
        if f.blocks.is_empty() {
            return Err(CompileError(format!("{} has no blocks", f.name)));
        }
        // Cranelift's entry block takes the entry arguments and jumps to `b0`, which may be
        // the target of jumps itself.
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (args, exit_buffer) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let order = reverse_postorder(f);
        let mut t = Translator {
            f,
            b,
            values: vec![None; f.insts.len()],
            blocks: vec![None; f.blocks.len()],
            exits: vec![None; f.snapshots.len()],
            args,
            exit_buffer,
        };
        for &block in &order {
            let cb = t.b.create_block();
            for &p in &f.block(block).params {
                let ty = f.value_type(p).ok_or_else(|| CompileError(format!("block parameter {p} has no type")))?;
                t.values[p.0 as usize] = Some(t.b.append_block_param(cb, clif_type(ty)));
            }
            t.blocks[block.0 as usize] = Some(cb);
        }
        let first = t.block(Block(0))?;
        t.b.ins().jump(first, &[]);
        for &block in &order {
            t.translate_block(block)?;
        }
        t.emit_exits()?;
        t.b.seal_all_blocks();
        t.b.finalize(frontend);
        Ok(())
    }

    fn value(&self, v: Value) -> Result<clif::Value, CompileError> {
        self.values
            .get(v.0 as usize)
            .copied()
            .flatten()
            .ok_or_else(|| CompileError(format!("{v} is used before it is defined")))
    }

    fn block(&self, b: Block) -> Result<clif::Block, CompileError> {
        self.blocks.get(b.0 as usize).copied().flatten().ok_or_else(|| CompileError(format!("{b} is unreachable")))
    }

    fn args(&self, values: impl IntoIterator<Item = Value>) -> Result<Vec<BlockArg>, CompileError> {
        values.into_iter().map(|v| Ok(BlockArg::Value(self.value(v)?))).collect()
    }

    fn iconst(&mut self, c: i64) -> clif::Value {
        self.b.ins().iconst(types::I64, c)
    }

    /// The exit block of `s`, whose parameters take the snapshot's exit values.
    fn exit_block(&mut self, s: SnapshotId) -> Result<clif::Block, CompileError> {
        let slot = self.exits.get_mut(s.0 as usize).ok_or_else(|| CompileError(format!("{s} does not exist")))?;
        if let Some(block) = *slot {
            return Ok(block);
        }
        let block = self.b.create_block();
        self.exits[s.0 as usize] = Some(block);
        self.b.set_cold_block(block);
        for v in self.f.snapshot(s).exit_values() {
            let ty = self.f.value_type(v).ok_or_else(|| CompileError(format!("{s} saves {v}, which has no type")))?;
            self.b.append_block_param(block, clif_type(ty));
        }
        Ok(block)
    }

    /// Jumps to `s`'s exit block, passing the snapshot's values.
    fn jump_to_exit(&mut self, s: SnapshotId) -> Result<(), CompileError> {
        let exit = self.exit_block(s)?;
        let args = self.args(self.f.snapshot(s).exit_values())?;
        self.b.ins().jump(exit, &args);
        Ok(())
    }

    /// Leaves through `s` if `(cond != 0) == when`; goes on in a new block otherwise.
    fn exit_if(&mut self, cond: clif::Value, when: bool, s: SnapshotId) -> Result<(), CompileError> {
        let exit = self.exit_block(s)?;
        let args = self.args(self.f.snapshot(s).exit_values())?;
        let next = self.b.create_block();
        if when {
            self.b.ins().brif(cond, exit, &args, next, &[]);
        } else {
            self.b.ins().brif(cond, next, &[], exit, &args);
        }
        self.b.switch_to_block(next);
        Ok(())
    }

    fn translate_block(&mut self, block: Block) -> Result<(), CompileError> {
        let cb = self.block(block)?;
        self.b.switch_to_block(cb);
        let data = self.f.block(block);
        for &v in &data.insts {
            if let Some(result) = self.translate_inst(v)? {
                self.values[v.0 as usize] = Some(result);
            }
        }
        match &data.term {
            Terminator::Jump(call) => {
                let (target, args) = (self.block(call.block)?, self.args(call.args.iter().copied())?);
                self.b.ins().jump(target, &args);
            }
            Terminator::Branch { cond, then, otherwise } => {
                let cond = self.value(*cond)?;
                let (then_block, then_args) = (self.block(then.block)?, self.args(then.args.iter().copied())?);
                let (else_block, else_args) =
                    (self.block(otherwise.block)?, self.args(otherwise.args.iter().copied())?);
                self.b.ins().brif(cond, then_block, &then_args, else_block, &else_args);
            }
            Terminator::Return(v) => {
                let (zero, v) = (self.iconst(0), self.value(*v)?);
                self.b.ins().return_(&[zero, v]);
            }
            Terminator::Exit(s) => self.jump_to_exit(*s)?,
        }
        Ok(())
    }

    /// Emits `v`'s instruction; gives its result.
    fn translate_inst(&mut self, v: Value) -> Result<Option<clif::Value>, CompileError> {
        let ins = self.f.inst(v);
        let result = match ins.op {
            Op::Param(i) => {
                let offset = i32::try_from(8 * i as u64).map_err(|_| CompileError(format!("param {i}")))?;
                self.b.ins().load(types::I64, mem_flags(), self.args, offset)
            }
            Op::BlockParam(..) => {
                return Err(CompileError(format!("{v}, a block parameter, is listed as an instruction")))
            }
            Op::IConst(c) => self.iconst(c),
            Op::FConst(c) => self.b.ins().f64const(Ieee64::with_bits(c.to_bits())),
            Op::Load(mem, base, offset) => {
                let base = self.value(base)?;
                let ins = self.b.ins();
                match mem {
                    Mem::I64 => ins.load(types::I64, mem_flags(), base, offset),
                    Mem::F64 => ins.load(types::F64, mem_flags(), base, offset),
                    Mem::I32 => ins.sload32(mem_flags(), base, offset),
                    Mem::U32 => ins.uload32(mem_flags(), base, offset),
                    Mem::U16 => ins.uload16(types::I64, mem_flags(), base, offset),
                    Mem::U8 => ins.uload8(types::I64, mem_flags(), base, offset),
                }
            }
            Op::Store(mem, base, offset, value) => {
                let (base, value) = (self.value(base)?, self.value(value)?);
                let ins = self.b.ins();
                match mem {
                    Mem::I64 | Mem::F64 => ins.store(mem_flags(), value, base, offset),
                    Mem::I32 | Mem::U32 => ins.istore32(mem_flags(), value, base, offset),
                    Mem::U16 => ins.istore16(mem_flags(), value, base, offset),
                    Mem::U8 => ins.istore8(mem_flags(), value, base, offset),
                };
                return Ok(None);
            }
            Op::Int(op, a, b) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                let ins = self.b.ins();
                // Cranelift's shifts take the count modulo 64, as the IR's do.
                match op {
                    IntOp::Add => ins.iadd(a, b),
                    IntOp::Sub => ins.isub(a, b),
                    IntOp::Mul => ins.imul(a, b),
                    IntOp::And => ins.band(a, b),
                    IntOp::Or => ins.bor(a, b),
                    IntOp::Xor => ins.bxor(a, b),
                    IntOp::Shl => ins.ishl(a, b),
                    IntOp::Sar => ins.sshr(a, b),
                }
            }
            Op::Checked(op, a, b, s) => self.checked(op, a, b, s)?,
            Op::NegChecked(a, s) => {
                let (zero, a) = (self.iconst(0), self.value(a)?);
                let (r, overflow) = self.b.ins().ssub_overflow(zero, a);
                self.exit_if(overflow, true, s)?;
                r
            }
            Op::Float(op, a, b) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                let ins = self.b.ins();
                match op {
                    FloatOp::Add => ins.fadd(a, b),
                    FloatOp::Sub => ins.fsub(a, b),
                    FloatOp::Mul => ins.fmul(a, b),
                    FloatOp::Div => ins.fdiv(a, b),
                }
            }
            Op::FNeg(a) => {
                let a = self.value(a)?;
                self.b.ins().fneg(a)
            }
            Op::IntToFloat(a) => {
                let a = self.value(a)?;
                self.b.ins().fcvt_from_sint(types::F64, a)
            }
            // Compares give a flag byte; widened to the IR's 0/1 word. Cranelift still fuses a
            // compare with the branch, select or guard that tests the widened word.
            Op::ICmp(cond, a, b) => {
                let (a, b) = (self.value(a)?, self.value(b)?);
                let flag = self.b.ins().icmp(int_cc(cond), a, b);
                self.b.ins().uextend(types::I64, flag)
            }
            Op::FCmp(cond, a, b) => {
                let cc = float_cc(cond).ok_or_else(|| CompileError(format!("unsigned float compare in {v}")))?;
                let (a, b) = (self.value(a)?, self.value(b)?);
                let flag = self.b.ins().fcmp(cc, a, b);
                self.b.ins().uextend(types::I64, flag)
            }
            Op::Select(c, a, b) => {
                let (c, a, b) = (self.value(c)?, self.value(a)?, self.value(b)?);
                self.b.ins().select(c, a, b)
            }
            Op::Call { helper, ref args, ret } => return self.call(self.f.helper(helper).address, args, ret),
            Op::Guard { cond, expect, snapshot } => {
                let cond = self.value(cond)?;
                self.exit_if(cond, !expect, snapshot)?;
                return Ok(None);
            }
        };
        Ok(Some(result))
    }

    fn checked(&mut self, op: CheckedOp, a: Value, b: Value, s: SnapshotId) -> Result<clif::Value, CompileError> {
        let divisor = match self.f.inst(b).op {
            Op::IConst(d) => Some(d),
            _ => None,
        };
        let (a, b) = (self.value(a)?, self.value(b)?);
        let overflowing = match op {
            CheckedOp::Add => Some(self.b.ins().sadd_overflow(a, b)),
            CheckedOp::Sub => Some(self.b.ins().ssub_overflow(a, b)),
            CheckedOp::Mul => Some(self.b.ins().smul_overflow(a, b)),
            _ => None,
        };
        if let Some((r, overflow)) = overflowing {
            self.exit_if(overflow, true, s)?;
            return Ok(r);
        }
        match op {
            CheckedOp::Shl => {
                // Counts outside 0..=63 (negative ones are huge unsigned) leave, and so does a
                // shift that an arithmetic shift back does not undo.
                let too_far = self.b.ins().icmp_imm_s(IntCC::UnsignedGreaterThan, b, 63);
                self.exit_if(too_far, true, s)?;
                let r = self.b.ins().ishl(a, b);
                let back = self.b.ins().sshr(r, b);
                let lost = self.b.ins().icmp(IntCC::NotEqual, back, a);
                self.exit_if(lost, true, s)?;
                Ok(r)
            }
            _ => self.floor_divide(op == CheckedOp::FloorDiv, a, b, divisor, s),
        }
    }

    /// Python's `a // b` (`floor`) or `a % b`, leaving through `s` for a zero divisor and for
    /// `i64::MIN // -1`. A constant divisor skips the tests it cannot fail.
    fn floor_divide(
        &mut self,
        floor: bool,
        a: clif::Value,
        b: clif::Value,
        divisor: Option<i64>,
        s: SnapshotId,
    ) -> Result<clif::Value, CompileError> {
        match divisor {
            // A power of two: an arithmetic shift rounds towards negative infinity, and the
            // low bits are the non-negative remainder.
            Some(d) if d > 0 && d & (d - 1) == 0 => {
                return Ok(if floor {
                    self.b.ins().sshr_imm_s(a, i64::from(d.trailing_zeros()))
                } else {
                    self.b.ins().band_imm_s(a, d - 1)
                });
            }
            Some(d) if d != 0 && d != -1 => return Ok(self.python_division(floor, a, b)),
            _ => {}
        }
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.exit_if(zero, true, s)?;
        // x // -1 is -x (which overflows for i64::MIN), x % -1 is 0; the hardware division
        // would fault on i64::MIN / -1.
        let (minus_one, divide, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let result = self.b.append_block_param(done, types::I64);
        let is_minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
        self.b.ins().brif(is_minus_one, minus_one, &[], divide, &[]);
        self.b.switch_to_block(minus_one);
        let zero = self.iconst(0);
        let r = if floor {
            let (negated, overflow) = self.b.ins().ssub_overflow(zero, a);
            self.exit_if(overflow, true, s)?;
            negated
        } else {
            zero
        };
        self.b.ins().jump(done, &[BlockArg::Value(r)]);
        self.b.switch_to_block(divide);
        let r = self.python_division(floor, a, b);
        self.b.ins().jump(done, &[BlockArg::Value(r)]);
        self.b.switch_to_block(done);
        Ok(result)
    }

    /// `a // b` or `a % b` rounded as Python does, for `b` neither 0 nor -1: the truncating
    /// quotient and remainder, adjusted when the remainder is non-zero and its sign differs
    /// from the divisor's.
    fn python_division(&mut self, floor: bool, a: clif::Value, b: clif::Value) -> clif::Value {
        let q = self.b.ins().sdiv(a, b);
        let qb = self.b.ins().imul(q, b);
        let r = self.b.ins().isub(a, qb);
        let inexact = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let signs = self.b.ins().bxor(r, b);
        let signs_differ = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, signs, 0);
        let adjust = self.b.ins().band(inexact, signs_differ);
        if floor {
            let one = self.b.ins().uextend(types::I64, adjust);
            self.b.ins().isub(q, one)
        } else {
            let zero = self.iconst(0);
            let correction = self.b.ins().select(adjust, b, zero);
            self.b.ins().iadd(r, correction)
        }
    }

    /// A System V call of `target` through its address.
    fn call(&mut self, target: u64, args: &[Value], ret: Option<Type>) -> Result<Option<clif::Value>, CompileError> {
        let mut sig = Signature::new(CallConv::SystemV);
        let mut values = Vec::with_capacity(args.len());
        for &a in args {
            let ty = self.f.value_type(a).ok_or_else(|| CompileError(format!("call argument {a} has no type")))?;
            sig.params.push(AbiParam::new(clif_type(ty)));
            values.push(self.value(a)?);
        }
        sig.returns.extend(ret.map(|ty| AbiParam::new(clif_type(ty))));
        let sig = self.b.import_signature(sig);
        let callee = self.iconst(target as i64);
        let call = self.b.ins().call_indirect(sig, callee, &values);
        Ok(ret.map(|_| self.b.inst_results(call)[0]))
    }

    /// Fills the exit blocks: store the values, return `(snapshot + 1, 0)`.
    fn emit_exits(&mut self) -> Result<(), CompileError> {
        for (i, block) in self.exits.clone().into_iter().enumerate() {
            let Some(block) = block else { continue };
            self.b.switch_to_block(block);
            for (n, &value) in self.b.block_params(block).to_vec().iter().enumerate() {
                let offset = i32::try_from(8 * n).map_err(|_| CompileError(format!("s{i} saves too many values")))?;
                self.b.ins().store(mem_flags(), value, self.exit_buffer, offset);
            }
            let (exit, zero) = (self.iconst(i as i64 + 1), self.iconst(0));
            self.b.ins().return_(&[exit, zero]);
        }
        Ok(())
    }
}
