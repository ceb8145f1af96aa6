//! The bytecode front end: CPython 3.11 bytecode to IR, specialized to the kinds of the live
//! values a call brings.
//!
//! It abstractly interprets the bytecode. Every frame slot (locals, then the value stack)
//! holds an abstract value ([`state::AbstractValue`]): an object stored in the frame itself,
//! an unboxed word or double carried in an SSA value, a compile-time constant, or a virtual
//! range iterator.
//!
//! Block versions, as in Psyco: each bytecode block may be compiled several times, once per
//! entry state (one [`SlotKind`] per live slot) that reaches it — so the first trip into a
//! loop, where a local is still unbound, and the following ones, where it holds a machine
//! integer, each get code of their own. States entering a loop head forget their constants
//! (so that a counter does not make a version per value), and past [`MAX_BLOCK_VERSIONS`]
//! versions of one block the last one becomes generic: it absorbs (joins) every further
//! state. Emission runs from the entry over a worklist of (block, version) pairs and is
//! repeated until no version's entry state changes; kinds only climb a finite lattice, so
//! this ends. The last round's IR is the result.
//!
//! Representation invariants, which every exit and every call relies on:
//! - a slot whose abstract value is `AbstractValue::Obj` holds an owned reference (or NULL)
//!   in the frame, exactly as the interpreter would;
//! - a *local* whose value is unboxed keeps in its frame slot NULL or a stale box of an
//!   earlier number (never an object whose lifetime matters: storing an unboxed value over a
//!   live object releases that object at once, as `STORE_FAST` does);
//! - a *stack* slot whose value is unboxed holds garbage in the frame.
//!
//! Leaving compiled code: a snapshot lists every slot that is not `AbstractValue::Obj`; the
//! runtime boxes or builds it. `Resume` exits are taken *before* an instruction with its
//! inputs on the stack (the interpreter re-executes it: overflow, a failed guard, a zero
//! divisor that must raise, an opcode or a case we do not compile); `Raise` exits are taken
//! after a helper failed, with the stack as the interpreter's `error:` path would see it.
//!
//! Where things are: [`code_info`] reads the code object, [`state`] is the abstract state,
//! [`versions`] the block-version fixpoint, [`frame`] slots, boxing, snapshots and exits,
//! [`generic`] operations through the C API, [`dispatch`] the opcode table, and [`ops`] one
//! module of handlers per opcode family.

mod balance;
mod code_info;
mod dispatch;
mod frame;
mod generic;
mod ops;
mod speculation;
mod state;
mod versions;

use crate::reasons::{DeclineReason, ExitReason};
use crate::cpython::{ffi::PyObject, PyCodeObject};
use crate::jit::side_tables::{OutOfMemory, SideTables};
use crate::profile::Profiles;
use balance::Balance;
use code_info::CodeInfo;
use ir::{Block, Builder, Kind, Value};
use state::EntryState;
use std::collections::HashMap;

// The type tags belong to the CPython bindings now; these paths stay for their users.
pub use crate::cpython::types::{type_of_tag, type_tag};
pub use state::SlotKind;
pub use versions::MAX_BLOCK_VERSIONS;

/// Why a function is not compiled: the reason (a counter in `stats()`) and, for internal
/// errors, what went wrong (in the log and `explain()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    pub reason: DeclineReason,
    pub detail: Option<String>,
}

/// The constant pool could not make an object: the front end's `?` on its results.
impl From<OutOfMemory> for Decline {
    fn from(_: OutOfMemory) -> Decline {
        DeclineReason::OutOfMemory.into()
    }
}

impl From<DeclineReason> for Decline {
    fn from(reason: DeclineReason) -> Decline {
        Decline { reason, detail: None }
    }
}

impl std::fmt::Display for Decline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {detail}", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

type Result<T> = std::result::Result<T, Decline>;

fn decline<T>(reason: DeclineReason) -> Result<T> {
    Err(reason.into())
}

