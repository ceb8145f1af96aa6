//! Where speculation on objects gets its types, and what it does with them: the sites that
//! profile for a later version (`crate::profile`), 3.11's own inline caches
//! (`crate::feedback`), the plan of an attribute access, guards on the type of a value a
//! site produced (a float or an int read from an object), and such typed objects unboxed
//! when an operation consumes them.

use super::state::{AbstractValue, SlotKind, State};
use super::Frontend;
use crate::bytecode::{Instr, NB_ADD, NB_FLOOR_DIVIDE, NB_MULTIPLY, NB_POWER, NB_REMAINDER, NB_SUBTRACT, NB_TRUE_DIVIDE};
use crate::cpython::{self, ffi, objects::AttrPlan};
use crate::profile::Seen;
use crate::reasons::ExitReason;
use crate::registry;
use crate::opcodes::*;
use ir::{Cond, ExitKind, IntOp, Kind, Mem, Type, TypeTag, Value};

/// Code up to this many instructions counts its sites that profile as native (see
/// `Frontend::profile_site`): enough for the loops of numeric object code (nbody's `advance`
/// has 173); at 400, re's mid-sized helpers ran their profiling versions, slower than the
/// interpreter, and `re.compile` x200 took 78 ms instead of 52 (28 ms plain).
const PROFILED_AS_NATIVE_MAX_INSTRUCTIONS: usize = 200;

/// An int operand: a word, a constant, or an exact int object.
pub(super) fn int_like(av: AbstractValue) -> bool {
    av.is_int() || av == AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Int)))
}

