//! The specialization IR: a small SSA language with guards, shared by the front end (which
//! knows Python and CPython) and the backends (which know x86-64).
//!
//! A [`Function`] is a list of [`Block`]s. Each block has parameters (SSA values, which is how
//! values flow around loops), a list of instructions and one [`Terminator`]. Every value has a
//! machine [`Type`]: a 64-bit word (integers, booleans as 0/1, and pointers alike) or a double.
//!
//! Leaving compiled code is explicit: a [`Op::Guard`], an overflow-checked operation or an
//! [`Terminator::Exit`] names a [`Snapshot`], which says where the interpreter resumes
//! (bytecode offset, resume or raise) and what every frame slot that compiled code changed
//! must hold then, as a [`kinds::Kind`] plus the SSA values that carry it (a boxed int from
//! one word, a virtual range iterator from three). The backends know nothing of frames: on
//! exit they store the snapshot's values, in order, into the exit buffer and return the
//! snapshot's number; the runtime rebuilds the frame from the snapshot description.
//!
//! Calls name an entry of the function's helper table ([`helpers`]): a name for dumps, an
//! address for the backends and an [`Effect`] class for passes.
//!
//! The IR knows no CPython ABI: struct offsets, helper addresses and object pointers enter as
//! plain integers chosen by the front end, and helper names are plain strings.
//!
//! Entry convention of every compiled function (both backends):
//! `extern "sysv64" fn(args: *const u64, exit_buffer: *mut u64) -> Outcome`, where
//! [`Op::Param`]`(i)` reads `args[i]` and [`Outcome`] is `{ exit, value }`: `exit == 0` for a
//! normal return of `value`, else `exit == snapshot index + 1`.

pub mod addresses;
pub mod builder;
pub mod helpers;
pub mod text;
pub mod verify;

pub use builder::Builder;
pub use helpers::{Effect, Helper, HelperDecl, HelperId};
pub use kinds::{Kind, Repr, TypeTag};

use std::fmt;

/// An SSA value: the result of an instruction or a block parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Value(pub u32);

/// A basic block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block(pub u32);

/// A frame-state snapshot that guards point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SnapshotId(pub u32);

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}
impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}", self.0)
    }
}
impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// The machine type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// A 64-bit word: integer, boolean (0/1) or pointer.
    I64,
    /// An IEEE-754 double.
    F64,
}

/// The width and signedness of a memory access. Loads widen to `I64` (or `F64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mem {
    I64,
    I32,
    U32,
    U16,
    U8,
    F64,
}

impl Mem {
    /// The type of the value a load of this width produces (and a store takes).
    pub fn value_type(self) -> Type {
        if self == Mem::F64 {
            Type::F64
        } else {
            Type::I64
        }
    }
}

/// Two-operand integer operations that cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    /// Shift left by `b & 63`.
    Shl,
    /// Arithmetic shift right by `b & 63`.
    Sar,
}

/// Integer operations that leave compiled code (through their snapshot) instead of producing
/// a result that would differ from Python's exact integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckedOp {
    /// Signed addition; exits on overflow.
    Add,
    /// Signed subtraction; exits on overflow.
    Sub,
    /// Signed multiplication; exits on overflow.
    Mul,
    /// Python's `//` (rounds towards negative infinity); exits on a zero divisor or on
    /// `i64::MIN // -1`.
    FloorDiv,
    /// Python's `%` (the result has the divisor's sign); exits on a zero divisor.
    Mod,
    /// `a << b` for `0 <= b`; exits when bits would be lost or `b` is negative.
    Shl,
}

/// Double-precision operations (IEEE, in exactly this order: no fast-math).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Comparison conditions. Integer compares are signed unless marked unsigned; float compares
/// are ordered (false when either side is NaN) except `Ne`, which is true for NaN, as in Python.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    ULt,
    ULe,
    UGt,
    UGe,
}

/// What an instruction does.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// The `i`-th entry argument (a word).
    Param(u32),
    /// A block parameter (defined by the jumps into its block).
    BlockParam(Block, u32),
    IConst(i64),
    FConst(f64),
    /// Load from `base + offset`, widened to the value type.
    Load(Mem, Value, i32),
    /// Store `value` to `base + offset`, narrowed to the access width. No result.
    Store(Mem, Value, i32, Value),
    Int(IntOp, Value, Value),
    Checked(CheckedOp, Value, Value, SnapshotId),
    /// Integer negation; exits on `i64::MIN`.
    NegChecked(Value, SnapshotId),
    Float(FloatOp, Value, Value),
    FNeg(Value),
    /// Signed integer to double (exact for |x| <= 2^53; rounds like C otherwise).
    IntToFloat(Value),
    /// Integer compare, 0 or 1.
    ICmp(Cond, Value, Value),
    /// Float compare, 0 or 1.
    FCmp(Cond, Value, Value),
    /// `if c != 0 { a } else { b }`, all words or all doubles.
    Select(Value, Value, Value),
    /// A C call (System V) of the helper at `helper` in the function's table, with word or
    /// double arguments. `ret` is `None` for a function whose result is ignored.
    Call { helper: HelperId, args: Vec<Value>, ret: Option<Type> },
    /// Leave through `snapshot` unless `(cond != 0) == expect`. No result.
    Guard { cond: Value, expect: bool, snapshot: SnapshotId },
}

