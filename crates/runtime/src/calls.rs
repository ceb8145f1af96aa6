//! Calling Python functions from compiled code without the generic call machinery: the
//! callee's frame is pushed on the thread's frame stack and evaluated through psyco's own
//! hook (which runs a compiled version or the interpreter), then cleared and popped, as
//! CPython's `_PyEval_Vector` would — minus the `PyObject_Vectorcall` dispatch layers.
//!
//! `_PyEvalFramePushAndInit`, `_PyFrame_Clear` and `take_ownership` are hidden in 3.11's
//! libpython; this module re-implements them from `Include/internal/pycore_frame.h` and
//! `Python/frame.c` (3.11.7).

use crate::cpython::{self, ffi, ffi::PyObject, InterpreterFrame, PyCodeObject, PyFrameObject, PyFunctionObject, ThreadState};
use crate::helpers::{self, Slots};
use crate::jit::side_tables::DirectSite;
use std::ptr::null_mut;
/// How a frame pushed here runs: through the JIT's hook, which implements this for [`Hook`]
/// (`jit::hook::run_direct`). The JIT compiles the code that calls into this module and the
/// front end names this module's entry points, so this module names only the interface:
/// no module cycle, and static dispatch still inlines the hook's fast path.
pub trait RunPushedFrame {
    /// Runs `frame` through `site`'s cached version, or through the hook (a NULL `site`).
    ///
    /// # Safety
    /// GIL held; `frame` a fresh, initialized frame on the thread's frame stack; `site` live,
    /// or NULL.
    unsafe fn run(ts: *mut ThreadState, frame: *mut InterpreterFrame, site: *mut DirectSite) -> *mut PyObject;
}

/// The JIT's hook, as the runner of pushed frames.
pub enum Hook {}

/// Whether calls of `func` with `nargs` positional arguments can take the direct path: a
/// plain function whose code takes exactly these positional arguments.
///
/// # Safety
/// `func` must be a live object.
pub unsafe fn can_call_directly(func: *mut PyObject, nargs: usize) -> bool {
    // SAFETY: reading fields of a live function and its code.
    unsafe {
        if ffi::Py_TYPE(func) != std::ptr::addr_of_mut!(ffi::PyFunction_Type) {
            return false;
        }
        let code = (*(func as *mut PyFunctionObject)).func_code as *mut PyCodeObject;
        let c = &*code;
        let special = cpython::CO_VARARGS | cpython::CO_VARKEYWORDS | cpython::CO_GENERATOR
            | cpython::CO_COROUTINE | cpython::CO_ITERABLE_COROUTINE | cpython::CO_ASYNC_GENERATOR;
        c.co_flags & special == 0 && c.co_kwonlyargcount == 0 && c.co_argcount as usize == nargs
    }
}

/// `[NULL, func, args...] -> [result]` for a function that `can_call_directly` accepted at
/// compile time (the caller's identity guard keeps it the same function), or at run time;
/// `site` is the call site's [`DirectSite`] (0 when there is none).
pub unsafe extern "C" fn call_function(slots: Slots, nargs: i64, site: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries at `slots`, the first NULL; the GIL is held.
    unsafe {
        let result = run_function(*slots.add(1), slots.add(2), nargs as usize, site as *mut DirectSite);
        *slots = result;
        (!result.is_null()) as i64
    }
}

/// `[function, self, args...] -> [result]`: a method that `LOAD_METHOD` found as a plain
/// function accepted by `can_call_directly` for `nargs + 1` arguments at compile time (the
/// caller's guards keep it the one the class holds); `site` as for [`call_function`].
pub unsafe extern "C" fn call_method_function(slots: Slots, nargs: i64, site: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries at `slots`; the GIL is held.
    unsafe {
        let result = run_function(*slots, slots.add(1), nargs as usize + 1, site as *mut DirectSite);
        *slots = result;
        (!result.is_null()) as i64
    }
}

