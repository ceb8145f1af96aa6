//! Locals, constants and the value stack: `LOAD_FAST`, `STORE_FAST`, `DELETE_FAST`,
//! `LOAD_CONST`, `POP_TOP`, `PUSH_NULL`, `COPY`, `SWAP`, `RETURN_VALUE`.

use crate::reasons::ExitReason;
use crate::bytecode::Instr;
use crate::cpython::{ffi, ffi::PyObject, types::type_tag};
use crate::frontend::dispatch::Flow;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use ir::Kind;

impl Frontend<'_> {
    pub(in crate::frontend) fn nop(&mut self, _st: &mut State, _ins: &Instr) -> Result<Flow> {
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn load_const(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let obj = self.code.constant(ins.arg as usize);
        let kind = self.constant_kind(obj)?;
        if let Kind::IntConst(_) | Kind::FloatConst(_) = kind {
            // Boxing this constant later must give the code's own object back.
            self.tables.consts.note_number(kind, obj);
        }
        self.push(st, AbstractValue::Const(kind));
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn load_fast(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let i = ins.arg as usize;
        let av = st.slots[i];
        match av {
            AbstractValue::Obj(SlotKind::Null) => return Ok(self.leave_before(st, ins, ExitReason::UnboundLocal)),
            AbstractValue::Obj(sk) => {
                let obj = self.load_slot(i);
                if sk == SlotKind::MaybeNull {
                    let snap = self.resume_here(st, ins, ExitReason::UnboundLocal);
                    self.ir.guard(obj, true, snap);
                }
                if let SlotKind::Is(kind @ (Kind::Exact(_) | Kind::Object)) = sk {
                    // No reference yet: the operation that reads it may need none.
                    self.push(st, AbstractValue::Borrowed { local: i, kind, ptr: obj });
                    return Ok(Flow::Next);
                }
                self.incref(obj);
                let top = self.code.nlocals + st.depth;
                self.store_slot(top, obj);
                let kind = if let SlotKind::Is(k) = sk { k } else { Kind::Object };
                self.push(st, AbstractValue::Obj(SlotKind::Is(kind)));
            }
            other => self.push(st, other),
        }
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn store_fast(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let i = ins.arg as usize;
        let av = self.pop(st);
        self.before_rebinding(st, i)?;
        let top = self.code.nlocals + st.depth;
        let old_av = st.slots[i];
        let old_is_object = matches!(old_av, AbstractValue::Obj(SlotKind::Is(_) | SlotKind::MaybeNull));
        let av = match av {
            AbstractValue::Borrowed { kind, ptr, .. } => {
                // `y = x`: the local takes a reference of its own.
                self.incref(ptr);
                self.store_slot(top, ptr);
                AbstractValue::Obj(SlotKind::Is(kind))
            }
            av => av,
        };
        match av {
            AbstractValue::Obj(_) => {
                let obj = self.load_slot(top);
                let old = self.load_slot(i);
                self.store_slot(i, obj);
                self.release(old_av, old);
            }
            _ if old_is_object => {
                // The old object dies now, as under the interpreter.
                let old = self.load_slot(i);
                let zero = self.ir.iconst(0);
                self.store_slot(i, zero);
                self.release(old_av, old);
            }
            _ => {}
        }
        st.slots[i] = av;
        st.synced[i] = false;
        // `y = x` of an unboxed number that already has its box: y names that same
        // object (as in CPython), so the slot takes the box and stays in sync.
        if matches!(av, AbstractValue::Word(..) | AbstractValue::Double(_)) {
            if let Some(obj) = self.synced_box(st, av) {
                self.adopt_box(st, av, obj);
            }
        }
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn delete_fast(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let i = ins.arg as usize;
        if st.slots[i] == AbstractValue::Obj(SlotKind::Null) {
            // Deleting an unbound local raises: the interpreter words it.
            return Ok(self.leave_before(st, ins, ExitReason::UnboundLocal));
        }
        self.before_rebinding(st, i)?;
        let old = self.load_slot(i);
        if st.slots[i] == AbstractValue::Obj(SlotKind::MaybeNull) {
            let snap = self.resume_here(st, ins, ExitReason::UnboundLocal);
            self.ir.guard(old, true, snap);
        }
        let zero = self.ir.iconst(0);
        self.store_slot(i, zero);
        self.xdecref(old);
        st.slots[i] = AbstractValue::Obj(SlotKind::Null);
        st.synced[i] = true;
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn pop_top(&mut self, st: &mut State, _ins: &Instr) -> Result<Flow> {
        let av = self.pop(st);
        if let AbstractValue::Obj(_) = av {
            let top = self.code.nlocals + st.depth;
            let obj = self.load_slot(top);
            self.release(av, obj);
        }
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn push_null(&mut self, st: &mut State, _ins: &Instr) -> Result<Flow> {
        let top = self.code.nlocals + st.depth;
        let zero = self.ir.iconst(0);
        self.store_slot(top, zero);
        self.push(st, AbstractValue::Obj(SlotKind::Null));
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn copy(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let av = self.top(st, ins.arg as usize);
        if let AbstractValue::Obj(sk) = av {
            let i = self.stack_index(st, ins.arg as usize);
            let obj = self.load_slot(i);
            if sk != SlotKind::Null {
                self.incref(obj);
            }
            let top = self.code.nlocals + st.depth;
            self.store_slot(top, obj);
        }
        self.push(st, av);
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn swap(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let (i, j) = (self.stack_index(st, 1), self.stack_index(st, ins.arg as usize));
        // Only objects in the frame move there; other values are in the state alone.
        let in_frame = |av: AbstractValue| matches!(av, AbstractValue::Obj(_));
        let (a, b) = (st.slots[i], st.slots[j]);
        let (a_obj, b_obj) = (in_frame(a).then(|| self.load_slot(i)), in_frame(b).then(|| self.load_slot(j)));
        if let Some(b_obj) = b_obj {
            self.store_slot(i, b_obj);
        }
        if let Some(a_obj) = a_obj {
            self.store_slot(j, a_obj);
        }
        st.slots.swap(i, j);
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn return_value(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let top = self.stack_index(st, 1);
        self.store_in_frame(st, top)?;
        self.pop(st);
        let v = self.load_slot(top);
        // A frame object that outlives the call reports the line of its return.
        self.set_prev_instr(ins.pc);
        self.ir.ret(v);
        Ok(Flow::EndBlock)
    }

    /// The kind of a constant object (adding it to the pool if it has no scalar form).
    pub(in crate::frontend) fn constant_kind(&mut self, obj: *mut PyObject) -> Result<Kind> {
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
}