impl Op {
    /// The operands this instruction reads.
    pub fn operands(&self) -> Vec<Value> {
        match self {
            Op::Param(_) | Op::BlockParam(..) | Op::IConst(_) | Op::FConst(_) => vec![],
            Op::Load(_, b, _) => vec![*b],
            Op::Store(_, b, _, v) => vec![*b, *v],
            Op::Int(_, a, b) | Op::Checked(_, a, b, _) | Op::Float(_, a, b) => vec![*a, *b],
            Op::ICmp(_, a, b) | Op::FCmp(_, a, b) => vec![*a, *b],
            Op::NegChecked(a, _) | Op::FNeg(a) | Op::IntToFloat(a) => vec![*a],
            Op::Select(c, a, b) => vec![*c, *a, *b],
            Op::Call { args, .. } => args.clone(),
            Op::Guard { cond, .. } => vec![*cond],
        }
    }

    /// The snapshot this instruction may leave through.
    pub fn snapshot(&self) -> Option<SnapshotId> {
        match self {
            Op::Checked(.., s) | Op::NegChecked(_, s) => Some(*s),
            Op::Guard { snapshot, .. } => Some(*snapshot),
            _ => None,
        }
    }
}

/// One instruction and the type of its result (`None`: no result).
#[derive(Clone, Debug, PartialEq)]
pub struct InstData {
    pub op: Op,
    pub ty: Option<Type>,
}

/// A jump to a block with arguments for its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockCall {
    pub block: Block,
    pub args: Vec<Value>,
}

/// How a block ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Terminator {
    Jump(BlockCall),
    /// To `then` if `cond != 0`, else to `otherwise`.
    Branch { cond: Value, then: BlockCall, otherwise: BlockCall },
    /// Return a word.
    Return(Value),
    /// Leave unconditionally through a snapshot.
    Exit(SnapshotId),
}

impl Terminator {
    pub fn successors(&self) -> Vec<&BlockCall> {
        match self {
            Terminator::Jump(c) => vec![c],
            Terminator::Branch { then, otherwise, .. } => vec![then, otherwise],
            Terminator::Return(_) | Terminator::Exit(_) => vec![],
        }
    }

    /// The values this terminator reads (block arguments included).
    pub fn operands(&self) -> Vec<Value> {
        let mut ops = match self {
            Terminator::Branch { cond, .. } => vec![*cond],
            Terminator::Return(v) => vec![*v],
            _ => vec![],
        };
        for call in self.successors() {
            ops.extend(&call.args);
        }
        ops
    }
}

/// A basic block: parameters, instructions (values defined by [`InstData`]s), a terminator.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockData {
    pub params: Vec<Value>,
    pub insts: Vec<Value>,
    pub term: Terminator,
}

/// Where the interpreter takes over when compiled code leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitKind {
    /// Continue normally at the instruction at `pc`.
    Resume,
    /// An exception is pending: the instruction at `pc` raised it.
    Raise,
}

/// One frame slot that must be (re)written when leaving: it holds a value of `kind`, whose
/// run-time parts are `values` (one per machine word of its representation; none for
/// constants, one for unboxed and object kinds, several for virtual objects).
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotEntry {
    pub slot: u32,
    pub kind: Kind,
    pub values: Vec<Value>,
}

/// The frame state at a point where compiled code may leave.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub kind: ExitKind,
    /// Bytecode offset (in code units) of the instruction to resume at or that raised.
    pub pc: u32,
    /// Number of value-stack entries live in the frame at that point.
    pub stack_depth: u32,
    /// Why this exit exists, as a stable counter name (`int_overflow`, `type_guard`, ...):
    /// borrowed when it is a fixed name, as all but a few are (one allocation less for each
    /// of the thousands of snapshots a big function has).
    pub reason: std::borrow::Cow<'static, str>,
    /// Slots whose frame copy is stale, in slot order.
    pub entries: Vec<SnapshotEntry>,
}

impl Snapshot {
    /// The values the backends store into the exit buffer, in order.
    pub fn exit_values(&self) -> impl Iterator<Item = Value> + '_ {
        self.entries.iter().flat_map(|e| e.values.iter().copied())
    }
}

/// A function in the IR.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Function {
    pub name: String,
    /// Number of entry arguments ([`Op::Param`] indices are below it).
    pub num_params: u32,
    /// The helpers that calls name, indexed by [`HelperId`]. The [`Builder`] adds each one
    /// once; entries that no call names (any more) are allowed.
    pub helpers: Vec<Helper>,
    pub insts: Vec<InstData>,
    pub blocks: Vec<BlockData>,
    pub snapshots: Vec<Snapshot>,
}

impl Function {
    pub fn inst(&self, v: Value) -> &InstData {
        &self.insts[v.0 as usize]
    }

    pub fn block(&self, b: Block) -> &BlockData {
        &self.blocks[b.0 as usize]
    }

    pub fn snapshot(&self, s: SnapshotId) -> &Snapshot {
        &self.snapshots[s.0 as usize]
    }

    pub fn helper(&self, h: HelperId) -> &Helper {
        &self.helpers[h.0 as usize]
    }

    /// The type of a value (`None` for instructions without a result).
    pub fn value_type(&self, v: Value) -> Option<Type> {
        self.inst(v).ty
    }

    /// Largest number of words any exit stores into the exit buffer.
    pub fn exit_buffer_len(&self) -> usize {
        self.snapshots.iter().map(|s| s.exit_values().count()).max().unwrap_or(0)
    }

    pub fn block_ids(&self) -> impl Iterator<Item = Block> {
        (0..self.blocks.len() as u32).map(Block)
    }
}

/// What a compiled function returns (in `rax:rdx`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// 0: returned `value`; `n > 0`: left through snapshot `n - 1`.
    pub exit: u64,
    pub value: u64,
}