/// Calls `func` (accepted by `can_call_directly` for `nargs`) with the `nargs` arguments at
/// `args`, consuming the references to `func` and to the arguments: the callee's frame is
/// pushed here and run through `site`'s cached version (or the hook, for a NULL `site`).
///
/// # Safety
/// GIL held; `args[-1]` is a slot of the caller's (callees may borrow it, as
/// `PY_VECTORCALL_ARGUMENTS_OFFSET` allows); `site` NULL or live.
unsafe fn run_function(func: *mut PyObject, args: Slots, nargs: usize, site: *mut DirectSite) -> *mut PyObject {
    // SAFETY: per the contract.
    unsafe {
        let ts = cpython::thread_state();
        let code = (*(func as *mut PyFunctionObject)).func_code as *mut PyCodeObject;
        let nlocals = (*code).co_nlocalsplus as usize;
        let size = nlocals + (*code).co_stacksize as usize + cpython::FRAME_SPECIALS_SIZE;
        let Some(frame) = push_frame(ts, size) else {
            let result = ffi::PyObject_Vectorcall(func, args, nargs | ffi::PY_VECTORCALL_ARGUMENTS_OFFSET, null_mut());
            ffi::Py_DECREF(func);
            for i in 0..nargs {
                ffi::Py_DECREF(*args.add(i));
            }
            return result;
        };
        // _PyFrame_InitializeSpecials: the frame owns the references to the function (the
        // caller's reference moves in) and the code.
        ffi::Py_INCREF(code as *mut PyObject);
        let f = &mut *frame;
        f.f_func = func;
        f.f_code = code;
        f.f_builtins = (*(func as *mut PyFunctionObject)).func_builtins;
        f.f_globals = (*(func as *mut PyFunctionObject)).func_globals;
        f.f_locals = null_mut();
        f.stacktop = nlocals as i32;
        f.frame_obj = null_mut();
        f.prev_instr = (*code).co_code_adaptive.as_mut_ptr().offset(-1);
        f.is_entry = false;
        f.owner = cpython::FRAME_OWNED_BY_THREAD;
        for i in 0..nlocals {
            *cpython::frame_slot(frame, i) = if i < nargs { *args.add(i) } else { null_mut() };
        }
        let result = <Hook as RunPushedFrame>::run(ts, frame, site);
        clear_frame(frame);
        (*ts).datastack_top = frame as *mut *mut PyObject;
        result
    }
}

/// `[NULL|method, callable|self, args...] -> [result]` for any callable, at a site whose
/// [`DirectSite`] caches the callee: a Python function with the site's code (learned at the
/// first call) runs its cached version through [`run_function`]; other plain functions take
/// the direct path uncached; everything else the generic call. A site after `LOAD_METHOD`
/// (`method_site`) caches methods, its key counting `self`; its NULL-first calls go uncached.
pub unsafe extern "C" fn call_cached(slots: Slots, nargs: i64, site: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries at `slots` (the first may be NULL); `site` lives in
    // the running version's side tables; GIL held.
    unsafe {
        let s = &mut *(site as *mut DirectSite);
        let is_method = !(*slots).is_null();
        let (func, args, total) = if is_method { (*slots, slots.add(1), nargs + 1) } else { (*slots.add(1), slots.add(2), nargs) };
        if ffi::Py_TYPE(func) == std::ptr::addr_of_mut!(ffi::PyFunction_Type) && can_call_directly(func, total as usize) {
            let code = (*(func as *mut PyFunctionObject)).func_code as *mut PyCodeObject;
            // Only calls of the site's shape are cached (a method site's key counts `self`).
            let shape_fits = is_method == s.method_site;
            if shape_fits && s.callee.is_null() {
                ffi::Py_INCREF(code as *mut PyObject);
                s.callee = code;
            }
            let cache = if shape_fits && code == s.callee { s as *mut DirectSite } else { null_mut() };
            let result = run_function(func, args, total as usize, cache);
            *slots = result;
            return (!result.is_null()) as i64;
        }
        helpers::call(slots, nargs, 0)
    }
}

