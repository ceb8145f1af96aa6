//! The bytecode front end: CPython 3.11 bytecode to IR, specialized to the kinds of the live
//! values a call brings.
//!
//! It abstractly interprets the bytecode. Every frame slot (locals, then the value stack)
//! holds an abstract value ([`AV`]): an object stored in the frame itself, an unboxed word or
//! double carried in an SSA value, a compile-time constant, or a virtual range iterator.
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
//! - a slot whose abstract value is `AV::Obj` holds an owned reference (or NULL) in the
//!   frame, exactly as the interpreter would;
//! - a *local* whose value is unboxed keeps in its frame slot NULL or a stale box of an
//!   earlier number (never an object whose lifetime matters: storing an unboxed value over a
//!   live object releases that object at once, as `STORE_FAST` does);
//! - a *stack* slot whose value is unboxed holds garbage in the frame.
//!
//! Leaving compiled code: a snapshot lists every slot that is not `AV::Obj`; the runtime
//! boxes or builds it. `Resume` exits are taken *before* an instruction with its inputs on
//! the stack (the interpreter re-executes it: overflow, a failed guard, a zero divisor that
//! must raise); `Raise` exits are taken after a helper failed, with the stack as the
//! interpreter's `error:` path would see it.

use crate::bytecode::{self, Instr};
use crate::cpython::{self, ffi, ffi::PyObject, PyCodeObject};
use crate::helpers::{self, StackOp};
use crate::opcodes::*;
use crate::jit::side_tables::{load_global, ConstPool, DirectSite, GlobalSite, SideTables};
use ir::{Block, Builder, CheckedOp, Cond, ExitKind, FloatOp, IntOp, Kind, Mem, SnapshotEntry, SnapshotId, Type, TypeTag, Value};
use std::collections::{BTreeSet, HashMap};

/// Why a function is not compiled; becomes a counter in `stats()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline(pub String);

type Result<T> = std::result::Result<T, Decline>;

fn decline<T>(why: impl Into<String>) -> Result<T> {
    Err(Decline(why.into()))
}

/// What is known of a slot at a block entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotKind {
    /// NULL (an unbound local, or the NULL that `LOAD_GLOBAL` pushes before a callable).
    Null,
    /// An object in the frame that may be NULL.
    MaybeNull,
    /// A value of this kind (in the representation `Kind::repr` says).
    Is(Kind),
}

impl SlotKind {
    fn join(self, other: SlotKind) -> SlotKind {
        use SlotKind::*;
        match (self, other) {
            (Null, Null) => Null,
            (Null, _) | (_, Null) | (MaybeNull, _) | (_, MaybeNull) => MaybeNull,
            (Is(a), Is(b)) => Is(a.join(b)),
        }
    }
}

/// An abstract value: what one frame slot holds while compiled code runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum AV {
    /// The object (or NULL) lives in the frame slot, owned by the frame.
    Obj(SlotKind),
    /// An unboxed `MachineInt` or `MachineBool`.
    Word(Kind, Value),
    /// An unboxed float.
    Double(Value),
    /// A compile-time constant kind.
    Const(Kind),
    /// A virtual range iterator: next value, stop, step.
    Range(Value, Value, Value),
}

impl AV {
    fn slot_kind(self) -> SlotKind {
        match self {
            AV::Obj(k) => k,
            AV::Word(k, _) => SlotKind::Is(k),
            AV::Double(_) => SlotKind::Is(Kind::UnboxedFloat),
            AV::Const(k) => SlotKind::Is(k),
            AV::Range(..) => SlotKind::Is(Kind::VirtualRangeIter),
        }
    }

    /// The machine words a snapshot or a block argument carries for this value.
    fn parts(self) -> Vec<Value> {
        match self {
            AV::Word(_, v) | AV::Double(v) => vec![v],
            AV::Range(a, b, c) => vec![a, b, c],
            AV::Obj(_) | AV::Const(_) => vec![],
        }
    }

    fn is_int(self) -> bool {
        matches!(self, AV::Word(Kind::MachineInt, _) | AV::Const(Kind::IntConst(_)))
    }

    fn is_float(self) -> bool {
        matches!(self, AV::Double(_) | AV::Const(Kind::FloatConst(_)))
    }
}

/// The abstract frame: locals then value stack.
#[derive(Clone, Debug)]
struct State {
    slots: Vec<AV>,
    depth: usize,
    /// Per local: whether its frame slot already holds a box of its current unboxed value
    /// (so that callees, which may look at the frame, see it without boxing it again).
    synced: Vec<bool>,
}

/// A block entry state, the key of the fixpoint.
/// What each live slot holds, the stack depth, and per local whether its frame slot holds a
/// box of its unboxed value (see `State::synced`; a version may require it).
type EntryState = (Vec<SlotKind>, usize, Vec<bool>);

/// Versions of one bytecode block before the last one turns generic.
pub const MAX_BLOCK_VERSIONS: usize = 4;

