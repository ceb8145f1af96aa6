//! Calls of small numeric functions compiled into their caller: `f(a, b)` of a known Python
//! function whose body only computes on int and float values (its arguments, its locals and
//! its constants) with arithmetic, comparisons, forward branches and returns runs as the
//! caller's own IR, with no frame and no call.
//!
//! Such a body runs no Python code and has no effect but its result, so every way it can
//! fail leaves *before the call*, as if the call had not begun: an overflow, a zero divisor,
//! a power C's `pow` does not compute, the function given another `__code__`, and what the
//! callee's own entry would meet (the eval breaker, the recursion limit). The interpreter then
//! makes the call itself, and whatever the callee raises, prints or traces is CPython's own.
//!
//! What CPython's objects would tell apart stays apart: a body is inlined only if every value
//! it returns is computed in it (CPython makes a new object for it, as boxing the result
//! does; a comparison's bool is one of the two singletons either way), never an argument or
//! a constant passed through (CPython returns that very object).

use crate::bytecode::{self, binary_operator, Instr, NB_FLOOR_DIVIDE, NB_LSHIFT, NB_POWER, NB_REMAINDER, NB_RSHIFT, NB_TRUE_DIVIDE};
use crate::cpython::{self, ffi, ffi::PyObject, PyCodeObject, PyFunctionObject};
use crate::frontend::code_info::{code_constant, code_units};
use crate::frontend::dispatch::Flow;
use crate::frontend::ops::numbers::{compare_cond, float_operator_compiles, int_operator_compiles};
use crate::frontend::state::{AbstractValue, State};
use crate::frontend::{internal, Frontend, Result};
use crate::opcodes::*;
use crate::reasons::ExitReason;
use crate::profile::Seen;
use ir::{Block, Cond, Kind, Mem, Type, TypeTag};

/// Bodies with more bytecode instructions are called, not inlined.
const MAX_INSTRUCTIONS: usize = 48;

/// Paths through a body's branches at most (each is compiled on its own).
const MAX_PATHS: usize = 8;

/// What a value of an inlined body is, as far as inlining is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    number: Number,
    /// Computed by the body (a new object in CPython), not an argument or a constant.
    fresh: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Number {
    Int,
    Float,
    /// A comparison's result (branched on, or returned: as CPython, the bool singletons).
    Bool,
}

impl Number {
    /// The number an argument is, if inlining computes on it: unboxed, constant, or an exact
    /// int or float object (whose value the body reads).
    fn of(av: AbstractValue) -> Option<Number> {
        match av.object_kind() {
            _ if av.is_int() => Some(Number::Int),
            _ if av.is_float() => Some(Number::Float),
            Some(Kind::Exact(TypeTag::Int)) => Some(Number::Int),
            Some(Kind::Exact(TypeTag::Float)) => Some(Number::Float),
            _ => None,
        }
    }
}

/// A function body checked for inlining at a call site: its code, its instructions and what
/// it returns.
struct Body {
    code: *mut PyCodeObject,
    instrs: Vec<Instr>,
    nlocals: usize,
    returns: Number,
}

impl Body {
    /// The body of `func` if a call of it with `args` can be inlined; `handled` when the call
    /// is inside a `try` of its caller, which expects it to raise: then a body with an
    /// operation that raises for some operands (a division, a power, a shift) is called, so
    /// that the exception is raised and handled without leaving compiled code.
    ///
    /// # Safety
    /// `func` is a live object; GIL held.
    unsafe fn of(func: *mut PyObject, args: &[Number], handled: bool) -> Option<Body> {
        // SAFETY: per the contract; a plain function's code object and its constants tuple.
        unsafe {
            if !crate::calls::can_call_directly(func, args.len()) {
                return None;
            }
            let code = (*(func as *mut PyFunctionObject)).func_code as *mut PyCodeObject;
            let c = &*code;
            if c.co_ncellvars != 0 || c.co_nfreevars != 0 || c.co_nlocalsplus != c.co_nlocals {
                return None;
            }
            let instrs = bytecode::decode(&code_units(code)?);
            if instrs.len() > MAX_INSTRUCTIONS {
                return None;
            }
            let mut body = Body { code, instrs, nlocals: c.co_nlocals as usize, returns: Number::Int };
            body.returns = body.check(args, handled)?;
            Some(body)
        }
    }

    /// The index of the instruction starting at `offset`.
    fn at(&self, offset: u32) -> Option<usize> {
        self.instrs.iter().position(|i| i.start == offset)
    }

    fn constant(&self, i: u32) -> *mut PyObject {
        code_constant(self.code, i as usize)
    }

