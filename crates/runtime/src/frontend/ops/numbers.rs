//! Numbers and comparisons: `BINARY_OP`, `COMPARE_OP`, the `UNARY_*` opcodes, `IS_OP` and
//! `CONTAINS_OP`; unboxed when the kinds allow it, generic otherwise.

use crate::reasons::ExitReason;
use crate::registry;
use crate::bytecode::*;
use crate::cpython::{self, ffi, types::true_ptr};
use crate::frontend::speculation::int_like;
use crate::profile::Seen;
use crate::frontend::dispatch::Flow;
use crate::frontend::generic::StackEffect;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::opcodes::*;
use ir::{CheckedOp, Cond, FloatOp, IntOp, Kind, Mem, Type, TypeTag, Value};

impl Frontend<'_> {
    /// The word value of an int-like abstract value.
    pub(in crate::frontend) fn int_value(&mut self, av: AbstractValue) -> Value {
        match av {
            AbstractValue::Word(_, v) => v,
            AbstractValue::Const(Kind::IntConst(c)) => self.ir.iconst(c),
            _ => unreachable!("int_value of {av:?}"),
        }
    }

    pub(in crate::frontend) fn float_value(&mut self, av: AbstractValue) -> Value {
        match av {
            AbstractValue::Double(v) => v,
            AbstractValue::Const(Kind::FloatConst(bits)) => self.ir.fconst(f64::from_bits(bits)),
            AbstractValue::Word(Kind::MachineInt, v) => self.ir.int_to_float(v),
            AbstractValue::Const(Kind::IntConst(c)) => self.ir.fconst(c as f64),
            _ => unreachable!("float_value of {av:?}"),
        }
    }

    pub(in crate::frontend) fn binary_op(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.unbox_operands(st, 2);
        // In-place forms behave as the plain ones on numbers.
        let op = binary_operator(ins.arg);
        if !matches!(op, NB_POWER | NB_TRUE_DIVIDE) {
            // Every other operator is one `int_binary` computes on words.
            self.unbox_int_operand(st, ins);
        }
        let (lhs, rhs) = (self.top(st, 2), self.top(st, 1));
        if lhs.is_int() && rhs.is_int() {
            if let Some(result) = self.int_binary(st, ins, op, lhs, rhs)? {
                self.balance.native();
                st.depth -= 2;
                self.push(st, result);
                return Ok(Flow::Next);
            }
        } else if (lhs.is_float() || rhs.is_float())
            && (lhs.is_float() || lhs.is_int())
            && (rhs.is_float() || rhs.is_int())
        {
            if let Some(result) = self.float_binary(st, ins, op, lhs, rhs) {
                self.balance.native();
                st.depth -= 2;
                self.push(st, result);
                return Ok(Flow::Next);
            }
        }
        let ints = int_like(lhs) && int_like(rhs);
        let typed = AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Int)));
        if matches!(op, NB_ADD | NB_SUBTRACT | NB_MULTIPLY) && lhs == typed && rhs == typed && self.seen(ins.pc).0 != Seen::Several {
            return self.small_int_words(st, ins, op);
        }
        if ((op == NB_ADD || op == NB_SUBTRACT) && !lhs.is_float() && !rhs.is_float()) || (op == NB_MULTIPLY && ints) {
            self.small_int_binary(st, ins, op)?;
            if ints {
                // Exact ints add up to an exact int, inline or not.
                let i = self.stack_index(st, 1);
                st.slots[i] = AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Int)));
            }
            return Ok(Flow::Next);
        }
        self.generic(st, ins, registry::binary_op(), StackEffect::of(ins), ins.arg as i64, 0)
    }

    /// Float arithmetic of two numbers, one of them a float at least (`lhs op rhs` for the
    /// snapshot state `st` before `ins`), or `None` for an operator that is not compiled on
    /// floats ([`float_operator_compiles`]).
    pub(in crate::frontend) fn float_binary(
        &mut self,
        st: &State,
        ins: &Instr,
        op: u32,
        lhs: AbstractValue,
        rhs: AbstractValue,
    ) -> Option<AbstractValue> {
        if !float_operator_compiles(op) {
            return None;
        }
        // An int operand converts exactly as PyLong_AsDouble does (correctly rounded).
        let (a, b) = (self.float_value(lhs), self.float_value(rhs));
        if op == NB_POWER {
            return Some(AbstractValue::Double(self.float_power(st, ins, a, b)));
        }
        let float_op = match op {
            NB_ADD => Some(FloatOp::Add),
            NB_SUBTRACT => Some(FloatOp::Sub),
            NB_MULTIPLY => Some(FloatOp::Mul),
            NB_TRUE_DIVIDE => Some(FloatOp::Div),
            _ => None,
        };
        if matches!(op, NB_TRUE_DIVIDE | NB_FLOOR_DIVIDE | NB_REMAINDER) {
            // Division by zero raises: let the interpreter do it.
            let zero = self.ir.fconst(0.0);
            let nonzero = self.ir.fcmp(Cond::Ne, b, zero);
            let snap = self.resume_here(st, ins, ExitReason::FloatDivisionByZero);
            self.ir.guard(nonzero, true, snap);
        }
        let r = match float_op {
            Some(fop) => self.ir.float(fop, a, b),
            None => {
                let f = if op == NB_FLOOR_DIVIDE { registry::float_floor_div() } else { registry::float_mod() };
                self.ir.call(f, &[a, b], Some(Type::F64))
            }
        };
        Some(AbstractValue::Double(r))
    }

    /// `+` or `-` on objects that are usually small ints (results of calls, say), and `*` on
    /// ints: inline when both are ints of one 30-bit digit at most (the sum or product cannot
    /// overflow a word), the generic path otherwise. The result is an object either way.
    fn small_int_binary(&mut self, st: &mut State, ins: &Instr, op: u32) -> Result<Flow> {
        self.prepare_inputs(st, 2)?;
        let base = st.depth - 2;
        let (a, b) = (self.load_slot(self.code.nlocals + base), self.load_slot(self.code.nlocals + base + 1));
        let (sizes, fast, slow, join) = (
            self.ir.create_block(&[]),
            self.ir.create_block(&[]),
            self.ir.create_block(&[]),
            self.ir.create_block(&[]),
        );
        let long_type = self.ir.iconst(std::ptr::addr_of_mut!(ffi::PyLong_Type) as i64);
        let (ta, tb) =
            (self.ir.load(Mem::I64, a, cpython::OFFSET_OB_TYPE), self.ir.load(Mem::I64, b, cpython::OFFSET_OB_TYPE));
        let (ia, ib) = (self.ir.icmp(Cond::Eq, ta, long_type), self.ir.icmp(Cond::Eq, tb, long_type));
        let ints = self.ir.int(IntOp::And, ia, ib);
        self.ir.branch(ints, sizes, &[], slow, &[]);
        // Both ints: their sizes (and so their digits) can be read.
        self.ir.switch_to(sizes);
        let ((sa, ok_a), (sb, ok_b)) = (self.one_digit(a), self.one_digit(b));
        let small = self.ir.int(IntOp::And, ok_a, ok_b);
        self.ir.branch(small, fast, &[], slow, &[]);
        self.ir.switch_to(fast);
        let r = self.one_digit_operation(op, (a, sa), (b, sb));
        let obj = self.boxed(AbstractValue::Word(Kind::MachineInt, r), st, ins.pc)?;
        self.store_slot(self.code.nlocals + base, obj);
        self.xdecref(a);
        self.xdecref(b);
        self.ir.jump(join, &[]);
        self.ir.switch_to(slow);
        let mut generic = st.clone();
        self.generic_prepared(&mut generic, ins, registry::binary_op(), StackEffect::of(ins), ins.arg as i64, 0)?;
        self.ir.jump(join, &[]);
        self.ir.switch_to(join);
        st.depth = base;
        self.push(st, AbstractValue::Obj(SlotKind::Is(Kind::Object)));
        Ok(Flow::Next)
    }

    /// `+`, `-` or `*` of two int objects that guards typed (items, attributes): computed on
    /// words when both have one digit (the result cannot overflow a word), so that it is no
    /// object to allocate; a bigger int leaves before the instruction as a misprediction of
    /// the site's input, and the code compiled next takes `small_int_binary` there.
    fn small_int_words(&mut self, st: &mut State, ins: &Instr, op: u32) -> Result<Flow> {
        let i = self.stack_index(st, 2);
        let (a, b) = (self.load_slot(i), self.load_slot(i + 1));
        let bigger = self.ir.create_block(&[]);
        let ((sa, ok_a), (sb, ok_b)) = (self.one_digit(a), self.one_digit(b));
        let small = self.ir.int(IntOp::And, ok_a, ok_b);
        self.unless(small, bigger);
        let go_on = self.ir.current_block().expect("emitting");
        self.ir.switch_to(bigger);
        self.leave_mispredicted(st, ins, false);
        self.ir.switch_to(go_on);
        let r = self.one_digit_operation(op, (a, sa), (b, sb));
        self.xdecref(a);
        self.xdecref(b);
        st.depth -= 2;
        self.push(st, AbstractValue::Word(Kind::MachineInt, r));
        self.balance.native();
        Ok(Flow::Next)
    }

    /// `a op b` (`+`, `-` or `*`) of two int objects of one digit at most, each with its
    /// `ob_size`, as a word (which it cannot overflow).
    fn one_digit_operation(&mut self, op: u32, (a, size_a): (Value, Value), (b, size_b): (Value, Value)) -> Value {
        let (va, vb) = (self.one_digit_value(a, size_a), self.one_digit_value(b, size_b));
        let operation = match op {
            NB_ADD => IntOp::Add,
            NB_SUBTRACT => IntOp::Sub,
            _ => IntOp::Mul,
        };
        self.ir.int(operation, va, vb)
    }

    /// `a ** b` on floats where C's `pow` is what CPython computes: a positive finite base,
    /// a finite exponent and a finite result; anything else (a negative base gives a complex,
    /// zero to a negative power and overflow raise) leaves for the interpreter.
    fn float_power(&mut self, st: &State, ins: &Instr, a: Value, b: Value) -> Value {
        let snap = self.resume_here(st, ins, ExitReason::FloatPower);
        let (zero, infinity) = (self.ir.fconst(0.0), self.ir.fconst(f64::INFINITY));
        let positive = self.ir.fcmp(Cond::Gt, a, zero);
        let finite = self.ir.fcmp(Cond::Lt, a, infinity);
        let both = self.ir.int(IntOp::And, positive, finite);
        self.ir.guard(both, true, snap);
        // b - b is 0 for a finite b, NaN for an infinite or NaN one.
        let difference = self.ir.float(FloatOp::Sub, b, b);
        let exponent_finite = self.ir.fcmp(Cond::Eq, difference, zero);
        self.ir.guard(exponent_finite, true, snap);
        let r = self.ir.call(registry::float_pow(), &[a, b], Some(Type::F64));
        let result_finite = self.ir.fcmp(Cond::Lt, r, infinity);
        self.ir.guard(result_finite, true, snap);
        r
    }

    /// Integer arithmetic on machine words, or `None` for the generic path.
    pub(in crate::frontend) fn int_binary(
        &mut self,
        st: &State,
        ins: &Instr,
        op: u32,
        lhs: AbstractValue,
        rhs: AbstractValue,
    ) -> Result<Option<AbstractValue>> {
        if let (AbstractValue::Const(Kind::IntConst(a)), AbstractValue::Const(Kind::IntConst(b))) = (lhs, rhs) {
            if let Some(r) = fold_int(op, a, b) {
                return Ok(Some(AbstractValue::Const(Kind::IntConst(r))));
            }
        }
        let checked = match op {
            NB_ADD => Some(CheckedOp::Add),
            NB_SUBTRACT => Some(CheckedOp::Sub),
            NB_MULTIPLY => Some(CheckedOp::Mul),
            NB_FLOOR_DIVIDE => Some(CheckedOp::FloorDiv),
            NB_REMAINDER => Some(CheckedOp::Mod),
            NB_LSHIFT => Some(CheckedOp::Shl),
            _ => None,
        };
        let plain = match op {
            NB_AND => Some(IntOp::And),
            NB_OR => Some(IntOp::Or),
            NB_XOR => Some(IntOp::Xor),
            _ => None,
        };
        if !int_operator_compiles(op) {
            return Ok(None);
        }
        let (a, b) = (self.int_value(lhs), self.int_value(rhs));
        let r = if let Some(cop) = checked {
            let reason = match cop {
                CheckedOp::FloorDiv | CheckedOp::Mod => ExitReason::IntDivision,
                CheckedOp::Shl => ExitReason::IntShift,
                _ => ExitReason::IntOverflow,
            };
            let snap = self.resume_here(st, ins, reason);
            self.ir.checked(cop, a, b, snap)
        } else if let Some(iop) = plain {
            self.ir.int(iop, a, b)
        } else {
            // `>>`: a negative count raises (in the interpreter); counts past 63 saturate.
            let zero = self.ir.iconst(0);
            let non_negative = self.ir.icmp(Cond::Ge, b, zero);
            let snap = self.resume_here(st, ins, ExitReason::IntShift);
            self.ir.guard(non_negative, true, snap);
            let max = self.ir.iconst(63);
            let big = self.ir.icmp(Cond::Gt, b, max);
            let count = self.ir.select(big, max, b);
            self.ir.int(IntOp::Sar, a, count)
        };
        Ok(Some(AbstractValue::Word(Kind::MachineInt, r)))
    }

    pub(in crate::frontend) fn compare_op(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let Some(cond) = compare_cond(ins.arg) else { return Ok(Flow::Unsupported(ExitReason::CompareOpArgument)) };
        self.unbox_operands(st, 2);
        let (lhs, rhs) = (self.top(st, 2), self.top(st, 1));
        let result = if let Some(result) = self.number_compare(st, ins, cond, lhs, rhs) {
            result
        } else if matches!(cond, Cond::Eq | Cond::Ne) && [lhs, rhs].iter().all(|&v| v == AbstractValue::Obj(SlotKind::Is(Kind::Exact(TypeTag::Str)))) {
            // As COMPARE_OP_STR_JUMP: `_PyUnicode_Equal`, which runs no Python code.
            let i = self.stack_index(st, 2);
            let (a, b) = (self.load_slot(i), self.load_slot(i + 1));
            let equal = self.ir.call(registry::str_equal(), &[a, b], Some(Type::I64));
            self.xdecref(a);
            self.xdecref(b);
            let zero = self.ir.iconst(0);
            self.ir.icmp(if cond == Cond::Eq { Cond::Ne } else { Cond::Eq }, equal, zero)
        } else if int_like(lhs) && int_like(rhs) {
            return self.int_object_compare(st, ins, cond);
        } else {
            return self.generic(st, ins, registry::compare_op(), StackEffect::of(ins), ins.arg as i64, 0);
        };
        self.balance.native();
        st.depth -= 2;
        self.push(st, AbstractValue::Word(Kind::MachineBool, result));
        Ok(Flow::Next)
    }

    /// `lhs cond rhs` of two ints, or of a float and a number, as a machine bool (`None` for
    /// other operands). Ints compare with floats exactly in Python: as floats when the int
    /// converts exactly, which a machine int is checked to (|i| <= 2**53; beyond, the
    /// interpreter compares, before `ins` in state `st`).
    pub(in crate::frontend) fn number_compare(&mut self, st: &State, ins: &Instr, cond: Cond, lhs: AbstractValue, rhs: AbstractValue) -> Option<Value> {
        let number = |av: AbstractValue| av.is_int() || av.is_float();
        if lhs.is_int() && rhs.is_int() {
            let (a, b) = (self.int_value(lhs), self.int_value(rhs));
            Some(self.ir.icmp(cond, a, b))
        } else if (lhs.is_float() || rhs.is_float()) && number(lhs) && number(rhs) {
            let (a, b) = (self.exact_float(st, ins, lhs), self.exact_float(st, ins, rhs));
            Some(self.ir.fcmp(cond, a, b))
        } else {
            None
        }
    }

    /// The double of a float or of an int constant that converts exactly, or of any other
    /// int checked to convert exactly (|i| <= 2**53, else leaving before `ins`:
    /// `int_beyond_float`).
    fn exact_float(&mut self, st: &State, ins: &Instr, av: AbstractValue) -> Value {
        if exact_as_float(av) {
            return self.float_value(av);
        }
        let v = self.int_value(av);
        let bias = self.ir.iconst(1 << 53);
        let biased = self.ir.int(IntOp::Add, v, bias);
        let range = self.ir.iconst(1 << 54);
        let exact = self.ir.icmp(Cond::ULe, biased, range);
        let snap = self.resume_here(st, ins, ExitReason::IntBeyondFloat);
        self.ir.guard(exact, true, snap);
        self.ir.int_to_float(v)
    }

    /// A comparison of ints, one of them an exact int object at least: inline when the
    /// objects have one digit (as `COMPARE_OP_INT_JUMP`), the generic comparison otherwise,
    /// whose result is a bool (ints compare to bools). The result is a machine bool.
    fn int_object_compare(&mut self, st: &mut State, ins: &Instr, cond: Cond) -> Result<Flow> {
        let (slow, join) = (self.ir.create_block(&[]), self.ir.create_block(&[Type::I64]));
        let (a, a_obj) = self.int_operand(st, 2, slow);
        let (b, b_obj) = self.int_operand(st, 1, slow);
        let result = self.ir.icmp(cond, a, b);
        for obj in [a_obj, b_obj].into_iter().flatten() {
            self.xdecref(obj);
        }
        self.ir.jump(join, &[result]);
        self.ir.switch_to(slow);
        let mut generic = st.clone();
        self.prepare_inputs(&mut generic, 2)?;
        self.call_generic(&mut generic, ins, registry::compare_op(), StackEffect::of(ins), ins.arg as i64, 0)?;
        let obj = self.load_slot(self.stack_index(&generic, 1));
        let t = self.ir.iconst(true_ptr());
        let truth = self.ir.icmp(Cond::Eq, obj, t);
        self.xdecref(obj);
        self.ir.jump(join, &[truth]);
        self.ir.switch_to(join);
        let result = self.ir.block_params(join)[0];
        self.balance.native();
        st.depth -= 2;
        self.push(st, AbstractValue::Word(Kind::MachineBool, result));
        Ok(Flow::Next)
    }

    /// `-av` of an unboxed or constant number (an overflow leaves before `ins`, in state
    /// `st`), or `None` for other values.
    pub(in crate::frontend) fn number_negative(&mut self, st: &State, ins: &Instr, av: AbstractValue) -> Option<AbstractValue> {
        match av {
            AbstractValue::Word(Kind::MachineInt, v) => {
                let snap = self.resume_here(st, ins, ExitReason::IntOverflow);
                Some(AbstractValue::Word(Kind::MachineInt, self.ir.neg_checked(v, snap)))
            }
            AbstractValue::Const(Kind::IntConst(c)) if c != i64::MIN => Some(AbstractValue::Const(Kind::IntConst(-c))),
            AbstractValue::Double(v) => Some(AbstractValue::Double(self.ir.fneg(v))),
            AbstractValue::Const(Kind::FloatConst(bits)) => Some(AbstractValue::Const(Kind::FloatConst(bits ^ (1 << 63)))),
            _ => None,
        }
    }

    pub(in crate::frontend) fn unary_op(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.unbox_operands(st, 1);
        let av = self.top(st, 1);
        let result = match (ins.opcode, av) {
            (UNARY_NEGATIVE, _) => self.number_negative(st, ins, av),
            (UNARY_INVERT, AbstractValue::Word(Kind::MachineInt, v)) => {
                let ones = self.ir.iconst(-1);
                Some(AbstractValue::Word(Kind::MachineInt, self.ir.int(IntOp::Xor, v, ones)))
            }
            (UNARY_POSITIVE, AbstractValue::Word(Kind::MachineInt, _) | AbstractValue::Double(_)) => Some(av),
            (UNARY_NOT, _) => self.truth(st, ins, av, 1)?.map(|t| {
                let one = self.ir.iconst(1);
                AbstractValue::Word(Kind::MachineBool, self.ir.int(IntOp::Xor, t, one))
            }),
            _ => None,
        };
        match result {
            Some(r) => {
                st.depth -= 1;
                self.push(st, r);
                Ok(Flow::Next)
            }
            None if ins.opcode != UNARY_NOT => {
                self.generic(st, ins, registry::unary_op(), StackEffect::of(ins), ins.opcode as i64, 0)
            }
            None => Ok(Flow::Unsupported(ExitReason::TruthOfConstantObject)),
        }
    }

    /// `IS_OP`: identity of two objects; scalars are never identical to non-number constants.
    pub(in crate::frontend) fn is_op(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let (a, b) = (self.top(st, 2), self.top(st, 1));
        let pointer = |av: AbstractValue| {
            matches!(av, AbstractValue::Obj(_) | AbstractValue::Borrowed { .. } | AbstractValue::Const(Kind::ObjConst(..)))
        };
        let non_number_const = |av: AbstractValue| {
            matches!(av, AbstractValue::Const(Kind::ObjConst(t, _))
                if !matches!(t, TypeTag::Int | TypeTag::Float | TypeTag::Bool))
        };
        let result = if pointer(a) && pointer(b) {
            let mut ptrs = Vec::new();
            for (k, av) in [(2, a), (1, b)] {
                ptrs.push(match av {
                    AbstractValue::Obj(_) | AbstractValue::Borrowed { .. } => self.stack_object(st, k),
                    AbstractValue::Const(Kind::ObjConst(_, id)) => self.ir.iconst(self.tables.consts.get(id) as i64),
                    _ => unreachable!(),
                });
            }
            let same = self.ir.icmp(Cond::Eq, ptrs[0], ptrs[1]);
            for (av, p) in [(a, ptrs[0]), (b, ptrs[1])] {
                if let AbstractValue::Obj(_) | AbstractValue::Borrowed { .. } = av {
                    self.release(av, p);
                }
            }
            same
        } else if (non_number_const(a) && !pointer(b)) || (non_number_const(b) && !pointer(a)) {
            self.ir.iconst(0)
        } else {
            return self.generic(st, ins, registry::is_op(), StackEffect::of(ins), ins.arg as i64, 0);
        };
        let result = if ins.arg == 1 {
            let one = self.ir.iconst(1);
            self.ir.int(IntOp::Xor, result, one)
        } else {
            result
        };
        st.depth -= 2;
        self.push(st, AbstractValue::Word(Kind::MachineBool, result));
        Ok(Flow::Next)
    }

    /// `CONTAINS_OP`: `in` / `not in`, its result an unboxed bool.
    pub(in crate::frontend) fn contains_op(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        self.prepare_inputs(st, 2)?;
        self.set_prev_instr(ins.pc);
        let base = self.stack_index(st, 2);
        let (item, container) = (self.load_slot(base), self.load_slot(base + 1));
        let r = self.ir.call(registry::contains(), &[item, container], Some(Type::I64));
        st.depth -= 2;
        let zero = self.ir.iconst(0);
        let ok = self.ir.icmp(Cond::Ge, r, zero);
        self.raise_unless(ok, st, ins)?;
        let result = if ins.arg == 1 {
            let one = self.ir.iconst(1);
            self.ir.int(IntOp::Xor, r, one)
        } else {
            r
        };
        self.push(st, AbstractValue::Word(Kind::MachineBool, result));
        self.check_tracing(st, ins.next);
        Ok(Flow::Next)
    }
}

