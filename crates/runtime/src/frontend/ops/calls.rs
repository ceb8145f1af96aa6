//! Calls: `KW_NAMES`, `CALL` (a virtual `range`, small numeric functions inlined (`inline`),
//! direct calls of known Python functions, C method descriptors called by their flags,
//! inline-cached call sites, the generic call), the eval-breaker check after it, and
//! `MAKE_FUNCTION`.

use crate::registry;
use crate::reasons::ExitReason;
use crate::bytecode::Instr;
use crate::cpython::{self, ffi, ffi::PyObject, types::Builtin, PyCodeObject};
use crate::frontend::dispatch::Flow;
use crate::frontend::generic::StackEffect;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::helpers;
use crate::opcodes::*;
use ir::{Cond, Kind, Mem, Type, TypeTag, Value};

impl Frontend<'_> {
    pub(in crate::frontend) fn kw_names(&mut self, _st: &mut State, ins: &Instr) -> Result<Flow> {
        self.kwnames = Some(self.code.constant(ins.arg as usize));
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn call(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let nargs = ins.arg as usize;
        let kwnames = self.kwnames.take();
        let (first, callable) = (self.top(st, nargs + 2), self.top(st, nargs + 1));
        let next = self.code.by_start.get(&ins.next).map(|&i| self.code.instrs[i]);
        if let (AbstractValue::Obj(SlotKind::Null), AbstractValue::Const(Kind::ObjConst(_, id)), None, Some(next)) =
            (first, callable, kwnames, next)
        {
            let is_range = self.tables.consts.get(id) == std::ptr::addr_of_mut!(ffi::PyRange_Type) as *mut PyObject;
            let args: Vec<AbstractValue> = (1..=nargs).rev().map(|k| self.top(st, k)).collect();
            if is_range
                && (1..=3).contains(&nargs)
                && args.iter().all(|a| a.is_int())
                && next.opcode == GET_ITER
                && !self.code.block_starts.contains(&next.start)
            {
                return self.virtual_range(st, ins, &args);
            }
        }
        if let (AbstractValue::Obj(SlotKind::Null), AbstractValue::Const(Kind::ObjConst(_, id)), None) =
            (first, callable, kwnames)
        {
            // SAFETY: the pool keeps the object alive.
            if let Some(builtin) = unsafe { cpython::types::builtin(self.tables.consts.get(id)) } {
                if let Some(flow) = self.call_builtin(st, ins, builtin, nargs)? {
                    return Ok(flow);
                }
            }
        }
        if let (AbstractValue::Obj(SlotKind::Null), AbstractValue::Const(Kind::ObjConst(_, id)), None, Some(next)) =
            (first, callable, kwnames, next)
        {
            let is_super = self.tables.consts.get(id) == std::ptr::addr_of_mut!(ffi::PySuper_Type) as *mut PyObject;
            if is_super && nargs == 0 && next.opcode == LOAD_METHOD && !self.code.block_starts.contains(&next.start) {
                if let Some(flow) = self.super_method(st, ins, &next)? {
                    return Ok(flow);
                }
            }
        }
        if let (AbstractValue::Obj(SlotKind::Null), AbstractValue::Const(Kind::ObjConst(_, id)), None) =
            (first, callable, kwnames)
        {
            // A class with a Python `__init__` and the default `__new__`: the instance is made
            // and `__init__` called directly (`calls::instantiate`, which checks the class
            // again at every call), through a site caching the version of `__init__` it ran.
            let cls = self.tables.consts.get(id);
            // SAFETY: the pool keeps the class alive.
            let init = unsafe {
                cpython::objects::python_init(cls).filter(|&init| crate::calls::can_call_directly(init, nargs + 1))
            };
            if let Some(init) = init {
                // SAFETY: a live function (the class holds it).
                let callee = unsafe { (*(init as *mut cpython::PyFunctionObject)).func_code } as *mut PyCodeObject;
                let key = std::iter::once(Kind::Object).chain((1..=nargs).rev().map(|k| self.top(st, k).static_kind())).collect();
                let mut site = crate::jit::side_tables::DirectSite::new(callee, key);
                site.method_site = true;
                let site = self.tables.add_direct_site(site) as i64;
                self.generic(st, ins, registry::instantiate(), StackEffect::of(ins), nargs as i64, site)?;
                self.balance.native();
                return self.after_call(st, ins);
            }
        }
        if let (AbstractValue::Obj(SlotKind::Null), AbstractValue::Const(Kind::ObjConst(TypeTag::Function, id)), None) =
            (first, callable, kwnames)
        {
            if let Some(flow) = self.inline_call(st, ins, self.tables.consts.get(id), nargs)? {
                return Ok(flow);
            }
            // SAFETY: the pool keeps the function alive.
            if unsafe { crate::calls::can_call_directly(self.tables.consts.get(id), nargs) } {
                let key = (1..=nargs).rev().map(|k| self.top(st, k).static_kind()).collect();
                // SAFETY: a live function object from the pool.
                let callee = unsafe { (*(self.tables.consts.get(id) as *mut cpython::PyFunctionObject)).func_code }
                    as *mut PyCodeObject;
                let site = self.tables.add_direct_site(crate::jit::side_tables::DirectSite::new(callee, key)) as i64;
                self.generic(st, ins, registry::call_function(), StackEffect::of(ins), nargs as i64, site)?;
                // A direct call replaces one through the hook: compiling the caller pays.
                self.balance.native();
                return self.after_call(st, ins);
            }
        }
        if let (AbstractValue::Const(Kind::ObjConst(TypeTag::Function, id)), AbstractValue::Obj(_), None) =
            (first, callable, kwnames)
        {
            // A method found by `LOAD_METHOD` as a constant function, `self` below the
            // arguments: called directly, as a function of `nargs + 1` arguments.
            let func = self.tables.consts.get(id);
            // SAFETY: the pool keeps the function alive.
            if unsafe { crate::calls::can_call_directly(func, nargs + 1) } {
                let key = (1..=nargs + 1).rev().map(|k| self.top(st, k).static_kind()).collect();
                // SAFETY: a live function object from the pool.
                let callee = unsafe { (*(func as *mut cpython::PyFunctionObject)).func_code } as *mut PyCodeObject;
                let mut site = crate::jit::side_tables::DirectSite::new(callee, key);
                site.method_site = true;
                let site = self.tables.add_direct_site(site) as i64;
                self.prepare_inputs(st, nargs + 1)?;
                let function = self.ir.iconst(func as i64);
                self.incref(function);
                self.store_slot(self.stack_index(st, nargs + 2), function);
                let effect = StackEffect::of(ins);
                self.generic_prepared(st, ins, registry::call_method_function(), effect, nargs as i64, site)?;
                self.balance.native();
                return self.after_call(st, ins);
            }
        }
        if let (AbstractValue::Const(Kind::ObjConst(_, id)), None) = (first, kwnames) {
            let descr = self.tables.consts.get(id);
            // SAFETY: the pool keeps the object alive.
            if unsafe { helpers::is_direct_method_descriptor(descr, nargs) } {
                // The method constant needs no frame slot: the helper knows it.
                self.prepare_inputs(st, nargs + 1)?;
                let effect = StackEffect::of(ins);
                self.generic_prepared(st, ins, registry::call_method_descriptor(), effect, nargs as i64, descr as i64)?;
                self.balance.native();
                return self.after_call(st, ins);
            }
        }
        if let (AbstractValue::Obj(_), AbstractValue::Obj(_), None) = (first, callable, kwnames) {
            // Any callable (or method, after `LOAD_METHOD`): a Python function takes the
            // direct path, through an inline cache of the version its code ran last.
            let method_site = first != AbstractValue::Obj(SlotKind::Null);
            let explicit = if method_site { nargs + 1 } else { nargs };
            let key = (1..=explicit).rev().map(|k| self.top(st, k).static_kind()).collect();
            let mut site = crate::jit::side_tables::DirectSite::new(std::ptr::null_mut(), key);
            site.method_site = method_site;
            let site = self.tables.add_direct_site(site) as i64;
            self.generic(st, ins, registry::call_cached(), StackEffect::of(ins), nargs as i64, site)?;
            return self.after_call(st, ins);
        }
        let kw = kwnames.map_or(0, |k| k as i64);
        self.generic(st, ins, registry::call(), StackEffect::of(ins), nargs as i64, kw)?;
        self.after_call(st, ins)
    }

    /// `len(x)` (of an exact str, list, tuple, dict or set: its length field),
    /// `isinstance(x, cls)` where the kind of `x` answers it, `min`/`max` of two or three
    /// machine ints or of floats, `abs` of a machine int and `float` of a machine int (rounded
    /// to nearest as `PyLong_AsDouble` rounds); `None` for the generic call.
    /// `[NULL, builtin, args...] -> [result]`.
    fn call_builtin(&mut self, st: &mut State, ins: &Instr, builtin: Builtin, nargs: usize) -> Result<Option<Flow>> {
        let result = match (builtin, nargs) {
            (Builtin::Len, 1) => {
                let AbstractValue::Obj(SlotKind::Is(kind)) = self.top(st, 1) else { return Ok(None) };
                let i = self.stack_index(st, 1);
                match kind.type_tag().and_then(cpython::types::length_offset) {
                    Some(offset) => {
                        let obj = self.load_slot(i);
                        let len = self.ir.load(Mem::I64, obj, offset);
                        self.xdecref(obj);
                        AbstractValue::Word(Kind::MachineInt, len)
                    }
                    None => {
                        // As PRECALL_NO_KW_LEN: `PyObject_Length` (which may run `__len__`),
                        // its result a machine int; an error raises here, the inputs gone.
                        self.sync_locals(st)?;
                        self.set_prev_instr(ins.pc);
                        let obj = self.load_slot(i);
                        let len = self.ir.call(registry::length(), &[obj], Some(Type::I64));
                        let mut after = st.clone();
                        after.depth -= nargs + 2;
                        let zero = self.ir.iconst(0);
                        let ok = self.ir.icmp(Cond::Ge, len, zero);
                        self.raise_unless(ok, &after, ins)?;
                        self.push(&mut after, AbstractValue::Word(Kind::MachineInt, len));
                        self.check_tracing(&after, ins.next);
                        AbstractValue::Word(Kind::MachineInt, len)
                    }
                }
            }
            (Builtin::IsInstance, 2) => {
                let (x, cls) = (self.top(st, 2), self.top(st, 1));
                let AbstractValue::Const(Kind::ObjConst(_, cls)) = cls else { return Ok(None) };
                let Some(tag) = x.slot_kind_boxed_tag() else { return Ok(None) };
                // SAFETY: the pool keeps the class alive.
                let Some(answer) = (unsafe { cpython::types::static_isinstance(tag, self.tables.consts.get(cls)) }) else {
                    return Ok(None);
                };
                if let AbstractValue::Obj(_) = x {
                    let obj = self.load_slot(self.stack_index(st, 2));
                    self.xdecref(obj);
                }
                AbstractValue::Const(Kind::BoolConst(answer))
            }
            (Builtin::Min | Builtin::Max, 2..=3) => {
                let args: Vec<AbstractValue> = (1..=nargs).rev().map(|k| self.top(st, k)).collect();
                // As `min_max`: the first of the extreme items (a later one replaces it only
                // when strictly smaller, or greater); a NaN compares false, as there.
                let cond = if builtin == Builtin::Min { Cond::Lt } else { Cond::Gt };
                let floats = args.iter().all(|a| a.is_float());
                if !floats && !args.iter().all(|a| a.is_int()) {
                    return Ok(None);
                }
                let values: Vec<Value> =
                    args.iter().map(|&a| if floats { self.float_value(a) } else { self.int_value(a) }).collect();
                let mut extreme = values[0];
                for &item in &values[1..] {
                    let replaces = if floats { self.ir.fcmp(cond, item, extreme) } else { self.ir.icmp(cond, item, extreme) };
                    extreme = self.ir.select(replaces, item, extreme);
                }
                if floats { AbstractValue::Double(extreme) } else { AbstractValue::Word(Kind::MachineInt, extreme) }
            }
            (Builtin::Abs, 1) if self.top(st, 1).is_int() => {
                let x = self.int_value(self.top(st, 1));
                // The most negative word has no positive counterpart in a word: the
                // interpreter computes that one (a bigger int).
                let too_big = self.resume_here(st, ins, ExitReason::IntOverflow);
                let negated = self.ir.neg_checked(x, too_big);
                let zero = self.ir.iconst(0);
                let negative = self.ir.icmp(Cond::Lt, x, zero);
                AbstractValue::Word(Kind::MachineInt, self.ir.select(negative, negated, x))
            }
            (Builtin::Float, 1) if self.top(st, 1).is_int() => {
                let x = self.top(st, 1);
                AbstractValue::Double(self.float_value(x))
            }
            _ => return Ok(None),
        };
        st.depth -= nargs + 2;
        self.push(st, result);
        self.balance.native();
        Ok(Some(Flow::Next))
    }

    /// `super().name(...)`: `CALL 0` of `super` (`ins`) and the `LOAD_METHOD` after it
    /// (`load_method`) as one step, `[NULL, super] -> [function, self]`, through
    /// `calls::super_method` when the code reads `self` from its first argument (not a cell)
    /// and has a `__class__` cell; whatever that does not take (another class layout, a name
    /// not a plain function) runs both instructions generically. `None` when the code has
    /// no such shape.
    fn super_method(&mut self, st: &mut State, ins: &Instr, load_method: &Instr) -> Result<Option<Flow>> {
        let first_arg_in_frame = matches!(st.slots[0], AbstractValue::Obj(SlotKind::Is(_)));
        let Some(class_slot) = self.code.class_cell_slot() else { return Ok(None) };
        if self.code.nargs == 0 || self.code.cell_slots[0] || !first_arg_in_frame {
            return Ok(None);
        }
        let name = self.code.name(load_method.arg as usize);
        self.prepare_inputs(st, 2)?;
        let i = self.stack_index(st, 2);
        let slots = self.slot_address(i);
        let (name_arg, class_arg) = (self.ir.iconst(name), self.ir.iconst(class_slot as i64));
        let status = self.ir.call(registry::super_method(), &[slots, name_arg, class_arg], Some(Type::I64));
        let two = self.ir.iconst(2);
        let declined = self.ir.icmp(Cond::Eq, status, two);
        let (generic, join) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.ir.branch(declined, generic, &[], join, &[]);
        self.ir.switch_to(generic);
        let mut g = st.clone();
        self.generic_prepared(&mut g, ins, registry::call(), StackEffect::of(ins), 0, 0)?;
        let site = self.profile_site(load_method.pc);
        self.generic(&mut g, load_method, registry::load_method(), StackEffect::of(load_method), site, name)?;
        self.ir.jump(join, &[]);
        self.ir.switch_to(join);
        st.slots[i] = AbstractValue::Obj(SlotKind::MaybeNull);
        st.slots[i + 1] = AbstractValue::Obj(SlotKind::Is(Kind::Object));
        self.balance.native();
        // The `LOAD_METHOD` is done: emission goes on after it.
        self.emit_instrs(st, load_method.next, false)?;
        Ok(Some(Flow::EndBlock))
    }

    /// The interpreter checks the eval breaker after every `CALL` (a C function such as
    /// `time.sleep` may have let a signal in): so do we, running the pending work the way
    /// it does, with the result on the stack.
    fn after_call(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let breaker = self.eval_breaker();
        let zero = self.ir.iconst(0);
        let quiet = self.ir.icmp(Cond::Eq, breaker, zero);
        let (pending, go_on) = (self.ir.create_block(&[]), self.ir.create_block(&[]));
        self.ir.branch(quiet, go_on, &[], pending, &[]);
        self.ir.switch_to(pending);
        let ok = self.ir.call(registry::handle_pending(), &[], Some(Type::I64));
        self.raise_unless(ok, st, ins)?;
        self.ir.jump(go_on, &[]);
        self.ir.switch_to(go_on);
        // The result is typed by what the site saw (a float, an int or a str), as values
        // read from objects are: `total += f(x)` then stays on words.
        self.profile_output_site(ins.pc);
        self.guard_output(st, ins, 1);
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn make_function(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let globals = self.req.globals as i64;
        self.generic(st, ins, registry::make_function(), StackEffect::of(ins), ins.arg as i64, globals)?;
        Ok(Flow::Next)
    }
}