/// Whether a value of kind `from` can enter a block version that expects `to`.
fn fits(from: SlotKind, to: SlotKind) -> bool {
    match (from, to) {
        (_, SlotKind::MaybeNull) => true,
        (SlotKind::Null, SlotKind::Null) => true,
        (SlotKind::Is(a), SlotKind::Is(b)) => a.le(b),
        _ => false,
    }
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
pub struct CompileRequest {
    pub code: *mut PyCodeObject,
    pub globals: *mut PyObject,
    pub builtins: *mut PyObject,
    /// Address of `tstate->interp->ceval.eval_breaker`.
    pub eval_breaker: u64,
    pub start: Start,
    /// Kinds of the slots live at the start (the version key; see [`Start`]).
    pub entry_kinds: Vec<Kind>,
    /// Decline code made mostly of generic operations ([`MOSTLY_GENERIC`]).
    pub decline_generic: bool,
    /// What each free variable of the frame held when it was compiled (`IntConst` for an
    /// int that fits a word; empty when unknown). Compiled code speculates that they keep
    /// these kinds, behind a guard at every `LOAD_DEREF`.
    pub free_kinds: Vec<Kind>,
    /// Run the IR verifier on the result (debug builds and tests always; release builds when
    /// `PSYCO_VERIFY=1`): it costs as much as emitting, and only finds bugs of the compiler.
    pub verify: bool,
}

/// The result: the IR and the side tables its constants point into.
pub struct Output {
    pub func: ir::Function,
    pub tables: SideTables,
    /// Bytecode instructions compiled (for compile-time per instruction).
    pub instructions: usize,
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
pub fn compile(req: &CompileRequest, cost: &mut CompileCost) -> Result<Output> {
    let mut fe = Frontend::new(req)?;
    for _round in 0..32 {
        fe.changed = false;
        cost.rounds += 1;
        let func = fe.emit_round()?;
        if !fe.changed {
            if req.verify {
                let began = std::time::Instant::now();
                let verified = ir::verify::verify(&func);
                cost.verify_ns += began.elapsed().as_nanos() as u64;
                if let Err(e) = verified {
                    return decline(format!("internal: IR does not verify: {e}"));
                }
            }
            // Generic operations through the C API are slower than the interpreter's own
            // specialized instructions (3.11 quickens attribute access, float arithmetic,
            // subscripts...): code made mostly of them stays interpreted.
            if req.decline_generic && fe.generic_ops > 2 * fe.native_ops {
                return decline(MOSTLY_GENERIC);
            }
            let instructions = fe.instrs.len();
            return Ok(Output { func, tables: std::mem::take(&mut fe.tables), instructions });
        }
    }
    decline("no fixpoint for block kinds")
}

/// The reason given for code that would run slower compiled (see [`compile`]).
pub const MOSTLY_GENERIC: &str = "mostly generic operations (the interpreter is faster)";

const FLAGS_DECLINED: i32 = cpython::CO_GENERATOR
    | cpython::CO_COROUTINE
    | cpython::CO_ITERABLE_COROUTINE
    | cpython::CO_ASYNC_GENERATOR;

struct Frontend<'r> {
    req: &'r CompileRequest,
    code: *mut PyCodeObject,
    instrs: Vec<Instr>,
    by_start: HashMap<u32, usize>,
    block_starts: BTreeSet<u32>,
    /// Targets of backward jumps.
    loop_heads: BTreeSet<u32>,
    nlocals: usize,
    nargs: usize,
    stacksize: usize,
    /// Slots holding cells (cell and free variables): always objects.
    cell_slots: Vec<bool>,
    /// Cell slots this code rebinds (`STORE_DEREF`, `DELETE_DEREF`): their values change
    /// while it runs, so only their types are speculated on.
    rebound_cells: BTreeSet<usize>,
    /// The exception table: where an exception raised by an instruction is handled.
    handlers: Vec<Handler>,
    /// Entry states of each block's versions.
    entry_states: HashMap<u32, Vec<EntryState>>,
    changed: bool,
    tables: SideTables,
    // Per round:
    b: Builder,
    /// This round's IR block for each (bytecode block, version), with the entry state its
    /// parameters were made for (a generic version may widen later in the round).
    ir_blocks: HashMap<(u32, usize), (Block, EntryState)>,
    /// (block, version) pairs reached this round and not yet emitted.
    worklist: Vec<(u32, usize)>,
    frame: Value,
    tstate: Value,
    /// The `KW_NAMES` constant waiting for the next `CALL`.
    kwnames: Option<*mut PyObject>,
    /// The instruction being emitted (where a failure to box raises).
    current_pc: u32,
    /// This round's operations that the interpreter would specialize but we emit through
    /// the generic C API, and operations we specialize (unboxed arithmetic, virtual ranges).
    generic_ops: usize,
    native_ops: usize,
}

impl<'r> Frontend<'r> {
    fn new(req: &'r CompileRequest) -> Result<Frontend<'r>> {
        let code = req.code;
        // SAFETY: `code` is the live code object of the frame being compiled (GIL held).
        let (flags, nlocals, nargs, stacksize, cell_slots, units, handlers) = unsafe {
            let c = &*code;
            let bytes = cpython::PyCode_GetCode(code);
            if bytes.is_null() {
                ffi::PyErr_Clear();
                return decline("no bytecode");
            }
            let len = ffi::PyBytes_Size(bytes) as usize;
            let ptr = ffi::PyBytes_AsString(bytes) as *const u8;
            let units: Vec<u16> =
                std::slice::from_raw_parts(ptr, len).chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
            ffi::Py_DECREF(bytes);
            let table = c.co_exceptiontable;
            let handlers = parse_exception_table(std::slice::from_raw_parts(
                ffi::PyBytes_AsString(table) as *const u8,
                ffi::PyBytes_Size(table) as usize,
            ));
            let kinds = c.co_localspluskinds;
            let kinds = std::slice::from_raw_parts(ffi::PyBytes_AsString(kinds) as *const u8, ffi::PyBytes_Size(kinds) as usize);
            let cell_slots: Vec<bool> = kinds.iter().map(|k| k & (cpython::CO_FAST_CELL | cpython::CO_FAST_FREE) != 0).collect();
            let nargs = c.co_argcount
                + c.co_kwonlyargcount
                + ((c.co_flags & cpython::CO_VARARGS) != 0) as i32
                + ((c.co_flags & cpython::CO_VARKEYWORDS) != 0) as i32;
            (
                c.co_flags,
                c.co_nlocalsplus as usize,
                nargs as usize,
                c.co_stacksize as usize,
                cell_slots,
                units,
                handlers,
            )
        };
        if flags & FLAGS_DECLINED != 0 {
            return decline("generator or coroutine");
        }
        let keyed = match req.start {
            Start::Call => nargs,
            Start::Resume { depth, .. } => nlocals + depth as usize,
        };
        if req.entry_kinds.len() != keyed {
            return decline("internal: entry kinds do not match the code");
        }
        // SAFETY: reading a field of the live code object.
        let nfree = unsafe { (*code).co_nfreevars } as usize;
        if !req.free_kinds.is_empty() && req.free_kinds.len() != nfree {
            return decline("internal: free-variable kinds do not match the code");
        }
        let instrs = bytecode::decode(&units);
        let by_start = instrs.iter().enumerate().map(|(i, ins)| (ins.start, i)).collect();
        let mut block_starts = BTreeSet::from([0]);
        let mut loop_heads = BTreeSet::new();
        for ins in &instrs {
            if let Some(t) = ins.jump_target() {
                block_starts.insert(t);
                block_starts.insert(ins.next);
                if t <= ins.start {
                    loop_heads.insert(t);
                }
            }
            if !ins.falls_through() {
                block_starts.insert(ins.next);
            }
        }
        block_starts.extend(handlers.iter().map(|h| h.target));
        let rebound_cells = instrs.iter().filter(|i| matches!(i.opcode, STORE_DEREF | DELETE_DEREF)).map(|i| i.arg as usize).collect();
        let mut fe = Frontend {
            req,
            code,
            instrs,
            by_start,
            block_starts,
            loop_heads,
            nlocals,
            nargs,
            stacksize,
            cell_slots,
            rebound_cells,
            handlers,
            entry_states: HashMap::new(),
            changed: false,
            tables: SideTables::default(),
            b: Builder::new("", 2),
            ir_blocks: HashMap::new(),
            worklist: Vec::new(),
            frame: Value(0),
            tstate: Value(0),
            kwnames: None,
            current_pc: 0,
            generic_ops: 0,
            native_ops: 0,
        };
        fe.tables.consts = ConstPool::default();
        Ok(fe)
    }

    // ----- rounds and blocks -------------------------------------------------------------

    fn emit_round(&mut self) -> Result<ir::Function> {
        // SAFETY: co_qualname is a str of the live code object.
        let name = unsafe { cpython::str_of((*self.code).co_qualname) };
        self.b = Builder::new(&name, 2);
        self.ir_blocks.clear();
        self.tables.sites.clear();
        self.tables.direct_sites.clear();
        self.tables.consts = ConstPool::default();
        let entry = self.b.create_block(&[]);
        self.b.switch_to(entry);
        self.frame = self.b.param(0);
        self.tstate = self.b.param(1);
        self.worklist.clear();
        (self.generic_ops, self.native_ops) = (0, 0);
        let state = self.entry_state()?;
        let start_pc = match self.req.start {
            Start::Call => 0,
            Start::Resume { pc, .. } => pc,
        };
        if !self.by_start.contains_key(&start_pc) {
            return decline("internal: resuming between instructions");
        }
        self.emit_from(start_pc, state)?;
        while let Some((start, version)) = self.worklist.pop() {
            // Keep emitting after a widening (this round is discarded then, but going on
            // finds the other widenings it needs, so fewer rounds are needed).
            let (block, entry) = self.ir_blocks[&(start, version)].clone();
            self.b.switch_to(block);
            let state = self.state_from_params(block, &entry);
            self.emit_from(start, state)?;
        }
        let b = std::mem::replace(&mut self.b, Builder::new("", 2));
        // Blocks created for targets whose state changed this round may be unterminated;
        // the round is then discarded anyway.
        if self.changed {
            return Ok(ir::Function::default());
        }
        Ok(b.finish())
    }

    /// The state where the code starts: keyed slots from the live kinds (unboxed where the
    /// kind says so, the frame keeping the box), the rest unbound.
    fn entry_state(&mut self) -> Result<State> {
        let mut slots = vec![AV::Obj(SlotKind::Null); self.nlocals + self.stacksize];
        let (depth, synced_locals) = match self.req.start {
            Start::Call => (0, self.nargs),
            Start::Resume { depth, .. } => (depth as usize, self.nlocals),
        };
        for (i, &kind) in self.req.entry_kinds.iter().enumerate() {
            let kind = if i < self.cell_slots.len() && self.cell_slots[i] && kind != Kind::Bottom { Kind::Object } else { kind };
            slots[i] = match kind {
                Kind::Bottom => AV::Obj(SlotKind::Null),
                // A call's arguments are never NULL; a resumed frame's untyped slots may be.
                Kind::Object if self.req.start != Start::Call => AV::Obj(SlotKind::MaybeNull),
                k if k.repr() == ir::Repr::Object => AV::Obj(SlotKind::Is(k)),
                k if i >= self.nlocals => return decline(format!("internal: unboxed stack entry kind {k}")),
                Kind::MachineInt => {
                    let obj = self.b.load(Mem::I64, self.frame, slot_offset(i));
                    AV::Word(Kind::MachineInt, self.unbox_int(obj))
                }
                Kind::UnboxedFloat => {
                    let obj = self.b.load(Mem::I64, self.frame, slot_offset(i));
                    AV::Double(self.b.load(Mem::F64, obj, FLOAT_VALUE_OFFSET))
                }
                Kind::MachineBool => {
                    let obj = self.b.load(Mem::I64, self.frame, slot_offset(i));
                    let t = self.b.iconst(true_ptr());
                    AV::Word(Kind::MachineBool, self.b.icmp(Cond::Eq, obj, t))
                }
                k => return decline(format!("internal: entry kind {k}")),
            };
        }
        let synced = (0..self.nlocals).map(|i| i < synced_locals).collect();
        Ok(State { slots, depth, synced })
    }

    /// The IR block for version `version` of the bytecode block at `start`, created (and
    /// queued for emission) with parameters for `entry` on first use in this round.
    fn ir_block(&mut self, start: u32, version: usize, entry: &EntryState) -> Block {
        if let Some((b, _)) = self.ir_blocks.get(&(start, version)) {
            return *b;
        }
        let mut types = Vec::new();
        for sk in entry.0.iter() {
            if let SlotKind::Is(k) = sk {
                match k.repr() {
                    ir::Repr::Word => types.push(Type::I64),
                    ir::Repr::Double => types.push(Type::F64),
                    ir::Repr::Virtual(n) => types.extend(std::iter::repeat_n(Type::I64, n as usize)),
                    _ => {}
                }
            }
        }
        let block = self.b.create_block(&types);
        self.ir_blocks.insert((start, version), (block, entry.clone()));
        self.worklist.push((start, version));
        block
    }

    fn state_from_params(&mut self, block: Block, entry: &EntryState) -> State {
        let params = self.b.block_params(block).to_vec();
        let mut next = params.into_iter();
        let mut slots = vec![AV::Obj(SlotKind::Null); self.nlocals + self.stacksize];
        let live = self.nlocals + entry.1;
        for (i, sk) in entry.0.iter().enumerate().take(live) {
            slots[i] = match *sk {
                SlotKind::Is(k) => match k.repr() {
                    ir::Repr::Constant => AV::Const(k),
                    ir::Repr::Word => AV::Word(k, next.next().unwrap()),
                    ir::Repr::Double => AV::Double(next.next().unwrap()),
                    ir::Repr::Virtual(_) => {
                        AV::Range(next.next().unwrap(), next.next().unwrap(), next.next().unwrap())
                    }
                    _ => AV::Obj(*sk),
                },
                other => AV::Obj(other),
            };
        }
        State { slots, depth: entry.1, synced: entry.2.clone() }
    }

    /// Ends the current IR block with a jump to the bytecode block at `target`, converting
    /// the state to the target's entry representation.
    fn jump_to(&mut self, st: &State, target: u32) -> Result<()> {
        let live = self.nlocals + st.depth;
        let generalize = self.loop_heads.contains(&target);
        let incoming: Vec<SlotKind> = st.slots[..live]
            .iter()
            .map(|av| match av.slot_kind() {
                SlotKind::Is(k) if generalize => SlotKind::Is(k.generalize()),
                sk => sk,
            })
            .collect();
        // Only unboxed locals have a box to keep (its identity matters: see `box_shared`).
        let synced: Vec<bool> =
            (0..self.nlocals).map(|i| st.synced[i] && matches!(st.slots[i], AV::Word(..) | AV::Double(_))).collect();
        let versions = self.entry_states.entry(target).or_default();
        if versions.iter().any(|(_, depth, _)| *depth != st.depth) {
            return decline("stack depth differs at a join");
        }
        let fits_version = |(kinds, _, needs_sync): &EntryState| {
            kinds.iter().zip(&incoming).all(|(k, i)| fits(*i, *k)) && needs_sync.iter().zip(&synced).all(|(n, s)| !n || *s)
        };
        let fitting = versions
            .iter()
            .position(|(kinds, _, needs_sync)| *kinds == incoming && *needs_sync == synced)
            .or_else(|| versions.iter().position(fits_version));
        let version = match fitting {
            Some(v) => v,
            None if versions.len() < MAX_BLOCK_VERSIONS => {
                // A new version: nothing emitted so far depends on it.
                versions.push((incoming, st.depth, synced));
                versions.len() - 1
            }
            None => {
                // The last version is the generic one: it absorbs every further state. Code
                // already emitted for it is then stale, so the round is redone; end the
                // block so that the builder stays consistent.
                let last = versions.len() - 1;
                let joined = versions[last].0.iter().zip(&incoming).map(|(a, b)| a.join(*b)).collect();
                versions[last].0 = joined;
                let both = versions[last].2.iter().zip(&synced).map(|(a, b)| *a && *b).collect();
                versions[last].2 = both;
                self.changed = true;
                let dead = self.b.iconst(0);
                self.b.ret(dead);
                return Ok(());
            }
        };
        let joined = versions[version].clone();
        let mut st = st.clone();
        let mut args = Vec::new();
        for i in 0..live {
            let target_kind = joined.0[i];
            match target_kind {
                SlotKind::Is(k) if k.repr() != ir::Repr::Object => {
                    args.extend(self.convert(st.slots[i], k)?);
                }
                _ => self.store_in_frame(&mut st, i)?,
            }
        }
        let block = self.ir_block(target, version, &joined);
        self.b.jump(block, &args);
        Ok(())
    }

    /// The block arguments that carry `av` as a value of the (non-object) kind `k`.
    fn convert(&mut self, av: AV, k: Kind) -> Result<Vec<Value>> {
        Ok(match (av, k.repr()) {
            (_, ir::Repr::Constant) => vec![],
            (AV::Const(Kind::IntConst(c)), ir::Repr::Word) => vec![self.b.iconst(c)],
            (AV::Const(Kind::BoolConst(c)), ir::Repr::Word) => vec![self.b.iconst(c as i64)],
            (AV::Const(Kind::FloatConst(bits)), ir::Repr::Double) => vec![self.b.fconst(f64::from_bits(bits))],
            (av, _) => av.parts(),
        })
    }

    /// Emits the bytecode block at `start` from state `st`.
    fn emit_from(&mut self, start: u32, mut st: State) -> Result<()> {
        self.kwnames = None;
        self.emit_instrs(&mut st, start, true)
    }

    /// Emits instructions from `pc` until one ends the IR block, or until the next bytecode
    /// block starts (jumping to it). `entering` says that `pc` itself starts the block being
    /// emitted; otherwise reaching a block start at once jumps there.
    fn emit_instrs(&mut self, st: &mut State, pc: u32, entering: bool) -> Result<()> {
        let mut index = self.by_start[&pc];
        loop {
            let ins = self.instrs[index];
            if !(entering && ins.start == pc) && self.block_starts.contains(&ins.start) {
                return self.jump_to(st, ins.start);
            }
            if !self.emit_instr(st, &ins)? {
                return Ok(());
            }
            index += 1;
            if index >= self.instrs.len() {
                return decline("fell off the end of the bytecode");
            }
        }
    }

    // ----- frame slots, boxing, snapshots ------------------------------------------------

    fn stack_index(&self, st: &State, from_top: usize) -> usize {
        self.nlocals + st.depth - from_top
    }

    fn push(&mut self, st: &mut State, av: AV) {
        let i = self.nlocals + st.depth;
        st.slots[i] = av;
        st.depth += 1;
    }

    fn pop(&mut self, st: &mut State) -> AV {
        st.depth -= 1;
        st.slots[self.nlocals + st.depth]
    }

    fn top(&self, st: &State, from_top: usize) -> AV {
        st.slots[self.stack_index(st, from_top)]
    }

    fn slot_address(&mut self, i: usize) -> Value {
        let off = self.b.iconst(slot_offset(i) as i64);
        self.b.int(IntOp::Add, self.frame, off)
    }

    fn load_slot(&mut self, i: usize) -> Value {
        self.b.load(Mem::I64, self.frame, slot_offset(i))
    }

    fn store_slot(&mut self, i: usize, v: Value) {
        self.b.store(Mem::I64, self.frame, slot_offset(i), v);
    }

    fn incref(&mut self, obj: Value) {
        let rc = self.b.load(Mem::I64, obj, 0);
        let one = self.b.iconst(1);
        let rc1 = self.b.int(IntOp::Add, rc, one);
        self.b.store(Mem::I64, obj, 0, rc1);
    }

    /// `Py_XDECREF`, inline: only freeing the object is a call.
    fn xdecref(&mut self, obj: Value) {
        let (live, free, done) = (self.b.create_block(&[]), self.b.create_block(&[]), self.b.create_block(&[]));
        let null = self.b.iconst(0);
        let is_live = self.b.icmp(Cond::Ne, obj, null);
        self.b.branch(is_live, live, &[], done, &[]);
        self.b.switch_to(live);
        let rc = self.b.load(Mem::I64, obj, 0);
        let one = self.b.iconst(1);
        let rc1 = self.b.int(IntOp::Sub, rc, one);
        self.b.store(Mem::I64, obj, 0, rc1);
        let zero = self.b.iconst(0);
        let dead = self.b.icmp(Cond::Eq, rc1, zero);
        self.b.branch(dead, free, &[], done, &[]);
        self.b.switch_to(free);
        // A finalizer may look at the frame (a warning's line number): point it here.
        self.set_prev_instr(self.current_pc);
        self.b.call(cpython::_Py_Dealloc as *const () as u64, &[obj], None);
        self.b.jump(done, &[]);
        self.b.switch_to(done);
    }

    /// The value of an int object that the version's key says fits a machine word: inline
    /// for zero and one-digit ints (`ob_size` in -1..=1 times the digit), else a call.
    fn unbox_int(&mut self, obj: Value) -> Value {
        let size = self.b.load(Mem::I64, obj, cpython::OFFSET_OB_SIZE);
        let one = self.b.iconst(1);
        let shifted = self.b.int(IntOp::Add, size, one);
        let three = self.b.iconst(3);
        let small = self.b.icmp(Cond::ULt, shifted, three);
        self.diamond(
            small,
            |fe| {
                let digit = fe.b.load(Mem::U32, obj, cpython::OFFSET_LONG_DIGIT);
                fe.b.int(IntOp::Mul, digit, size)
            },
            |fe| fe.b.call(helpers::unbox_int as *const () as u64, &[obj], Some(Type::I64)),
        )
    }

    /// A new reference to a pooled constant object.
    fn const_object(&mut self, id: u32) -> Value {
        let ptr = self.tables.consts.get(id) as i64;
        let v = self.b.iconst(ptr);
        self.incref(v);
        v
    }

    /// A new reference to the boxed form of a non-frame value. `snapshot` is taken if boxing
    /// fails (out of memory).
    fn boxed(&mut self, av: AV, on_failure: SnapshotId) -> Result<Value> {
        let obj = match av {
            AV::Word(Kind::MachineBool, v) => {
                let (t, f) = (self.b.iconst(true_ptr()), self.b.iconst(false_ptr()));
                let obj = self.b.select(v, t, f);
                self.incref(obj);
                return Ok(obj);
            }
            AV::Word(_, v) => {
                // Small ints are cached objects: take one by address, as CPython does.
                let min = self.b.iconst(-cpython::SMALL_INT_MIN);
                let index = self.b.int(IntOp::Add, v, min);
                let count = self.b.iconst(cpython::SMALL_INT_COUNT);
                let cached = self.b.icmp(Cond::ULt, index, count);
                self.diamond(
                    cached,
                    |fe| {
                        let shift = fe.b.iconst(cpython::SMALL_INT_SIZE.trailing_zeros() as i64);
                        let offset = fe.b.int(IntOp::Shl, index, shift);
                        let base = fe.b.iconst(cpython::small_ints() as i64);
                        let obj = fe.b.int(IntOp::Add, base, offset);
                        fe.incref(obj);
                        obj
                    },
                    |fe| fe.b.call(helpers::box_int as *const () as u64, &[v], Some(Type::I64)),
                )
            }
            AV::Double(v) => self.b.call(helpers::box_float as *const () as u64, &[v], Some(Type::I64)),
            AV::Const(Kind::IntConst(c)) => {
                let id = self.tables.consts.add_int(c)?;
                return Ok(self.const_object(id));
            }
            AV::Const(Kind::FloatConst(bits)) => {
                let id = self.tables.consts.add_float(f64::from_bits(bits))?;
                return Ok(self.const_object(id));
            }
            AV::Const(Kind::BoolConst(b)) => {
                let v = self.b.iconst(if b { true_ptr() } else { false_ptr() });
                self.incref(v);
                return Ok(v);
            }
            AV::Const(Kind::ObjConst(_, id)) => return Ok(self.const_object(id)),
            AV::Range(a, b, c) => {
                self.b.call(materialize_range_iter as *const () as u64, &[a, b, c], Some(Type::I64))
            }
            AV::Const(k) | AV::Obj(SlotKind::Is(k)) => return decline(format!("internal: boxing {k}")),
            AV::Obj(_) => return decline("internal: boxing a frame object"),
        };
        self.b.guard(obj, true, on_failure);
        Ok(obj)
    }

    /// `if cond { fast } else { slow }` as a value, inside one instruction (the abstract
    /// state does not change across it).
    fn diamond(&mut self, cond: Value, fast: impl FnOnce(&mut Self) -> Value, slow: impl FnOnce(&mut Self) -> Value) -> Value {
        let (then, otherwise, join) = (self.b.create_block(&[]), self.b.create_block(&[]), self.b.create_block(&[Type::I64]));
        self.b.branch(cond, then, &[], otherwise, &[]);
        self.b.switch_to(then);
        let a = fast(self);
        self.b.jump(join, &[a]);
        self.b.switch_to(otherwise);
        let b = slow(self);
        self.b.jump(join, &[b]);
        self.b.switch_to(join);
        self.b.block_params(join)[0]
    }

    /// Makes slot `i` hold its value in the frame (boxing it if needed).
    fn store_in_frame(&mut self, st: &mut State, i: usize) -> Result<()> {
        let av = st.slots[i];
        if let AV::Obj(_) = av {
            return Ok(());
        }
        if i < self.nlocals {
            self.sync_local(st, i)?;
        } else {
            let obj = self.box_shared(st, av)?;
            self.store_slot(i, obj);
        }
        st.slots[i] = AV::Obj(av.slot_kind_boxed());
        Ok(())
    }

    // Object identity. CPython hands the same object around: `x is y`, `nan in [nan]` and
    // `id()` can tell. So an unboxed number that locals hold is boxed once, into their frame
    // slots (where the interpreter would keep it; arguments start there), and every later
    // use of that value takes the same object.

    /// The object a synced local already holds for `av`, if any.
    fn synced_box(&mut self, st: &State, av: AV) -> Option<Value> {
        let i = (0..self.nlocals).find(|&i| st.slots[i] == av && st.synced[i])?;
        Some(self.load_slot(i))
    }

    /// Stores `obj`, the box of `av`, into the frame slot of every unsynced local holding
    /// `av` (each slot taking a reference).
    fn adopt_box(&mut self, st: &mut State, av: AV, obj: Value) {
        for i in 0..self.nlocals {
            if st.slots[i] == av && !st.synced[i] {
                self.incref(obj);
                let old = self.load_slot(i);
                self.store_slot(i, obj);
                self.xdecref(old);
                st.synced[i] = true;
            }
        }
    }

    /// A new reference to the boxed form of a non-frame value, shared with the locals.
    fn box_shared(&mut self, st: &mut State, av: AV) -> Result<Value> {
        let sharable = matches!(av, AV::Word(..) | AV::Double(_));
        if sharable {
            if let Some(obj) = self.synced_box(st, av) {
                self.incref(obj);
                return Ok(obj);
            }
        }
        let snap = self.snapshot(st, ExitKind::Raise, self.current_pc, st.depth, "box_failed");
        let obj = self.boxed(av, snap)?;
        if sharable {
            self.adopt_box(st, av, obj);
        }
        Ok(obj)
    }

    /// Makes local `i`'s frame slot hold (a box of) its current value.
    fn sync_local(&mut self, st: &mut State, i: usize) -> Result<()> {
        if matches!(st.slots[i], AV::Obj(_)) || st.synced[i] {
            return Ok(());
        }
        let obj = self.box_shared(st, st.slots[i])?;
        if st.synced[i] {
            // `box_shared` stored it in the slot (and the slot took its own reference):
            // drop ours, which cannot be the last.
            let rc = self.b.load(Mem::I64, obj, 0);
            let one = self.b.iconst(1);
            let rc1 = self.b.int(IntOp::Sub, rc, one);
            self.b.store(Mem::I64, obj, 0, rc1);
        } else {
            // A constant: not shared, the slot takes our reference.
            let old = self.load_slot(i);
            self.store_slot(i, obj);
            self.xdecref(old);
            st.synced[i] = true;
        }
        Ok(())
    }

    fn snapshot(&mut self, st: &State, kind: ExitKind, pc: u32, depth: usize, reason: &str) -> SnapshotId {
        let mut entries = Vec::new();
        for (i, av) in st.slots[..self.nlocals + depth].iter().enumerate() {
            // Objects are in the frame already, and so are the boxes of synced locals (which
            // must stay the very objects the program may have seen).
            if matches!(av, AV::Obj(_)) || (i < self.nlocals && st.synced[i]) {
                continue;
            }
            let kind = match *av {
                // Number constants leave as their pooled object (see `load_const`).
                AV::Const(Kind::IntConst(c)) => match self.tables.consts.add_int(c) {
                    Ok(id) => Kind::ObjConst(TypeTag::Int, id),
                    Err(_) => Kind::IntConst(c),
                },
                AV::Const(Kind::FloatConst(bits)) => match self.tables.consts.add_float(f64::from_bits(bits)) {
                    Ok(id) => Kind::ObjConst(TypeTag::Float, id),
                    Err(_) => Kind::FloatConst(bits),
                },
                AV::Word(k, _) | AV::Const(k) => k,
                AV::Double(_) => Kind::UnboxedFloat,
                AV::Range(..) => Kind::VirtualRangeIter,
                AV::Obj(_) => unreachable!(),
            };
            entries.push(SnapshotEntry { slot: i as u32, kind, values: av.parts() });
        }
        self.b.snapshot(kind, pc, depth as u32, reason, entries)
    }

    /// Snapshot for leaving *before* `ins`, with the state as it is now.
    fn resume_here(&mut self, st: &State, ins: &Instr, reason: &str) -> SnapshotId {
        self.snapshot(st, ExitKind::Resume, ins.start, st.depth, reason)
    }

    fn set_prev_instr(&mut self, pc: u32) {
        let addr = self.code as i64 + cpython::OFFSET_CODE_ADAPTIVE as i64 + 2 * pc as i64;
        let v = self.b.iconst(addr);
        self.b.store(Mem::I64, self.frame, cpython::OFFSET_FRAME_PREV_INSTR, v);
    }

    /// After a call-out: if the callee switched tracing on, leave for the interpreter.
    fn check_tracing(&mut self, st: &State, next: u32) {
        let snap = self.snapshot(st, ExitKind::Resume, next, st.depth, "tracing_enabled");
        self.leave_if_tracing(snap);
    }

    /// Leaves through `snap` when tracing or profiling is on (`cframe->use_tracing`).
    fn leave_if_tracing(&mut self, snap: SnapshotId) {
        let cframe = self.b.load(Mem::I64, self.tstate, cpython::OFFSET_TSTATE_CFRAME);
        let tracing = self.b.load(Mem::U8, cframe, 0);
        self.b.guard(tracing, false, snap);
    }

    /// The interpreter's eval breaker (non-zero: signals, pending calls or a GIL request).
    fn eval_breaker(&mut self) -> Value {
        let addr = self.b.iconst(self.req.eval_breaker as i64);
        self.b.load(Mem::I32, addr, 0)
    }

    /// Before a call-out that may run Python code: make the frame show every local's current
    /// value (callees may look at it: `sys._getframe().f_back.f_locals`, debuggers). Unboxed
    /// locals stay unboxed; their frame slots get a box of the current value.
    fn sync_locals(&mut self, st: &mut State) -> Result<()> {
        for i in 0..self.nlocals {
            self.sync_local(st, i)?;
        }
        Ok(())
    }

    /// After an operation that may have raised (`ok == 0`): with `st` the state the
    /// interpreter's error path would see, continue in the compiled handler that the
    /// exception table names for `ins`, or leave for the interpreter when there is none.
    fn raise_unless(&mut self, ok: Value, st: &State, ins: &Instr) -> Result<()> {
        let Some(handler) = self.handlers.iter().find(|h| h.start <= ins.pc && ins.pc < h.end).copied() else {
            let snap = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, "exception");
            self.b.guard(ok, true, snap);
            return Ok(());
        };
        let (go_on, raised) = (self.b.create_block(&[]), self.b.create_block(&[]));
        self.b.branch(ok, go_on, &[], raised, &[]);
        self.b.switch_to(raised);
        // A callee may have switched tracing on: the tracer must see the exception event, so
        // the interpreter takes over.
        let snap = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, "exception_while_tracing");
        self.leave_if_tracing(snap);
        // As the interpreter's exception_unwind: traceback entry, stack down to the handler's
        // depth, the offset of the raising instruction if asked, then the exception.
        let exc = self.b.call(helpers::enter_handler as *const () as u64, &[], Some(Type::I64));
        let mut hs = st.clone();
        if hs.depth < handler.depth {
            return decline("exception handler deeper than the stack");
        }
        while hs.depth > handler.depth {
            if let AV::Obj(_) = self.pop(&mut hs) {
                let obj = self.load_slot(self.nlocals + hs.depth);
                self.xdecref(obj);
            }
        }
        if handler.lasti {
            self.push(&mut hs, AV::Const(Kind::IntConst(ins.pc as i64)));
        }
        let top = self.nlocals + hs.depth;
        self.store_slot(top, exc);
        self.push(&mut hs, AV::Obj(SlotKind::Is(Kind::Object)));
        self.jump_to(&hs, handler.target)?;
        self.b.switch_to(go_on);
        Ok(())
    }

    /// Calls a generic stack operation on the top `n_in` values, leaving `n_out` objects.
    fn stack_op(&mut self, st: &mut State, ins: &Instr, op: StackOp, n_in: usize, n_out: usize, arg: i64, aux: i64) -> Result<()> {
        self.stack_op_keeping(st, ins, op, n_in, n_out, arg, aux, 0)
    }

    /// `stack_op` for operations whose failure leaves `kept` of their inputs on the stack.
    #[allow(clippy::too_many_arguments)]
    fn stack_op_keeping(&mut self, st: &mut State, ins: &Instr, op: StackOp, n_in: usize, n_out: usize, arg: i64, aux: i64, kept: usize) -> Result<()> {
        self.prepare_inputs(st, n_in)?;
        self.call_stack_helper(st, ins, op, n_in, n_out, arg, aux, kept)
    }

    /// What every generic operation needs first: its inputs as objects in the frame, and
    /// the frame showing every local (the operation may run Python code).
    fn prepare_inputs(&mut self, st: &mut State, n_in: usize) -> Result<()> {
        for k in (1..=n_in).rev() {
            let i = self.stack_index(st, k);
            self.store_in_frame(st, i)?;
        }
        self.sync_locals(st)
    }

    /// The rest of `stack_op_keeping`, once `prepare_inputs` ran.
    #[allow(clippy::too_many_arguments)]
    fn call_stack_helper(&mut self, st: &mut State, ins: &Instr, op: StackOp, n_in: usize, n_out: usize, arg: i64, aux: i64, kept: usize) -> Result<()> {
        if matches!(
            ins.opcode,
            BINARY_OP | COMPARE_OP | LOAD_ATTR | STORE_ATTR | LOAD_METHOD | BINARY_SUBSCR | STORE_SUBSCR | UNPACK_SEQUENCE
        ) {
            self.generic_ops += 1;
        }
        self.set_prev_instr(ins.pc);
        let base = st.depth - n_in;
        let ptr = self.slot_address(self.nlocals + base);
        let arg = self.b.iconst(arg);
        let aux = self.b.iconst(aux);
        let status = self.b.call(op as *const () as u64, &[ptr, arg, aux], Some(Type::I64));
        st.depth = base + kept;
        for i in base..base + kept {
            st.slots[self.nlocals + i] = AV::Obj(SlotKind::Is(Kind::Object));
        }
        self.raise_unless(status, st, ins)?;
        st.depth = base;
        for _ in 0..n_out {
            self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
        }
        self.check_tracing(st, ins.next);
        Ok(())
    }

    // ----- instructions --------------------------------------------------------------------

    /// Emits one instruction; returns false when it ended the block.
    fn emit_instr(&mut self, st: &mut State, ins: &Instr) -> Result<bool> {
        self.current_pc = ins.pc;
        match ins.opcode {
            NOP | RESUME | PRECALL => {}
            LOAD_CONST => {
                let av = self.load_const(ins.arg as usize)?;
                self.push(st, av);
            }
            LOAD_FAST => {
                let i = ins.arg as usize;
                let av = st.slots[i];
                match av {
                    AV::Obj(SlotKind::Null) => {
                        let snap = self.resume_here(st, ins, "unbound_local");
                        self.b.exit(snap);
                        return Ok(false);
                    }
                    AV::Obj(sk) => {
                        let obj = self.load_slot(i);
                        if sk == SlotKind::MaybeNull {
                            let snap = self.resume_here(st, ins, "unbound_local");
                            self.b.guard(obj, true, snap);
                        }
                        self.incref(obj);
                        let top = self.nlocals + st.depth;
                        self.store_slot(top, obj);
                        let kind = if let SlotKind::Is(k) = sk { k } else { Kind::Object };
                        self.push(st, AV::Obj(SlotKind::Is(kind)));
                    }
                    other => self.push(st, other),
                }
            }
            STORE_FAST => {
                let i = ins.arg as usize;
                let av = self.pop(st);
                let top = self.nlocals + st.depth;
                let old_is_object = matches!(st.slots[i], AV::Obj(SlotKind::Is(_) | SlotKind::MaybeNull));
                match av {
                    AV::Obj(_) => {
                        let obj = self.load_slot(top);
                        let old = self.load_slot(i);
                        self.store_slot(i, obj);
                        self.xdecref(old);
                    }
                    _ if old_is_object => {
                        // The old object dies now, as under the interpreter.
                        let old = self.load_slot(i);
                        let zero = self.b.iconst(0);
                        self.store_slot(i, zero);
                        self.xdecref(old);
                    }
                    _ => {}
                }
                st.slots[i] = av;
                st.synced[i] = false;
                // `y = x` of an unboxed number that already has its box: y names that same
                // object (as in CPython), so the slot takes the box and stays in sync.
                if matches!(av, AV::Word(..) | AV::Double(_)) {
                    if let Some(obj) = self.synced_box(st, av) {
                        self.adopt_box(st, av, obj);
                    }
                }
            }
            POP_TOP => {
                if let AV::Obj(_) = self.pop(st) {
                    let top = self.nlocals + st.depth;
                    let obj = self.load_slot(top);
                    self.xdecref(obj);
                }
            }
            PUSH_NULL => {
                let top = self.nlocals + st.depth;
                let zero = self.b.iconst(0);
                self.store_slot(top, zero);
                self.push(st, AV::Obj(SlotKind::Null));
            }
            COPY => {
                let av = self.top(st, ins.arg as usize);
                if let AV::Obj(sk) = av {
                    let i = self.stack_index(st, ins.arg as usize);
                    let obj = self.load_slot(i);
                    if sk != SlotKind::Null {
                        self.incref(obj);
                    }
                    let top = self.nlocals + st.depth;
                    self.store_slot(top, obj);
                }
                self.push(st, av);
            }
            SWAP => {
                let (i, j) = (self.stack_index(st, 1), self.stack_index(st, ins.arg as usize));
                let (a, b) = (self.load_slot(i), self.load_slot(j));
                self.store_slot(i, b);
                self.store_slot(j, a);
                st.slots.swap(i, j);
            }
            LOAD_GLOBAL => self.load_global(st, ins)?,
            BINARY_OP => self.binary_op(st, ins)?,
            COMPARE_OP => self.compare_op(st, ins)?,
            UNARY_NEGATIVE | UNARY_NOT | UNARY_INVERT | UNARY_POSITIVE => self.unary_op(st, ins)?,
            POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_BACKWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE
            | POP_JUMP_BACKWARD_IF_TRUE => {
                let jump_if = matches!(ins.opcode, POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_TRUE);
                self.pop_jump_if(st, ins, jump_if)?;
                return Ok(false);
            }
            POP_JUMP_FORWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NONE | POP_JUMP_FORWARD_IF_NOT_NONE
            | POP_JUMP_BACKWARD_IF_NOT_NONE => {
                let jump_if_none = matches!(ins.opcode, POP_JUMP_FORWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NONE);
                self.pop_jump_if_none(st, ins, jump_if_none)?;
                return Ok(false);
            }
            JUMP_FORWARD => {
                self.jump_to(st, ins.jump_target().unwrap())?;
                return Ok(false);
            }
            JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT => {
                if ins.opcode == JUMP_BACKWARD {
                    // Resume at the jump itself: the interpreter's JUMP_BACKWARD checks.
                    self.back_edge(st, ins.start);
                }
                self.jump_to(st, ins.jump_target().unwrap())?;
                return Ok(false);
            }
            GET_ITER => match self.top(st, 1) {
                AV::Range(..) => {}
                _ => self.stack_op(st, ins, helpers::get_iter, 1, 1, 0, 0)?,
            },
            FOR_ITER => {
                self.for_iter(st, ins)?;
                return Ok(false);
            }
            KW_NAMES => {
                // SAFETY: co_consts is a tuple of the live code object; the index is in range.
                self.kwnames = Some(unsafe { ffi::PyTuple_GetItem((*self.code).co_consts, ins.arg as isize) });
            }
            CALL => self.call(st, ins)?,
            RETURN_VALUE => {
                let top = self.stack_index(st, 1);
                self.store_in_frame(st, top)?;
                self.pop(st);
                let v = self.load_slot(top);
                // A frame object that outlives the call reports the line of its return.
                self.set_prev_instr(ins.pc);
                self.b.ret(v);
                return Ok(false);
            }
            BINARY_SUBSCR => self.stack_op(st, ins, helpers::binary_subscr, 2, 1, 0, 0)?,
            STORE_SUBSCR => self.stack_op(st, ins, helpers::store_subscr, 3, 0, 0, 0)?,
            LOAD_ATTR => {
                let name = self.name(ins.arg as usize);
                self.stack_op(st, ins, helpers::load_attr, 1, 1, 0, name)?
            }
            STORE_ATTR => {
                let name = self.name(ins.arg as usize);
                self.stack_op(st, ins, helpers::store_attr, 2, 0, 0, name)?
            }
            LOAD_METHOD => {
                let name = self.name(ins.arg as usize);
                if self.load_method_descriptor(st, name) {
                    return Ok(true);
                }
                self.stack_op(st, ins, helpers::load_method, 1, 2, 0, name)?;
                // The first output may be NULL.
                let i = self.stack_index(st, 2);
                st.slots[i] = AV::Obj(SlotKind::MaybeNull);
            }
            BUILD_TUPLE => self.stack_op(st, ins, helpers::build_tuple, ins.arg as usize, 1, ins.arg as i64, 0)?,
            BUILD_LIST => self.stack_op(st, ins, helpers::build_list, ins.arg as usize, 1, ins.arg as i64, 0)?,
            PUSH_EXC_INFO => {
                // Cannot fail (so no handler applies, whatever the table covers).
                let top = self.stack_index(st, 1);
                self.store_in_frame(st, top)?;
                let ptr = self.slot_address(top);
                let zero = self.b.iconst(0);
                self.b.call(helpers::push_exc_info as *const () as u64, &[ptr, zero, zero], Some(Type::I64));
                self.pop(st);
                self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
                self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
            }
            POP_EXCEPT => {
                let top = self.stack_index(st, 1);
                self.store_in_frame(st, top)?;
                self.pop(st);
                let value = self.load_slot(top);
                self.b.call(helpers::pop_except as *const () as u64, &[value], None);
            }
            CHECK_EXC_MATCH => self.stack_op_keeping(st, ins, helpers::check_exc_match, 2, 2, 0, 0, 1)?,
            DELETE_FAST => {
                let i = ins.arg as usize;
                if st.slots[i] == AV::Obj(SlotKind::Null) {
                    // Deleting an unbound local raises: the interpreter words it.
                    let snap = self.resume_here(st, ins, "unbound_local");
                    self.b.exit(snap);
                    return Ok(false);
                }
                let old = self.load_slot(i);
                if st.slots[i] == AV::Obj(SlotKind::MaybeNull) {
                    let snap = self.resume_here(st, ins, "unbound_local");
                    self.b.guard(old, true, snap);
                }
                let zero = self.b.iconst(0);
                self.store_slot(i, zero);
                self.xdecref(old);
                st.slots[i] = AV::Obj(SlotKind::Null);
                st.synced[i] = true;
            }
            MAKE_CELL => {
                let i = ins.arg as usize;
                self.store_in_frame(st, i)?;
                let ptr = self.slot_address(i);
                let ok = self.b.call(helpers::make_cell as *const () as u64, &[ptr], Some(Type::I64));
                self.raise_unless(ok, st, ins)?;
                st.slots[i] = AV::Obj(SlotKind::Is(Kind::Object));
            }
            COPY_FREE_VARS => {
                let n = self.b.iconst(ins.arg as i64);
                self.b.call(helpers::copy_free_vars as *const () as u64, &[self.frame, n], None);
                let first = self.nlocals - ins.arg as usize;
                for slot in &mut st.slots[first..self.nlocals] {
                    *slot = AV::Obj(SlotKind::Is(Kind::Object));
                }
            }
            LOAD_CLOSURE => {
                let cell = self.load_slot(ins.arg as usize);
                self.incref(cell);
                let top = self.nlocals + st.depth;
                self.store_slot(top, cell);
                self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
            }
            LOAD_DEREF => self.load_deref(st, ins),
            STORE_DEREF => {
                let top = self.stack_index(st, 1);
                self.store_in_frame(st, top)?;
                self.pop(st);
                let value = self.load_slot(top);
                let cell = self.load_slot(ins.arg as usize);
                self.b.call(helpers::store_deref as *const () as u64, &[cell, value], None);
            }
            MAKE_FUNCTION => {
                let n_in = 1 + (ins.arg & 0xF).count_ones() as usize;
                let globals = self.req.globals as i64;
                self.stack_op(st, ins, helpers::make_function, n_in, 1, ins.arg as i64, globals)?;
            }
            CONTAINS_OP => self.contains_op(st, ins)?,
            IS_OP => self.is_op(st, ins)?,
            UNPACK_SEQUENCE => {
                let n = ins.arg as usize;
                self.stack_op(st, ins, helpers::unpack_sequence, 1, n, n as i64, 0)?;
            }
            BUILD_MAP => self.stack_op(st, ins, helpers::build_map, 2 * ins.arg as usize, 1, ins.arg as i64, 0)?,
            BUILD_CONST_KEY_MAP => {
                self.stack_op(st, ins, helpers::build_const_key_map, ins.arg as usize + 1, 1, ins.arg as i64, 0)?
            }
            BUILD_SLICE => self.stack_op(st, ins, helpers::build_slice, ins.arg as usize, 1, ins.arg as i64, 0)?,
            BUILD_STRING => self.stack_op(st, ins, helpers::build_string, ins.arg as usize, 1, ins.arg as i64, 0)?,
            FORMAT_VALUE => {
                let n_in = if ins.arg & 4 != 0 { 2 } else { 1 };
                self.stack_op(st, ins, helpers::format_value, n_in, 1, ins.arg as i64, 0)?
            }
            LIST_APPEND | SET_ADD | MAP_ADD => {
                // The container sits below the inputs; it is an object in the frame.
                let n_in = if ins.opcode == MAP_ADD { 2 } else { 1 };
                if !matches!(self.top(st, n_in + ins.arg as usize), AV::Obj(_)) {
                    return decline("internal: comprehension container is not an object");
                }
                let (op, aux): (StackOp, i64) = match ins.opcode {
                    MAP_ADD => (helpers::map_add, 0),
                    SET_ADD => (helpers::collection_add, 1),
                    _ => (helpers::collection_add, 0),
                };
                self.stack_op(st, ins, op, n_in, 0, ins.arg as i64, aux)?;
            }
            JUMP_IF_FALSE_OR_POP | JUMP_IF_TRUE_OR_POP => {
                self.jump_if_or_pop(st, ins, ins.opcode == JUMP_IF_TRUE_OR_POP)?;
                return Ok(false);
            }
            op => {
                // Everything else is done by the interpreter: leave just before it. (Raising
                // ends the compiled activation anyway; other rare opcodes take the rest of
                // the call with them, and the reason is counted.)
                let reason = match op {
                    RAISE_VARARGS | RERAISE => "raise".to_string(),
                    _ => format!("unsupported_{}", name(op).to_lowercase()),
                };
                let snap = self.resume_here(st, ins, &reason);
                self.b.exit(snap);
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `LOAD_DEREF`, speculating that the cell holds what it held at compile time (see
    /// `CompileRequest::free_kinds`): a small int that this code never rebinds is unboxed (the
    /// small ints are cached objects, so boxing it again gives the very same object); other
    /// values of a known type are typed. A failed guard leaves before the instruction
    /// (`kind_changed`) for a continuation made for what the cell holds then.
    fn load_deref(&mut self, st: &mut State, ins: &Instr) {
        let i = ins.arg as usize;
        let cell = self.load_slot(i);
        let value = self.b.load(Mem::I64, cell, cpython::OFFSET_CELL_REF);
        // An empty cell raises NameError: the interpreter words it.
        let snap = self.resume_here(st, ins, "unbound_free_variable");
        self.b.guard(value, true, snap);
        let first_free = self.nlocals - self.req.free_kinds.len();
        let seen = if i >= first_free { self.req.free_kinds[i - first_free] } else { Kind::Object };
        if let Kind::IntConst(c) = seen {
            if is_small_int(c) && !self.rebound_cells.contains(&i) {
                // The cell holds one of CPython's cached small ints, each the only object of
                // its value, in one array: the address says which.
                let base = self.b.iconst(cpython::small_ints() as i64);
                let offset = self.b.int(IntOp::Sub, value, base);
                let limit = self.b.iconst(cpython::SMALL_INT_COUNT * cpython::SMALL_INT_SIZE);
                let cached = self.b.icmp(Cond::ULt, offset, limit);
                let snap = self.resume_here(st, ins, "kind_changed");
                self.b.guard(cached, true, snap);
                let shift = self.b.iconst(cpython::SMALL_INT_SIZE.trailing_zeros() as i64);
                let index = self.b.int(IntOp::Sar, offset, shift);
                let min = self.b.iconst(cpython::SMALL_INT_MIN);
                let v = self.b.int(IntOp::Add, index, min);
                self.native_ops += 1;
                self.push(st, AV::Word(Kind::MachineInt, v));
                return;
            }
        }
        let kind = match seen.type_tag().map(|t| (t, type_of_tag(t))) {
            Some((tag, ty)) if !ty.is_null() => {
                let actual = self.b.load(Mem::I64, value, cpython::OFFSET_OB_TYPE);
                let expected = self.b.iconst(ty as i64);
                let same = self.b.icmp(Cond::Eq, actual, expected);
                let snap = self.resume_here(st, ins, "kind_changed");
                self.b.guard(same, true, snap);
                Kind::Exact(tag)
            }
            _ => Kind::Object,
        };
        self.incref(value);
        let top = self.nlocals + st.depth;
        self.store_slot(top, value);
        self.push(st, AV::Obj(SlotKind::Is(kind)));
    }

    /// `CONTAINS_OP`: `in` / `not in`, its result an unboxed bool.
    fn contains_op(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        self.prepare_inputs(st, 2)?;
        self.set_prev_instr(ins.pc);
        let base = self.stack_index(st, 2);
        let (item, container) = (self.load_slot(base), self.load_slot(base + 1));
        let r = self.b.call(helpers::contains as *const () as u64, &[item, container], Some(Type::I64));
        st.depth -= 2;
        let zero = self.b.iconst(0);
        let ok = self.b.icmp(Cond::Ge, r, zero);
        self.raise_unless(ok, st, ins)?;
        let result = if ins.arg == 1 {
            let one = self.b.iconst(1);
            self.b.int(IntOp::Xor, r, one)
        } else {
            r
        };
        self.push(st, AV::Word(Kind::MachineBool, result));
        self.check_tracing(st, ins.next);
        Ok(())
    }

    /// `LOAD_METHOD` on an object of an exact builtin type whose method `name` is a C
    /// method descriptor: the descriptor is a constant (such types cannot be changed and
    /// their instances have no `__dict__`), `[obj] -> [descriptor, obj]`. False when the
    /// generic path must do it.
    fn load_method_descriptor(&mut self, st: &mut State, name: i64) -> bool {
        let AV::Obj(SlotKind::Is(Kind::Exact(tag))) = self.top(st, 1) else {
            return false;
        };
        // SAFETY: a static type object and a str name (GIL held).
        let descr = unsafe { method_descriptor(type_of_tag(tag), name as *mut PyObject) };
        if descr.is_null() {
            return false;
        }
        let id = self.tables.consts.add(descr);
        let i = self.stack_index(st, 1);
        let obj = self.load_slot(i);
        self.store_slot(i + 1, obj);
        st.slots[i] = AV::Const(Kind::ObjConst(TypeTag::Other, id));
        st.slots[i + 1] = AV::Obj(SlotKind::Is(Kind::Exact(tag)));
        st.depth += 1;
        self.native_ops += 1;
        true
    }

    /// `IS_OP`: identity of two objects; scalars are never identical to non-number constants.
    fn is_op(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let (a, b) = (self.top(st, 2), self.top(st, 1));
        let pointer = |av: AV| matches!(av, AV::Obj(_) | AV::Const(Kind::ObjConst(..)));
        let non_number_const = |av: AV| matches!(av, AV::Const(Kind::ObjConst(t, _)) if !matches!(t, TypeTag::Int | TypeTag::Float | TypeTag::Bool));
        let result = if pointer(a) && pointer(b) {
            let mut ptrs = Vec::new();
            for (k, av) in [(2, a), (1, b)] {
                ptrs.push(match av {
                    AV::Obj(_) => {
                        let i = self.stack_index(st, k);
                        self.load_slot(i)
                    }
                    AV::Const(Kind::ObjConst(_, id)) => self.b.iconst(self.tables.consts.get(id) as i64),
                    _ => unreachable!(),
                });
            }
            let same = self.b.icmp(Cond::Eq, ptrs[0], ptrs[1]);
            for (av, p) in [(a, ptrs[0]), (b, ptrs[1])] {
                if let AV::Obj(_) = av {
                    self.xdecref(p);
                }
            }
            same
        } else if (non_number_const(a) && !pointer(b)) || (non_number_const(b) && !pointer(a)) {
            self.b.iconst(0)
        } else {
            return self.stack_op(st, ins, helpers::is_op, 2, 1, ins.arg as i64, 0);
        };
        let result = if ins.arg == 1 {
            let one = self.b.iconst(1);
            self.b.int(IntOp::Xor, result, one)
        } else {
            result
        };
        st.depth -= 2;
        self.push(st, AV::Word(Kind::MachineBool, result));
        Ok(())
    }

    /// `JUMP_IF_FALSE_OR_POP` / `JUMP_IF_TRUE_OR_POP`: jump keeping the value, or pop it.
    fn jump_if_or_pop(&mut self, st: &mut State, ins: &Instr, jump_if: bool) -> Result<()> {
        let av = self.top(st, 1);
        let t = match av {
            AV::Obj(_) => {
                self.sync_locals(st)?;
                let obj = self.load_slot(self.stack_index(st, 1));
                self.set_prev_instr(ins.pc);
                let t = self.b.call(helpers::truth as *const () as u64, &[obj], Some(Type::I64));
                let zero = self.b.iconst(0);
                let ok = self.b.icmp(Cond::Ge, t, zero);
                self.raise_unless(ok, st, ins)?;
                t
            }
            other => {
                // Scalars and constants: `truth` does not consume them.
                match self.truth(st, ins, other, 1)? {
                    Some(t) => t,
                    None => return decline("truth of a constant object"),
                }
            }
        };
        let target = ins.jump_target().unwrap();
        let (keep, pop) = (self.b.create_block(&[]), self.b.create_block(&[]));
        if jump_if {
            self.b.branch(t, keep, &[], pop, &[]);
        } else {
            self.b.branch(t, pop, &[], keep, &[]);
        }
        self.b.switch_to(keep);
        self.jump_to(st, target)?;
        self.b.switch_to(pop);
        let mut popped = st.clone();
        if let AV::Obj(_) = self.pop(&mut popped) {
            let obj = self.load_slot(self.nlocals + popped.depth);
            self.xdecref(obj);
        }
        self.jump_to(&popped, ins.next)
    }

    fn name(&self, i: usize) -> i64 {
        // SAFETY: co_names is a tuple of the live code object; the index is in range.
        unsafe { ffi::PyTuple_GetItem((*self.code).co_names, i as isize) as i64 }
    }

    fn load_const(&mut self, i: usize) -> Result<AV> {
        // SAFETY: co_consts is a tuple of the live code object; the index is in range.
        let obj = unsafe { ffi::PyTuple_GetItem((*self.code).co_consts, i as isize) };
        let kind = self.constant_kind(obj)?;
        if let Kind::IntConst(_) | Kind::FloatConst(_) = kind {
            // Boxing this constant later must give the code's own object back.
            self.tables.consts.note_number(kind, obj);
        }
        Ok(AV::Const(kind))
    }

    /// The kind of a constant object (adding it to the pool if it has no scalar form).
    fn constant_kind(&mut self, obj: *mut PyObject) -> Result<Kind> {
        // SAFETY: `obj` is a live object (a code constant or a global's value).
        unsafe {
            let ty = ffi::Py_TYPE(obj);
            if ty == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
                let mut overflow = 0;
                let v = ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow);
                if overflow == 0 {
                    return Ok(Kind::IntConst(v));
                }
            } else if ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
                return Ok(Kind::float_const(ffi::PyFloat_AS_DOUBLE(obj)));
            } else if ty == std::ptr::addr_of_mut!(ffi::PyBool_Type) {
                return Ok(Kind::BoolConst(obj == ffi::Py_True()));
            }
            let id = self.tables.consts.add(obj);
            Ok(Kind::ObjConst(type_tag(obj), id))
        }
    }

    /// Counts a back-edge for stats, then leaves (resuming at `resume_at`) when the eval
    /// breaker is set: the interpreter handles signals, pending calls and the GIL there.
    fn back_edge(&mut self, st: &State, resume_at: u32) {
        let counter = self.b.iconst(self.tables.back_edges_address() as i64);
        let n = self.b.load(Mem::I64, counter, 0);
        let one = self.b.iconst(1);
        let n1 = self.b.int(IntOp::Add, n, one);
        self.b.store(Mem::I64, counter, 0, n1);
        let breaker = self.eval_breaker();
        let snap = self.snapshot(st, ExitKind::Resume, resume_at, st.depth, "eval_breaker");
        self.b.guard(breaker, false, snap);
    }

    fn load_global(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let name = self.name((ins.arg >> 1) as usize) as *mut PyObject;
        let site = GlobalSite::new(self.req.globals, self.req.builtins, name);
        // SAFETY: `site` holds live dicts and a str name (GIL held).
        let now = unsafe { site.lookup() };
        let site_addr = self.tables.add_site(site);
        let snap = self.resume_here(st, ins, "global_missing");
        let addr = self.b.iconst(site_addr as i64);
        // The cache's fast path inline: neither dict changed since the site's last lookup.
        let (globals, builtins) = (self.b.iconst(self.req.globals as i64), self.b.iconst(self.req.builtins as i64));
        let g = self.b.load(Mem::I64, globals, cpython::OFFSET_DICT_VERSION);
        let b = self.b.load(Mem::I64, builtins, cpython::OFFSET_DICT_VERSION);
        let cached_g = self.b.load(Mem::I64, addr, GlobalSite::OFFSET_GLOBALS_VERSION);
        let cached_b = self.b.load(Mem::I64, addr, GlobalSite::OFFSET_BUILTINS_VERSION);
        let same_g = self.b.icmp(Cond::Eq, g, cached_g);
        let same_b = self.b.icmp(Cond::Eq, b, cached_b);
        let both = self.b.int(IntOp::And, same_g, same_b);
        let value = self.diamond(
            both,
            |fe| fe.b.load(Mem::I64, addr, GlobalSite::OFFSET_VALUE),
            |fe| fe.b.call(load_global as *const () as u64, &[addr], Some(Type::I64)),
        );
        self.b.guard(value, true, snap);
        // Builtins and functions are used as constants (so that `range` can be virtual and
        // calls can be specialized), behind an identity guard.
        if !now.is_null() && is_specializable_global(now) {
            let kind = self.constant_kind(now)?;
            let expected = self.b.iconst(now as i64);
            let same = self.b.icmp(Cond::Eq, value, expected);
            let snap = self.resume_here(st, ins, "global_changed");
            self.b.guard(same, true, snap);
            self.push_null_for_call(st, ins);
            self.push(st, AV::Const(kind));
        } else {
            self.push_null_for_call(st, ins);
            self.incref(value);
            let top = self.nlocals + st.depth;
            self.store_slot(top, value);
            self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
        }
        Ok(())
    }

    /// `LOAD_GLOBAL` with the low bit set pushes a NULL below the value (after its guards,
    /// whose snapshots resume *at* the instruction, with its inputs only).
    fn push_null_for_call(&mut self, st: &mut State, ins: &Instr) {
        if ins.arg & 1 != 0 {
            let top = self.nlocals + st.depth;
            let zero = self.b.iconst(0);
            self.store_slot(top, zero);
            self.push(st, AV::Obj(SlotKind::Null));
        }
    }

    /// The word value of an int-like abstract value.
    fn int_value(&mut self, av: AV) -> Value {
        match av {
            AV::Word(_, v) => v,
            AV::Const(Kind::IntConst(c)) => self.b.iconst(c),
            _ => unreachable!("int_value of {av:?}"),
        }
    }

    fn float_value(&mut self, av: AV) -> Value {
        match av {
            AV::Double(v) => v,
            AV::Const(Kind::FloatConst(bits)) => self.b.fconst(f64::from_bits(bits)),
            AV::Word(Kind::MachineInt, v) => self.b.int_to_float(v),
            AV::Const(Kind::IntConst(c)) => self.b.fconst(c as f64),
            _ => unreachable!("float_value of {av:?}"),
        }
    }

    fn binary_op(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let (lhs, rhs) = (self.top(st, 2), self.top(st, 1));
        // In-place forms behave as the plain ones on numbers.
        let op = if ins.arg >= 13 { ins.arg - 13 } else { ins.arg };
        if lhs.is_int() && rhs.is_int() {
            if let Some(result) = self.int_binary(st, ins, op, lhs, rhs)? {
                self.native_ops += 1;
                st.depth -= 2;
                self.push(st, result);
                return Ok(());
            }
        } else if (lhs.is_float() || rhs.is_float()) && (lhs.is_float() || lhs.is_int()) && (rhs.is_float() || rhs.is_int()) {
            // An int operand converts exactly as PyLong_AsDouble does (correctly rounded).
            let float_op = match op {
                NB_ADD => Some(FloatOp::Add),
                NB_SUBTRACT => Some(FloatOp::Sub),
                NB_MULTIPLY => Some(FloatOp::Mul),
                NB_TRUE_DIVIDE => Some(FloatOp::Div),
                _ => None,
            };
            let is_divmod = op == NB_FLOOR_DIVIDE || op == NB_REMAINDER;
            if float_op.is_some() || is_divmod {
                let (a, b) = (self.float_value(lhs), self.float_value(rhs));
                if op == NB_TRUE_DIVIDE || is_divmod {
                    // Division by zero raises: let the interpreter do it.
                    let zero = self.b.fconst(0.0);
                    let nonzero = self.b.fcmp(Cond::Ne, b, zero);
                    let snap = self.resume_here(st, ins, "float_division_by_zero");
                    self.b.guard(nonzero, true, snap);
                }
                let r = match float_op {
                    Some(fop) => self.b.float(fop, a, b),
                    None => {
                        let f = if op == NB_FLOOR_DIVIDE { helpers::float_floor_div } else { helpers::float_mod };
                        self.b.call(f as *const () as u64, &[a, b], Some(Type::F64))
                    }
                };
                self.native_ops += 1;
                st.depth -= 2;
                self.push(st, AV::Double(r));
                return Ok(());
            }
        }
        if (op == NB_ADD || op == NB_SUBTRACT) && !lhs.is_float() && !rhs.is_float() {
            return self.small_int_binary(st, ins, op);
        }
        self.stack_op(st, ins, helpers::binary_op, 2, 1, ins.arg as i64, 0)
    }

    /// `+` or `-` on objects that are usually small ints (results of calls, say): inline
    /// when both are ints of one 30-bit digit at most (the sum cannot overflow), the generic
    /// path otherwise. The result is an object either way.
    fn small_int_binary(&mut self, st: &mut State, ins: &Instr, op: u32) -> Result<()> {
        self.prepare_inputs(st, 2)?;
        let base = st.depth - 2;
        let (a, b) = (self.load_slot(self.nlocals + base), self.load_slot(self.nlocals + base + 1));
        let (sizes, fast, slow, join) =
            (self.b.create_block(&[]), self.b.create_block(&[]), self.b.create_block(&[]), self.b.create_block(&[]));
        let long_type = self.b.iconst(std::ptr::addr_of_mut!(ffi::PyLong_Type) as i64);
        let (ta, tb) = (self.b.load(Mem::I64, a, cpython::OFFSET_OB_TYPE), self.b.load(Mem::I64, b, cpython::OFFSET_OB_TYPE));
        let (ia, ib) = (self.b.icmp(Cond::Eq, ta, long_type), self.b.icmp(Cond::Eq, tb, long_type));
        let ints = self.b.int(IntOp::And, ia, ib);
        self.b.branch(ints, sizes, &[], slow, &[]);
        // Both ints: their sizes (and so their digits) can be read.
        self.b.switch_to(sizes);
        let (sa, sb) = (self.b.load(Mem::I64, a, cpython::OFFSET_OB_SIZE), self.b.load(Mem::I64, b, cpython::OFFSET_OB_SIZE));
        let one = self.b.iconst(1);
        let three = self.b.iconst(3);
        let (sa1, sb1) = (self.b.int(IntOp::Add, sa, one), self.b.int(IntOp::Add, sb, one));
        let (ok_a, ok_b) = (self.b.icmp(Cond::ULt, sa1, three), self.b.icmp(Cond::ULt, sb1, three));
        let small = self.b.int(IntOp::And, ok_a, ok_b);
        self.b.branch(small, fast, &[], slow, &[]);
        self.b.switch_to(fast);
        let (da, db) = (self.b.load(Mem::U32, a, cpython::OFFSET_LONG_DIGIT), self.b.load(Mem::U32, b, cpython::OFFSET_LONG_DIGIT));
        let (va, vb) = (self.b.int(IntOp::Mul, da, sa), self.b.int(IntOp::Mul, db, sb));
        let r = self.b.int(if op == NB_ADD { IntOp::Add } else { IntOp::Sub }, va, vb);
        let failed = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, "box_failed");
        let obj = self.boxed(AV::Word(Kind::MachineInt, r), failed)?;
        self.store_slot(self.nlocals + base, obj);
        self.xdecref(a);
        self.xdecref(b);
        self.b.jump(join, &[]);
        self.b.switch_to(slow);
        let mut generic = st.clone();
        self.call_stack_helper(&mut generic, ins, helpers::binary_op, 2, 1, ins.arg as i64, 0, 0)?;
        self.b.jump(join, &[]);
        self.b.switch_to(join);
        st.depth = base;
        self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
        Ok(())
    }

    /// Integer arithmetic on machine words, or `None` for the generic path.
    fn int_binary(&mut self, st: &State, ins: &Instr, op: u32, lhs: AV, rhs: AV) -> Result<Option<AV>> {
        if let (AV::Const(Kind::IntConst(a)), AV::Const(Kind::IntConst(b))) = (lhs, rhs) {
            if let Some(r) = fold_int(op, a, b) {
                return Ok(Some(AV::Const(Kind::IntConst(r))));
            }
        }
        let checked = match op {
            NB_ADD => Some(CheckedOp::Add),
            NB_SUBTRACT => Some(CheckedOp::Sub),
            NB_MULTIPLY => Some(CheckedOp::Mul),
            NB_FLOOR_DIVIDE => Some(CheckedOp::FloorDiv),
            NB_REMAINDER => Some(CheckedOp::Mod),
            NB_LSHIFT => Some(CheckedOp::Shl),
            _ => None,
        };
        let plain = match op {
            NB_AND => Some(IntOp::And),
            NB_OR => Some(IntOp::Or),
            NB_XOR => Some(IntOp::Xor),
            _ => None,
        };
        if checked.is_none() && plain.is_none() && op != NB_RSHIFT {
            return Ok(None);
        }
        let (a, b) = (self.int_value(lhs), self.int_value(rhs));
        let r = if let Some(cop) = checked {
            let reason = match cop {
                CheckedOp::FloorDiv | CheckedOp::Mod => "int_division",
                CheckedOp::Shl => "int_shift",
                _ => "int_overflow",
            };
            let snap = self.resume_here(st, ins, reason);
            self.b.checked(cop, a, b, snap)
        } else if let Some(iop) = plain {
            self.b.int(iop, a, b)
        } else {
            // `>>`: a negative count raises (in the interpreter); counts past 63 saturate.
            let zero = self.b.iconst(0);
            let non_negative = self.b.icmp(Cond::Ge, b, zero);
            let snap = self.resume_here(st, ins, "int_shift");
            self.b.guard(non_negative, true, snap);
            let max = self.b.iconst(63);
            let big = self.b.icmp(Cond::Gt, b, max);
            let count = self.b.select(big, max, b);
            self.b.int(IntOp::Sar, a, count)
        };
        Ok(Some(AV::Word(Kind::MachineInt, r)))
    }

    fn compare_op(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let (lhs, rhs) = (self.top(st, 2), self.top(st, 1));
        let cond = match ins.arg {
            0 => Cond::Lt,
            1 => Cond::Le,
            2 => Cond::Eq,
            3 => Cond::Ne,
            4 => Cond::Gt,
            5 => Cond::Ge,
            _ => return decline("bad COMPARE_OP argument"),
        };
        let exact_as_float = |av: AV| match av {
            AV::Double(_) | AV::Const(Kind::FloatConst(_)) => true,
            // Ints compare with floats exactly in Python; the conversion is exact below 2**53.
            AV::Const(Kind::IntConst(c)) => c.unsigned_abs() <= 1 << 53,
            _ => false,
        };
        let result = if lhs.is_int() && rhs.is_int() {
            let (a, b) = (self.int_value(lhs), self.int_value(rhs));
            self.b.icmp(cond, a, b)
        } else if exact_as_float(lhs) && exact_as_float(rhs) {
            let (a, b) = (self.float_value(lhs), self.float_value(rhs));
            self.b.fcmp(cond, a, b)
        } else {
            return self.stack_op(st, ins, helpers::compare_op, 2, 1, ins.arg as i64, 0);
        };
        self.native_ops += 1;
        st.depth -= 2;
        self.push(st, AV::Word(Kind::MachineBool, result));
        Ok(())
    }

    fn unary_op(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let av = self.top(st, 1);
        let result = match (ins.opcode, av) {
            (UNARY_NEGATIVE, AV::Word(Kind::MachineInt, v)) => {
                let snap = self.resume_here(st, ins, "int_overflow");
                Some(AV::Word(Kind::MachineInt, self.b.neg_checked(v, snap)))
            }
            (UNARY_NEGATIVE, AV::Const(Kind::IntConst(c))) if c != i64::MIN => Some(AV::Const(Kind::IntConst(-c))),
            (UNARY_NEGATIVE, AV::Double(v)) => Some(AV::Double(self.b.fneg(v))),
            (UNARY_NEGATIVE, AV::Const(Kind::FloatConst(bits))) => Some(AV::Const(Kind::FloatConst(bits ^ (1 << 63)))),
            (UNARY_INVERT, AV::Word(Kind::MachineInt, v)) => {
                let ones = self.b.iconst(-1);
                Some(AV::Word(Kind::MachineInt, self.b.int(IntOp::Xor, v, ones)))
            }
            (UNARY_POSITIVE, AV::Word(Kind::MachineInt, _) | AV::Double(_)) => Some(av),
            (UNARY_NOT, _) => self.truth(st, ins, av, 1)?.map(|t| {
                let one = self.b.iconst(1);
                AV::Word(Kind::MachineBool, self.b.int(IntOp::Xor, t, one))
            }),
            _ => None,
        };
        match result {
            Some(r) => {
                st.depth -= 1;
                self.push(st, r);
                Ok(())
            }
            None if ins.opcode != UNARY_NOT => {
                self.stack_op(st, ins, helpers::unary_op, 1, 1, ins.opcode as i64, 0)
            }
            None => decline(format!("{} of a {:?}", name(ins.opcode), av.slot_kind())),
        }
    }

    /// The truth (0 or 1) of a scalar value, or of a frame object (consuming it); `None`
    /// when it is a compile-time constant that `static_truth` knows.
    fn truth(&mut self, st: &mut State, ins: &Instr, av: AV, from_top: usize) -> Result<Option<Value>> {
        Ok(Some(match av {
            AV::Word(_, v) => {
                let zero = self.b.iconst(0);
                self.b.icmp(Cond::Ne, v, zero)
            }
            AV::Double(v) => {
                let zero = self.b.fconst(0.0);
                self.b.fcmp(Cond::Ne, v, zero)
            }
            AV::Const(k) => match static_truth(k) {
                Some(t) => self.b.iconst(t as i64),
                None => return Ok(None),
            },
            AV::Obj(_) => {
                self.sync_locals(st)?;
                let i = self.stack_index(st, from_top);
                let obj = self.load_slot(i);
                self.set_prev_instr(ins.pc);
                let t = self.b.call(helpers::truth_consume as *const () as u64, &[obj], Some(Type::I64));
                let mut after = st.clone();
                after.depth -= from_top;
                let zero = self.b.iconst(0);
                let ok = self.b.icmp(Cond::Ge, t, zero);
                self.raise_unless(ok, &after, ins)?;
                t
            }
            AV::Range(..) => self.b.iconst(1),
        }))
    }

    fn pop_jump_if(&mut self, st: &mut State, ins: &Instr, jump_if: bool) -> Result<()> {
        let av = self.top(st, 1);
        let t = match self.truth(st, ins, av, 1)? {
            Some(t) => t,
            None => return decline("truth of a constant object"),
        };
        self.pop(st);
        let target = ins.jump_target().unwrap();
        let (on_true, on_false) = if jump_if { (target, ins.next) } else { (ins.next, target) };
        self.branch(st, ins, t, on_true, on_false)
    }

    fn pop_jump_if_none(&mut self, st: &mut State, ins: &Instr, jump_if_none: bool) -> Result<()> {
        let av = self.pop(st);
        let is_none = match av {
            AV::Obj(_) => {
                let obj = self.load_slot(self.nlocals + st.depth);
                let none = self.b.iconst(none_ptr());
                let is_none = self.b.icmp(Cond::Eq, obj, none);
                self.xdecref(obj);
                is_none
            }
            AV::Const(Kind::ObjConst(TypeTag::NoneType, _)) => self.b.iconst(1),
            _ => self.b.iconst(0),
        };
        let target = ins.jump_target().unwrap();
        let (on_true, on_false) = if jump_if_none { (target, ins.next) } else { (ins.next, target) };
        self.branch(st, ins, is_none, on_true, on_false)
    }

    /// Ends the block with a two-way branch; each edge converts the state on its own.
    /// A backward edge (`POP_JUMP_BACKWARD_IF_*`, which check the eval breaker in the
    /// interpreter too) resumes at its target if it must leave.
    fn branch(&mut self, st: &State, ins: &Instr, cond: Value, on_true: u32, on_false: u32) -> Result<()> {
        let (t, f) = (self.b.create_block(&[]), self.b.create_block(&[]));
        self.b.branch(cond, t, &[], f, &[]);
        for (block, target) in [(t, on_true), (f, on_false)] {
            self.b.switch_to(block);
            if target <= ins.start {
                self.back_edge(st, target);
            }
            self.jump_to(st, target)?;
        }
        Ok(())
    }

    fn for_iter(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let exhausted_target = ins.jump_target().unwrap();
        match self.top(st, 1) {
            AV::Range(cur, stop, step) => {
                self.native_ops += 1;
                let more = match self.range_step_sign(step) {
                    Some(true) => self.b.icmp(Cond::Lt, cur, stop),
                    Some(false) => self.b.icmp(Cond::Gt, cur, stop),
                    None => {
                        let zero = self.b.iconst(0);
                        let up = self.b.icmp(Cond::Gt, step, zero);
                        let lt = self.b.icmp(Cond::Lt, cur, stop);
                        let gt = self.b.icmp(Cond::Gt, cur, stop);
                        self.b.select(up, lt, gt)
                    }
                };
                let (body, done) = (self.b.create_block(&[]), self.b.create_block(&[]));
                self.b.branch(more, body, &[], done, &[]);
                self.b.switch_to(done);
                let mut after = st.clone();
                self.pop(&mut after);
                self.jump_to(&after, exhausted_target)?;
                self.b.switch_to(body);
                let snap = self.resume_here(st, ins, "range_overflow");
                let next = self.b.checked(CheckedOp::Add, cur, step, snap);
                let i = self.stack_index(st, 1);
                st.slots[i] = AV::Range(next, stop, step);
                self.push(st, AV::Word(Kind::MachineInt, cur));
            }
            AV::Obj(_) => {
                self.generic_ops += 1;
                self.sync_locals(st)?;
                self.set_prev_instr(ins.pc);
                let ptr = self.slot_address(self.stack_index(st, 1));
                let zero = self.b.iconst(0);
                let status = self.b.call(helpers::for_iter as *const () as u64, &[ptr, zero, zero], Some(Type::I64));
                self.raise_unless(status, st, ins)?;
                let two = self.b.iconst(2);
                let ended = self.b.icmp(Cond::Eq, status, two);
                let (body, done) = (self.b.create_block(&[]), self.b.create_block(&[]));
                self.b.branch(ended, done, &[], body, &[]);
                self.b.switch_to(done);
                let mut after = st.clone();
                self.pop(&mut after);
                self.jump_to(&after, exhausted_target)?;
                self.b.switch_to(body);
                self.push(st, AV::Obj(SlotKind::Is(Kind::Object)));
                self.check_tracing(st, ins.next);
            }
            other => return decline(format!("FOR_ITER over {:?}", other.slot_kind())),
        }
        // The loop body continues in the current IR block.
        self.emit_instrs(st, ins.next, false)
    }

    /// The sign of a range step when it is a compile-time constant.
    fn range_step_sign(&self, step: Value) -> Option<bool> {
        self.b.constant(step).map(|c| c > 0)
    }

    fn call(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let nargs = ins.arg as usize;
        let kwnames = self.kwnames.take();
        let (first, callable) = (self.top(st, nargs + 2), self.top(st, nargs + 1));
        let next = self.by_start.get(&ins.next).map(|&i| self.instrs[i]);
        if let (AV::Obj(SlotKind::Null), AV::Const(Kind::ObjConst(_, id)), None, Some(next)) = (first, callable, kwnames, next) {
            let is_range = self.tables.consts.get(id) == std::ptr::addr_of_mut!(ffi::PyRange_Type) as *mut PyObject;
            let args: Vec<AV> = (1..=nargs).rev().map(|k| self.top(st, k)).collect();
            if is_range
                && (1..=3).contains(&nargs)
                && args.iter().all(|a| a.is_int())
                && next.opcode == GET_ITER
                && !self.block_starts.contains(&next.start)
            {
                return self.virtual_range(st, ins, &args);
            }
        }
        if let (AV::Obj(SlotKind::Null), AV::Const(Kind::ObjConst(TypeTag::Function, id)), None) = (first, callable, kwnames) {
            // SAFETY: the pool keeps the function alive.
            if unsafe { crate::calls::can_call_directly(self.tables.consts.get(id), nargs) } {
                let key = (1..=nargs).rev().map(|k| self.top(st, k).static_kind()).collect();
                // SAFETY: a live function object from the pool.
                let callee = unsafe { (*(self.tables.consts.get(id) as *mut cpython::PyFunctionObject)).func_code } as *mut PyCodeObject;
                let site = self.tables.add_direct_site(DirectSite::new(callee, key)) as i64;
                self.stack_op(st, ins, crate::calls::call_function, nargs + 2, 1, nargs as i64, site)?;
                // A direct call replaces one through the hook: compiling the caller pays.
                self.native_ops += 1;
                return self.after_call(st, ins);
            }
        }
        if let (AV::Const(Kind::ObjConst(_, id)), None) = (first, kwnames) {
            let descr = self.tables.consts.get(id);
            // SAFETY: the pool keeps the object alive.
            if unsafe { helpers::is_direct_method_descriptor(descr, nargs) } {
                // The method constant needs no frame slot: the helper knows it.
                self.prepare_inputs(st, nargs + 1)?;
                self.call_stack_helper(st, ins, helpers::call_method_descriptor, nargs + 2, 1, nargs as i64, descr as i64, 0)?;
                self.native_ops += 1;
                return self.after_call(st, ins);
            }
        }
        if let (AV::Obj(_), AV::Obj(_), None) = (first, callable, kwnames) {
            // Any callable (or method, after `LOAD_METHOD`): a Python function takes the
            // direct path, through an inline cache of the version its code ran last.
            let method_site = first != AV::Obj(SlotKind::Null);
            let explicit = if method_site { nargs + 1 } else { nargs };
            let key = (1..=explicit).rev().map(|k| self.top(st, k).static_kind()).collect();
            let mut site = DirectSite::new(std::ptr::null_mut(), key);
            site.method_site = method_site;
            let site = self.tables.add_direct_site(site) as i64;
            self.stack_op(st, ins, crate::calls::call_cached, nargs + 2, 1, nargs as i64, site)?;
            return self.after_call(st, ins);
        }
        let kw = kwnames.map_or(0, |k| k as i64);
        self.stack_op(st, ins, helpers::call, nargs + 2, 1, nargs as i64, kw)?;
        self.after_call(st, ins)
    }

    /// The interpreter checks the eval breaker after every `CALL` (a C function such as
    /// `time.sleep` may have let a signal in): so do we, running the pending work the way
    /// it does, with the result on the stack.
    fn after_call(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let breaker = self.eval_breaker();
        let zero = self.b.iconst(0);
        let quiet = self.b.icmp(Cond::Eq, breaker, zero);
        let (pending, go_on) = (self.b.create_block(&[]), self.b.create_block(&[]));
        self.b.branch(quiet, go_on, &[], pending, &[]);
        self.b.switch_to(pending);
        let ok = self.b.call(helpers::handle_pending as *const () as u64, &[], Some(Type::I64));
        self.raise_unless(ok, st, ins)?;
        self.b.jump(go_on, &[]);
        self.b.switch_to(go_on);
        Ok(())
    }

    /// `range(...)` followed by `GET_ITER`: a virtual iterator, never allocated.
    fn virtual_range(&mut self, st: &mut State, ins: &Instr, args: &[AV]) -> Result<()> {
        let vals: Vec<Value> = args.iter().map(|&a| self.int_value(a)).collect();
        let (start, stop, step) = match vals.len() {
            1 => (self.b.iconst(0), vals[0], self.b.iconst(1)),
            2 => (vals[0], vals[1], self.b.iconst(1)),
            _ => (vals[0], vals[1], vals[2]),
        };
        if vals.len() == 3 && self.b.constant(step).is_none_or(|c| c == 0) {
            // range() with a zero step raises ValueError: the interpreter does it.
            let zero = self.b.iconst(0);
            let nonzero = self.b.icmp(Cond::Ne, step, zero);
            let snap = self.resume_here(st, ins, "range_zero_step");
            self.b.guard(nonzero, true, snap);
        }
        st.depth -= args.len() + 2;
        self.push(st, AV::Range(start, stop, step));
        Ok(())
    }
}

