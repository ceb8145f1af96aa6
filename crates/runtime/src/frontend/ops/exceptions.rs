//! Exceptions: `PUSH_EXC_INFO`, `POP_EXCEPT`, `CHECK_EXC_MATCH`, and raising (which leaves
//! for the interpreter). Handler lookup and unwinding are in `generic::raise_unless`.

use crate::reasons::ExitReason;
use crate::registry;
use crate::bytecode::Instr;
use crate::frontend::dispatch::Flow;
use crate::frontend::generic::StackEffect;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use ir::{Kind, Type};

impl Frontend<'_> {
    pub(in crate::frontend) fn push_exc_info(&mut self, st: &mut State, _ins: &Instr) -> Result<Flow> {
        // Cannot fail (so no handler applies, whatever the table covers).
        let top = self.stack_index(st, 1);
        self.store_in_frame(st, top)?;
        let ptr = self.slot_address(top);
        let zero = self.ir.iconst(0);
        self.ir.call(registry::push_exc_info(), &[ptr, zero, zero], Some(Type::I64));
        self.pop(st);
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn pop_except(&mut self, st: &mut State, _ins: &Instr) -> Result<Flow> {
        let top = self.stack_index(st, 1);
        self.store_in_frame(st, top)?;
        self.pop(st);
        let value = self.load_slot(top);
        self.ir.call(registry::pop_except(), &[value], None);
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn check_exc_match(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        // A failure (the match is not a class) leaves the exception being handled.
        self.generic(st, ins, registry::check_exc_match(), StackEffect::of(ins).keeping(1), 0, 0)?;
        Ok(Flow::Next)
    }

    /// `RAISE_VARARGS`, `RERAISE`: raising ends the compiled activation anyway, so the
    /// interpreter does it.
    pub(in crate::frontend) fn raise(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        Ok(self.leave_before(st, ins, ExitReason::Raise))
    }
}