impl Frontend<'_> {
    /// What the site at `pc` saw (input, output) by psyco's profiles.
    pub(super) fn seen(&self, pc: u32) -> (Seen, Seen) {
        self.req.profiles.map_or((Seen::Nothing, Seen::Nothing), |p| p.seen(pc))
    }

    /// The profile a generic site at `pc` records into (its address for the helper; 0 with
    /// no profiles). A site that saw nothing yet, in code with a loop that may be compiled
    /// again, profiles for that later version (`profiling`); in code small enough to be
    /// compiled twice at little cost it counts as native in the balance, since that version
    /// will specialize it (bigger code made of such sites is declined as before: re's
    /// compiler and parser cost 50-90 µs per instruction compiled twice).
    pub(super) fn profile_site(&mut self, pc: u32) -> i64 {
        let Some(profiles) = self.req.profiles else { return 0 };
        let unseen = profiles.seen(pc) == (Seen::Nothing, Seen::Nothing);
        if unseen && self.req.may_reoptimize && !self.code.loop_heads.is_empty() {
            self.profiling = true;
            if self.code.instrs.len() <= PROFILED_AS_NATIVE_MAX_INSTRUCTIONS {
                self.balance.native();
            }
        }
        profiles.site(pc) as i64
    }

    /// A site only whose output a later version uses (a call's result), in code that may
    /// be compiled again: where it saw nothing yet, this version profiles it (without
    /// counting it as native, as `profile_site` does: the call costs what it costs).
    pub(super) fn profile_output_site(&mut self, pc: u32) {
        let Some(profiles) = self.req.profiles else { return };
        if profiles.seen(pc).1 == Seen::Nothing && self.req.may_reoptimize && !self.code.loop_heads.is_empty() {
            self.profiling = true;
        }
    }

    /// How `obj.name` is reached at the attribute site `ins` (`store`: `STORE_ATTR`), for
    /// the one type the site saw: by psyco's profile, else by 3.11's inline cache.
    pub(super) fn attr_plan(&self, ins: &Instr, store: bool) -> Option<AttrPlan> {
        let name = self.code.name(ins.arg as usize) as *mut ffi::PyObject;
        match self.seen(ins.pc).0 {
            // SAFETY: the profile holds the type; the name is the code object's.
            Seen::One(ty) => unsafe { cpython::objects::attr_plan(ty, name, store) },
            Seen::Several => None,
            Seen::Nothing => self.quickened.as_deref().and_then(|units| crate::feedback::attr_cache(units, ins.pc)),
        }
    }

    /// The exact type a value-producing site's output should be guarded on: a float or an int
    /// (what arithmetic unboxes), or a str (compared, indexed, its methods called), when that
    /// is all its profile saw.
    pub(super) fn output_tag(&self, pc: u32) -> Option<TypeTag> {
        let Seen::One(ty) = self.seen(pc).1 else { return None };
        [TypeTag::Float, TypeTag::Int, TypeTag::Str].into_iter().find(|&t| cpython::types::type_of_tag(t) == ty)
    }

    /// Whether the float a site produces can be read as a double where it is loaded, with no
    /// reference taken (`float_output`): its profile saw floats only, and the instructions
    /// after `ins` only read it as a number. They may load number locals and constants and
    /// compute `+ - * /` on them, until an arithmetic operation (or a comparison with a
    /// float) takes the value with a number; nothing in between runs code or sees the
    /// object (an exit there rebuilds it as a float the interpreter only computes with).
    /// `below` is the stack entry under the output.
    pub(super) fn read_as_float(&self, st: &State, ins: &Instr, below: Option<AbstractValue>) -> bool {
        #[derive(Clone, Copy, PartialEq)]
        enum Number {
            Int,
            Float,
        }
        // A float object (a typed local) is unboxed by the operation that takes it.
        let number = |av: AbstractValue| match () {
            _ if av.is_float() || av.object_kind() == Some(Kind::Exact(TypeTag::Float)) => Some(Number::Float),
            _ if av.is_int() => Some(Number::Int),
            _ => None,
        };
        if self.output_tag(ins.pc) != Some(TypeTag::Float) {
            return false;
        }
        let mut above: Vec<Number> = Vec::new();
        let Some(&first) = self.code.by_start.get(&ins.next) else { return false };
        for next in &self.code.instrs[first..] {
            if self.code.block_starts.contains(&next.start) {
                return false;
            }
            match next.opcode {
                LOAD_FAST => match number(st.slots[next.arg as usize]) {
                    Some(n) => above.push(n),
                    None => return false,
                },
                LOAD_CONST => {
                    let obj = self.code.constant(next.arg as usize);
                    match cpython::types::type_tag(obj) {
                        TypeTag::Float => above.push(Number::Float),
                        // SAFETY: a live int constant of the code object.
                        TypeTag::Int if unsafe { cpython::long_value(obj) }.is_some() => above.push(Number::Int),
                        _ => return false,
                    }
                }
                BINARY_OP => {
                    let op = crate::bytecode::binary_operator(next.arg);
                    let arithmetic = matches!(op, NB_ADD | NB_SUBTRACT | NB_MULTIPLY | NB_TRUE_DIVIDE);
                    let consuming = arithmetic || matches!(op, NB_FLOOR_DIVIDE | NB_REMAINDER | NB_POWER);
                    match above.len() {
                        0 => return consuming && below.and_then(number).is_some(),
                        1 => return consuming,
                        _ if arithmetic => {
                            let (b, a) = (above.pop().unwrap(), above.pop().unwrap());
                            let float = a == Number::Float || b == Number::Float || op == NB_TRUE_DIVIDE;
                            above.push(if float { Number::Float } else { Number::Int });
                        }
                        _ => return false,
                    }
                }
                // As `compare_op` compares a float with a float natively.
                COMPARE_OP if next.arg <= 5 => {
                    return match above.len() {
                        0 => below.and_then(number) == Some(Number::Float),
                        1 => above[0] == Number::Float,
                        _ => false,
                    }
                }
                _ => return false,
            }
        }
        false
    }

    /// The operands of `BINARY_OP` or `COMPARE_OP` when both are numbers: a float that a local
    /// holds, borrowed, becomes its value, read in place with no reference (only float
    /// arithmetic sees it, and no other operand's method can be handed the object).
    pub(super) fn read_float_operands(&mut self, st: &mut State) {
        let number = |av: AbstractValue| {
            matches!(av, AbstractValue::Word(..) | AbstractValue::Double(_))
                || av.is_int()
                || av.is_float()
                || matches!(av, AbstractValue::Const(Kind::BoolConst(_)))
                || matches!(av.object_kind(), Some(Kind::Exact(TypeTag::Int | TypeTag::Float | TypeTag::Bool)))
        };
        if st.depth < 2 || !number(self.top(st, 1)) || !number(self.top(st, 2)) {
            return;
        }
        for from_top in 1..=2 {
            let i = self.stack_index(st, from_top);
            if let AbstractValue::Borrowed { kind: Kind::Exact(TypeTag::Float), ptr, .. } = st.slots[i] {
                st.slots[i] = AbstractValue::Double(self.ir.load(Mem::F64, ptr, cpython::OFFSET_FLOAT_VALUE));
            }
        }
    }

    /// The slow and join blocks of a site that reads the object `from_top` entries down (an
    /// attribute's owner, a sequence), and whether it reads a float in place: a float that
    /// arithmetic reads next (`read_as_float`) of an object that a local holds, so that no
    /// reference is needed (`float_read`). The join then takes the object and whether the
    /// stack owns it.
    pub(super) fn read_blocks(&mut self, st: &State, ins: &Instr, from_top: usize) -> (bool, ir::Block, ir::Block) {
        let below = (st.depth > from_top).then(|| self.top(st, from_top + 1));
        let as_float = matches!(self.top(st, from_top), AbstractValue::Borrowed { .. }) && self.read_as_float(st, ins, below);
        let slow = self.ir.create_block(&[]);
        let join = self.ir.create_block(if as_float { &[Type::I64, Type::I64] } else { &[] });
        (as_float, slow, join)
    }

    /// The rest of a site that `read_blocks` made read a float in place, once its fast path
    /// found `value` (no reference taken) and branched to `slow` where it could not: the
    /// generic `helper` there makes the output, and both join with the double in the slot
    /// where the output goes.
    pub(super) fn float_read(
        &mut self,
        st: &mut State,
        ins: &Instr,
        value: Value,
        (slow, join): (ir::Block, ir::Block),
        helper: ir::Helper,
        arg: i64,
        aux: i64,
    ) -> super::Result<()> {
        let effect = super::generic::StackEffect::of(ins);
        let i = self.stack_index(st, effect.inputs);
        let borrowed = self.ir.iconst(0);
        self.ir.jump(join, &[value, borrowed]);
        self.generic_slow_path(st, ins, slow, helper, effect, arg, aux)?;
        let (made, owned) = (self.load_slot(i), self.ir.iconst(1));
        self.ir.jump(join, &[made, owned]);
        self.ir.switch_to(join);
        st.depth -= effect.inputs - 1;
        self.float_output(st, ins, i, join);
        self.balance.native();
        Ok(())
    }

    /// The output of a site that `read_as_float` allows: `join` has two parameters, the
    /// object and whether the stack owns a reference to it (the fast path took none, the
    /// generic path made one). Guards that it is a float (else it goes to the stack slot
    /// `i`, owned, and the frame leaves as `guard_output` leaves), then reads its value,
    /// releasing the reference if there is one. Emission goes on after, with the double in
    /// slot `i`.
    pub(super) fn float_output(&mut self, st: &mut State, ins: &Instr, i: usize, join: ir::Block) {
        let params = self.ir.block_params(join).to_vec();
        let (obj, owned) = (params[0], params[1]);
        let (differs, release, done) = (self.ir.create_block(&[]), self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.unless_type(obj, cpython::types::type_of_tag(TypeTag::Float), differs);
        let value = self.ir.load(Mem::F64, obj, cpython::OFFSET_FLOAT_VALUE);
        self.ir.branch(owned, release, &[], done, &[]);
        self.ir.switch_to(release);
        self.decref(obj);
        self.ir.jump(done, &[]);
        self.ir.switch_to(differs);
        // The frame gets the object with a reference of its own: one more unless it has it.
        let rc = self.ir.load(Mem::I64, obj, 0);
        let one = self.ir.iconst(1);
        let missing = self.ir.int(IntOp::Sub, one, owned);
        let rc1 = self.ir.int(IntOp::Add, rc, missing);
        self.ir.store(Mem::I64, obj, 0, rc1);
        self.store_slot(i, obj);
        let mut left = st.clone();
        left.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        self.leave_mispredicted(&left, ins, true);
        self.ir.switch_to(done);
        st.slots[i] = AbstractValue::Double(value);
    }

    /// After `ins` left its output `from_top` slots from the top, as an object in the frame:
    /// guard that it is of the type the site's profile saw, so that what follows knows it.
    /// The value stays the object, typed, so that a value only passed on keeps its identity
    /// (the fuzzer's `xs[1] is a` checks): a float's value is read where arithmetic consumes
    /// it, an int's where an operation takes it inline (one digit, else the generic path). A
    /// different type leaves (resuming after `ins`) and tells the profile. Where the profile
    /// saw nothing yet, a version that profiles records the output's type (the generic
    /// helpers record it themselves; this records what inline fast paths produce).
    pub(super) fn guard_output(&mut self, st: &mut State, ins: &Instr, from_top: usize) {
        self.guard_output_of(st, ins, from_top, ins.pc);
    }

    /// `guard_output` by the profile of the site keyed `site`: the instruction's offset, or
    /// one past it for a pair's first item (that is an `UNPACK_SEQUENCE`'s inline cache unit,
    /// where no instruction starts).
    pub(super) fn guard_output_of(&mut self, st: &mut State, ins: &Instr, from_top: usize, site: u32) {
        let i = self.stack_index(st, from_top);
        if self.profiling && self.seen(site).1 == Seen::Nothing {
            let obj = self.load_slot(i);
            let address = self.profile_address(site);
            self.ir.call(registry::record_output(), &[address, obj], None);
            return;
        }
        let Some(tag) = self.output_tag(site) else { return };
        let obj = self.load_slot(i);
        let differs = self.ir.create_block(&[]);
        self.unless_type(obj, cpython::types::type_of_tag(tag), differs);
        let same = self.ir.current_block().expect("emitting");
        self.ir.switch_to(differs);
        self.leave_mispredicted_at(st, ins, true, site);
        self.ir.switch_to(same);
        st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Exact(tag)));
    }

    /// The word of an int operand `from_top` slots from the top: a word or constant as it is,
    /// an exact int object's value when it has one digit (else branching to `slow`), with
    /// that object (to release once the operation is done).
    pub(super) fn int_operand(&mut self, st: &State, from_top: usize, slow: ir::Block) -> (Value, Option<Value>) {
        let av = self.top(st, from_top);
        if av != AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Int))) {
            return (self.int_value(av), None);
        }
        let obj = self.load_slot(self.stack_index(st, from_top));
        let (size, one_digit) = self.one_digit(obj);
        self.unless(one_digit, slow);
        (self.one_digit_value(obj, size), Some(obj))
    }

    /// Where a guard on what the profile of site `ins` saw failed (on its output: after the
    /// instruction, with `st` as it left it; on its input: before it): tell the profile, and
    /// leave (`type_changed`: the frame goes on in a continuation for what it holds).
    pub(super) fn leave_mispredicted(&mut self, st: &State, ins: &Instr, output: bool) {
        self.leave_mispredicted_at(st, ins, output, ins.pc);
    }

    /// `leave_mispredicted`, telling the profile of the site keyed `site`.
    fn leave_mispredicted_at(&mut self, st: &State, ins: &Instr, output: bool, site: u32) {
        let site = self.profile_address(site);
        let side = self.ir.iconst(output as i64);
        self.ir.call(registry::profile_mispredicted(), &[site, side], None);
        let pc = if output { ins.next } else { ins.start };
        let snap = self.snapshot(st, ExitKind::Resume, pc, st.depth, ExitReason::TypeChanged);
        self.ir.exit(snap);
    }

    fn profile_address(&mut self, pc: u32) -> Value {
        let site = self.req.profiles.map_or(0, |p| p.site(pc) as i64);
        self.ir.iconst(site)
    }

    /// The top `n` values as operands of a number operation: exact float objects on the stack
    /// become unboxed doubles, their stack references released, when every operand is a
    /// number then.
    pub(super) fn unbox_operands(&mut self, st: &mut State, n: usize) {
        let typed = |av: AbstractValue| av == AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Float)));
        let number = |av: AbstractValue| typed(av) || av.is_int() || av.is_float();
        if !(1..=n).any(|k| typed(self.top(st, k))) || !(1..=n).all(|k| number(self.top(st, k))) {
            return;
        }
        for k in 1..=n {
            let i = self.stack_index(st, k);
            if typed(st.slots[i]) {
                let obj = self.load_slot(i);
                st.slots[i] = AbstractValue::Double(self.ir.load(Mem::F64, obj, cpython::OFFSET_FLOAT_VALUE));
                self.decref(obj);
            }
        }
    }

    /// For an int operation of a machine int and an exact int object (an item or attribute
    /// that a guard typed): the object becomes its value as a word, its stack reference
    /// released, so that the operation is one on words. Inline for one digit, else through
    /// the C API. An int beyond a word leaves before the instruction as a misprediction of
    /// the site's input (its profile's input side, which nothing else records for number
    /// operations), so that the code compiled next takes the object path there (a running
    /// sum of typed items stayed an object, added by the generic path once past one digit).
    pub(super) fn unbox_int_operand(&mut self, st: &mut State, ins: &Instr) {
        let object = |av: AbstractValue| av == AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Int)));
        let (a, b) = (self.top(st, 2), self.top(st, 1));
        let from_top = match () {
            _ if a.is_int() && object(b) => 1,
            _ if object(a) && b.is_int() => 2,
            _ => return,
        };
        if self.seen(ins.pc).0 == Seen::Several {
            return;
        }
        let i = self.stack_index(st, from_top);
        let obj = self.load_slot(i);
        let beyond_word = self.ir.create_block(&[]);
        let (size, one_digit) = self.one_digit(obj);
        let value = self.diamond(
            one_digit,
            |fe| fe.one_digit_value(obj, size),
            |fe| {
                let fits = fe.ir.call(registry::int_fits_word(), &[obj], Some(Type::I64));
                fe.unless_zero(fits, beyond_word);
                fe.ir.call(registry::unbox_int(), &[obj], Some(Type::I64))
            },
        );
        let go_on = self.ir.current_block().expect("emitting");
        self.ir.switch_to(beyond_word);
        self.leave_mispredicted(st, ins, false);
        self.ir.switch_to(go_on);
        self.xdecref(obj);
        st.slots[i] = AbstractValue::Word(Kind::MachineInt, value);
    }

    /// Branches to `slow` unless `v` is non-zero; emission goes on where it is.
    pub(super) fn unless_zero(&mut self, v: Value, slow: ir::Block) {
        let zero = self.ir.iconst(0);
        let nonzero = self.ir.icmp(Cond::Ne, v, zero);
        let go_on = self.ir.create_block(&[]);
        self.ir.branch(nonzero, go_on, &[], slow, &[]);
        self.ir.switch_to(go_on);
    }

    /// Branches to `slow` unless `cond` holds.
    pub(super) fn unless(&mut self, cond: Value, slow: ir::Block) {
        let go_on = self.ir.create_block(&[]);
        self.ir.branch(cond, go_on, &[], slow, &[]);
        self.ir.switch_to(go_on);
    }

    /// Branches to `slow` unless `obj`'s type is `ty`.
    pub(super) fn unless_type(&mut self, obj: Value, ty: *mut ffi::PyTypeObject, slow: ir::Block) {
        let actual = self.ir.load(Mem::I64, obj, cpython::OFFSET_OB_TYPE);
        let expected = self.ir.iconst(ty as i64);
        let same = self.ir.icmp(Cond::Eq, actual, expected);
        self.unless(same, slow);
    }

    /// Branches to `slow` unless `obj`'s type has version tag `version` (never 0: a version
    /// names one type in one state, for good).
    pub(super) fn unless_type_version(&mut self, obj: Value, version: u32, slow: ir::Block) {
        debug_assert_ne!(version, 0, "version 0 matches unrelated types");
        let ty = self.ir.load(Mem::I64, obj, cpython::OFFSET_OB_TYPE);
        let actual = self.ir.load(Mem::U32, ty, cpython::objects::OFFSET_TYPE_VERSION);
        let expected = self.ir.iconst(version as i64);
        let same = self.ir.icmp(Cond::Eq, actual, expected);
        self.unless(same, slow);
    }
}