impl AV {
    /// The kind the hook would give this value as an argument (see `hook::arg_kind`).
    fn static_kind(self) -> Kind {
        let kind = match self.slot_kind() {
            SlotKind::Is(k) => k,
            _ => Kind::Object,
        };
        match kind {
            Kind::IntConst(_) | Kind::FloatConst(_) | Kind::BoolConst(_) => kind.generalize(),
            Kind::MachineInt | Kind::MachineBool | Kind::UnboxedFloat => kind,
            Kind::ObjConst(t, _) | Kind::Exact(t) if !matches!(t, TypeTag::Other | TypeTag::RangeIter) => Kind::Exact(t),
            _ => Kind::Object,
        }
    }

    /// The kind a value has once boxed into the frame.
    fn slot_kind_boxed(self) -> SlotKind {
        match self.slot_kind() {
            SlotKind::Is(k) => SlotKind::Is(match k.type_tag() {
                Some(t) => Kind::Exact(t),
                None => Kind::Object,
            }),
            other => other,
        }
    }
}

/// One entry of a code object's exception table (offsets in code units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Handler {
    start: u32,
    end: u32,
    target: u32,
    /// Stack depth the handler starts from.
    depth: usize,
    /// Whether the raising instruction's offset is pushed before the exception.
    lasti: bool,
}

