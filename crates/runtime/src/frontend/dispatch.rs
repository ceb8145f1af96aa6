//! The opcode table: one handler per opcode, all of one signature (as YJIT's `get_gen_fn`),
//! and what happens to an opcode the table does not list.

use crate::reasons::ExitReason;
use super::state::State;
use super::{Frontend, Result};
use crate::bytecode::Instr;
use crate::opcodes::*;

/// What emitting an instruction left to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    /// Go on with the next instruction, in the current IR block.
    Next,
    /// The instruction ended the IR block (a jump, a branch, a return or an exit).
    EndBlock,
    /// The handler does not compile the instruction in this state (nothing emitted, the
    /// state untouched): compiled code leaves for the interpreter before it, for this reason.
    Unsupported(ExitReason),
}

/// Emits one instruction from `State`; the code of every opcode has this shape.
pub(super) type Handler<'r> = fn(&mut Frontend<'r>, &mut State, &Instr) -> Result<Flow>;

/// The handler of `opcode`, or `None` when compiled code leaves for the interpreter there.
fn handler<'r>(opcode: u8) -> Option<Handler<'r>> {
    Some(match opcode {
        NOP => Frontend::nop,
        RESUME => Frontend::nop,
        LOAD_CONST => Frontend::load_const,
        LOAD_FAST => Frontend::load_fast,
        STORE_FAST => Frontend::store_fast,
        DELETE_FAST => Frontend::delete_fast,
        POP_TOP => Frontend::pop_top,
        PUSH_NULL => Frontend::push_null,
        COPY => Frontend::copy,
        SWAP => Frontend::swap,
        RETURN_VALUE => Frontend::return_value,

        BINARY_OP => Frontend::binary_op,
        COMPARE_OP => Frontend::compare_op,
        UNARY_NEGATIVE => Frontend::unary_op,
        UNARY_NOT => Frontend::unary_op,
        UNARY_INVERT => Frontend::unary_op,
        UNARY_POSITIVE => Frontend::unary_op,
        IS_OP => Frontend::is_op,
        CONTAINS_OP => Frontend::contains_op,

        POP_JUMP_FORWARD_IF_FALSE => Frontend::pop_jump_if,
        POP_JUMP_BACKWARD_IF_FALSE => Frontend::pop_jump_if,
        POP_JUMP_FORWARD_IF_TRUE => Frontend::pop_jump_if,
        POP_JUMP_BACKWARD_IF_TRUE => Frontend::pop_jump_if,
        POP_JUMP_FORWARD_IF_NONE => Frontend::pop_jump_if_none,
        POP_JUMP_BACKWARD_IF_NONE => Frontend::pop_jump_if_none,
        POP_JUMP_FORWARD_IF_NOT_NONE => Frontend::pop_jump_if_none,
        POP_JUMP_BACKWARD_IF_NOT_NONE => Frontend::pop_jump_if_none,
        JUMP_IF_FALSE_OR_POP => Frontend::jump_if_or_pop,
        JUMP_IF_TRUE_OR_POP => Frontend::jump_if_or_pop,
        JUMP_FORWARD => Frontend::jump_forward,
        JUMP_BACKWARD => Frontend::jump_backward,
        JUMP_BACKWARD_NO_INTERRUPT => Frontend::jump_backward,
        FOR_ITER => Frontend::for_iter,

        LOAD_GLOBAL => Frontend::load_global,
        LOAD_DEREF => Frontend::load_deref,
        STORE_DEREF => Frontend::store_deref,
        MAKE_CELL => Frontend::make_cell,
        COPY_FREE_VARS => Frontend::copy_free_vars,
        LOAD_CLOSURE => Frontend::load_closure,

        LOAD_ATTR => Frontend::load_attr,
        STORE_ATTR => Frontend::store_attr,
        LOAD_METHOD => Frontend::load_method,
        BINARY_SUBSCR => Frontend::binary_subscr,
        STORE_SUBSCR => Frontend::store_subscr,
        BUILD_TUPLE => Frontend::build_tuple,
        BUILD_LIST => Frontend::build_list,
        BUILD_MAP => Frontend::build_map,
        BUILD_CONST_KEY_MAP => Frontend::build_const_key_map,
        BUILD_SLICE => Frontend::build_slice,
        BUILD_STRING => Frontend::build_string,
        UNPACK_SEQUENCE => Frontend::unpack_sequence,
        LIST_APPEND => Frontend::comprehension_add,
        SET_ADD => Frontend::comprehension_add,
        MAP_ADD => Frontend::comprehension_add,
        FORMAT_VALUE => Frontend::format_value,
        GET_ITER => Frontend::get_iter,

        KW_NAMES => Frontend::kw_names,
        PRECALL => Frontend::nop, // `CALL` does it all
        CALL => Frontend::call,
        MAKE_FUNCTION => Frontend::make_function,

        PUSH_EXC_INFO => Frontend::push_exc_info,
        POP_EXCEPT => Frontend::pop_except,
        CHECK_EXC_MATCH => Frontend::check_exc_match,
        RAISE_VARARGS => Frontend::raise,
        RERAISE => Frontend::raise,
        _ => return None,
    })
}

/// Whether the handler of `opcode` takes inputs that `LOAD_FAST` pushed without a reference
/// (`AbstractValue::Borrowed`); every other handler gets them owned.
fn reads_borrowed(opcode: u8) -> bool {
    matches!(
        opcode,
        POP_TOP
            | COPY
            | SWAP
            | STORE_FAST
            | LOAD_ATTR
            | STORE_ATTR
            | BINARY_SUBSCR
            | STORE_SUBSCR
            | IS_OP
            | POP_JUMP_FORWARD_IF_NONE
            | POP_JUMP_BACKWARD_IF_NONE
            | POP_JUMP_FORWARD_IF_NOT_NONE
            | POP_JUMP_BACKWARD_IF_NOT_NONE
    )
}

impl Frontend<'_> {
    /// Emits one instruction.
    pub(super) fn emit_instr(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.current_pc = ins.pc;
        if matches!(ins.opcode, BINARY_OP | COMPARE_OP) {
            self.read_float_operands(st);
        }
        if !reads_borrowed(ins.opcode) {
            // Its inputs are the stack's own, in the frame (see `AbstractValue::Borrowed`).
            let inputs = crate::opcodes::stack_effect(ins.opcode, ins.arg).map_or(st.depth, |(pops, _)| pops as usize);
            self.own_inputs(st, inputs);
        }
        match handler(ins.opcode) {
            Some(emit) => match emit(self, st, ins)? {
                Flow::Unsupported(reason) => Ok(self.leave_before(st, ins, reason)),
                flow => Ok(flow),
            },
            None => {
                // Everything else is done by the interpreter: leave just before it. (Rare
                // opcodes take the rest of the call with them, and the reason is counted.)
                Ok(self.leave_before(st, ins, ExitReason::Unsupported { opcode: ins.opcode }))
            }
        }
    }

    /// Ends the block with an exit to the interpreter before `ins`.
    pub(super) fn leave_before(&mut self, st: &State, ins: &Instr, reason: ExitReason) -> Flow {
        let snap = self.resume_here(st, ins, reason);
        self.ir.exit(snap);
        Flow::EndBlock
    }
}