    /// The shape of constant `i`, if inlining computes on it: an int that fits a word (a
    /// small one, which CPython shares, counts as fresh) or a float.
    fn constant_shape(&self, i: u32) -> Option<Shape> {
        let obj = self.constant(i);
        // SAFETY: a live constant of the code object.
        unsafe {
            let ty = ffi::Py_TYPE(obj);
            if ty == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
                let mut overflow = 0;
                let v = ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow);
                (overflow == 0).then_some(Shape { number: Number::Int, fresh: (-5..=256).contains(&v) })
            } else if ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
                Some(Shape { number: Number::Float, fresh: false })
            } else {
                None
            }
        }
    }

    /// Walks every path of the body with the shapes of its values: what every return gives
    /// (one number or a comparison's bool, always computed by the body), or `None` if any
    /// instruction is one that [`Frontend::inline_path`] does not compile for these shapes.
    fn check(&self, args: &[Number], handled: bool) -> Option<Number> {
        let mut locals = vec![None; self.nlocals];
        for (local, &number) in locals.iter_mut().zip(args) {
            *local = Some(Shape { number, fresh: false });
        }
        let mut paths = vec![(0usize, Vec::<Shape>::new(), locals)];
        let (mut forks, mut returns) = (1, None);
        while let Some((mut at, mut stack, mut locals)) = paths.pop() {
            loop {
                let ins = *self.instrs.get(at)?;
                let mut next = at + 1;
                let computed = |number| Shape { number, fresh: true };
                match ins.opcode {
                    RESUME | NOP => {}
                    LOAD_FAST => stack.push((*locals.get(ins.arg as usize)?)?),
                    STORE_FAST => *locals.get_mut(ins.arg as usize)? = Some(stack.pop()?),
                    LOAD_CONST => stack.push(self.constant_shape(ins.arg)?),
                    BINARY_OP => {
                        let (b, a) = (stack.pop()?.number, stack.pop()?.number);
                        let op = binary_operator(ins.arg);
                        if handled && may_raise(op) {
                            return None;
                        }
                        let number = match (a, b) {
                            (Number::Int, Number::Int) if int_operator_compiles(op) => Number::Int,
                            (Number::Int | Number::Float, Number::Int | Number::Float)
                                if (a == Number::Float || b == Number::Float) && float_operator_compiles(op) =>
                            {
                                Number::Float
                            }
                            _ => return None,
                        };
                        stack.push(computed(number));
                    }
                    COMPARE_OP => {
                        let (b, a) = (stack.pop()?.number, stack.pop()?.number);
                        compare_cond(ins.arg)?;
                        if a == Number::Bool || b == Number::Bool {
                            return None;
                        }
                        stack.push(computed(Number::Bool));
                    }
                    UNARY_NEGATIVE => {
                        let a = stack.pop()?.number;
                        if a == Number::Bool {
                            return None;
                        }
                        stack.push(computed(a));
                    }
                    POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE => {
                        if stack.pop()?.number == Number::Float {
                            return None;
                        }
                        forks += 1;
                        if forks > MAX_PATHS {
                            return None;
                        }
                        paths.push((self.at(ins.jump_target()?)?, stack.clone(), locals.clone()));
                    }
                    JUMP_FORWARD => next = self.at(ins.jump_target()?)?,
                    RETURN_VALUE => {
                        let value = stack.pop()?;
                        if !value.fresh || returns.is_some_and(|r| r != value.number) {
                            return None;
                        }
                        returns = Some(value.number);
                        break;
                    }
                    _ => return None,
                }
                at = next;
            }
        }
        returns
    }
}

/// Whether a `BINARY_OP` operator raises for some numbers (a zero divisor, a negative shift
/// count, a power that overflows or is complex).
fn may_raise(op: u32) -> bool {
    matches!(op, NB_FLOOR_DIVIDE | NB_REMAINDER | NB_TRUE_DIVIDE | NB_POWER | NB_LSHIFT | NB_RSHIFT)
}