/// Parses 3.11's `co_exceptiontable` (`Objects/exception_handling_notes.txt`): entries of
/// four varints (start, length, target, depth << 1 | lasti), each varint in 6-bit groups,
/// most significant first, bit 6 meaning "more follows".
fn parse_exception_table(bytes: &[u8]) -> Vec<Handler> {
    let mut it = bytes.iter().copied();
    let mut varint = || -> Option<u32> {
        let mut b = it.next()?;
        let mut v = (b & 63) as u32;
        while b & 64 != 0 {
            b = it.next()?;
            v = (v << 6) | (b & 63) as u32;
        }
        Some(v)
    };
    let mut out = Vec::new();
    while let (Some(start), Some(len), Some(target), Some(dl)) = (varint(), varint(), varint(), varint()) {
        out.push(Handler { start, end: start + len, target, depth: (dl >> 1) as usize, lasti: dl & 1 != 0 });
    }
    out
}

const NB_ADD: u32 = 0;
const NB_AND: u32 = 1;
const NB_FLOOR_DIVIDE: u32 = 2;
const NB_LSHIFT: u32 = 3;
const NB_MULTIPLY: u32 = 5;
const NB_REMAINDER: u32 = 6;
const NB_OR: u32 = 7;
const NB_RSHIFT: u32 = 9;
const NB_SUBTRACT: u32 = 10;
const NB_TRUE_DIVIDE: u32 = 11;
const NB_XOR: u32 = 12;