/// Python's result of `a op b` on ints when it fits in an `i64`.
/// The condition of a `COMPARE_OP` argument (`None` out of range).
pub(in crate::frontend) fn compare_cond(arg: u32) -> Option<Cond> {
    Some(match arg {
        0 => Cond::Lt,
        1 => Cond::Le,
        2 => Cond::Eq,
        3 => Cond::Ne,
        4 => Cond::Gt,
        5 => Cond::Ge,
        _ => return None,
    })
}

/// Whether `int_binary` computes this operator (a `BINARY_OP` argument's plain form) on
/// machine ints.
pub(in crate::frontend) fn int_operator_compiles(op: u32) -> bool {
    matches!(
        op,
        NB_ADD | NB_SUBTRACT | NB_MULTIPLY | NB_FLOOR_DIVIDE | NB_REMAINDER | NB_LSHIFT | NB_RSHIFT | NB_AND | NB_OR | NB_XOR
    )
}

/// Whether `float_binary` computes this operator on floats (and ints converted to floats).
pub(in crate::frontend) fn float_operator_compiles(op: u32) -> bool {
    matches!(op, NB_ADD | NB_SUBTRACT | NB_MULTIPLY | NB_TRUE_DIVIDE | NB_FLOOR_DIVIDE | NB_REMAINDER | NB_POWER)
}

