//! Objects and containers through the C API: attributes, methods, subscripts, the `BUILD_*`
//! opcodes, `UNPACK_SEQUENCE`, the comprehension appends, `FORMAT_VALUE` and `GET_ITER`.
//! (Where attribute and subscript specialization will land.)

use crate::reasons::ExitReason;
use crate::registry;
use crate::bytecode::Instr;
use crate::cpython::{
    ffi::PyObject,
    types::{method_descriptor, type_of_tag},
};
use crate::frontend::dispatch::Flow;
use crate::frontend::generic::StackEffect;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::opcodes::*;
use ir::{Helper, Kind, TypeTag};

impl Frontend<'_> {
    pub(in crate::frontend) fn load_attr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name(ins.arg as usize);
        self.generic(st, ins, registry::load_attr(), StackEffect::of(ins), 0, name)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn store_attr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name(ins.arg as usize);
        self.generic(st, ins, registry::store_attr(), StackEffect::of(ins), 0, name)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn load_method(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name(ins.arg as usize);
        if self.load_method_descriptor(st, name) {
            return Ok(Flow::Next);
        }
        self.generic(st, ins, registry::load_method(), StackEffect::of(ins), 0, name)?;
        // The first output may be NULL.
        let i = self.stack_index(st, 2);
        st.slots[i] = AbstractValue::Obj(SlotKind::MaybeNull);
        Ok(Flow::Next)
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

    pub(in crate::frontend) fn binary_subscr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::binary_subscr(), StackEffect::of(ins), 0, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn store_subscr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::store_subscr(), StackEffect::of(ins), 0, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_tuple(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_tuple(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_list(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_list(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_map(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_map(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_const_key_map(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_const_key_map(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_slice(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_slice(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn build_string(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::build_string(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn unpack_sequence(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.generic(st, ins, registry::unpack_sequence(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
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
        self.generic(st, ins, registry::format_value(), StackEffect::of(ins), ins.arg as i64, 0)?;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn get_iter(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        // A virtual range is its own iterator (see `call`).
        if !matches!(self.top(st, 1), AbstractValue::Range(..)) {
            self.generic(st, ins, registry::get_iter(), StackEffect::of(ins), 0, 0)?;
        }
        Ok(Flow::Next)
    }
}