/// Offset of `ob_fval` in a float object.
const FLOAT_VALUE_OFFSET: i32 = 16;

fn slot_offset(i: usize) -> i32 {
    cpython::OFFSET_FRAME_LOCALSPLUS + 8 * i as i32
}

fn true_ptr() -> i64 {
    // SAFETY: the address of a static singleton.
    unsafe { ffi::Py_True() as i64 }
}

fn false_ptr() -> i64 {
    // SAFETY: the address of a static singleton.
    unsafe { ffi::Py_False() as i64 }
}

fn none_ptr() -> i64 {
    // SAFETY: the address of a static singleton.
    unsafe { ffi::Py_None() as i64 }
}

/// Python's result of `a op b` on ints when it fits in an `i64`.
fn fold_int(op: u32, a: i64, b: i64) -> Option<i64> {
    match op {
        NB_ADD => a.checked_add(b),
        NB_SUBTRACT => a.checked_sub(b),
        NB_MULTIPLY => a.checked_mul(b),
        NB_AND => Some(a & b),
        NB_OR => Some(a | b),
        NB_XOR => Some(a ^ b),
        NB_FLOOR_DIVIDE => {
            let (q, r) = (a.checked_div(b)?, a.checked_rem(b)?);
            Some(if r != 0 && (r < 0) != (b < 0) { q - 1 } else { q })
        }
        NB_REMAINDER => {
            let r = a.checked_rem(b)?;
            Some(if r != 0 && (r < 0) != (b < 0) { r + b } else { r })
        }
        NB_LSHIFT if (0..64).contains(&b) => {
            let r = a.checked_shl(b as u32)?;
            (r >> b == a).then_some(r)
        }
        NB_RSHIFT if b >= 0 => Some(a >> b.min(63)),
        _ => None,
    }
}

