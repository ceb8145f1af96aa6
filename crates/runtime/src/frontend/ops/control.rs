//! Control flow: the conditional and unconditional jumps, the truth of a value, two-way
//! branches, and `FOR_ITER`, over a virtual `range` iterator when it can be one.

use crate::reasons::ExitReason;
use crate::registry;
use crate::bytecode::Instr;
use crate::cpython::objects::{
    enumerate_type, list_iterator_type, range_iterator_type, zip_type, OFFSET_ENUM_INDEX, OFFSET_ENUM_ITERATOR,
    OFFSET_LISTITER_INDEX, OFFSET_TUPLE_ITEMS, OFFSET_ZIP_ITERATORS, OFFSET_ZIP_SIZE, OFFSET_LISTITER_SEQ, OFFSET_LIST_ITEMS,
    OFFSET_RANGEITER_INDEX, OFFSET_RANGEITER_LEN, OFFSET_RANGEITER_START, OFFSET_RANGEITER_STEP,
};
use crate::profile::Seen;
use crate::cpython::{self, types::none_ptr};
use crate::frontend::dispatch::Flow;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::opcodes::*;
use ir::{Block, CheckedOp, Cond, ExitKind, IntOp, Kind, Mem, Type, TypeTag, Value};

impl Frontend<'_> {
    pub(in crate::frontend) fn pop_jump_if(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let jump_if = matches!(ins.opcode, POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_TRUE);
        let av = self.top(st, 1);
        let t = match self.truth(st, ins, av, 1)? {
            Some(t) => t,
            None => return Ok(Flow::Unsupported(ExitReason::TruthOfConstantObject)),
        };
        self.pop(st);
        let target = ins.jump_target().unwrap();
        let (on_true, on_false) = if jump_if { (target, ins.next) } else { (ins.next, target) };
        self.branch(st, ins, t, on_true, on_false)?;
        Ok(Flow::EndBlock)
    }

    pub(in crate::frontend) fn pop_jump_if_none(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let jump_if_none = matches!(ins.opcode, POP_JUMP_FORWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NONE);
        let av = self.top(st, 1);
        let is_none = match av {
            AbstractValue::Obj(_) | AbstractValue::Borrowed { .. } => {
                let obj = self.stack_object(st, 1);
                let none = self.ir.iconst(none_ptr());
                let is_none = self.ir.icmp(Cond::Eq, obj, none);
                self.release(av, obj);
                is_none
            }
            AbstractValue::Const(Kind::ObjConst(TypeTag::NoneType, _)) => self.ir.iconst(1),
            _ => self.ir.iconst(0),
        };
        self.pop(st);
        let target = ins.jump_target().unwrap();
        let (on_true, on_false) = if jump_if_none { (target, ins.next) } else { (ins.next, target) };
        self.branch(st, ins, is_none, on_true, on_false)?;
        Ok(Flow::EndBlock)
    }

    /// `JUMP_IF_FALSE_OR_POP` / `JUMP_IF_TRUE_OR_POP`: jump keeping the value, or pop it.
    pub(in crate::frontend) fn jump_if_or_pop(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let jump_if = ins.opcode == JUMP_IF_TRUE_OR_POP;
        let av = self.top(st, 1);
        let t = match av {
            AbstractValue::Obj(_) => {
                self.sync_locals(st)?;
                let obj = self.load_slot(self.stack_index(st, 1));
                self.set_prev_instr(ins.pc);
                let t = self.ir.call(registry::truth(), &[obj], Some(Type::I64));
                let zero = self.ir.iconst(0);
                let ok = self.ir.icmp(Cond::Ge, t, zero);
                self.raise_unless(ok, st, ins)?;
                t
            }
            other => {
                // Scalars and constants: `truth` does not consume them.
                match self.truth(st, ins, other, 1)? {
                    Some(t) => t,
                    None => return Ok(Flow::Unsupported(ExitReason::TruthOfConstantObject)),
                }
            }
        };
        let target = ins.jump_target().unwrap();
        let (keep, pop) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        if jump_if {
            self.ir.branch(t, keep, &[], pop, &[]);
        } else {
            self.ir.branch(t, pop, &[], keep, &[]);
        }
        self.ir.switch_to(keep);
        self.jump_to(st, target)?;
        self.ir.switch_to(pop);
        let mut popped = st.clone();
        if let AbstractValue::Obj(_) = self.pop(&mut popped) {
            let obj = self.load_slot(self.code.nlocals + popped.depth);
            self.xdecref(obj);
        }
        self.jump_to(&popped, ins.next)?;
        Ok(Flow::EndBlock)
    }

    pub(in crate::frontend) fn jump_forward(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.jump_to(st, ins.jump_target().unwrap())?;
        Ok(Flow::EndBlock)
    }

    pub(in crate::frontend) fn jump_backward(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        if ins.opcode == JUMP_BACKWARD {
            // Resume at the jump itself: the interpreter's JUMP_BACKWARD checks.
            self.back_edge(st, ins.start);
        }
        self.jump_to(st, ins.jump_target().unwrap())?;
        Ok(Flow::EndBlock)
    }

    /// The truth (0 or 1) of a scalar value, or of a frame object (consuming it); `None`
    /// when it is a compile-time constant that `static_truth` knows.
    pub(in crate::frontend) fn truth(
        &mut self,
        st: &mut State,
        ins: &Instr,
        av: AbstractValue,
        from_top: usize,
    ) -> Result<Option<Value>> {
        Ok(Some(match av {
            AbstractValue::Word(_, v) => {
                let zero = self.ir.iconst(0);
                self.ir.icmp(Cond::Ne, v, zero)
            }
            AbstractValue::Double(v) => {
                let zero = self.ir.fconst(0.0);
                self.ir.fcmp(Cond::Ne, v, zero)
            }
            AbstractValue::Const(k) => match static_truth(k) {
                Some(t) => self.ir.iconst(t as i64),
                None => return Ok(None),
            },
            // Branches own their inputs first (`emit_instr`).
            AbstractValue::Borrowed { .. } => return crate::frontend::internal("the truth of a borrowed object"),
            AbstractValue::Obj(_) => {
                self.sync_locals(st)?;
                let i = self.stack_index(st, from_top);
                let obj = self.load_slot(i);
                self.set_prev_instr(ins.pc);
                let t = self.ir.call(registry::truth_consume(), &[obj], Some(Type::I64));
                let mut after = st.clone();
                after.depth -= from_top;
                let zero = self.ir.iconst(0);
                let ok = self.ir.icmp(Cond::Ge, t, zero);
                self.raise_unless(ok, &after, ins)?;
                t
            }
            AbstractValue::Range(..) => self.ir.iconst(1),
        }))
    }

    /// Ends the block with a two-way branch; each edge converts the state on its own.
    /// A backward edge (`POP_JUMP_BACKWARD_IF_*`, which check the eval breaker in the
    /// interpreter too) resumes at its target if it must leave.
    fn branch(&mut self, st: &State, ins: &Instr, cond: Value, on_true: u32, on_false: u32) -> Result<()> {
        let (t, f) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.ir.branch(cond, t, &[], f, &[]);
        for (block, target) in [(t, on_true), (f, on_false)] {
            self.ir.switch_to(block);
            if target <= ins.start {
                self.back_edge(st, target);
            }
            self.jump_to(st, target)?;
        }
        Ok(())
    }

    pub(in crate::frontend) fn for_iter(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let exhausted_target = ins.jump_target().unwrap();
        let pairs = matches!(self.top(st, 1), AbstractValue::Obj(_)).then(|| self.pairs_unpacked(ins)).flatten();
        match self.top(st, 1) {
            AbstractValue::Range(cur, stop, step) => {
                self.balance.native();
                let more = match self.range_step_sign(step) {
                    Some(true) => self.ir.icmp(Cond::Lt, cur, stop),
                    Some(false) => self.ir.icmp(Cond::Gt, cur, stop),
                    None => {
                        let zero = self.ir.iconst(0);
                        let up = self.ir.icmp(Cond::Gt, step, zero);
                        let lt = self.ir.icmp(Cond::Lt, cur, stop);
                        let gt = self.ir.icmp(Cond::Gt, cur, stop);
                        self.ir.select(up, lt, gt)
                    }
                };
                let (body, done) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
                self.ir.branch(more, body, &[], done, &[]);
                self.ir.switch_to(done);
                let mut after = st.clone();
                self.pop(&mut after);
                self.jump_to(&after, exhausted_target)?;
                self.ir.switch_to(body);
                let snap = self.resume_here(st, ins, ExitReason::RangeOverflow);
                let next = self.ir.checked(CheckedOp::Add, cur, step, snap);
                let i = self.stack_index(st, 1);
                st.slots[i] = AbstractValue::Range(next, stop, step);
                self.push(st, AbstractValue::Word(Kind::MachineInt, cur));
            }
            AbstractValue::Obj(_) if self.seen(ins.pc).0 == Seen::One(range_iterator_type()) => {
                // The range iterator its profile saw (a range the compiler could not make
                // virtual: its bounds unknown here) steps inline, as `rangeiter_next` does;
                // another iterator leaves before the instruction.
                let i = self.stack_index(st, 1);
                let it = self.load_slot(i);
                let differs = self.ir.create_block(&[]);
                self.unless_type(it, range_iterator_type(), differs);
                let go_on = self.ir.current_block().expect("emitting");
                self.ir.switch_to(differs);
                self.leave_mispredicted(st, ins, false);
                self.ir.switch_to(go_on);
                let index = self.ir.load(Mem::I64, it, OFFSET_RANGEITER_INDEX);
                let len = self.ir.load(Mem::I64, it, OFFSET_RANGEITER_LEN);
                let more = self.ir.icmp(Cond::Lt, index, len);
                let (body, done) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
                self.ir.branch(more, body, &[], done, &[]);
                self.ir.switch_to(done);
                let mut after = st.clone();
                self.pop(&mut after);
                self.xdecref(it);
                self.jump_to(&after, exhausted_target)?;
                self.ir.switch_to(body);
                // (CPython computes it in unsigned arithmetic: wrapping, as here.)
                let start = self.ir.load(Mem::I64, it, OFFSET_RANGEITER_START);
                let step = self.ir.load(Mem::I64, it, OFFSET_RANGEITER_STEP);
                let offset = self.ir.int(IntOp::Mul, index, step);
                let value = self.ir.int(IntOp::Add, start, offset);
                let one = self.ir.iconst(1);
                let next = self.ir.int(IntOp::Add, index, one);
                self.ir.store(Mem::I64, it, OFFSET_RANGEITER_INDEX, next);
                self.push(st, AbstractValue::Word(Kind::MachineInt, value));
                self.balance.native();
            }
            AbstractValue::Obj(_) if pairs == Some(Pairs::Enumerate) => {
                self.for_enumerate_list(st, ins)?;
                return Ok(Flow::EndBlock);
            }
            AbstractValue::Obj(_) if pairs == Some(Pairs::Zip) => {
                self.for_zip_lists(st, ins)?;
                return Ok(Flow::EndBlock);
            }
            AbstractValue::Obj(_) => {
                // A list iterator steps inline, as `listiter_next` does; its end, and every
                // other iterator, through the helper.
                let (body, slow) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
                let i = self.stack_index(st, 1);
                let it = self.load_slot(i);
                self.unless_type(it, list_iterator_type(), slow);
                let (list, index) = self.list_iterator_next(it, slow);
                let item = self.take_list_item(it, list, index);
                self.store_slot(i + 1, item);
                self.ir.jump(body, &[]);
                self.ir.switch_to(slow);
                self.generic_for_iter(st, ins)?;
                let mut tracing_check = st.clone();
                self.push(&mut tracing_check, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
                self.check_tracing(&tracing_check, ins.next);
                self.ir.jump(body, &[]);
                self.ir.switch_to(body);
                self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
                self.balance.native();
                self.guard_output(st, ins, 1);
            }
            // A scalar, or a constant object (a class, say): the interpreter iterates it.
            _ => return Ok(Flow::Unsupported(ExitReason::ForIterOverScalar)),
        }
        // The loop body continues in the current IR block.
        self.emit_instrs(st, ins.next, false)?;
        Ok(Flow::EndBlock)
    }

    /// `FOR_ITER` through the helper, the iterator `st`'s top: at the end the stack loses it
    /// and emission jumps to the loop's exit; an error raises. Emission goes on where the
    /// helper stepped, the item pushed in the frame (`st` as it was before).
    fn generic_for_iter(&mut self, st: &State, ins: &Instr) -> Result<()> {
        let i = self.stack_index(st, 1);
        let mut generic = st.clone();
        self.sync_locals(&mut generic)?;
        self.set_prev_instr(ins.pc);
        let ptr = self.slot_address(i);
        // An iterator not seen yet is a reason to compile the loop again: a range iterator
        // then steps inline, and typed items make the body native (a list comprehension over
        // a range ran 20% slower than the interpreter without).
        let site = self.profile_site(ins.pc);
        let (site, zero) = (self.ir.iconst(site), self.ir.iconst(0));
        let status = self.ir.call(registry::for_iter(), &[ptr, site, zero], Some(Type::I64));
        self.raise_unless(status, &generic, ins)?;
        let two = self.ir.iconst(2);
        let ended = self.ir.icmp(Cond::Eq, status, two);
        let (stepped, done) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.ir.branch(ended, done, &[], stepped, &[]);
        self.ir.switch_to(done);
        self.pop(&mut generic);
        self.jump_to(&generic, ins.jump_target().expect("FOR_ITER jumps"))?;
        self.ir.switch_to(stepped);
        Ok(())
    }

    /// What `ins` (a `FOR_ITER`) iterates when it saw only enumerations or only zips, and
    /// its items are unpacked in two at once (`for i, x in enumerate(...)`, `for a, b in
    /// zip(...)`).
    fn pairs_unpacked(&self, ins: &Instr) -> Option<Pairs> {
        let next = self.code.by_start.get(&ins.next).map(|&k| self.code.instrs[k])?;
        if next.opcode != UNPACK_SEQUENCE || next.arg != 2 || !self.code.entered_only_from_before(next.start) {
            return None;
        }
        match self.seen(ins.pc).0 {
            Seen::One(ty) if ty == enumerate_type() => Some(Pairs::Enumerate),
            Seen::One(ty) if ty == zip_type() => Some(Pairs::Zip),
            _ => None,
        }
    }

    /// The list and index of the item a list iterator gives next, branching to `ended` when
    /// it has none (exhausted, or at the list's end).
    fn list_iterator_next(&mut self, iterator: Value, ended: Block) -> (Value, Value) {
        let list = self.ir.load(Mem::I64, iterator, OFFSET_LISTITER_SEQ);
        self.unless_zero(list, ended);
        let index = self.ir.load(Mem::I64, iterator, OFFSET_LISTITER_INDEX);
        let len = self.ir.load(Mem::I64, list, cpython::OFFSET_OB_SIZE);
        let inside = self.ir.icmp(Cond::Lt, index, len);
        self.unless(inside, ended);
        (list, index)
    }

    /// A new reference to item `index` of `list`, the list iterator `iterator` advanced past it.
    fn take_list_item(&mut self, iterator: Value, list: Value, index: Value) -> Value {
        let items = self.ir.load(Mem::I64, list, OFFSET_LIST_ITEMS);
        let three = self.ir.iconst(3);
        let offset = self.ir.int(IntOp::Shl, index, three);
        let address = self.ir.int(IntOp::Add, items, offset);
        let item = self.ir.load(Mem::I64, address, 0);
        self.incref(item);
        let one = self.ir.iconst(1);
        let next_index = self.ir.int(IntOp::Add, index, one);
        self.ir.store(Mem::I64, iterator, OFFSET_LISTITER_INDEX, next_index);
        item
    }

    /// The end of a fused pair loop: the helper steps the iterator, which finds the end (and
    /// lets the lists go, as `listiter_next` does), so the loop ends. (Were an item found
    /// after all, the pair made is on the stack as after the `FOR_ITER`: the interpreter
    /// unpacks it.)
    fn end_pairs(&mut self, st: &State, ins: &Instr, unpack: &Instr) -> Result<()> {
        self.generic_for_iter(st, ins)?;
        let mut paired = st.clone();
        self.push(&mut paired, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        let snap = self.snapshot(&paired, ExitKind::Resume, unpack.start, paired.depth, ExitReason::TypeChanged);
        self.ir.exit(snap);
        Ok(())
    }

    /// `for a, b in zip(list_a, list_b)`: `FOR_ITER` and its `UNPACK_SEQUENCE 2` as one step,
    /// `[it] -> [it, b, a]`, with no tuple made and no C call (as `zip_next` and
    /// `listiter_next` step). A zip of other iterators, or of more or fewer than two, leaves
    /// before the instruction (a misprediction); when either list has no item left the
    /// helper steps (`zip_next` takes the first list's item then, and `strict` raises).
    fn for_zip_lists(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let unpack = self.code.instrs[self.code.by_start[&ins.next]];
        let i = self.stack_index(st, 1);
        let it = self.load_slot(i);
        let differs = self.ir.create_block(&[]);
        self.unless_type(it, zip_type(), differs);
        let size = self.ir.load(Mem::I64, it, OFFSET_ZIP_SIZE);
        let two = self.ir.iconst(2);
        let pair = self.ir.icmp(Cond::Eq, size, two);
        self.unless(pair, differs);
        let iterators = self.ir.load(Mem::I64, it, OFFSET_ZIP_ITERATORS);
        let first = self.ir.load(Mem::I64, iterators, OFFSET_TUPLE_ITEMS);
        let second = self.ir.load(Mem::I64, iterators, OFFSET_TUPLE_ITEMS + 8);
        self.unless_type(first, list_iterator_type(), differs);
        self.unless_type(second, list_iterator_type(), differs);
        let go_on = self.ir.current_block().expect("emitting");
        self.ir.switch_to(differs);
        self.leave_mispredicted(st, ins, false);
        self.ir.switch_to(go_on);
        let ended = self.ir.create_block(&[]);
        let (list_a, index_a) = self.list_iterator_next(first, ended);
        let (list_b, index_b) = self.list_iterator_next(second, ended);
        let more = self.ir.current_block().expect("emitting");
        self.ir.switch_to(ended);
        self.end_pairs(st, ins, &unpack)?;
        self.ir.switch_to(more);
        let a = self.take_list_item(first, list_a, index_a);
        let b = self.take_list_item(second, list_b, index_b);
        // `UNPACK_SEQUENCE` leaves the first item on top.
        let top = self.code.nlocals + st.depth;
        self.store_slot(top, b);
        self.store_slot(top + 1, a);
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        self.guard_pair(st, &unpack);
        self.balance.native();
        self.emit_instrs(st, unpack.next, false)
    }

    /// `for i, x in enumerate(a_list)`: `FOR_ITER` and its `UNPACK_SEQUENCE 2` as one step,
    /// `[it] -> [it, x, i]`, the count a machine int, with no tuple made and no C call (as
    /// `enum_next` and `listiter_next` step, their counters advanced in place). An
    /// enumeration of another iterator leaves before the instruction (a misprediction); one
    /// whose counts left a word leaves too; the list's end goes through the helper, which
    /// ends the loop.
    fn for_enumerate_list(&mut self, st: &mut State, ins: &Instr) -> Result<()> {
        let unpack = self.code.instrs[self.code.by_start[&ins.next]];
        let i = self.stack_index(st, 1);
        let it = self.load_slot(i);
        let differs = self.ir.create_block(&[]);
        self.unless_type(it, enumerate_type(), differs);
        let inner = self.ir.load(Mem::I64, it, OFFSET_ENUM_ITERATOR);
        self.unless_type(inner, list_iterator_type(), differs);
        let go_on = self.ir.current_block().expect("emitting");
        self.ir.switch_to(differs);
        self.leave_mispredicted(st, ins, false);
        self.ir.switch_to(go_on);
        let count = self.ir.load(Mem::I64, it, OFFSET_ENUM_INDEX);
        let max = self.ir.iconst(isize::MAX as i64);
        let in_word = self.ir.icmp(Cond::Ne, count, max);
        let snap = self.resume_here(st, ins, ExitReason::IntOverflow);
        self.ir.guard(in_word, true, snap);
        let ended = self.ir.create_block(&[]);
        let (list, index) = self.list_iterator_next(inner, ended);
        let more = self.ir.current_block().expect("emitting");
        self.ir.switch_to(ended);
        self.end_pairs(st, ins, &unpack)?;
        self.ir.switch_to(more);
        let item = self.take_list_item(inner, list, index);
        let one = self.ir.iconst(1);
        let next_count = self.ir.int(IntOp::Add, count, one);
        self.ir.store(Mem::I64, it, OFFSET_ENUM_INDEX, next_count);
        // `UNPACK_SEQUENCE` leaves the first item on top.
        let top = self.code.nlocals + st.depth;
        self.store_slot(top, item);
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        self.push(st, AbstractValue::Word(Kind::MachineInt, count));
        // The item's type: by the `UNPACK_SEQUENCE`'s site, as the pair's second item.
        self.guard_pair(st, &unpack);
        self.balance.native();
        self.emit_instrs(st, unpack.next, false)
    }

    /// The sign of a range step when it is a compile-time constant.
    fn range_step_sign(&self, step: Value) -> Option<bool> {
        self.ir.constant(step).map(|c| c > 0)
    }

    /// `range(...)` followed by `GET_ITER`: a virtual iterator, never allocated.
    pub(in crate::frontend) fn virtual_range(
        &mut self,
        st: &mut State,
        ins: &Instr,
        args: &[AbstractValue],
    ) -> Result<Flow> {
        let vals: Vec<Value> = args.iter().map(|&a| self.int_value(a)).collect();
        let (start, stop, step) = match vals.len() {
            1 => (self.ir.iconst(0), vals[0], self.ir.iconst(1)),
            2 => (vals[0], vals[1], self.ir.iconst(1)),
            _ => (vals[0], vals[1], vals[2]),
        };
        if vals.len() == 3 && self.ir.constant(step).is_none_or(|c| c == 0) {
            // range() with a zero step raises ValueError: the interpreter does it.
            let zero = self.ir.iconst(0);
            let nonzero = self.ir.icmp(Cond::Ne, step, zero);
            let snap = self.resume_here(st, ins, ExitReason::RangeZeroStep);
            self.ir.guard(nonzero, true, snap);
        }
        st.depth -= args.len() + 2;
        self.push(st, AbstractValue::Range(start, stop, step));
        Ok(Flow::Next)
    }
}

/// The iterators whose pairs `FOR_ITER` and `UNPACK_SEQUENCE 2` take in one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pairs {
    Enumerate,
    Zip,
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
