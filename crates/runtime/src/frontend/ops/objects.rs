//! Objects and containers: attributes, methods, subscripts, the `BUILD_*` opcodes,
//! `UNPACK_SEQUENCE`, the comprehension appends, `FORMAT_VALUE` and `GET_ITER`.
//!
//! Instance attributes (`__slots__` members and inline values), `list[i]`, `tuple[i]`,
//! `list[i] = v` and unpacking of exact tuples and lists are compiled natively, each behind
//! the guards of the 3.11 instruction it mirrors (`research/cpython311-objects.md` §8): a
//! failed guard takes the generic C-API path inline, which also raises CPython's errors.
//! The type to specialize on comes from the site's profile or 3.11's inline cache
//! (`frontend::speculation`); sites with neither are generic, and profile.

use crate::reasons::ExitReason;
use crate::registry;
use crate::bytecode::Instr;
use crate::cpython::{
    self,
    ffi::PyObject,
    objects::{
        class_function, class_value_plan, method_plan, property_getter, AttrPlace, ClassAttrPlan, Shadow, OFFSET_INSTANCE_DICT, OFFSET_INSTANCE_VALUES,
        OFFSET_KEYS_NENTRIES, OFFSET_LIST_ITEMS, OFFSET_TUPLE_ITEMS, OFFSET_TYPE_VERSION,
    },
    types::{method_descriptor, type_of_tag},
};
use crate::frontend::speculation::int_like;
use crate::profile::Seen;
use crate::frontend::dispatch::Flow;
use crate::frontend::generic::StackEffect;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::opcodes::*;
use ir::{Block, Cond, Helper, IntOp, Kind, Mem, Type, TypeTag, Value};