/// The truth of a constant kind, when known at compile time.
fn static_truth(k: Kind) -> Option<bool> {
    match k {
        Kind::IntConst(c) => Some(c != 0),
        Kind::FloatConst(bits) => Some(f64::from_bits(bits) != 0.0),
        Kind::BoolConst(b) => Some(b),
        Kind::ObjConst(TypeTag::NoneType, _) => Some(false),
        _ => None,
    }
}

/// The type tag of a live object.
pub fn type_tag(obj: *mut PyObject) -> TypeTag {
    // SAFETY: `obj` is a live object; comparing type pointers reads nothing else.
    let ty = unsafe { ffi::Py_TYPE(obj) };
    TypeTag::ALL.into_iter().find(|&t| type_of_tag(t) == ty).unwrap_or(TypeTag::Other)
}

/// The type whose exact instances have `tag` (NULL for `Other` and `RangeIter`, which name
/// no single type here).
pub fn type_of_tag(tag: TypeTag) -> *mut ffi::PyTypeObject {
    // SAFETY: taking the addresses of CPython's static type objects reads nothing; None's
    // type is that of the None singleton.
    unsafe {
        match tag {
            TypeTag::Int => std::ptr::addr_of_mut!(ffi::PyLong_Type),
            TypeTag::Float => std::ptr::addr_of_mut!(ffi::PyFloat_Type),
            TypeTag::Bool => std::ptr::addr_of_mut!(ffi::PyBool_Type),
            TypeTag::NoneType => ffi::Py_TYPE(ffi::Py_None()),
            TypeTag::Str => std::ptr::addr_of_mut!(ffi::PyUnicode_Type),
            TypeTag::Tuple => std::ptr::addr_of_mut!(ffi::PyTuple_Type),
            TypeTag::List => std::ptr::addr_of_mut!(ffi::PyList_Type),
            TypeTag::Dict => std::ptr::addr_of_mut!(ffi::PyDict_Type),
            TypeTag::Set => std::ptr::addr_of_mut!(ffi::PySet_Type),
            TypeTag::Function => std::ptr::addr_of_mut!(ffi::PyFunction_Type),
            TypeTag::Builtin => std::ptr::addr_of_mut!(ffi::PyCFunction_Type),
            TypeTag::Range => std::ptr::addr_of_mut!(ffi::PyRange_Type),
            TypeTag::RangeIter | TypeTag::Other => std::ptr::null_mut(),
        }
    }
}