/// A bug of the compiler, caught: the function runs interpreted.
fn internal<T>(detail: impl Into<String>) -> Result<T> {
    Err(Decline { reason: DeclineReason::Internal, detail: Some(detail.into()) })
}

/// Where compiled code starts running on its frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Start {
    /// At the first instruction of a fresh call; the entry kinds are the arguments' kinds.
    Call,
    /// At the instruction at `pc` with `depth` values on the stack: a frame that compiled code
    /// left through a failed guard continues in a version made for what the frame now holds.
    /// The entry kinds cover every local and stack slot: `Bottom` for NULL, `Object` for any
    /// object or NULL, boxed kinds only for stack slots (the frame owns those objects).
    Resume { pc: u32, depth: u32 },
}

/// What the runtime passes in about the code being compiled.
pub struct CompileRequest<'p> {
    pub code: *mut PyCodeObject,
    pub globals: *mut PyObject,
    pub builtins: *mut PyObject,
    /// Address of `tstate->interp->ceval.eval_breaker`.
    pub eval_breaker: u64,
    pub start: Start,
    /// Kinds of the slots live at the start (the version key; see [`Start`]).
    pub entry_kinds: Vec<Kind>,
    /// Decline code made mostly of generic operations (`DeclineReason::MostlyGeneric`, see `balance`).
    pub decline_generic: bool,
    /// What each free variable of the frame held when it was compiled (`IntConst` for an
    /// int that fits a word; empty when unknown). Compiled code speculates that they keep
    /// these kinds, behind a guard at every `LOAD_DEREF`.
    pub free_kinds: Vec<Kind>,
    /// Run the IR verifier on the result (debug builds and tests always; release builds when
    /// `PSYCO_VERIFY=1`): it costs as much as emitting, and only finds bugs of the compiler.
    pub verify: bool,
    /// The code's type profiles (`crate::profile`): read to specialize object operations,
    /// and filled by the generic ones this compilation emits for sites not profiled yet.
    pub profiles: Option<&'p Profiles>,
    /// Whether a loop of this version, once it has run a while with sites still being
    /// profiled, leaves to be compiled again with the profiles (`ExitReason::Reoptimize`).
    pub may_reoptimize: bool,
}

/// The result: the IR and the side tables its constants point into.
pub struct Output {
    pub func: ir::Function,
    pub tables: SideTables,
    /// Bytecode instructions compiled (for compile-time per instruction).
    pub instructions: usize,
    /// Why each snapshot of `func` leaves (indexed by `SnapshotId`).
    pub exit_reasons: Vec<ExitReason>,
}

/// What one compilation cost the front end, for `stats()` (filled in whether it succeeds or
/// declines).
#[derive(Clone, Copy, Debug, Default)]
pub struct CompileCost {
    /// Emission rounds of the block-version fixpoint.
    pub rounds: u32,
    /// Time in the IR verifier (part of the front end's time).
    pub verify_ns: u64,
}

/// Compiles one code object for one entry key.
pub fn compile(req: &CompileRequest<'_>, cost: &mut CompileCost) -> Result<Output> {
    // SAFETY: the request's code object is live (GIL held).
    let quickened = unsafe { crate::feedback::quickened(req.code) };
    // Code the interpreter has warmed up is judged on its evidence before anything is
    // emitted (`balance`'s first moment).
    let judged = quickened.as_deref().map(crate::feedback::Balance::of);
    if req.decline_generic && judged.is_some_and(|balance| balance.mostly_generic()) {
        return decline(DeclineReason::MostlyGeneric);
    }
    let mut fe = Frontend::new(req, quickened)?;
    let func = fe.fixpoint(cost)?;
    if req.verify {
        let began = std::time::Instant::now();
        let verified = ir::verify::verify(&func);
        cost.verify_ns += began.elapsed().as_nanos() as u64;
        if let Err(e) = verified {
            return internal(format!("IR does not verify: {e}"));
        }
    }
    let instructions = fe.code.instrs.len();
    Ok(Output { func, tables: std::mem::take(&mut fe.tables), instructions, exit_reasons: std::mem::take(&mut fe.exit_reasons) })
}