/// Whether a number compares with floats exactly as a float: a float, or an int constant
/// that converts exactly (below 2**53; ints compare with floats exactly in Python).
fn exact_as_float(av: AbstractValue) -> bool {
    match av {
        AbstractValue::Double(_) | AbstractValue::Const(Kind::FloatConst(_)) => true,
        AbstractValue::Const(Kind::IntConst(c)) => c.unsigned_abs() <= 1 << 53,
        _ => false,
    }
}

fn fold_int(op: u32, a: i64, b: i64) -> Option<i64> {
    match op {
        NB_ADD => a.checked_add(b),
        NB_SUBTRACT => a.checked_sub(b),
        NB_MULTIPLY => a.checked_mul(b),
        NB_AND => Some(a & b),
        NB_OR => Some(a | b),
        NB_XOR => Some(a ^ b),
        NB_FLOOR_DIVIDE => {
            let (q, r) = (a.checked_div(b)?, a.checked_rem(b)?);
            Some(if r != 0 && (r < 0) != (b < 0) { q - 1 } else { q })
        }
        NB_REMAINDER => {
            let r = a.checked_rem(b)?;
            Some(if r != 0 && (r < 0) != (b < 0) { r + b } else { r })
        }
        NB_LSHIFT if (0..64).contains(&b) => {
            let r = a.checked_shl(b as u32)?;
            (r >> b == a).then_some(r)
        }
        NB_RSHIFT if b >= 0 => Some(a >> b.min(63)),
        _ => None,
    }
}
