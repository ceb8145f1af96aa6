//! Block versions and the fixpoint over them: emission rounds from the entry over a worklist
//! of (block, version) pairs, the IR block of each version, and the jumps between them that
//! pick, create or widen a version.

use crate::reasons::DeclineReason;
use super::dispatch::Flow;
use super::state::{AbstractValue, EntryState, SlotKind, State};
use super::CompileCost;
use super::balance::Balance;
use super::{decline, internal, Frontend, Result, Start};
use crate::cpython::{self, slot_offset, types::true_ptr};
use crate::jit::side_tables::ConstPool;
use ir::{Block, Builder, Cond, Kind, Mem, Type, Value};

/// Versions of one bytecode block before the last one turns generic.
pub const MAX_BLOCK_VERSIONS: usize = 4;

/// About how many IR instructions, blocks and snapshots a bytecode instruction becomes, for
/// reserving the first round's IR up front (nbody's `advance`: 57, 8.6 and 2.8; the imports
/// of the start-up benchmark about half that). Later rounds reserve what the last one used.
const IR_PER_INSTRUCTION: (usize, usize, usize) = (32, 5, 2);

/// Emission rounds before giving up on a fixpoint (kinds climb a finite lattice, so it is
/// reached long before).
const MAX_ROUNDS: usize = 32;

