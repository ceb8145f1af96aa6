//! Globals, cells and closures: `LOAD_GLOBAL`, `LOAD_DEREF`, `STORE_DEREF`, `MAKE_CELL`,
//! `COPY_FREE_VARS`, `LOAD_CLOSURE`.

use crate::reasons::ExitReason;
use crate::registry;
use crate::bytecode::Instr;
use crate::cpython::{
    self,
    ffi::PyObject,
    types::{is_small_int, is_specializable_global, type_of_tag},
};
use crate::frontend::dispatch::Flow;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::jit::side_tables::GlobalSite;
use ir::{Cond, IntOp, Kind, Mem, Type};

impl Frontend<'_> {
    pub(in crate::frontend) fn load_global(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let name = self.code.name((ins.arg >> 1) as usize) as *mut PyObject;
        let site = GlobalSite::new(self.req.globals, self.req.builtins, name);
        // SAFETY: `site` holds live dicts and a str name (GIL held).
        let now = unsafe { site.lookup() };
        let site_addr = self.tables.add_site(site);
        let snap = self.resume_here(st, ins, ExitReason::GlobalMissing);
        let addr = self.ir.iconst(site_addr as i64);
        // The cache's fast path inline: neither dict changed since the site's last lookup.
        let (globals, builtins) = (self.ir.iconst(self.req.globals as i64), self.ir.iconst(self.req.builtins as i64));
        let g = self.ir.load(Mem::I64, globals, cpython::OFFSET_DICT_VERSION);
        let b = self.ir.load(Mem::I64, builtins, cpython::OFFSET_DICT_VERSION);
        let cached_g = self.ir.load(Mem::I64, addr, GlobalSite::OFFSET_GLOBALS_VERSION);
        let cached_b = self.ir.load(Mem::I64, addr, GlobalSite::OFFSET_BUILTINS_VERSION);
        let same_g = self.ir.icmp(Cond::Eq, g, cached_g);
        let same_b = self.ir.icmp(Cond::Eq, b, cached_b);
        let both = self.ir.int(IntOp::And, same_g, same_b);
        let value = self.diamond(
            both,
            |fe| fe.ir.load(Mem::I64, addr, GlobalSite::OFFSET_VALUE),
            |fe| fe.ir.call(registry::load_global(), &[addr], Some(Type::I64)),
        );
        self.ir.guard(value, true, snap);
        // Builtins and functions are used as constants (so that `range` can be virtual and
        // calls can be specialized), behind an identity guard.
        if !now.is_null() && is_specializable_global(now) {
            let kind = self.constant_kind(now)?;
            let expected = self.ir.iconst(now as i64);
            let same = self.ir.icmp(Cond::Eq, value, expected);
            let snap = self.resume_here(st, ins, ExitReason::GlobalChanged);
            self.ir.guard(same, true, snap);
            self.push_null_for_call(st, ins);
            self.push(st, AbstractValue::Const(kind));
        } else {
            self.push_null_for_call(st, ins);
            self.incref(value);
            let top = self.code.nlocals + st.depth;
            self.store_slot(top, value);
            self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        }
        Ok(Flow::Next)
    }

    /// `LOAD_GLOBAL` with the low bit set pushes a NULL below the value (after its guards,
    /// whose snapshots resume *at* the instruction, with its inputs only).
    fn push_null_for_call(&mut self, st: &mut State, ins: &Instr) {
        if ins.arg & 1 != 0 {
            let top = self.code.nlocals + st.depth;
            let zero = self.ir.iconst(0);
            self.store_slot(top, zero);
            self.push(st, AbstractValue::Obj(SlotKind::Null));
        }
    }

    /// `LOAD_DEREF`, speculating that the cell holds what it held at compile time (see
    /// `CompileRequest::free_kinds`): a small int that this code never rebinds is unboxed (the
    /// small ints are cached objects, so boxing it again gives the very same object); other
    /// values of a known type are typed. A failed guard leaves before the instruction
    /// (`kind_changed`) for a continuation made for what the cell holds then.
    pub(in crate::frontend) fn load_deref(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let i = ins.arg as usize;
        let cell = self.load_slot(i);
        let value = self.ir.load(Mem::I64, cell, cpython::OFFSET_CELL_REF);
        // An empty cell raises NameError: the interpreter words it.
        let snap = self.resume_here(st, ins, ExitReason::UnboundFreeVariable);
        self.ir.guard(value, true, snap);
        let first_free = self.code.nlocals - self.req.free_kinds.len();
        let seen = if i >= first_free { self.req.free_kinds[i - first_free] } else { Kind::Object };
        if let Kind::IntConst(c) = seen {
            if is_small_int(c) && !self.code.rebound_cells.contains(&i) {
                // The cell holds one of CPython's cached small ints, each the only object of
                // its value, in one array: the address says which.
                let base = self.ir.iconst(cpython::small_ints() as i64);
                let offset = self.ir.int(IntOp::Sub, value, base);
                let limit = self.ir.iconst(cpython::SMALL_INT_COUNT * cpython::SMALL_INT_SIZE);
                let cached = self.ir.icmp(Cond::ULt, offset, limit);
                let snap = self.resume_here(st, ins, ExitReason::KindChanged);
                self.ir.guard(cached, true, snap);
                let shift = self.ir.iconst(cpython::SMALL_INT_SIZE.trailing_zeros() as i64);
                let index = self.ir.int(IntOp::Sar, offset, shift);
                let min = self.ir.iconst(cpython::SMALL_INT_MIN);
                let v = self.ir.int(IntOp::Add, index, min);
                self.balance.native();
                self.push(st, AbstractValue::Word(Kind::MachineInt, v));
                return Ok(Flow::Next);
            }
        }
        let kind = match seen.type_tag().map(|t| (t, type_of_tag(t))) {
            Some((tag, ty)) if !ty.is_null() => {
                let actual = self.ir.load(Mem::I64, value, cpython::OFFSET_OB_TYPE);
                let expected = self.ir.iconst(ty as i64);
                let same = self.ir.icmp(Cond::Eq, actual, expected);
                let snap = self.resume_here(st, ins, ExitReason::KindChanged);
                self.ir.guard(same, true, snap);
                Kind::Exact(tag)
            }
            _ => Kind::Object,
        };
        self.incref(value);
        let top = self.code.nlocals + st.depth;
        self.store_slot(top, value);
        self.push(st, AbstractValue::Obj(SlotKind::Is(kind)));
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn store_deref(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let top = self.stack_index(st, 1);
        self.store_in_frame(st, top)?;
        self.pop(st);
        let value = self.load_slot(top);
        let cell = self.load_slot(ins.arg as usize);
        self.ir.call(registry::store_deref(), &[cell, value], None);
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn make_cell(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let i = ins.arg as usize;
        self.store_in_frame(st, i)?;
        let ptr = self.slot_address(i);
        let ok = self.ir.call(registry::make_cell(), &[ptr], Some(Type::I64));
        self.raise_unless(ok, st, ins)?;
        st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn copy_free_vars(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let n = self.ir.iconst(ins.arg as i64);
        self.ir.call(registry::copy_free_vars(), &[self.frame, n], None);
        let first = self.code.nlocals - ins.arg as usize;
        for slot in &mut st.slots[first..self.code.nlocals] {
            *slot = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        }
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn load_closure(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let cell = self.load_slot(ins.arg as usize);
        self.incref(cell);
        let top = self.code.nlocals + st.depth;
        self.store_slot(top, cell);
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        Ok(Flow::Next)
    }
}