/// `[NULL, class, args...] -> [instance]` for a class that `objects::python_init` accepts
/// (checked again here: the class may have changed since compiling), as 3.11's `type_call`
/// does it, without its bound `__init__` and argument tuple: `object.__new__` makes the
/// instance, then `__init__` runs through [`run_function`] with it as `self`, one recursion
/// level counted as the call of a type counts one; it must return None. Any other callable,
/// or an `__init__` not called directly, takes the generic call. `site` caches the version
/// of `__init__` (`run_direct` checks that it is for the code run).
pub unsafe extern "C" fn instantiate(slots: Slots, nargs: i64, site: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries at `slots`, the first NULL; the GIL is held. The
    // class's slot then holds the instance, `self` of `__init__`; the NULL slot before it is
    // the caller's, as `run_function` needs.
    unsafe {
        let cls = *slots.add(1);
        let init = match cpython::objects::python_init(cls) {
            Some(init) if can_call_directly(init, nargs as usize + 1) => init,
            _ => return helpers::call(slots, nargs, 0),
        };
        let ty = cls as *mut ffi::PyTypeObject;
        let new = (*ty).tp_new.expect("python_init checked tp_new");
        let no_args = ffi::PyTuple_New(0);
        let instance = if no_args.is_null() { null_mut() } else { new(ty, no_args, null_mut()) };
        ffi::Py_XDECREF(no_args);
        if instance.is_null() || ffi::Py_EnterRecursiveCall(c" while calling a Python object".as_ptr()) != 0 {
            ffi::Py_XDECREF(instance);
            for i in 1..nargs as usize + 2 {
                ffi::Py_DECREF(*slots.add(i));
            }
            *slots = null_mut();
            return 0;
        }
        // The instance: one reference for `__init__`'s frame, one for the result.
        ffi::Py_INCREF(instance);
        *slots.add(1) = instance;
        ffi::Py_DECREF(cls);
        ffi::Py_INCREF(init);
        let returned = run_function(init, slots.add(1), nargs as usize + 1, site as *mut DirectSite);
        ffi::Py_LeaveRecursiveCall();
        if returned.is_null() {
            ffi::Py_DECREF(instance);
            *slots = null_mut();
            return 0;
        }
        if returned != ffi::Py_None() {
            let name = ffi::PyUnicode_FromString((*ffi::Py_TYPE(returned)).tp_name);
            if !name.is_null() {
                ffi::PyErr_Format(ffi::PyExc_TypeError, c"__init__() should return None, not '%.200U'".as_ptr(), name);
                ffi::Py_DECREF(name);
            }
            ffi::Py_DECREF(returned);
            ffi::Py_DECREF(instance);
            *slots = null_mut();
            return 0;
        }
        ffi::Py_DECREF(returned);
        *slots = instance;
        1
    }
}

/// `LOAD_ATTR` of a property whose getter `getter` (kept alive by the caller's constant pool)
/// is a Python function of one argument: `[obj] -> [getter(obj)]`, the getter run directly
/// (as `property.__get__` calls it), not through the descriptor and a vectorcall, through
/// `site`, which caches the getter's version. The slot below `obj` is the caller's, as
/// `run_function` needs.
pub unsafe extern "C" fn call_property(slots: Slots, getter: i64, site: i64) -> i64 {
    // SAFETY: one owned entry at `slots`; `getter` passed `can_call_directly(_, 1)` when the
    // code was compiled and a function's code and arguments cannot change shape since.
    unsafe {
        let getter = getter as *mut PyObject;
        ffi::Py_INCREF(getter);
        let result = run_function(getter, slots, 1, site as *mut DirectSite);
        *slots = result;
        (!result.is_null()) as i64
    }
}

/// `super().name` as `CALL 0` of `super` and the `LOAD_METHOD` after it, in the running frame
/// (`class_slot`: its `__class__` cell's slot): `[NULL, super] -> [function, self]` when
/// `name` is a plain function of a class after `__class__` in the MRO of `type(self)` (as
/// `super_getattro` finds it, without making the super object and the bound method), and 1;
/// 2, with nothing done, for everything else (the generic `super()` and `LOAD_METHOD` then
/// run, raising what they raise). Never raises.
pub unsafe extern "C" fn super_method(slots: Slots, name: i64, class_slot: i64) -> i64 {
    // SAFETY: two owned entries at `slots` (NULL, the `super` type); the running frame is the
    // thread's current one (`run::enter` made it so); `class_slot` is a slot of its code's;
    // GIL held. Dict lookups of a str in a type's exact dict run no Python code.
    unsafe {
        let frame = (*(*cpython::thread_state()).cframe).current_frame;
        let name = name as *mut PyObject;
        let this = *cpython::frame_slot(frame, 0);
        let cell = *cpython::frame_slot(frame, class_slot as usize);
        if this.is_null() || cell.is_null() || ffi::PyCell_Check(cell) == 0 {
            return 2;
        }
        let class = (*(cell as *mut cpython::PyCellObject)).ob_ref;
        if class.is_null() || ffi::PyType_Check(class) == 0 || name == cpython::objects::class_name() {
            return 2;
        }
        let obj_type = ffi::Py_TYPE(this);
        if ffi::PyType_IsSubtype(obj_type, class as *mut ffi::PyTypeObject) == 0 {
            return 2;
        }
        let mro = (*obj_type).tp_mro;
        if mro.is_null() {
            return 2;
        }
        let n = ffi::PyTuple_GET_SIZE(mro);
        let Some(at) = (0..n).find(|&i| ffi::PyTuple_GET_ITEM(mro, i) == class) else { return 2 };
        for i in at + 1..n {
            let base = ffi::PyTuple_GET_ITEM(mro, i) as *mut ffi::PyTypeObject;
            let dict = (*base).tp_dict;
            if dict.is_null() || ffi::PyDict_CheckExact(dict) == 0 {
                return 2;
            }
            let found = ffi::PyDict_GetItemWithError(dict, name);
            if found.is_null() {
                if !ffi::PyErr_Occurred().is_null() {
                    ffi::PyErr_Clear();
                    return 2;
                }
                continue;
            }
            if ffi::Py_TYPE(found) != std::ptr::addr_of_mut!(ffi::PyFunction_Type) {
                return 2;
            }
            ffi::Py_INCREF(found);
            ffi::Py_INCREF(this);
            ffi::Py_DECREF(*slots.add(1));
            *slots = found;
            *slots.add(1) = this;
            return 1;
        }
        2
    }
}

