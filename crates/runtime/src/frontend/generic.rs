//! Generic operations through the C API (a helper over the top of the value stack, as the
//! interpreter's own instruction would do it), and what follows any operation that may
//! raise: the compiled exception handler or an exit.

use crate::reasons::{DeclineReason, ExitReason};
use crate::registry;
use super::dispatch::Flow;
use super::state::{AbstractValue, SlotKind, State};
use super::{decline, Frontend, Result};
use crate::bytecode::Instr;
use crate::opcodes;
use ir::{Block, Helper, ExitKind, Kind, Type, Value};

/// What a generic operation does to the value stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StackEffect {
    /// Values it takes from the top of the stack (as objects in the frame).
    pub(super) inputs: usize,
    /// Objects it leaves there in their place.
    pub(super) outputs: usize,
    /// Inputs a failure leaves on the stack (the rest it has released).
    pub(super) kept_on_failure: usize,
}

impl StackEffect {
    /// The effect of `ins` as CPython's opcode table gives it ([`opcodes::stack_effect`]).
    pub(super) fn of(ins: &Instr) -> StackEffect {
        let (pops, pushes) = opcodes::stack_effect(ins.opcode, ins.arg).expect("an opcode that decoding found");
        StackEffect { inputs: pops as usize, outputs: pushes as usize, kept_on_failure: 0 }
    }

    /// The same effect when a failure leaves the bottom `kept` inputs on the stack.
    pub(super) fn keeping(self, kept: usize) -> StackEffect {
        StackEffect { kept_on_failure: kept, ..self }
    }

    /// The part of the effect above `untouched` values that the instruction reads in place
    /// below its inputs (the container of `LIST_APPEND` and the values above it).
    pub(super) fn above(self, untouched: usize) -> StackEffect {
        StackEffect { inputs: self.inputs - untouched, outputs: self.outputs - untouched, ..self }
    }
}

impl Frontend<'_> {
    /// After an operation that may have raised (`ok == 0`): with `st` the state the
    /// interpreter's error path would see, continue in the compiled handler that the
    /// exception table names for `ins`, or leave for the interpreter when there is none.
    pub(super) fn raise_unless(&mut self, ok: Value, st: &State, ins: &Instr) -> Result<()> {
        let Some(handler) = self.code.handler_at(ins.pc) else {
            let snap = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, ExitReason::Exception);
            self.ir.guard(ok, true, snap);
            return Ok(());
        };
        let (go_on, raised) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.ir.branch(ok, go_on, &[], raised, &[]);
        self.ir.switch_to(raised);
        // A callee may have switched tracing on: the tracer must see the exception event, so
        // the interpreter takes over.
        let snap = self.snapshot(st, ExitKind::Raise, ins.pc, st.depth, ExitReason::ExceptionWhileTracing);
        self.leave_if_tracing(snap);
        // As the interpreter's exception_unwind: traceback entry, stack down to the handler's
        // depth, the offset of the raising instruction if asked, then the exception.
        let exc = self.ir.call(registry::enter_handler(), &[], Some(Type::I64));
        let mut hs = st.clone();
        if hs.depth < handler.depth {
            return decline(DeclineReason::HandlerDeeperThanStack);
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

    /// Calls `helper`, a generic stack operation, on the top `effect.inputs` values, leaving
    /// `effect.outputs` objects: a whole instruction.
    pub(super) fn generic(
        &mut self,
        st: &mut State,
        ins: &Instr,
        helper: Helper,
        effect: StackEffect,
        arg: i64,
        aux: i64,
    ) -> Result<Flow> {
        self.prepare_inputs(st, effect.inputs)?;
        self.generic_prepared(st, ins, helper, effect, arg, aux)?;
        Ok(Flow::Next)
    }

    /// What every generic operation needs first: its inputs as objects in the frame, and
    /// the frame showing every local (the operation may run Python code).
    pub(super) fn prepare_inputs(&mut self, st: &mut State, inputs: usize) -> Result<()> {
        for k in (1..=inputs).rev() {
            let i = self.stack_index(st, k);
            self.store_in_frame(st, i)?;
        }
        self.sync_locals(st)
    }

    /// The rest of `generic`, once `prepare_inputs` ran (or the caller made its inputs ready
    /// another way).
    pub(super) fn generic_prepared(
        &mut self,
        st: &mut State,
        ins: &Instr,
        helper: Helper,
        effect: StackEffect,
        arg: i64,
        aux: i64,
    ) -> Result<()> {
        self.balance.generic(ins.opcode);
        self.call_generic(st, ins, helper, effect, arg, aux)
    }

    /// The slow path of a specialized operation: its fast path branched to `slow` where a
    /// guard failed (with the inputs still on the stack as `st` has them, as objects in the
    /// frame) and jumped to `join` with the outputs in place. Here the generic operation does
    /// it; emission goes on at `join`, with `st` as the fast path leaves it.
    pub(super) fn generic_fallback(
        &mut self,
        st: &State,
        ins: &Instr,
        (slow, join): (Block, Block),
        helper: Helper,
        effect: StackEffect,
        arg: i64,
        aux: i64,
    ) -> Result<()> {
        self.generic_slow_path(st, ins, slow, helper, effect, arg, aux)?;
        self.ir.jump(join, &[]);
        self.ir.switch_to(join);
        Ok(())
    }

    /// The slow path at `slow` of `generic_fallback`, up to where it has done the operation
    /// (emission stays there, the outputs in the frame).
    pub(super) fn generic_slow_path(
        &mut self,
        st: &State,
        ins: &Instr,
        slow: Block,
        helper: Helper,
        effect: StackEffect,
        arg: i64,
        aux: i64,
    ) -> Result<()> {
        self.ir.switch_to(slow);
        let mut generic = st.clone();
        let was_cold = std::mem::replace(&mut self.cold, true);
        let emitted = self
            .prepare_inputs(&mut generic, effect.inputs)
            .and_then(|()| self.call_generic(&mut generic, ins, helper, effect, arg, aux));
        self.cold = was_cold;
        emitted
    }

    /// `generic_prepared` without counting the operation in the balance.
    pub(super) fn call_generic(
        &mut self,
        st: &mut State,
        ins: &Instr,
        helper: Helper,
        effect: StackEffect,
        arg: i64,
        aux: i64,
    ) -> Result<()> {
        self.set_prev_instr(ins.pc);
        let base = st.depth - effect.inputs;
        let ptr = self.slot_address(self.code.nlocals + base);
        let arg = self.ir.iconst(arg);
        let aux = self.ir.iconst(aux);
        let status = self.ir.call(helper, &[ptr, arg, aux], Some(Type::I64));
        st.depth = base + effect.kept_on_failure;
        for i in base..st.depth {
            st.slots[self.code.nlocals + i] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        }
        self.raise_unless(status, st, ins)?;
        st.depth = base;
        for _ in 0..effect.outputs {
            self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        }
        self.check_tracing(st, ins.next);
        Ok(())
    }
}