impl Frontend<'_> {
    /// Emits rounds until no version's entry state changes; the last round's IR.
    pub(super) fn fixpoint(&mut self, cost: &mut CompileCost) -> Result<ir::Function> {
        for round in 0..MAX_ROUNDS {
            self.changed = false;
            cost.rounds += 1;
            let func = self.emit_round(round)?;
            let decides = round == 0 || !self.changed;
            if self.req.decline_generic && decides && self.balance.mostly_generic() {
                return decline(DeclineReason::MostlyGeneric);
            }
            if !self.changed {
                return Ok(func);
            }
        }
        decline(DeclineReason::NoFixpoint)
    }

    fn emit_round(&mut self, round: usize) -> Result<ir::Function> {
        // SAFETY: co_qualname is a str of the live code object.
        let name = unsafe { crate::cpython::str_of((*self.code.object).co_qualname) };
        self.ir = Builder::new(&name, 2);
        let (insts, blocks, snapshots) = self.last_round_size.unwrap_or_else(|| {
            let n = self.code.instrs.len();
            (IR_PER_INSTRUCTION.0 * n, IR_PER_INSTRUCTION.1 * n, IR_PER_INSTRUCTION.2 * n)
        });
        self.ir.reserve(insts, blocks, snapshots);
        self.ir_blocks.clear();
        self.tables.sites.clear();
        self.tables.direct_sites.clear();
        self.tables.consts = ConstPool::default();
        let entry = self.ir.create_block(&[]);
        self.ir.switch_to(entry);
        self.frame = self.ir.param(0);
        self.tstate = self.ir.param(1);
        self.worklist.clear();
        // Only a call's first round without the interpreter's evidence scouts (`balance`).
        let scouting = round == 0 && self.quickened.is_none() && matches!(self.req.start, Start::Call);
        self.balance = Balance::new_round(&self.native_capable, scouting);
        self.exit_reasons.clear();
        let state = self.entry_state()?;
        let start_pc = match self.req.start {
            Start::Call => 0,
            Start::Resume { pc, .. } => pc,
        };
        if !self.code.by_start.contains_key(&start_pc) {
            return internal("resuming between instructions");
        }
        self.emit_from(start_pc, state)?;
        while let Some((start, version)) = self.worklist.pop() {
            // Keep emitting after a widening (this round is discarded then, but going on
            // finds the other widenings it needs, so fewer rounds are needed).
            let (block, entry) = self.ir_blocks[&(start, version)].clone();
            if self.ir.is_terminated(block) {
                // Queued again when its version widened, and emitted since.
                continue;
            }
            self.ir.switch_to(block);
            let state = self.state_from_params(block, &entry);
            self.emit_from(start, state)?;
        }
        let b = std::mem::replace(&mut self.ir, Builder::new("", 2));
        self.last_round_size = Some(b.size());
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
        let mut slots = vec![AbstractValue::Obj(SlotKind::Null); self.code.nlocals + self.code.stacksize];
        let (depth, synced_locals) = match self.req.start {
            Start::Call => (0, self.code.nargs),
            Start::Resume { depth, .. } => (depth as usize, self.code.nlocals),
        };
        for (i, &kind) in self.req.entry_kinds.iter().enumerate() {
            let kind = if i < self.code.cell_slots.len() && self.code.cell_slots[i] && kind != Kind::Bottom {
                Kind::Object
            } else {
                kind
            };
            slots[i] = match kind {
                Kind::Bottom => AbstractValue::Obj(SlotKind::Null),
                // A call's arguments are never NULL; a resumed frame's untyped slots may be.
                Kind::Object if self.req.start != Start::Call => AbstractValue::Obj(SlotKind::MaybeNull),
                k if k.repr() == ir::Repr::Object => AbstractValue::Obj(SlotKind::Is(k)),
                k if i >= self.code.nlocals => return internal(format!("unboxed stack entry kind {k}")),
                Kind::MachineInt => {
                    let obj = self.ir.load(Mem::I64, self.frame, slot_offset(i));
                    AbstractValue::Word(Kind::MachineInt, self.unbox_int(obj))
                }
                Kind::UnboxedFloat => {
                    let obj = self.ir.load(Mem::I64, self.frame, slot_offset(i));
                    AbstractValue::Double(self.ir.load(Mem::F64, obj, cpython::OFFSET_FLOAT_VALUE))
                }
                Kind::MachineBool => {
                    let obj = self.ir.load(Mem::I64, self.frame, slot_offset(i));
                    let t = self.ir.iconst(true_ptr());
                    AbstractValue::Word(Kind::MachineBool, self.ir.icmp(Cond::Eq, obj, t))
                }
                k => return internal(format!("entry kind {k}")),
            };
        }
        let synced = (0..self.code.nlocals).map(|i| i < synced_locals).collect();
        Ok(State { slots, depth, synced })
    }

    /// The IR block for version `version` of the bytecode block at `start`, created (and
    /// queued for emission) with parameters for its entry state on first use in this round.
    fn ir_block(&mut self, start: u32, version: usize) -> Block {
        if let Some((b, _)) = self.ir_blocks.get(&(start, version)) {
            return *b;
        }
        let entry = &self.entry_states[&start][version];
        let mut types = Vec::new();
        for sk in entry.kinds.iter() {
            if let SlotKind::Is(k) = sk {
                match k.repr() {
                    ir::Repr::Word => types.push(Type::I64),
                    ir::Repr::Double => types.push(Type::F64),
                    ir::Repr::Virtual(n) => types.extend(std::iter::repeat_n(Type::I64, n as usize)),
                    _ => {}
                }
            }
        }
        let block = self.ir.create_block(&types);
        self.ir_blocks.insert((start, version), (block, entry.clone()));
        self.worklist.push((start, version));
        block
    }

    fn state_from_params(&mut self, block: Block, entry: &EntryState) -> State {
        let mut next = self.ir.block_params(block).iter().copied();
        let mut slots = vec![AbstractValue::Obj(SlotKind::Null); self.code.nlocals + self.code.stacksize];
        let live = self.code.nlocals + entry.depth;
        for (i, sk) in entry.kinds.iter().enumerate().take(live) {
            slots[i] = match *sk {
                SlotKind::Is(k) => match k.repr() {
                    ir::Repr::Constant => AbstractValue::Const(k),
                    ir::Repr::Word => AbstractValue::Word(k, next.next().unwrap()),
                    ir::Repr::Double => AbstractValue::Double(next.next().unwrap()),
                    ir::Repr::Virtual(_) => {
                        AbstractValue::Range(next.next().unwrap(), next.next().unwrap(), next.next().unwrap())
                    }
                    _ => AbstractValue::Obj(*sk),
                },
                other => AbstractValue::Obj(other),
            };
        }
        State { slots, depth: entry.depth, synced: entry.synced.clone() }
    }

    /// Ends the current IR block with a jump to the bytecode block at `target`, converting
    /// the state to the target's entry representation.
    pub(super) fn jump_to(&mut self, st: &State, target: u32) -> Result<()> {
        let live = self.code.nlocals + st.depth;
        let loop_head = self.code.loop_heads.contains(&target);
        // Entering a loop, constants are forgotten (a version per value would not converge).
        let kinds = st.slots[..live]
            .iter()
            .map(|av| match av.slot_kind() {
                SlotKind::Is(k) if loop_head => SlotKind::Is(k.generalize()),
                sk => sk,
            })
            .collect();
        // Only unboxed locals have a box to keep (its identity matters: see `box_shared`).
        let synced = (0..self.code.nlocals)
            .map(|i| st.synced[i] && matches!(st.slots[i], AbstractValue::Word(..) | AbstractValue::Double(_)))
            .collect();
        let incoming = EntryState { kinds, depth: st.depth, synced };
        let versions = self.entry_states.entry(target).or_default();
        if versions.iter().any(|v| v.depth != st.depth) {
            return decline(DeclineReason::StackDepthAtJoin);
        }
        let fitting =
            versions.iter().position(|v| *v == incoming).or_else(|| versions.iter().position(|v| v.admits(&incoming)));
        // A state that differs from a version only in what is known of values held the same
        // way (a type, a constant, bound or not) widens that version (the round is redone)
        // instead of splitting the code after every branch: split, a version of every later
        // block per branch (re's compiler grew to 100,000 IR instructions and its parser
        // reached no fixpoint; re's `_parse_sub` took 7 rounds of 6,000 IR instructions).
        // Where every path agrees, as for arguments and loop-carried values, the knowledge is
        // kept; versions still split on representation (an unboxed int or float, or not).
        let widened = fitting.is_none().then(|| versions.iter().position(|v| v.widens_to_admit(&incoming))).flatten();
        let version = match (fitting, widened) {
            (Some(v), _) => v,
            (None, None) if versions.len() < MAX_BLOCK_VERSIONS => {
                // A new version: nothing emitted so far depends on it.
                versions.push(incoming);
                versions.len() - 1
            }
            (None, widened) => {
                // A version widens (else the last one, the generic one, absorbs every further
                // state). Code already emitted for it is then stale and this round's IR is
                // discarded, but the round goes on from the widened state, emitted again:
                // the blocks after it see it in this round, not in the next one (re's
                // `_compile` took 27 rounds when each widening waited for a round).
                let v = widened.unwrap_or(versions.len() - 1);
                versions[v].absorb(&incoming);
                self.changed = true;
                self.ir_blocks.remove(&(target, v));
                v
            }
        };
        let joined = versions[version].kinds.clone();
        let mut st = st.clone();
        let mut args = Vec::new();
        for (i, sk) in joined.into_iter().enumerate() {
            match sk {
                SlotKind::Is(k) if k.repr() != ir::Repr::Object => self.convert(st.slots[i], k, &mut args)?,
                _ => self.store_in_frame(&mut st, i)?,
            }
        }
        let block = self.ir_block(target, version);
        self.ir.jump(block, &args);
        Ok(())
    }

    /// Appends to `args` the block arguments that carry `av` as a value of the (non-object)
    /// kind `k`.
    fn convert(&mut self, av: AbstractValue, k: Kind, args: &mut Vec<Value>) -> Result<()> {
        match (av, k.repr()) {
            (_, ir::Repr::Constant) => {}
            (AbstractValue::Const(Kind::IntConst(c)), ir::Repr::Word) => args.push(self.ir.iconst(c)),
            (AbstractValue::Const(Kind::BoolConst(c)), ir::Repr::Word) => args.push(self.ir.iconst(c as i64)),
            (AbstractValue::Const(Kind::FloatConst(bits)), ir::Repr::Double) => {
                args.push(self.ir.fconst(f64::from_bits(bits)))
            }
            (av, _) => args.extend(av.parts()),
        }
        Ok(())
    }

    /// Emits the bytecode block at `start` from state `st`.
    fn emit_from(&mut self, start: u32, mut st: State) -> Result<()> {
        self.kwnames = None;
        self.emit_instrs(&mut st, start, true)
    }

    /// Emits instructions from `pc` until one ends the IR block, or until the next bytecode
    /// block starts (jumping to it). `entering` says that `pc` itself starts the block being
    /// emitted; otherwise reaching a block start at once jumps there.
    pub(super) fn emit_instrs(&mut self, st: &mut State, pc: u32, entering: bool) -> Result<()> {
        let mut index = self.code.by_start[&pc];
        loop {
            let ins = self.code.instrs[index];
            if !(entering && ins.start == pc) && self.code.block_starts.contains(&ins.start) {
                return self.jump_to(st, ins.start);
            }
            self.balance.emitting(index, self.native_capable[index]);
            let flow = self.emit_instr(st, &ins)?;
            if self.req.decline_generic && (self.balance.hopeless() || self.balance.scouted_generic()) {
                return decline(DeclineReason::MostlyGeneric);
            }
            if flow == Flow::EndBlock {
                return Ok(());
            }
            index += 1;
            if index >= self.code.instrs.len() {
                return decline(DeclineReason::FellOffTheEnd);
            }
        }
    }
}
