//! The frame as compiled code keeps it: slots and the value stack, reference counts, boxing
//! and object identity, snapshots for leaving, and the checks that make it leave (tracing,
//! the eval breaker at back edges).

use crate::reasons::ExitReason;
use crate::registry;
use super::state::{AbstractValue, SlotKind, State};
use super::{internal, Frontend, Result};
use crate::bytecode::Instr;
use crate::cpython::{
    self, slot_offset,
    types::{false_ptr, true_ptr},
};
use ir::{Cond, ExitKind, IntOp, Kind, Mem, SnapshotEntry, SnapshotId, Type, TypeTag, Value};

/// Back-edges a version that profiles runs before it is compiled again with the profiles:
/// at least enough for every site of a loop body to have run, few next to a hot loop's
/// iterations; and for bigger code, enough to pay for compiling it again (some 10 µs per
/// instruction, against about 1 µs per iteration of generic code: four times over).
const REOPTIMIZE_AFTER_BACK_EDGES: i64 = 64;
const REOPTIMIZE_BACK_EDGES_PER_INSTRUCTION: i64 = 40;

impl Frontend<'_> {
    pub(super) fn stack_index(&self, st: &State, from_top: usize) -> usize {
        self.code.nlocals + st.depth - from_top
    }

    pub(super) fn push(&mut self, st: &mut State, av: AbstractValue) {
        let i = self.code.nlocals + st.depth;
        st.slots[i] = av;
        st.depth += 1;
    }

    pub(super) fn pop(&mut self, st: &mut State) -> AbstractValue {
        st.depth -= 1;
        st.slots[self.code.nlocals + st.depth]
    }

    pub(super) fn top(&self, st: &State, from_top: usize) -> AbstractValue {
        st.slots[self.stack_index(st, from_top)]
    }

    pub(super) fn slot_address(&mut self, i: usize) -> Value {
        let off = self.ir.iconst(slot_offset(i) as i64);
        self.ir.int(IntOp::Add, self.frame, off)
    }

    /// The object `from_top` slots from the top of the stack, for an operation that reads
    /// it: borrowed (see `AbstractValue::Borrowed`) or in the frame.
    pub(super) fn stack_object(&mut self, st: &State, from_top: usize) -> Value {
        match self.top(st, from_top) {
            AbstractValue::Borrowed { ptr, .. } => ptr,
            _ => self.load_slot(self.stack_index(st, from_top)),
        }
    }

    /// Releases the reference that a slot holding `av` has to `obj` (an input read by
    /// `stack_object` and consumed, a local's old value): a borrowed entry has none, an
    /// object of a known kind is not NULL, anything else may be (an unbound local, the stale
    /// slot of an unboxed one).
    pub(super) fn release(&mut self, av: AbstractValue, obj: Value) {
        match av {
            AbstractValue::Borrowed { .. } => {}
            AbstractValue::Obj(SlotKind::Is(_)) => self.decref(obj),
            _ => self.xdecref(obj),
        }
    }

    /// Gives stack slot `i`, if borrowed, its own reference in the frame.
    pub(super) fn own(&mut self, st: &mut State, i: usize) {
        if let AbstractValue::Borrowed { kind, ptr, .. } = st.slots[i] {
            self.incref(ptr);
            self.store_slot(i, ptr);
            st.slots[i] = AbstractValue::Obj(SlotKind::Is(kind));
        }
    }

    /// `own` for the top `n` stack entries (an operation's inputs).
    pub(super) fn own_inputs(&mut self, st: &mut State, n: usize) {
        for k in 1..=n.min(st.depth) {
            let i = self.stack_index(st, k);
            self.own(st, i);
        }
    }

    /// Before local `local` is rebound or deleted, the stack entries that hold its value get
    /// references of their own, as the interpreter's stack has them: a borrowed object its
    /// own reference, and an unboxed number the local's object (boxed now if it has none),
    /// so that `f(x, (x := ...))` passes the object `x` named and `x, y = y, x` keeps both.
    pub(super) fn before_rebinding(&mut self, st: &mut State, local: usize) -> Result<()> {
        let stack = self.code.nlocals..self.code.nlocals + st.depth;
        for i in stack.clone() {
            if matches!(st.slots[i], AbstractValue::Borrowed { local: l, .. } if l == local) {
                self.own(st, i);
            }
        }
        let av = st.slots[local];
        let tag = match av {
            AbstractValue::Word(Kind::MachineInt, _) => TypeTag::Int,
            AbstractValue::Double(_) => TypeTag::Float,
            _ => return Ok(()),
        };
        let copies: Vec<usize> = stack.filter(|&i| st.slots[i] == av).collect();
        if copies.is_empty() {
            return Ok(());
        }
        // One reference from boxing, one more for each further copy.
        let obj = self.box_shared(st, av)?;
        for (n, &i) in copies.iter().enumerate() {
            if n > 0 {
                self.incref(obj);
            }
            self.store_slot(i, obj);
            st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Exact(tag)));
        }
        Ok(())
    }

    pub(super) fn load_slot(&mut self, i: usize) -> Value {
        self.ir.load(Mem::I64, self.frame, slot_offset(i))
    }

    pub(super) fn store_slot(&mut self, i: usize, v: Value) {
        self.ir.store(Mem::I64, self.frame, slot_offset(i), v);
    }

    pub(super) fn incref(&mut self, obj: Value) {
        let rc = self.ir.load(Mem::I64, obj, 0);
        let one = self.ir.iconst(1);
        let rc1 = self.ir.int(IntOp::Add, rc, one);
        self.ir.store(Mem::I64, obj, 0, rc1);
    }

    /// `Py_XDECREF`, inline: only freeing the object is a call.
    pub(super) fn xdecref(&mut self, obj: Value) {
        self.release_reference(obj, true);
    }

    /// `Py_DECREF` of an object known not to be NULL (a slot of kind `SlotKind::Is`).
    pub(super) fn decref(&mut self, obj: Value) {
        self.release_reference(obj, false);
    }

    fn release_reference(&mut self, obj: Value, maybe_null: bool) {
        let (free, done) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        if maybe_null {
            let live = self.ir.create_block(&[]);
            let null = self.ir.iconst(0);
            let is_live = self.ir.icmp(Cond::Ne, obj, null);
            self.ir.branch(is_live, live, &[], done, &[]);
            self.ir.switch_to(live);
        }
        let rc = self.ir.load(Mem::I64, obj, 0);
        let one = self.ir.iconst(1);
        let rc1 = self.ir.int(IntOp::Sub, rc, one);
        self.ir.store(Mem::I64, obj, 0, rc1);
        let zero = self.ir.iconst(0);
        let dead = self.ir.icmp(Cond::Eq, rc1, zero);
        self.ir.branch(dead, free, &[], done, &[]);
        self.ir.switch_to(free);
        // A finalizer may look at the frame (a warning's line number): point it here.
        self.set_prev_instr(self.current_pc);
        self.ir.call(registry::dealloc(), &[obj], None);
        self.ir.jump(done, &[]);
        self.ir.switch_to(done);
    }

    /// The value of an int object that the version's key says fits a machine word: inline
    /// for zero and one-digit ints (`ob_size` in -1..=1 times the digit), else a call.
    pub(super) fn unbox_int(&mut self, obj: Value) -> Value {
        let (size, small) = self.one_digit(obj);
        self.diamond(
            small,
            |fe| fe.one_digit_value(obj, size),
            |fe| fe.ir.call(registry::unbox_int(), &[obj], Some(Type::I64)),
        )
    }

    /// An int object's `ob_size` (its sign times its number of digits), and whether it has
    /// one digit at most (its value is then the digit times the size).
    pub(super) fn one_digit(&mut self, obj: Value) -> (Value, Value) {
        let size = self.ir.load(Mem::I64, obj, cpython::OFFSET_OB_SIZE);
        let one = self.ir.iconst(1);
        let shifted = self.ir.int(IntOp::Add, size, one);
        let three = self.ir.iconst(3);
        (size, self.ir.icmp(Cond::ULt, shifted, three))
    }

    /// The value of an int object of one digit at most whose `ob_size` is `size` (see
    /// `one_digit`): its digit times its size.
    pub(super) fn one_digit_value(&mut self, obj: Value, size: Value) -> Value {
        let digit = self.ir.load(Mem::U32, obj, cpython::OFFSET_LONG_DIGIT);
        self.ir.int(IntOp::Mul, digit, size)
    }

    /// A new reference to a pooled constant object.
    fn const_object(&mut self, id: u32) -> Value {
        let ptr = self.tables.consts.get(id) as i64;
        let v = self.ir.iconst(ptr);
        self.incref(v);
        v
    }

    /// A new reference to the boxed form of a non-frame value. Where boxing can fail (out of
    /// memory), the frame leaves raising at `pc`, as `st` has it.
    pub(super) fn boxed(&mut self, av: AbstractValue, st: &State, pc: u32) -> Result<Value> {
        let obj = match av {
            AbstractValue::Word(Kind::MachineBool, v) => {
                let (t, f) = (self.ir.iconst(true_ptr()), self.ir.iconst(false_ptr()));
                let obj = self.ir.select(v, t, f);
                self.incref(obj);
                return Ok(obj);
            }
            AbstractValue::Word(_, v) => {
                // Small ints are cached objects: take one by address, as CPython does.
                let min = self.ir.iconst(-cpython::SMALL_INT_MIN);
                let index = self.ir.int(IntOp::Add, v, min);
                let count = self.ir.iconst(cpython::SMALL_INT_COUNT);
                let cached = self.ir.icmp(Cond::ULt, index, count);
                self.diamond(
                    cached,
                    |fe| {
                        let shift = fe.ir.iconst(cpython::SMALL_INT_SIZE.trailing_zeros() as i64);
                        let offset = fe.ir.int(IntOp::Shl, index, shift);
                        let base = fe.ir.iconst(cpython::small_ints() as i64);
                        let obj = fe.ir.int(IntOp::Add, base, offset);
                        fe.incref(obj);
                        obj
                    },
                    |fe| fe.ir.call(registry::box_int(), &[v], Some(Type::I64)),
                )
            }
            AbstractValue::Double(v) => self.box_float(v),
            AbstractValue::Const(Kind::IntConst(c)) => {
                let id = self.tables.consts.add_int(c)?;
                return Ok(self.const_object(id));
            }
            AbstractValue::Const(Kind::FloatConst(bits)) => {
                let id = self.tables.consts.add_float(f64::from_bits(bits))?;
                return Ok(self.const_object(id));
            }
            AbstractValue::Const(Kind::BoolConst(b)) => {
                let v = self.ir.iconst(if b { true_ptr() } else { false_ptr() });
                self.incref(v);
                return Ok(v);
            }
            AbstractValue::Const(Kind::ObjConst(_, id)) => return Ok(self.const_object(id)),
            AbstractValue::Range(a, b, c) => {
                self.ir.call(registry::materialize_range_iter(), &[a, b, c], Some(Type::I64))
            }
            AbstractValue::Borrowed { ptr, .. } => {
                self.incref(ptr);
                return Ok(ptr);
            }
            AbstractValue::Const(k) | AbstractValue::Obj(SlotKind::Is(k)) => {
                return internal(format!("boxing {k}"))
            }
            AbstractValue::Obj(_) => return internal("boxing a frame object"),
        };
        let on_failure = self.snapshot(st, ExitKind::Raise, pc, st.depth, ExitReason::BoxFailed);
        self.ir.guard(obj, true, on_failure);
        Ok(obj)
    }

    /// A new float object for `v`: `PyFloat_FromDouble` inline, off the interpreter's float
    /// freelist (its floats are linked through `ob_type`), when the list has one and
    /// tracemalloc is not tracing; the call otherwise (NULL when out of memory), and always
    /// in a slow path (`Frontend::cold`).
    fn box_float(&mut self, v: Value) -> Value {
        if self.cold {
            return self.ir.call(registry::box_float(), &[v], Some(Type::I64));
        }
        // The interpreter, from the address of its eval breaker.
        let interp = self.req.eval_breaker as i64 - cpython::OFFSET_INTERP_EVAL_BREAKER as i64;
        let head = self.ir.iconst(interp + cpython::OFFSET_INTERP_FLOAT_FREE_LIST as i64);
        let float = self.ir.load(Mem::I64, head, 0);
        let tracing = self.ir.iconst(cpython::tracemalloc_tracing() as i64);
        let tracing = self.ir.load(Mem::I32, tracing, 0);
        let zero = self.ir.iconst(0);
        let listed = self.ir.icmp(Cond::Ne, float, zero);
        let quiet = self.ir.icmp(Cond::Eq, tracing, zero);
        let inline = self.ir.int(IntOp::And, listed, quiet);
        self.diamond(
            inline,
            |fe| {
                let next = fe.ir.load(Mem::I64, float, cpython::OFFSET_OB_TYPE);
                fe.ir.store(Mem::I64, head, 0, next);
                let numfree = fe.ir.iconst(interp + cpython::OFFSET_INTERP_FLOAT_NUMFREE as i64);
                let n = fe.ir.load(Mem::I32, numfree, 0);
                let one = fe.ir.iconst(1);
                let n1 = fe.ir.int(IntOp::Sub, n, one);
                fe.ir.store(Mem::I32, numfree, 0, n1);
                let float_type = fe.ir.iconst(std::ptr::addr_of_mut!(cpython::ffi::PyFloat_Type) as i64);
                fe.ir.store(Mem::I64, float, cpython::OFFSET_OB_TYPE, float_type);
                fe.ir.store(Mem::I64, float, 0, one);
                fe.ir.store(Mem::F64, float, cpython::OFFSET_FLOAT_VALUE, v);
                float
            },
            |fe| fe.ir.call(registry::box_float(), &[v], Some(Type::I64)),
        )
    }

    /// `if cond { fast } else { slow }` as a value, inside one instruction (the abstract
    /// state does not change across it).
    pub(super) fn diamond(
        &mut self,
        cond: Value,
        fast: impl FnOnce(&mut Self) -> Value,
        slow: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        let (then, otherwise, join) =
            (self.ir.create_block(&[]), self.ir.create_block(&[]), self.ir.create_block(&[Type::I64]));
        self.ir.branch(cond, then, &[], otherwise, &[]);
        self.ir.switch_to(then);
        let a = fast(self);
        self.ir.jump(join, &[a]);
        self.ir.switch_to(otherwise);
        let b = slow(self);
        self.ir.jump(join, &[b]);
        self.ir.switch_to(join);
        self.ir.block_params(join)[0]
    }

    /// Makes slot `i` hold its value in the frame (boxing it if needed).
    pub(super) fn store_in_frame(&mut self, st: &mut State, i: usize) -> Result<()> {
        let av = st.slots[i];
        match av {
            AbstractValue::Obj(_) => return Ok(()),
            AbstractValue::Borrowed { .. } => return Ok(self.own(st, i)),
            _ => {}
        }
        if i < self.code.nlocals {
            self.sync_local(st, i)?;
        } else {
            let obj = self.box_shared(st, av)?;
            self.store_slot(i, obj);
        }
        st.slots[i] = AbstractValue::Obj(av.slot_kind_boxed());
        Ok(())
    }

    // Object identity. CPython hands the same object around: `x is y`, `nan in [nan]` and
    // `id()` can tell. So an unboxed number that locals hold is boxed once, into their frame
    // slots (where the interpreter would keep it; arguments start there), and every later
    // use of that value takes the same object.

    /// The object a synced local already holds for `av`, if any.
    pub(super) fn synced_box(&mut self, st: &State, av: AbstractValue) -> Option<Value> {
        let i = (0..self.code.nlocals).find(|&i| st.slots[i] == av && st.synced[i])?;
        Some(self.load_slot(i))
    }

    /// Stores `obj`, the box of `av`, into the frame slot of every unsynced local holding
    /// `av` (each slot taking a reference).
    pub(super) fn adopt_box(&mut self, st: &mut State, av: AbstractValue, obj: Value) {
        for i in 0..self.code.nlocals {
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
    pub(super) fn box_shared(&mut self, st: &mut State, av: AbstractValue) -> Result<Value> {
        let sharable = matches!(av, AbstractValue::Word(..) | AbstractValue::Double(_));
        if sharable {
            if let Some(obj) = self.synced_box(st, av) {
                self.incref(obj);
                return Ok(obj);
            }
        }
        let obj = self.boxed(av, st, self.current_pc)?;
        if sharable {
            self.adopt_box(st, av, obj);
        }
        Ok(obj)
    }

    /// Makes local `i`'s frame slot hold (a box of) its current value.
    fn sync_local(&mut self, st: &mut State, i: usize) -> Result<()> {
        if matches!(st.slots[i], AbstractValue::Obj(_)) || st.synced[i] {
            return Ok(());
        }
        let obj = self.box_shared(st, st.slots[i])?;
        if st.synced[i] {
            // `box_shared` stored it in the slot (and the slot took its own reference):
            // drop ours, which cannot be the last.
            let rc = self.ir.load(Mem::I64, obj, 0);
            let one = self.ir.iconst(1);
            let rc1 = self.ir.int(IntOp::Sub, rc, one);
            self.ir.store(Mem::I64, obj, 0, rc1);
        } else {
            // A constant: not shared, the slot takes our reference.
            let old = self.load_slot(i);
            self.store_slot(i, obj);
            self.xdecref(old);
            st.synced[i] = true;
        }
        Ok(())
    }

    /// Before a call-out that may run Python code: make the frame show every local's current
    /// value (callees may look at it: `sys._getframe().f_back.f_locals`, debuggers). Unboxed
    /// locals stay unboxed; their frame slots get a box of the current value.
    pub(super) fn sync_locals(&mut self, st: &mut State) -> Result<()> {
        for i in 0..self.code.nlocals {
            self.sync_local(st, i)?;
        }
        Ok(())
    }

    /// A snapshot of `st` for leaving at `pc` (see `ExitKind`), counted under `reason`.
    pub(super) fn snapshot(&mut self, st: &State, kind: ExitKind, pc: u32, depth: usize, reason: ExitReason) -> SnapshotId {
        let reason = if self.inlining { ExitReason::InlinedCallFailed } else { reason };
        let mut entries = Vec::new();
        for (i, av) in st.slots[..self.code.nlocals + depth].iter().enumerate() {
            // Objects are in the frame already, and so are the boxes of synced locals (which
            // must stay the very objects the program may have seen).
            if matches!(av, AbstractValue::Obj(_)) || (i < self.code.nlocals && st.synced[i]) {
                continue;
            }
            // A number that a synced local holds leaves as that local's box: the object the
            // program has (an exit between `LOAD_FAST x` and `x is y` made a new one).
            let number_tag = match av {
                AbstractValue::Word(Kind::MachineInt, _) => Some(TypeTag::Int),
                AbstractValue::Double(_) => Some(TypeTag::Float),
                _ => None,
            };
            if let Some(tag) = number_tag {
                if let Some(obj) = self.synced_box(st, *av) {
                    entries.push(SnapshotEntry { slot: i as u32, kind: Kind::Exact(tag), values: vec![obj] });
                    continue;
                }
            }
            let kind = match *av {
                // Number constants leave as their pooled object (see `load_const`).
                AbstractValue::Const(Kind::IntConst(c)) => match self.tables.consts.add_int(c) {
                    Ok(id) => Kind::ObjConst(TypeTag::Int, id),
                    Err(_) => Kind::IntConst(c),
                },
                AbstractValue::Const(Kind::FloatConst(bits)) => {
                    match self.tables.consts.add_float(f64::from_bits(bits)) {
                        Ok(id) => Kind::ObjConst(TypeTag::Float, id),
                        Err(_) => Kind::FloatConst(bits),
                    }
                }
                AbstractValue::Word(k, _) | AbstractValue::Const(k) => k,
                AbstractValue::Double(_) => Kind::UnboxedFloat,
                AbstractValue::Range(..) => Kind::VirtualRangeIter,
                // Its pointer: the rebuilt frame takes a reference (`deopt::leave`).
                AbstractValue::Borrowed { kind, .. } => kind,
                AbstractValue::Obj(_) => unreachable!(),
            };
            entries.push(SnapshotEntry { slot: i as u32, kind, values: av.parts() });
        }
        let id = self.ir.snapshot(kind, pc, depth as u32, reason.name(), entries);
        debug_assert_eq!(id.0 as usize, self.exit_reasons.len(), "snapshots are numbered in order");
        self.exit_reasons.push(reason);
        id
    }

    /// Snapshot for leaving *before* `ins`, with the state as it is now.
    pub(super) fn resume_here(&mut self, st: &State, ins: &Instr, reason: ExitReason) -> SnapshotId {
        self.snapshot(st, ExitKind::Resume, ins.start, st.depth, reason)
    }

    pub(super) fn set_prev_instr(&mut self, pc: u32) {
        let addr = self.code.object as i64 + cpython::OFFSET_CODE_ADAPTIVE as i64 + 2 * pc as i64;
        let v = self.ir.iconst(addr);
        self.ir.store(Mem::I64, self.frame, cpython::OFFSET_FRAME_PREV_INSTR, v);
    }

    /// After a call-out: if the callee switched tracing on, leave for the interpreter.
    pub(super) fn check_tracing(&mut self, st: &State, next: u32) {
        let snap = self.snapshot(st, ExitKind::Resume, next, st.depth, ExitReason::TracingEnabled);
        self.leave_if_tracing(snap);
    }

    /// Leaves through `snap` when tracing or profiling is on (`cframe->use_tracing`).
    pub(super) fn leave_if_tracing(&mut self, snap: SnapshotId) {
        let cframe = self.ir.load(Mem::I64, self.tstate, cpython::OFFSET_TSTATE_CFRAME);
        let tracing = self.ir.load(Mem::U8, cframe, 0);
        self.ir.guard(tracing, false, snap);
    }

    /// The interpreter's eval breaker (non-zero: signals, pending calls or a GIL request).
    pub(super) fn eval_breaker(&mut self) -> Value {
        let addr = self.ir.iconst(self.req.eval_breaker as i64);
        self.ir.load(Mem::I32, addr, 0)
    }

    /// Counts a back-edge for stats, then leaves (resuming at `resume_at`) when the eval
    /// breaker is set: the interpreter handles signals, pending calls and the GIL there.
    pub(super) fn back_edge(&mut self, st: &State, resume_at: u32) {
        let counter = self.ir.iconst(self.tables.back_edges_address() as i64);
        let n = self.ir.load(Mem::I64, counter, 0);
        let one = self.ir.iconst(1);
        let n1 = self.ir.int(IntOp::Add, n, one);
        self.ir.store(Mem::I64, counter, 0, n1);
        let breaker = self.eval_breaker();
        let snap = self.snapshot(st, ExitKind::Resume, resume_at, st.depth, ExitReason::EvalBreaker);
        self.ir.guard(breaker, false, snap);
        if self.profiling {
            // Once the loops have run long enough to pay for compiling the code again, it is
            // compiled again with the profiles.
            let after = (REOPTIMIZE_BACK_EDGES_PER_INSTRUCTION * self.code.instrs.len() as i64).max(REOPTIMIZE_AFTER_BACK_EDGES);
            let at = self.ir.iconst(after);
            let not_yet = self.ir.icmp(Cond::Ne, n1, at);
            let snap = self.snapshot(st, ExitKind::Resume, resume_at, st.depth, ExitReason::Reoptimize);
            self.ir.guard(not_yet, true, snap);
        }
    }
}
