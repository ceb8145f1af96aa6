//! Generic operations through the C API (a helper over the top of the value stack, as the
//! interpreter's own instruction would do it), and what follows any operation that may
//! raise: the compiled exception handler or an exit.

use super::dispatch::Flow;
use super::state::{AbstractValue, SlotKind, State};
use super::{decline, Frontend, Result};
use crate::bytecode::Instr;
use crate::helpers::{self, StackOp};
use crate::opcodes::*;
use ir::{ExitKind, Kind, Type, Value};

impl Frontend<'_> {
    /// After an operation that may have raised (`ok == 0`): with `st` the state the
    /// interpreter's error path would see, continue in the compiled handler that the
    /// exception table names for `ins`, or leave for the interpreter when there is none.
    pub(super) fn raise_unless(&mut self, ok: Value, st: &State, ins: &Instr) -> Result<()> {
        let Some(handler) = self.code.handler_at(ins.pc) else {
            let snap = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, "exception");
            self.ir.guard(ok, true, snap);
            return Ok(());
        };
        let (go_on, raised) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.ir.branch(ok, go_on, &[], raised, &[]);
        self.ir.switch_to(raised);
        // A callee may have switched tracing on: the tracer must see the exception event, so
        // the interpreter takes over.
        let snap = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, "exception_while_tracing");
        self.leave_if_tracing(snap);
        // As the interpreter's exception_unwind: traceback entry, stack down to the handler's
        // depth, the offset of the raising instruction if asked, then the exception.
        let exc = self.ir.call(helpers::enter_handler as *const () as u64, &[], Some(Type::I64));
        let mut hs = st.clone();
        if hs.depth < handler.depth {
            return decline("exception handler deeper than the stack");
        }
        while hs.depth > handler.depth {
            if let AbstractValue::Obj(_) = self.pop(&mut hs) {
                let obj = self.load_slot(self.code.nlocals + hs.depth);
                self.xdecref(obj);
            }
        }
        if handler.lasti {
            self.push(&mut hs, AbstractValue::Const(Kind::IntConst(ins.pc as i64)));
        }
        let top = self.code.nlocals + hs.depth;
        self.store_slot(top, exc);
        self.push(&mut hs, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        self.jump_to(&hs, handler.target)?;
        self.ir.switch_to(go_on);
        Ok(())
    }

    /// Calls a generic stack operation on the top `n_in` values, leaving `n_out` objects.
    pub(super) fn stack_op(
        &mut self,
        st: &mut State,
        ins: &Instr,
        op: StackOp,
        n_in: usize,
        n_out: usize,
        arg: i64,
        aux: i64,
    ) -> Result<Flow> {
        self.stack_op_keeping(st, ins, op, n_in, n_out, arg, aux, 0)
    }

    /// `stack_op` for operations whose failure leaves `kept` of their inputs on the stack.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn stack_op_keeping(
        &mut self,
        st: &mut State,
        ins: &Instr,
        op: StackOp,
        n_in: usize,
        n_out: usize,
        arg: i64,
        aux: i64,
        kept: usize,
    ) -> Result<Flow> {
        self.prepare_inputs(st, n_in)?;
        self.call_stack_helper(st, ins, op, n_in, n_out, arg, aux, kept)?;
        Ok(Flow::Next)
    }

    /// What every generic operation needs first: its inputs as objects in the frame, and
    /// the frame showing every local (the operation may run Python code).
    pub(super) fn prepare_inputs(&mut self, st: &mut State, n_in: usize) -> Result<()> {
        for k in (1..=n_in).rev() {
            let i = self.stack_index(st, k);
            self.store_in_frame(st, i)?;
        }
        self.sync_locals(st)
    }

    /// The rest of `stack_op_keeping`, once `prepare_inputs` ran.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn call_stack_helper(
        &mut self,
        st: &mut State,
        ins: &Instr,
        op: StackOp,
        n_in: usize,
        n_out: usize,
        arg: i64,
        aux: i64,
        kept: usize,
    ) -> Result<()> {
        if matches!(
            ins.opcode,
            BINARY_OP
                | COMPARE_OP
                | LOAD_ATTR
                | STORE_ATTR
                | LOAD_METHOD
                | BINARY_SUBSCR
                | STORE_SUBSCR
                | UNPACK_SEQUENCE
        ) {
            self.generic_ops += 1;
        }
        self.set_prev_instr(ins.pc);
        let base = st.depth - n_in;
        let ptr = self.slot_address(self.code.nlocals + base);
        let arg = self.ir.iconst(arg);
        let aux = self.ir.iconst(aux);
        let status = self.ir.call(op as *const () as u64, &[ptr, arg, aux], Some(Type::I64));
        st.depth = base + kept;
        for i in base..base + kept {
            st.slots[self.code.nlocals + i] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        }
        self.raise_unless(status, st, ins)?;
        st.depth = base;
        for _ in 0..n_out {
            self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        }
        self.check_tracing(st, ins.next);
        Ok(())
    }
}