/// One compilation: the code read once, the fixpoint's state across rounds, and the round
/// being emitted. Its methods are spread over this module's children, one concern each.
struct Frontend<'r> {
    req: &'r CompileRequest<'r>,
    code: CodeInfo,
    /// Entry states of each block's versions.
    entry_states: HashMap<u32, Vec<EntryState>>,
    changed: bool,
    tables: SideTables,
    // Per round:
    ir: Builder,
    /// This round's IR block for each (bytecode block, version), with the entry state its
    /// parameters were made for (a generic version may widen later in the round).
    ir_blocks: HashMap<(u32, usize), (Block, EntryState)>,
    /// The last round's IR instructions, blocks and snapshots (the next round reserves them).
    last_round_size: Option<(usize, usize, usize)>,
    /// (block, version) pairs reached this round and not yet emitted.
    worklist: Vec<(u32, usize)>,
    frame: Value,
    tstate: Value,
    /// The `KW_NAMES` constant waiting for the next `CALL`.
    kwnames: Option<*mut PyObject>,
    /// The instruction being emitted (where a failure to box raises).
    current_pc: u32,
    /// Whether this round's code pays compiled, and which instructions may be native.
    balance: Balance,
    native_capable: Vec<bool>,
    /// The code as the interpreter quickened it, when it did: its inline caches are type
    /// feedback (`crate::feedback`), and its evidence judged the code already.
    quickened: Option<Vec<u16>>,
    /// Whether this compilation profiles for a later one (`Frontend::profile_site`): its
    /// back-edges then leave once to have the code compiled again. Set as such a site is
    /// emitted and kept across rounds, so that the last round's back-edges all see it.
    profiling: bool,
    /// Whether the code being emitted is a slow path (`generic_fallback`): there boxing calls
    /// its helper rather than taking a float off the free list inline (nbody's `advance`
    /// re-boxed its float locals in each of its slow paths, a third of its IR).
    cold: bool,
    /// Whether the code being emitted is the body of an inlined call (`ops::inline`): its
    /// exits, taken before the call, all leave as `ExitReason::InlinedCallFailed`.
    inlining: bool,
    /// Why each of this round's snapshots leaves (indexed by `SnapshotId`).
    exit_reasons: Vec<ExitReason>,
}

impl<'r> Frontend<'r> {
    /// `quickened`: the code's quickened bytecode, if the interpreter warmed it up.
    fn new(req: &'r CompileRequest<'r>, quickened: Option<Vec<u16>>) -> Result<Frontend<'r>> {
        let code = CodeInfo::read(req.code)?;
        let keyed = match req.start {
            Start::Call => code.nargs,
            Start::Resume { depth, .. } => code.nlocals + depth as usize,
        };
        if req.entry_kinds.len() != keyed {
            return internal("entry kinds do not match the code");
        }
        if !req.free_kinds.is_empty() && req.free_kinds.len() != code.nfree {
            return internal("free-variable kinds do not match the code");
        }
        let native_capable = balance::native_capable(&code.instrs, quickened.as_deref());
        Ok(Frontend {
            req,
            code,
            entry_states: HashMap::new(),
            changed: false,
            tables: SideTables::default(),
            ir: Builder::new("", 2),
            ir_blocks: HashMap::new(),
            last_round_size: None,
            worklist: Vec::new(),
            frame: Value(0),
            tstate: Value(0),
            kwnames: None,
            current_pc: 0,
            balance: Balance::default(),
            native_capable,
            quickened,
            profiling: false,
            cold: false,
            inlining: false,
            exit_reasons: Vec::new(),
        })
    }
}