/// Whether `c` is one of the ints CPython caches (each has a single object).
fn is_small_int(c: i64) -> bool {
    (cpython::SMALL_INT_MIN..cpython::SMALL_INT_MIN + cpython::SMALL_INT_COUNT).contains(&c)
}

/// The C method descriptor that `obj.name` is for every exact instance `obj` of `ty`, or
/// NULL: found in the type when the type is immutable and its instances have no `__dict__`
/// (so neither can shadow it), as `_PyObject_GetMethod` would find it.
///
/// # Safety
/// `ty` is NULL or a live type; `name` a live str; GIL held.
unsafe fn method_descriptor(ty: *mut ffi::PyTypeObject, name: *mut PyObject) -> *mut PyObject {
    // SAFETY: per the contract; `_PyType_Lookup` neither raises nor runs Python code.
    unsafe {
        if ty.is_null() || (*ty).tp_flags & ffi::Py_TPFLAGS_IMMUTABLETYPE == 0 || (*ty).tp_dictoffset != 0 {
            return std::ptr::null_mut();
        }
        let found = cpython::_PyType_Lookup(ty, name);
        if found.is_null() || ffi::Py_TYPE(found) != std::ptr::addr_of_mut!(ffi::PyMethodDescr_Type) {
            return std::ptr::null_mut();
        }
        found
    }
}

/// Globals worth treating as constants behind an identity guard: builtins and types (which
/// programs almost never rebind) and functions.
fn is_specializable_global(obj: *mut PyObject) -> bool {
    // SAFETY: `obj` is a live object.
    unsafe {
        matches!(type_tag(obj), TypeTag::Builtin | TypeTag::Function) || ffi::PyType_Check(obj) != 0
    }
}

/// Builds the range iterator a virtual one stands for (called when it must exist).
unsafe extern "C" fn materialize_range_iter(cur: i64, stop: i64, step: i64) -> *mut PyObject {
    // SAFETY: GIL held by the compiled code's caller.
    unsafe { helpers::range_iterator(cur, stop, step) }
}