impl Frontend<'_> {
    pub(in crate::frontend) fn load_attr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name(ins.arg as usize);
        let site = self.profile_site(ins.pc);
        let plan = self.attr_plan(ins, false).filter(|_| self.top(st, 1).object_kind().is_some());
        let Some(plan) = plan else {
            self.own_inputs(st, 1);
            if self.load_class_value_of_instance(st, ins, name)? || self.load_property_of_instance(st, ins, name)? {
                return Ok(Flow::Next);
            }
            self.generic(st, ins, registry::load_attr(), StackEffect::of(ins), site, name)?;
            self.guard_output(st, ins, 1);
            return Ok(Flow::Next);
        };
        // As LOAD_ATTR_SLOT / LOAD_ATTR_INSTANCE_VALUE.
        let i = self.stack_index(st, 1);
        let input = st.slots[i];
        let (as_float, slow, join) = self.read_blocks(st, ins, 1);
        let obj = self.stack_object(st, 1);
        self.unless_type_version(obj, plan.version, slow);
        let value = match plan.place {
            AttrPlace::Slot(offset) => self.ir.load(Mem::I64, obj, offset),
            AttrPlace::InlineValue(index) => {
                let values = self.ir.load(Mem::I64, obj, OFFSET_INSTANCE_VALUES);
                self.unless_zero(values, slow);
                self.ir.load(Mem::I64, values, 8 * index)
            }
        };
        // Unset: the generic path finds a class attribute or raises AttributeError.
        self.unless_zero(value, slow);
        if as_float {
            self.float_read(st, ins, value, (slow, join), registry::load_attr(), site, name)?;
            return Ok(Flow::Next);
        }
        self.incref(value);
        self.store_slot(i, value);
        self.release(input, obj);
        self.ir.jump(join, &[]);
        self.generic_fallback(st, ins, (slow, join), registry::load_attr(), StackEffect::of(ins), site, name)?;
        st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        self.balance.native();
        self.guard_output(st, ins, 1);
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn store_attr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name(ins.arg as usize);
        let site = self.profile_site(ins.pc);
        let plan = self.attr_plan(ins, true).filter(|_| self.top(st, 1).object_kind().is_some());
        let Some(plan) = plan else {
            self.generic(st, ins, registry::store_attr(), StackEffect::of(ins), site, name)?;
            return Ok(Flow::Next);
        };
        // As STORE_ATTR_SLOT / STORE_ATTR_INSTANCE_VALUE: `[value, obj] -> []`.
        let value_slot = self.stack_index(st, 2);
        self.store_in_frame(st, value_slot)?;
        let (slow, join) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        let input = self.top(st, 1);
        let obj = self.stack_object(st, 1);
        self.unless_type_version(obj, plan.version, slow);
        let (base, offset) = match plan.place {
            AttrPlace::Slot(offset) => (obj, offset),
            AttrPlace::InlineValue(index) => {
                let values = self.ir.load(Mem::I64, obj, OFFSET_INSTANCE_VALUES);
                self.unless_zero(values, slow);
                (values, 8 * index)
            }
        };
        let old = self.ir.load(Mem::I64, base, offset);
        if let AttrPlace::InlineValue(_) = plan.place {
            // A first store records the insertion order: the generic path does it.
            self.unless_zero(old, slow);
        }
        let value = self.load_slot(value_slot);
        self.ir.store(Mem::I64, base, offset, value);
        let mut after = st.clone();
        after.depth -= 2;
        self.xdecref(old);
        self.release(input, obj);
        self.ir.jump(join, &[]);
        self.generic_fallback(st, ins, (slow, join), registry::store_attr(), StackEffect::of(ins), site, name)?;
        *st = after;
        self.balance.native();
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn load_method(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name(ins.arg as usize);
        if self.load_method_descriptor(st, name) || self.load_method_of_instance(st, ins, name) || self.load_method_of_class(st, ins, name) {
            return Ok(Flow::Next);
        }
        let site = self.profile_site(ins.pc);
        self.generic(st, ins, registry::load_method(), StackEffect::of(ins), site, name)?;
        // The first output may be NULL.
        let i = self.stack_index(st, 2);
        st.slots[i] = AbstractValue::Obj(SlotKind::MaybeNull);
        Ok(Flow::Next)
    }

    /// `LOAD_METHOD` on an instance of the one class its profile saw, whose method `name` is a
    /// plain function (as `LOAD_METHOD_NO_DICT` / `_WITH_VALUES`): `[obj] -> [function, obj]`
    /// with the function a constant, so that `CALL` calls it directly with `obj` as `self`
    /// (no bound method is made). Another class, a changed class or a shadowing instance
    /// attribute leaves before the instruction (`type_changed`, told to the profile). False
    /// when the generic path must do it.
    fn load_method_of_instance(&mut self, st: &mut State, ins: &Instr, name: i64) -> bool {
        let (AbstractValue::Obj(SlotKind::Is(kind)), Seen::One(ty)) = (self.top(st, 1), self.seen(ins.pc).0) else {
            return false;
        };
        // SAFETY: the profile holds the type alive while it reads as seen; a str name.
        let Some(plan) = (unsafe { method_plan(ty, name as *mut PyObject) }) else {
            return false;
        };
        let i = self.stack_index(st, 1);
        let obj = self.load_slot(i);
        self.guard_class_attr(st, ins, obj, &plan);
        let id = self.tables.consts.add(plan.value);
        self.store_slot(i + 1, obj);
        st.slots[i] = AbstractValue::Const(Kind::ObjConst(TypeTag::Function, id));
        st.slots[i + 1] = AbstractValue::Obj(SlotKind::Is(kind));
        st.depth += 1;
        self.balance.native();
        true
    }

    /// `obj.name` on an instance of the one class its profile saw, where the class holds a
    /// value that is no descriptor (`class_value_plan`) and no instance attribute shadows it:
    /// that value, a constant (an int one is a machine constant, boxed back to the class's
    /// own object). Another class, a changed class or a shadowing instance attribute leaves
    /// before the instruction (`type_changed`, told to the profile). False when the generic
    /// path must do it.
    fn load_class_value_of_instance(&mut self, st: &mut State, ins: &Instr, name: i64) -> Result<bool> {
        let (AbstractValue::Obj(SlotKind::Is(_)), Seen::One(ty)) = (self.top(st, 1), self.seen(ins.pc).0) else {
            return Ok(false);
        };
        // SAFETY: the profile holds the type alive while it reads as seen; a str name.
        let Some(plan) = (unsafe { class_value_plan(ty, name as *mut PyObject) }) else {
            return Ok(false);
        };
        let i = self.stack_index(st, 1);
        let obj = self.load_slot(i);
        self.guard_class_attr(st, ins, obj, &plan);
        self.xdecref(obj);
        let kind = self.constant_kind(plan.value)?;
        if let Kind::IntConst(_) | Kind::FloatConst(_) = kind {
            self.tables.consts.note_number(kind, plan.value);
        }
        st.slots[i] = AbstractValue::Const(kind);
        self.balance.native();
        Ok(true)
    }

    /// `obj.name` on an instance of the one class its profile saw, where `name` is a property
    /// whose getter is a Python function of one argument: the getter called directly
    /// (`calls::call_property`). Another class or a changed class leaves before the
    /// instruction (`type_changed`, told to the profile). False when the generic path must
    /// do it.
    fn load_property_of_instance(&mut self, st: &mut State, ins: &Instr, name: i64) -> Result<bool> {
        let (AbstractValue::Obj(SlotKind::Is(_)), Seen::One(ty)) = (self.top(st, 1), self.seen(ins.pc).0) else {
            return Ok(false);
        };
        // SAFETY: the profile holds the type alive while it reads as seen; a str name.
        let Some((version, getter)) = (unsafe { property_getter(ty, name as *mut PyObject) }) else {
            return Ok(false);
        };
        // The pool keeps the getter alive (the class may drop the property).
        self.tables.consts.add(getter);
        let plan = ClassAttrPlan { version, value: getter, shadow: Shadow::DataDescriptor };
        let obj = self.load_slot(self.stack_index(st, 1));
        self.guard_class_attr(st, ins, obj, &plan);
        // SAFETY: a live function (the pool holds it).
        let callee = unsafe { (*(getter as *mut cpython::PyFunctionObject)).func_code } as *mut cpython::PyCodeObject;
        let mut site = crate::jit::side_tables::DirectSite::new(callee, vec![Kind::Object]);
        site.method_site = true;
        let site = self.tables.add_direct_site(site) as i64;
        self.generic(st, ins, registry::call_property(), StackEffect::of(ins), getter as i64, site)?;
        self.balance.native();
        self.guard_output(st, ins, 1);
        Ok(true)
    }

    /// Leaves before `ins` (a misprediction of its input) unless `obj` is an instance of the
    /// class `plan` was made for, unchanged, and no instance attribute can shadow the class's.
    fn guard_class_attr(&mut self, st: &State, ins: &Instr, obj: Value, plan: &ClassAttrPlan) {
        let differs = self.ir.create_block(&[]);
        self.unless_type_version(obj, plan.version, differs);
        if let Shadow::SharedKeys { keys, entries } = plan.shadow {
            let dict = self.ir.load(Mem::I64, obj, OFFSET_INSTANCE_DICT);
            let zero = self.ir.iconst(0);
            let no_dict = self.ir.icmp(Cond::Eq, dict, zero);
            self.unless(no_dict, differs);
            let keys = self.ir.iconst(keys as i64);
            let now = self.ir.load(Mem::I64, keys, OFFSET_KEYS_NENTRIES);
            let then = self.ir.iconst(entries as i64);
            let same = self.ir.icmp(Cond::Eq, now, then);
            self.unless(same, differs);
        }
        let go_on = self.ir.current_block().expect("emitting");
        self.ir.switch_to(differs);
        self.leave_mispredicted(st, ins, false);
        self.ir.switch_to(go_on);
    }

    /// `LOAD_METHOD` on a class constant (`Class.method(self, ...)`) whose attribute `name` is
    /// a plain function (as `LOAD_METHOD_CLASS`): `[cls] -> [NULL, function]`, the function a
    /// constant that `CALL` calls directly. A changed class leaves before the instruction.
    fn load_method_of_class(&mut self, st: &mut State, ins: &Instr, name: i64) -> bool {
        let AbstractValue::Const(Kind::ObjConst(_, id)) = self.top(st, 1) else { return false };
        let cls = self.tables.consts.get(id);
        // SAFETY: the pool keeps the class alive; a str name.
        let Some((version, function)) = (unsafe { class_function(cls, name as *mut PyObject) }) else {
            return false;
        };
        let cls = self.ir.iconst(cls as i64);
        let now = self.ir.load(Mem::U32, cls, OFFSET_TYPE_VERSION);
        let then = self.ir.iconst(version as i64);
        let same = self.ir.icmp(Cond::Eq, now, then);
        let snap = self.resume_here(st, ins, ExitReason::TypeChanged);
        self.ir.guard(same, true, snap);
        let i = self.stack_index(st, 1);
        let null = self.ir.iconst(0);
        self.store_slot(i, null);
        st.slots[i] = AbstractValue::Obj(SlotKind::Null);
        let id = self.tables.consts.add(function);
        self.push(st, AbstractValue::Const(Kind::ObjConst(TypeTag::Function, id)));
        self.balance.native();
        true
    }

    /// `LOAD_METHOD` on an object of an exact builtin type whose method `name` is a C
    /// method descriptor: the descriptor is a constant (such types cannot be changed and
    /// their instances have no `__dict__`), `[obj] -> [descriptor, obj]`. False when the
    /// generic path must do it.
    fn load_method_descriptor(&mut self, st: &mut State, name: i64) -> bool {
        let AbstractValue::Obj(SlotKind::Is(Kind::Exact(tag))) = self.top(st, 1) else {
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
        st.slots[i] = AbstractValue::Const(Kind::ObjConst(TypeTag::Other, id));
        st.slots[i + 1] = AbstractValue::Obj(SlotKind::Is(Kind::Exact(tag)));
        st.depth += 1;
        self.balance.native();
        true
    }

    /// The exact list or tuple type a container operand is (by its kind) or, by its site's
    /// profile, should be (behind a guard), when its index is an int: `(type, guarded)`.
    fn sequence_operand(&self, container: AbstractValue, index: AbstractValue, pc: u32, tuples: bool) -> Option<(TypeTag, bool)> {
        let sequence = |t: TypeTag| t == TypeTag::List || (tuples && t == TypeTag::Tuple);
        if !int_like(index) {
            return None;
        }
        match container.object_kind() {
            Some(Kind::Exact(t)) if sequence(t) => Some((t, false)),
            Some(_) => match self.seen(pc).0 {
                Seen::One(ty) => [TypeTag::List, TypeTag::Tuple]
                    .into_iter()
                    .find(|&t| sequence(t) && type_of_tag(t) == ty)
                    .map(|t| (t, true)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The address of item `index` (a word, negative counting from the end) of `seq`, an
    /// exact list or tuple, branching to `slow` when it is out of range.
    fn item_address(&mut self, seq: Value, tag: TypeTag, index: Value, slow: Block) -> Value {
        let len = self.ir.load(Mem::I64, seq, cpython::OFFSET_OB_SIZE);
        let zero = self.ir.iconst(0);
        let negative = self.ir.icmp(Cond::Lt, index, zero);
        let from_end = self.ir.int(IntOp::Add, index, len);
        let index = self.ir.select(negative, from_end, index);
        let inside = self.ir.icmp(Cond::ULt, index, len);
        self.unless(inside, slow);
        let three = self.ir.iconst(3);
        let offset = self.ir.int(IntOp::Shl, index, three);
        let items = if tag == TypeTag::List {
            // Reloaded at every use: anything that resizes the list moves it.
            self.ir.load(Mem::I64, seq, OFFSET_LIST_ITEMS)
        } else {
            let inline = self.ir.iconst(OFFSET_TUPLE_ITEMS as i64);
            self.ir.int(IntOp::Add, seq, inline)
        };
        self.ir.int(IntOp::Add, items, offset)
    }

    pub(in crate::frontend) fn binary_subscr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let site = self.profile_site(ins.pc);
        // Only the container may stay borrowed.
        let index_slot = self.stack_index(st, 1);
        self.own(st, index_slot);
        if self.top(st, 2).object_kind() == Some(Kind::Exact(TypeTag::Str)) && int_like(self.top(st, 1)) {
            return self.str_item(st, ins, site);
        }
        let Some((tag, guarded)) = self.sequence_operand(self.top(st, 2), self.top(st, 1), ins.pc, true) else {
            self.generic(st, ins, registry::binary_subscr(), StackEffect::of(ins), site, 0)?;
            self.guard_output(st, ins, 1);
            return Ok(Flow::Next);
        };
        // As BINARY_SUBSCR_LIST_INT / _TUPLE_INT, negative indices included.
        let i = self.stack_index(st, 2);
        let input = st.slots[i];
        let (as_float, slow, join) = self.read_blocks(st, ins, 2);
        let seq = self.stack_object(st, 2);
        if guarded {
            self.unless_type(seq, type_of_tag(tag), slow);
        }
        let (index, index_obj) = self.int_operand(st, 1, slow);
        let address = self.item_address(seq, tag, index, slow);
        let item = self.ir.load(Mem::I64, address, 0);
        if as_float {
            if let Some(obj) = index_obj {
                self.xdecref(obj);
            }
            self.float_read(st, ins, item, (slow, join), registry::binary_subscr(), site, 0)?;
            return Ok(Flow::Next);
        }
        self.incref(item);
        self.store_slot(i, item);
        self.release(input, seq);
        if let Some(obj) = index_obj {
            self.xdecref(obj);
        }
        self.ir.jump(join, &[]);
        self.generic_fallback(st, ins, (slow, join), registry::binary_subscr(), StackEffect::of(ins), site, 0)?;
        st.depth -= 1;
        st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        self.balance.native();
        self.guard_output(st, ins, 1);
        Ok(Flow::Next)
    }

    /// `s[i]` of an exact str and an int, negative counting from the end: the one-character
    /// string (`helpers::str_item`); out of range, the generic path raises.
    fn str_item(&mut self, st: &mut State, ins: &Instr, site: i64) -> Result<Flow> {
        let (slow, join) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        let i = self.stack_index(st, 2);
        let input = st.slots[i];
        let s = self.stack_object(st, 2);
        let (index, index_obj) = self.int_operand(st, 1, slow);
        let item = self.ir.call(registry::str_item(), &[s, index], Some(Type::I64));
        self.unless_zero(item, slow);
        self.store_slot(i, item);
        self.release(input, s);
        if let Some(obj) = index_obj {
            self.xdecref(obj);
        }
        self.ir.jump(join, &[]);
        self.generic_fallback(st, ins, (slow, join), registry::binary_subscr(), StackEffect::of(ins), site, 0)?;
        st.depth -= 1;
        st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Str)));
        self.balance.native();
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn store_subscr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let site = self.profile_site(ins.pc);
        // Only the container may stay borrowed (the value is stored: it needs its reference).
        for from_top in [1, 3] {
            let i = self.stack_index(st, from_top);
            self.own(st, i);
        }
        let Some((tag, guarded)) = self.sequence_operand(self.top(st, 2), self.top(st, 1), ins.pc, false) else {
            self.generic(st, ins, registry::store_subscr(), StackEffect::of(ins), site, 0)?;
            return Ok(Flow::Next);
        };
        // As STORE_SUBSCR_LIST_INT, negative indices included: `[value, list, index] -> []`.
        let value_slot = self.stack_index(st, 3);
        self.store_in_frame(st, value_slot)?;
        let (slow, join) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        let input = self.top(st, 2);
        let list = self.stack_object(st, 2);
        if guarded {
            self.unless_type(list, type_of_tag(tag), slow);
        }
        let (index, index_obj) = self.int_operand(st, 1, slow);
        let address = self.item_address(list, tag, index, slow);
        let old = self.ir.load(Mem::I64, address, 0);
        let value = self.load_slot(value_slot);
        self.ir.store(Mem::I64, address, 0, value);
        let mut after = st.clone();
        after.depth -= 3;
        if let Some(obj) = index_obj {
            self.xdecref(obj);
        }
        // Released last: the old item's finalizer may run anything.
        self.release(input, list);
        self.xdecref(old);
        self.ir.jump(join, &[]);
        self.generic_fallback(st, ins, (slow, join), registry::store_subscr(), StackEffect::of(ins), site, 0)?;
        *st = after;
        self.balance.native();
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_tuple(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_tuple(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(self.made(st, TypeTag::Tuple))
    }

    pub(in crate::frontend) fn build_list(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_list(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(self.made(st, TypeTag::List))
    }

    pub(in crate::frontend) fn build_map(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_map(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(self.made(st, TypeTag::Dict))
    }

    pub(in crate::frontend) fn build_const_key_map(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_const_key_map(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(self.made(st, TypeTag::Dict))
    }

    pub(in crate::frontend) fn build_slice(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_slice(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_string(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_string(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(self.made(st, TypeTag::Str))
    }

    pub(in crate::frontend) fn unpack_sequence(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let n = ins.arg as usize;
        let sequence = [Kind::Object, Kind::Exact(TypeTag::Tuple), Kind::Exact(TypeTag::List)];
        let kind = match self.top(st, 1) {
            AbstractValue::Obj(SlotKind::Is(kind)) if sequence.contains(&kind) => kind,
            _ => {
                self.generic(st, ins, registry::unpack_sequence(), StackEffect::of(ins), n as i64, 0)?;
                return Ok(Flow::Next);
            }
        };
        // As UNPACK_SEQUENCE_TUPLE / _LIST: an exact tuple (or list) of `n` items pushes them
        // last first; anything else, the generic path (which raises CPython's errors).
        let (slow, join) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        let i = self.stack_index(st, 1);
        let seq = self.load_slot(i);
        let tag = if kind == Kind::Exact(TypeTag::List) { TypeTag::List } else { TypeTag::Tuple };
        if kind != Kind::Exact(tag) {
            self.unless_type(seq, type_of_tag(tag), slow);
        }
        let len = self.ir.load(Mem::I64, seq, cpython::OFFSET_OB_SIZE);
        let expected = self.ir.iconst(n as i64);
        let fits = self.ir.icmp(Cond::Eq, len, expected);
        self.unless(fits, slow);
        let items = if tag == TypeTag::List { self.ir.load(Mem::I64, seq, OFFSET_LIST_ITEMS) } else { seq };
        let first = if tag == TypeTag::List { 0 } else { OFFSET_TUPLE_ITEMS };
        for k in 0..n {
            let item = self.ir.load(Mem::I64, items, first + 8 * k as i32);
            self.incref(item);
            self.store_slot(i + n - 1 - k, item);
        }
        self.xdecref(seq);
        self.ir.jump(join, &[]);
        self.generic_fallback(st, ins, (slow, join), registry::unpack_sequence(), StackEffect::of(ins), n as i64, 0)?;
        st.depth -= 1;
        for _ in 0..n {
            self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        }
        if n == 2 {
            // A pair's items get profiles: the second the site's, the first one keyed one
            // past it (`for i, x in enumerate(...)` and `for a, b in zip(...)`, whose inline
            // forms make no tuple, type their items by the same sites).
            self.guard_pair(st, ins);
        }
        self.balance.native();
        Ok(Flow::Next)
    }

    /// After a pair's `UNPACK_SEQUENCE` (`ins`), its items on top: guards (or records) the
    /// types of both, the second by the site's profile, the first by the one keyed one past
    /// it.
    pub(in crate::frontend) fn guard_pair(&mut self, st: &mut State, ins: &Instr) {
        self.profile_site(ins.pc);
        self.profile_site(ins.pc + 1);
        self.guard_output_of(st, ins, 2, ins.pc);
        if !st.slots[self.stack_index(st, 1)].is_int() {
            self.guard_output_of(st, ins, 1, ins.pc + 1);
        }
    }

    /// `LIST_APPEND`, `SET_ADD`, `MAP_ADD`: the container sits below the inputs.
    pub(in crate::frontend) fn comprehension_add(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        // The helper takes the new values; it finds the container `arg` slots below them, an
        // object in the frame.
        let effect = StackEffect::of(ins).above(ins.arg as usize);
        if !matches!(self.top(st, effect.inputs + ins.arg as usize), AbstractValue::Obj(_)) {
            return Ok(Flow::Unsupported(ExitReason::ContainerNotInFrame));
        }
        let (op, aux): (Helper, i64) = match ins.opcode {
            MAP_ADD => (registry::map_add(), 0),
            SET_ADD => (registry::collection_add(), 1),
            _ => (registry::collection_add(), 0),
        };
        self.generic(st, ins, op, effect, ins.arg as i64, aux)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn format_value(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        // `format()` must return a str (else TypeError).
        self.generic(st, ins, registry::format_value(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(self.made(st, TypeTag::Str))
    }

    /// The operation just emitted left an object of exact type `tag` on the top of the stack
    /// (what `BUILD_LIST` and its siblings always make): its kind says so, for the
    /// operations on it that follow (subscripts, `len`, method descriptors).
    fn made(&mut self, st: &mut State, tag: TypeTag) -> Flow {
        let i = self.stack_index(st, 1);
        st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Exact(tag)));
        Flow::Next
    }

    pub(in crate::frontend) fn get_iter(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        // A virtual range is its own iterator (see `call`).
        if !matches!(self.top(st, 1), AbstractValue::Range(..)) {
            self.generic(st, ins, registry::get_iter(), StackEffect::of(ins), 0, 0)?;
        }
        Ok(Flow::Next)
    }
}