impl Frontend<'_> {
    /// `[NULL, func, args...] -> [result]` for the constant function `func` (`ins` its
    /// `CALL`), inlined when its body and the arguments allow (see the module's doc); `None`
    /// for a call.
    pub(in crate::frontend) fn inline_call(&mut self, st: &mut State, ins: &Instr, func: *mut PyObject, nargs: usize) -> Result<Option<Flow>> {
        let args: Vec<AbstractValue> = (1..=nargs).rev().map(|k| self.top(st, k)).collect();
        let known: Vec<Option<Number>> = args.iter().map(|&a| Number::of(a)).collect();
        // An object of unknown type is speculated to be the number the other arguments are
        // (`combine(total, x)` with a float total: a float), behind a type guard.
        let speculated = if known.contains(&Some(Number::Float)) {
            Some(Number::Float)
        } else if known.contains(&Some(Number::Int)) {
            Some(Number::Int)
        } else {
            None
        };
        let mut numbers = Vec::with_capacity(nargs);
        for (a, k) in args.iter().zip(&known) {
            match (k, a.object_kind(), speculated) {
                (Some(n), _, _) => numbers.push(*n),
                (None, Some(Kind::Object), Some(n)) => numbers.push(n),
                _ => return Ok(None),
            }
        }
        // A site whose inlined body could not finish (`ExitReason::InlinedCallFailed`) or
        // whose guards on objects failed (a type, or an int of one digit, read as a word)
        // calls from then on: its profile's input side says so.
        if self.seen(ins.pc).0 == Seen::Several {
            return Ok(None);
        }
        let handled = self.code.handler_at(ins.pc).is_some();
        // SAFETY: the constant pool keeps the function alive.
        let Some(body) = (unsafe { Body::of(func, &numbers, handled) }) else { return Ok(None) };
        self.own_inputs(st, nargs);
        // What the call would meet before the body: the function's code, the callee's RESUME
        // (the eval breaker) and its frame push (the recursion limit).
        let replaced = self.resume_here(st, ins, ExitReason::InlinedCodeReplaced);
        let function = self.ir.iconst(func as i64);
        let code = self.ir.load(Mem::I64, function, cpython::OFFSET_FUNC_CODE);
        let expected = self.ir.iconst(body.code as i64);
        let same = self.ir.icmp(Cond::Eq, code, expected);
        self.ir.guard(same, true, replaced);
        let breaker = self.eval_breaker();
        let pending = self.resume_here(st, ins, ExitReason::EvalBreaker);
        self.ir.guard(breaker, false, pending);
        let remaining = self.ir.load(Mem::I32, self.tstate, cpython::OFFSET_TSTATE_RECURSION_REMAINING);
        let zero = self.ir.iconst(0);
        let room = self.ir.icmp(Cond::Gt, remaining, zero);
        let limit = self.resume_here(st, ins, ExitReason::RecursionLimit);
        self.ir.guard(room, true, limit);
        // The arguments as numbers: objects give their values, and their references are
        // released once the body is done (an exit before that leaves them in the frame).
        let mut locals = vec![AbstractValue::Const(Kind::Bottom); body.nlocals];
        let mut objects = Vec::new();
        let mut mispredicted = None;
        for ((local, k), &number) in locals.iter_mut().zip((1..=nargs).rev()).zip(&numbers) {
            let av = self.top(st, k);
            let Some(kind) = av.object_kind() else {
                // A word, a double or a constant.
                *local = av;
                continue;
            };
            let obj = self.load_slot(self.stack_index(st, k));
            objects.push(obj);
            *local = if kind == Kind::Exact(TypeTag::Float) {
                AbstractValue::Double(self.ir.load(Mem::F64, obj, cpython::OFFSET_FLOAT_VALUE))
            } else {
                let slow = *mispredicted.get_or_insert_with(|| self.ir.create_block(&[]));
                self.guarded_number(obj, kind, number, slow)
            };
        }
        if let Some(mispredicted) = mispredicted {
            let go_on = self.ir.current_block().expect("emitting");
            self.ir.switch_to(mispredicted);
            self.leave_mispredicted(st, ins, false);
            self.ir.switch_to(go_on);
        }
        let ty = if body.returns == Number::Float { Type::F64 } else { Type::I64 };
        let join = self.ir.create_block(&[ty]);
        self.inlining = true;
        let emitted = self.inline_path(&body, st, ins, 0, Vec::new(), locals, join);
        self.inlining = false;
        emitted?;
        self.ir.switch_to(join);
        for obj in objects {
            self.xdecref(obj);
        }
        let result = self.ir.block_params(join)[0];
        st.depth -= nargs + 2;
        let result = match body.returns {
            Number::Float => AbstractValue::Double(result),
            Number::Int => AbstractValue::Word(Kind::MachineInt, result),
            Number::Bool => AbstractValue::Word(Kind::MachineBool, result),
        };
        self.push(st, result);
        self.balance.native();
        Ok(Some(Flow::Next))
    }

    /// The value of `obj`, an int object or an object of unknown type (`kind`) that inlining
    /// computes on as `number`: a float's double, or an int's word when it has one digit,
    /// else branching to `slow` (as an object of unknown type of another type does).
    fn guarded_number(&mut self, obj: ir::Value, kind: Kind, number: Number, slow: Block) -> AbstractValue {
        if number == Number::Float {
            self.unless_type(obj, std::ptr::addr_of_mut!(ffi::PyFloat_Type), slow);
            return AbstractValue::Double(self.ir.load(Mem::F64, obj, cpython::OFFSET_FLOAT_VALUE));
        }
        if kind == Kind::Object {
            self.unless_type(obj, std::ptr::addr_of_mut!(ffi::PyLong_Type), slow);
        }
        let (size, one_digit) = self.one_digit(obj);
        self.unless(one_digit, slow);
        AbstractValue::Word(Kind::MachineInt, self.one_digit_value(obj, size))
    }

    /// Emits the path of `body` from instruction `at` with its stack and locals, each return
    /// jumping to `join` with its value; every exit leaves before `call`, in state `st`.
    /// `Body::check` accepted every path, so each instruction compiles.
    #[allow(clippy::too_many_arguments)]
    fn inline_path(
        &mut self,
        body: &Body,
        st: &State,
        call: &Instr,
        mut at: usize,
        mut stack: Vec<AbstractValue>,
        mut locals: Vec<AbstractValue>,
        join: Block,
    ) -> Result<()> {
        let unchecked = || internal("an inlined body took a path its check did not");
        loop {
            let Some(&ins) = body.instrs.get(at) else { return unchecked() };
            let mut next = at + 1;
            let value = match ins.opcode {
                RESUME | NOP => None,
                LOAD_FAST => Some(locals[ins.arg as usize]),
                STORE_FAST => {
                    let Some(v) = stack.pop() else { return unchecked() };
                    locals[ins.arg as usize] = v;
                    None
                }
                LOAD_CONST => {
                    let obj = body.constant(ins.arg);
                    let kind = self.constant_kind(obj)?;
                    // Boxing it later gives the code's own object back (as in `load_const`).
                    self.tables.consts.note_number(kind, obj);
                    Some(AbstractValue::Const(kind))
                }
                BINARY_OP => {
                    let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else { return unchecked() };
                    let op = binary_operator(ins.arg);
                    let r = if a.is_int() && b.is_int() { self.int_binary(st, call, op, a, b)? } else { self.float_binary(st, call, op, a, b) };
                    let Some(r) = r else { return unchecked() };
                    Some(r)
                }
                COMPARE_OP => {
                    let (Some(b), Some(a), Some(cond)) = (stack.pop(), stack.pop(), compare_cond(ins.arg)) else { return unchecked() };
                    let Some(r) = self.number_compare(st, call, cond, a, b) else { return unchecked() };
                    Some(AbstractValue::Word(Kind::MachineBool, r))
                }
                UNARY_NEGATIVE => {
                    let Some(a) = stack.pop() else { return unchecked() };
                    let Some(r) = self.number_negative(st, call, a) else { return unchecked() };
                    Some(r)
                }
                POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE => {
                    let (Some(cond), Some(target)) = (stack.pop(), ins.jump_target().and_then(|t| body.at(t))) else {
                        return unchecked();
                    };
                    let jumps_if = ins.opcode == POP_JUMP_FORWARD_IF_TRUE;
                    let truth = match cond {
                        AbstractValue::Const(Kind::IntConst(c)) => Err(c != 0),
                        AbstractValue::Const(Kind::BoolConst(b)) => Err(b),
                        AbstractValue::Word(Kind::MachineBool, v) => Ok(v),
                        AbstractValue::Word(Kind::MachineInt, v) => {
                            let zero = self.ir.iconst(0);
                            Ok(self.ir.icmp(Cond::Ne, v, zero))
                        }
                        _ => return unchecked(),
                    };
                    match truth {
                        Err(known) if known == jumps_if => next = target,
                        Err(_) => {}
                        Ok(truth) => {
                            let (taken, not_taken) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
                            if jumps_if {
                                self.ir.branch(truth, taken, &[], not_taken, &[]);
                            } else {
                                self.ir.branch(truth, not_taken, &[], taken, &[]);
                            }
                            self.ir.switch_to(taken);
                            self.inline_path(body, st, call, target, stack.clone(), locals.clone(), join)?;
                            self.ir.switch_to(not_taken);
                        }
                    }
                    None
                }
                JUMP_FORWARD => {
                    let Some(target) = ins.jump_target().and_then(|t| body.at(t)) else { return unchecked() };
                    next = target;
                    None
                }
                RETURN_VALUE => {
                    let Some(v) = stack.pop() else { return unchecked() };
                    let result = match (body.returns, v) {
                        (Number::Float, _) => self.float_value(v),
                        (Number::Bool, AbstractValue::Word(Kind::MachineBool, b)) => b,
                        (Number::Bool, _) => return unchecked(),
                        (Number::Int, _) => self.int_value(v),
                    };
                    self.ir.jump(join, &[result]);
                    return Ok(());
                }
                _ => return unchecked(),
            };
            stack.extend(value);
            at = next;
        }
    }
}
