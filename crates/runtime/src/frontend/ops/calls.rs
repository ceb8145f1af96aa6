//! Calls: `KW_NAMES`, `CALL` (a virtual `range`, direct calls of known Python functions, C
//! method descriptors called by their flags, inline-cached call sites, the generic call),
//! the eval-breaker check after it, and `MAKE_FUNCTION`.

use crate::registry;
use crate::bytecode::Instr;
use crate::cpython::{self, ffi, ffi::PyObject, PyCodeObject};
use crate::frontend::dispatch::Flow;
use crate::frontend::generic::StackEffect;
use crate::frontend::state::{AbstractValue, SlotKind, State};
use crate::frontend::{Frontend, Result};
use crate::helpers;
use crate::opcodes::*;
use ir::{Cond, Kind, Type, TypeTag};

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
        if let (AbstractValue::Obj(SlotKind::Null), AbstractValue::Const(Kind::ObjConst(TypeTag::Function, id)), None) =
            (first, callable, kwnames)
        {
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
        Ok(Flow::Next)
    }

    pub(in crate::frontend) fn make_function(&mut self, st: &mut State, ins: &Instr) -> Result<Flow> {
        let globals = self.req.globals as i64;
        self.generic(st, ins, registry::make_function(), StackEffect::of(ins), ins.arg as i64, globals)?;
        Ok(Flow::Next)
    }
}