/// Room for a frame of `size` words in the current chunk of the thread's frame stack, or
/// `None` (the generic call path then allocates a new chunk).
unsafe fn push_frame(ts: *mut ThreadState, size: usize) -> Option<*mut InterpreterFrame> {
    // SAFETY: the thread state's frame-stack pointers are valid while the GIL is held.
    unsafe {
        let base = (*ts).datastack_top;
        let chunk = (*ts).datastack_chunk;
        if base.is_null() || chunk.is_null() || base == (*chunk).data.as_mut_ptr() {
            // (A frame at the very start of a chunk must free the chunk when popped.)
            return None;
        }
        let top = base.add(size);
        if top >= (*ts).datastack_limit {
            return None;
        }
        (*ts).datastack_top = top;
        Some(base as *mut InterpreterFrame)
    }
}

/// `_PyFrame_Clear`: releases the frame's references, or hands the frame's data to its frame
/// object when something else still holds that object.
unsafe fn clear_frame(frame: *mut InterpreterFrame) {
    // SAFETY: `frame` is a thread-owned frame that finished executing.
    unsafe {
        let f = &mut *frame;
        if !f.frame_obj.is_null() {
            let obj = f.frame_obj;
            f.frame_obj = null_mut();
            if ffi::Py_REFCNT(obj) > 1 {
                take_ownership(obj as *mut PyFrameObject, frame);
                ffi::Py_DECREF(obj);
                return;
            }
            ffi::Py_DECREF(obj);
        }
        for i in 0..f.stacktop as usize {
            ffi::Py_XDECREF(*cpython::frame_slot(frame, i));
        }
        ffi::Py_XDECREF(f.f_locals);
        ffi::Py_DECREF(f.f_func);
        ffi::Py_DECREF(f.f_code as *mut PyObject);
    }
}

/// `take_ownership` (Python/frame.c): copies the frame into its frame object, which outlives
/// the call, and links the object to its caller's frame object.
unsafe fn take_ownership(obj: *mut PyFrameObject, frame: *mut InterpreterFrame) {
    // SAFETY: `obj` is the frame's live frame object, whose `_f_frame_data` has room for the
    // frame (CPython sized it from the same code object).
    unsafe {
        let words = cpython::FRAME_SPECIALS_SIZE + (*frame).stacktop as usize;
        let data = (*obj)._f_frame_data.as_mut_ptr() as *mut InterpreterFrame;
        std::ptr::copy_nonoverlapping(frame as *const u8, data as *mut u8, words * 8);
        (*obj).f_frame = data;
        (*data).owner = cpython::FRAME_OWNED_BY_FRAME_OBJECT;
        let code = (*data).f_code;
        let first_traceable = (*code).co_code_adaptive.as_mut_ptr().add((*code)._co_firsttraceable as usize);
        if (*data).prev_instr < first_traceable {
            (*data).prev_instr = first_traceable;
        }
        // The caller is the thread's current frame again (the callee was unlinked): its
        // frame object, created if needed, becomes f_back.
        let prev = (*data).previous;
        if !prev.is_null() && (*obj).f_back.is_null() {
            let back = if !(*prev).frame_obj.is_null() {
                (*prev).frame_obj
            } else {
                ffi::PyEval_GetFrame() as *mut PyObject
            };
            if back.is_null() {
                ffi::PyErr_Clear();
            } else {
                ffi::Py_INCREF(back);
                (*obj).f_back = back;
            }
            (*data).previous = null_mut();
        }
        if ffi::PyObject_GC_IsTracked(obj as *mut PyObject) == 0 {
            ffi::PyObject_GC_Track(obj as *mut std::ffi::c_void);
        }
    }
}
