//! The one module of unsafe CPython 3.11 bindings: struct mirrors with compile-time offset
//! checks, the private functions we call, and small helpers over them.
//!
//! Every layout here is CPython 3.11's (verified on 3.11.7, x86-64; see
//! `shared/research/cpython311-hooking.md` §2). Another minor version is a new module, not an
//! edit: `psyco/__init__.py` refuses to import elsewhere, and [`check_layout`] tests canaries at
//! import.
//!
//! Everything else in the runtime reaches CPython only through this module; the front end
//! turns the `OFFSET_*` constants into plain numbers inside the IR. [`types`] maps the kinds'
//! type tags to CPython's type objects and answers the type questions the front end asks.

#![allow(non_camel_case_types, non_snake_case)] // CPython's own names, kept for grep-ability

use pyo3_ffi::{PyObject, PyTypeObject};
use std::mem::offset_of;
use std::os::raw::{c_char, c_int, c_void};

pub use pyo3_ffi as ffi;

pub mod objects;
pub mod tracing;
pub mod types;

/// `_PyInterpreterFrame` (Include/internal/pycore_frame.h).
#[repr(C)]
pub struct InterpreterFrame {
    pub f_func: *mut PyObject,
    pub f_globals: *mut PyObject,
    pub f_builtins: *mut PyObject,
    pub f_locals: *mut PyObject,
    pub f_code: *mut PyCodeObject,
    pub frame_obj: *mut PyObject,
    pub previous: *mut InterpreterFrame,
    pub prev_instr: *mut u16,
    pub stacktop: c_int,
    pub is_entry: bool,
    pub owner: c_char,
    pub localsplus: [*mut PyObject; 1],
}
const _: () = assert!(offset_of!(InterpreterFrame, f_globals) == 8);
const _: () = assert!(offset_of!(InterpreterFrame, f_builtins) == 16);
const _: () = assert!(offset_of!(InterpreterFrame, f_code) == 32);
const _: () = assert!(offset_of!(InterpreterFrame, previous) == 48);
const _: () = assert!(offset_of!(InterpreterFrame, prev_instr) == 56);
const _: () = assert!(offset_of!(InterpreterFrame, stacktop) == 64);
const _: () = assert!(offset_of!(InterpreterFrame, owner) == 69);
const _: () = assert!(offset_of!(InterpreterFrame, localsplus) == 72);

pub const FRAME_OWNED_BY_THREAD: c_char = 0;
pub const OFFSET_FRAME_PREV_INSTR: i32 = offset_of!(InterpreterFrame, prev_instr) as i32;
pub const OFFSET_FRAME_LOCALSPLUS: i32 = offset_of!(InterpreterFrame, localsplus) as i32;

/// Offset of frame slot `i` (the locals, then the value stack) in an `InterpreterFrame`.
pub fn slot_offset(i: usize) -> i32 {
    OFFSET_FRAME_LOCALSPLUS + 8 * i as i32
}

/// `PyCodeObject`, up to `co_code_adaptive`.
#[repr(C)]
pub struct PyCodeObject {
    pub ob_base: pyo3_ffi::PyVarObject,
    pub co_consts: *mut PyObject,
    pub co_names: *mut PyObject,
    pub co_exceptiontable: *mut PyObject,
    pub co_flags: c_int,
    pub co_warmup: i16,
    pub _co_linearray_entry_size: i16,
    pub co_argcount: c_int,
    pub co_posonlyargcount: c_int,
    pub co_kwonlyargcount: c_int,
    pub co_stacksize: c_int,
    pub co_firstlineno: c_int,
    pub co_nlocalsplus: c_int,
    pub co_nlocals: c_int,
    pub co_nplaincellvars: c_int,
    pub co_ncellvars: c_int,
    pub co_nfreevars: c_int,
    pub co_localsplusnames: *mut PyObject,
    pub co_localspluskinds: *mut PyObject,
    pub co_filename: *mut PyObject,
    pub co_name: *mut PyObject,
    pub co_qualname: *mut PyObject,
    pub co_linetable: *mut PyObject,
    pub co_weakreflist: *mut PyObject,
    pub _co_code: *mut PyObject,
    pub _co_linearray: *mut c_char,
    pub _co_firsttraceable: c_int,
    pub co_extra: *mut CodeObjectExtra,
    pub co_code_adaptive: [u16; 1],
}
const _: () = assert!(offset_of!(PyCodeObject, co_consts) == 24);
const _: () = assert!(offset_of!(PyCodeObject, co_flags) == 48);
const _: () = assert!(offset_of!(PyCodeObject, co_argcount) == 56);
const _: () = assert!(offset_of!(PyCodeObject, co_nlocalsplus) == 76);
const _: () = assert!(offset_of!(PyCodeObject, co_nfreevars) == 92);
const _: () = assert!(offset_of!(PyCodeObject, co_name) == 120);
const _: () = assert!(offset_of!(PyCodeObject, _co_firsttraceable) == 168);
const _: () = assert!(offset_of!(PyCodeObject, co_extra) == 176);
const _: () = assert!(offset_of!(PyCodeObject, co_code_adaptive) == 184);

pub const OFFSET_CODE_ADAPTIVE: usize = offset_of!(PyCodeObject, co_code_adaptive);

pub const CO_OPTIMIZED: c_int = 0x0001;
pub const CO_VARARGS: c_int = 0x0004;
pub const CO_VARKEYWORDS: c_int = 0x0008;
pub const CO_GENERATOR: c_int = 0x0020;
pub const CO_COROUTINE: c_int = 0x0080;
pub const CO_ITERABLE_COROUTINE: c_int = 0x0100;
pub const CO_ASYNC_GENERATOR: c_int = 0x0200;

/// `_PyCodeObjectExtra`: the per-code-object slots handed out by
/// `_PyEval_RequestCodeExtraIndex`.
#[repr(C)]
pub struct CodeObjectExtra {
    pub ce_size: isize,
    pub ce_extras: [*mut c_void; 1],
}

/// `_PyCFrame`.
#[repr(C)]
pub struct CFrame {
    pub use_tracing: u8,
    pub current_frame: *mut InterpreterFrame,
    pub previous: *mut CFrame,
}
const _: () = assert!(offset_of!(CFrame, current_frame) == 8);

/// `Py_tracefunc`: a trace or profile function as `sys.settrace` / `sys.setprofile` install it.
pub type TraceFunc = unsafe extern "C" fn(obj: *mut PyObject, frame: *mut PyFrameObject, what: c_int, arg: *mut PyObject) -> c_int;

/// The prefix of `PyThreadState` that we touch.
#[repr(C)]
pub struct ThreadState {
    pub prev: *mut c_void,
    pub next: *mut c_void,
    pub interp: *mut InterpreterState,
    pub _initialized: c_int,
    pub _static: c_int,
    pub recursion_remaining: c_int,
    pub recursion_limit: c_int,
    pub recursion_headroom: c_int,
    pub tracing: c_int,
    pub tracing_what: c_int,
    pub cframe: *mut CFrame,
    pub c_profilefunc: Option<TraceFunc>,
    pub c_tracefunc: Option<TraceFunc>,
    pub c_profileobj: *mut PyObject,
    pub c_traceobj: *mut PyObject,
    pub _middle: [u8; 200],
    pub datastack_chunk: *mut StackChunk,
    pub datastack_top: *mut *mut PyObject,
    pub datastack_limit: *mut *mut PyObject,
}
const _: () = assert!(offset_of!(ThreadState, c_profilefunc) == 64);
const _: () = assert!(offset_of!(ThreadState, c_traceobj) == 88);
const _: () = assert!(offset_of!(ThreadState, datastack_chunk) == 296);
const _: () = assert!(offset_of!(ThreadState, datastack_top) == 304);
const _: () = assert!(offset_of!(ThreadState, datastack_limit) == 312);

/// `_PyStackChunk`: a piece of the per-thread stack that holds interpreter frames.
#[repr(C)]
pub struct StackChunk {
    pub previous: *mut StackChunk,
    pub size: usize,
    pub top: usize,
    pub data: [*mut PyObject; 1],
}

/// Words of a frame before `localsplus` (`FRAME_SPECIALS_SIZE`).
pub const FRAME_SPECIALS_SIZE: usize = 9;
pub const FRAME_OWNED_BY_FRAME_OBJECT: c_char = 2;

/// `PyFunctionObject`, up to `func_closure`.
#[repr(C)]
pub struct PyFunctionObject {
    pub ob_base: PyObject,
    pub func_globals: *mut PyObject,
    pub func_builtins: *mut PyObject,
    pub func_name: *mut PyObject,
    pub func_qualname: *mut PyObject,
    pub func_code: *mut PyObject,
    pub func_defaults: *mut PyObject,
    pub func_kwdefaults: *mut PyObject,
    pub func_closure: *mut PyObject,
    pub func_doc: *mut PyObject,
    pub func_dict: *mut PyObject,
    pub func_weakreflist: *mut PyObject,
    pub func_module: *mut PyObject,
    pub func_annotations: *mut PyObject,
}
const _: () = assert!(offset_of!(PyFunctionObject, func_code) == 48);
pub const OFFSET_FUNC_CODE: i32 = offset_of!(PyFunctionObject, func_code) as i32;
const _: () = assert!(offset_of!(PyFunctionObject, func_closure) == 72);
const _: () = assert!(offset_of!(PyFunctionObject, func_annotations) == 112);

/// `PyCellObject`.
#[repr(C)]
pub struct PyCellObject {
    pub ob_base: PyObject,
    pub ob_ref: *mut PyObject,
}
pub const OFFSET_CELL_REF: i32 = offset_of!(PyCellObject, ob_ref) as i32;

/// `_PyLocals_Kind` bits of `co_localspluskinds`.
pub const CO_FAST_CELL: u8 = 0x40;
pub const CO_FAST_FREE: u8 = 0x80;

/// `PyFrameObject`.
#[repr(C)]
pub struct PyFrameObject {
    pub ob_base: PyObject,
    pub f_back: *mut PyObject,
    pub f_frame: *mut InterpreterFrame,
    pub f_trace: *mut PyObject,
    pub f_lineno: c_int,
    pub f_trace_lines: c_char,
    pub f_trace_opcodes: c_char,
    pub f_fast_as_locals: c_char,
    pub _f_frame_data: [*mut PyObject; 1],
}
const _: () = assert!(offset_of!(PyFrameObject, f_frame) == 24);
const _: () = assert!(offset_of!(PyFrameObject, _f_frame_data) == 48);
const _: () = assert!(offset_of!(ThreadState, interp) == 16);
const _: () = assert!(offset_of!(ThreadState, recursion_remaining) == 32);
const _: () = assert!(offset_of!(ThreadState, cframe) == 56);
pub const OFFSET_TSTATE_CFRAME: i32 = offset_of!(ThreadState, cframe) as i32;
pub const OFFSET_TSTATE_RECURSION_REMAINING: i32 = offset_of!(ThreadState, recursion_remaining) as i32;
/// `PyThreadState.exc_info` (inside the part the mirror leaves opaque).
pub const OFFSET_TSTATE_EXC_INFO: usize = 120;

/// The prefix of `PyInterpreterState` up to `eval_frame` (the PEP 523 hook).
#[repr(C)]
pub struct InterpreterState {
    pub _prefix: [u8; 100],
    pub eval_breaker: i32,
    pub gil_drop_request: i32,
    pub _middle: [u8; 1316],
    /// NULL: the interpreter's own `_PyEval_EvalFrameDefault`.
    pub eval_frame: Option<EvalFrameFn>,
}
const _: () = assert!(offset_of!(InterpreterState, gil_drop_request) == 104);
const _: () = assert!(offset_of!(InterpreterState, eval_frame) == 1424);
pub const OFFSET_INTERP_EVAL_BREAKER: i32 = offset_of!(InterpreterState, eval_breaker) as i32;

/// `PyDictObject`.
#[repr(C)]
pub struct PyDictObject {
    pub ob_base: PyObject,
    pub ma_used: isize,
    pub ma_version_tag: u64,
    pub ma_keys: *mut c_void,
    pub ma_values: *mut c_void,
}
const _: () = assert!(offset_of!(PyDictObject, ma_version_tag) == 24);
pub const OFFSET_DICT_VERSION: i32 = offset_of!(PyDictObject, ma_version_tag) as i32;

/// `PyLongObject` with its first two digits.
#[repr(C)]
pub struct PyLongObject {
    pub ob_base: pyo3_ffi::PyVarObject,
    pub ob_digit: [u32; 2],
}
const _: () = assert!(offset_of!(PyLongObject, ob_digit) == 24);
pub const OFFSET_OB_TYPE: i32 = offset_of!(PyObject, ob_type) as i32;
pub const OFFSET_OB_SIZE: i32 = offset_of!(pyo3_ffi::PyVarObject, ob_size) as i32;
pub const OFFSET_LONG_DIGIT: i32 = offset_of!(PyLongObject, ob_digit) as i32;
const _: () = assert!(offset_of!(ffi::PyFloatObject, ob_fval) == 16);
pub const OFFSET_FLOAT_VALUE: i32 = offset_of!(ffi::PyFloatObject, ob_fval) as i32;

pub type EvalFrameFn = unsafe extern "C" fn(*mut ThreadState, *mut InterpreterFrame, c_int) -> *mut PyObject;

extern "C" {
    pub fn _PyEval_EvalFrameDefault(tstate: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int) -> *mut PyObject;
    pub fn _PyInterpreterState_SetEvalFrameFunc(interp: *mut InterpreterState, eval_frame: EvalFrameFn);
    pub fn _PyInterpreterState_GetEvalFrameFunc(interp: *mut InterpreterState) -> Option<EvalFrameFn>;
    pub fn _PyEval_RequestCodeExtraIndex(free: unsafe extern "C" fn(*mut c_void)) -> isize;
    pub fn PyInterpreterState_Main() -> *mut InterpreterState;
    pub fn PyCode_GetCode(code: *mut PyCodeObject) -> *mut PyObject;
    pub fn _PyDict_GetItem_KnownHash(dict: *mut PyObject, key: *mut PyObject, hash: isize) -> *mut PyObject;
    pub fn _PyThreadState_UncheckedGet() -> *mut ThreadState;
    /// Frees an object whose reference count reached zero (what `Py_DECREF` calls).
    pub fn _Py_Dealloc(obj: *mut PyObject);
    pub static mut PyRangeIter_Type: PyTypeObject;
    /// The attribute `name` found along the type's MRO (borrowed; NULL if none).
    pub fn _PyType_Lookup(ty: *mut PyTypeObject, name: *mut PyObject) -> *mut PyObject;
}

/// The running thread's state (the GIL is held): `_PyRuntime.gilstate.tstate_current`, read
/// as `_PyThreadState_GET()` does, without a call into libpython (every direct call needs it).
#[inline]
pub fn thread_state() -> *mut ThreadState {
    let current = (std::ptr::addr_of!(_PyRuntime) as usize + TSTATE_CURRENT_OFFSET) as *const std::sync::atomic::AtomicPtr<ThreadState>;
    // SAFETY: `check_layout` verified at import that this word is the current thread state,
    // which CPython stores atomically (relaxed) as it switches threads.
    unsafe { (*current).load(std::sync::atomic::Ordering::Relaxed) }
}

/// Whether the running thread belongs to the main interpreter.
///
/// # Safety
/// GIL held.
pub unsafe fn in_main_interpreter() -> bool {
    // SAFETY: GIL held, so the current thread state is live; the call is exported API.
    unsafe { (*thread_state()).interp == PyInterpreterState_Main() }
}

/// Reads a code object's extra slot `index` (NULL if it has none, or `index` is negative:
/// no index).
///
/// # Safety
/// `code` must be a live code object.
#[inline]
pub unsafe fn code_extra(code: *mut PyCodeObject, index: isize) -> *mut c_void {
    // SAFETY: the caller passes a live code object; `co_extra` is NULL or a valid array of
    // `ce_size` slots (CPython's `_PyCode_GetExtra` reads it the same way). One unsigned
    // comparison rejects a negative index too.
    unsafe {
        let extra = (*code).co_extra;
        if extra.is_null() || index as usize >= (*extra).ce_size as usize {
            return std::ptr::null_mut();
        }
        *(*extra).ce_extras.as_ptr().offset(index)
    }
}

/// Stores `value` in a code object's extra slot `index` (which must be empty), growing the
/// slot array to `index + 1` slots only. CPython's `_PyCode_SetExtra` grows it to every index
/// handed out so far, and a code object's deallocation calls the free function of every slot
/// it has, even empty ones: a program that registered its own free function after psyco
/// would have it called (with NULL) for every code object psyco touched, late in
/// finalization too (test_code's ctypes callback then crashes). False if out of memory.
///
/// # Safety
/// GIL held; `code` a live code object; `index` one that `_PyEval_RequestCodeExtraIndex`
/// gave in the running interpreter.
pub unsafe fn set_code_extra(code: *mut PyCodeObject, index: isize, value: *mut c_void) -> bool {
    debug_assert!(index >= 0);
    // SAFETY: per the contract; the array is allocated with `PyMem_*`, as CPython does (it
    // reallocates it in `_PyCode_SetExtra` and frees it with `PyMem_Free`); new slots are
    // cleared before `ce_size` covers them.
    unsafe {
        let mut extra = (*code).co_extra;
        let size = if extra.is_null() { 0 } else { (*extra).ce_size };
        if size <= index {
            let bytes = std::mem::size_of::<CodeObjectExtra>() + index as usize * std::mem::size_of::<*mut c_void>();
            let grown = ffi::PyMem_Realloc(extra as *mut c_void, bytes) as *mut CodeObjectExtra;
            if grown.is_null() {
                return false;
            }
            extra = grown;
            for i in size..=index {
                *(*extra).ce_extras.as_mut_ptr().offset(i) = std::ptr::null_mut();
            }
            (*extra).ce_size = index + 1;
            (*code).co_extra = extra;
        }
        *(*extra).ce_extras.as_mut_ptr().offset(index) = value;
        true
    }
}

/// `_PyCode_Warmup`, which 3.11's `RESUME` runs at every call: the eighth quickens the code
/// (the interpreter then specializes its instructions as they run). Compiled code does not run
/// `RESUME`, so psyco warms a code object up each time a call of it leaves compiled code for
/// the interpreter: code that keeps leaving gets the specialized instructions it would have
/// without psyco (a generic `CALL` of a builtin counts a recursion level that the specialized
/// one does not; test_support's recursion test sees it).
///
/// # Safety
/// GIL held; `code` a live code object.
pub unsafe fn warm_up(code: *mut PyCodeObject) {
    // SAFETY: per the contract.
    unsafe {
        if (*code).co_warmup != 0 {
            (*code).co_warmup += 1;
            if (*code).co_warmup == 0 {
                quicken(code);
            }
        }
    }
}

/// `_PyCode_Quicken` (hidden in libpython), as 3.11.7's `Python/specialize.c` has it: the
/// adaptive form of every specializable instruction (its counter, the first cache unit, is
/// zero in unquickened code), the quick forms of `EXTENDED_ARG`, `JUMP_BACKWARD` and `RESUME`,
/// and the superinstructions of pairs of local and constant loads and stores.
///
/// # Safety
/// GIL held; `code` a live code object not quickened yet (`co_warmup` was not 0).
unsafe fn quicken(code: *mut PyCodeObject) {
    use crate::opcodes::*;
    // SAFETY: per the contract; `co_code_adaptive` holds `ob_size` code units inline, and
    // nothing else borrows them while the GIL is held.
    let units = unsafe { std::slice::from_raw_parts_mut((*code).co_code_adaptive.as_mut_ptr(), (*code).ob_base.ob_size as usize) };
    let set = |unit: &mut u16, opcode: u8| *unit = (*unit & 0xff00) | u16::from(opcode);
    let mut previous = None;
    let mut i = 0;
    while i < units.len() {
        let opcode = (units[i] & 0xff) as u8;
        let adaptive = match opcode {
            LOAD_ATTR => Some(LOAD_ATTR_ADAPTIVE),
            LOAD_GLOBAL => Some(LOAD_GLOBAL_ADAPTIVE),
            LOAD_METHOD => Some(LOAD_METHOD_ADAPTIVE),
            BINARY_SUBSCR => Some(BINARY_SUBSCR_ADAPTIVE),
            STORE_SUBSCR => Some(STORE_SUBSCR_ADAPTIVE),
            CALL => Some(CALL_ADAPTIVE),
            PRECALL => Some(PRECALL_ADAPTIVE),
            STORE_ATTR => Some(STORE_ATTR_ADAPTIVE),
            BINARY_OP => Some(BINARY_OP_ADAPTIVE),
            COMPARE_OP => Some(COMPARE_OP_ADAPTIVE),
            UNPACK_SEQUENCE => Some(UNPACK_SEQUENCE_ADAPTIVE),
            _ => None,
        };
        if let Some(adaptive) = adaptive {
            set(&mut units[i], adaptive);
            previous = None;
            i += 1 + CACHE_ENTRIES[opcode as usize] as usize;
            continue;
        }
        let pair = match (previous, opcode) {
            (_, EXTENDED_ARG) => Some((i, EXTENDED_ARG_QUICK)),
            (_, JUMP_BACKWARD) => Some((i, JUMP_BACKWARD_QUICK)),
            (_, RESUME) => Some((i, RESUME_QUICK)),
            (Some(LOAD_FAST), LOAD_FAST) => Some((i - 1, LOAD_FAST__LOAD_FAST)),
            (Some(STORE_FAST), LOAD_FAST) => Some((i - 1, STORE_FAST__LOAD_FAST)),
            (Some(LOAD_CONST), LOAD_FAST) => Some((i - 1, LOAD_CONST__LOAD_FAST)),
            (Some(STORE_FAST), STORE_FAST) => Some((i - 1, STORE_FAST__STORE_FAST)),
            (Some(LOAD_FAST), LOAD_CONST) => Some((i - 1, LOAD_FAST__LOAD_CONST)),
            _ => None,
        };
        if let Some((at, quick)) = pair {
            set(&mut units[at], quick);
        }
        previous = Some(opcode);
        i += 1;
    }
}

/// Address of a frame's `localsplus[i]`.
///
/// # Safety
/// `frame` must be live and `i` below its `co_nlocalsplus + co_stacksize`.
#[inline]
pub unsafe fn frame_slot(frame: *mut InterpreterFrame, i: usize) -> *mut *mut PyObject {
    // SAFETY: localsplus has `co_nlocalsplus + co_stacksize` slots; the caller stays below.
    unsafe { (*frame).localsplus.as_mut_ptr().add(i) }
}

/// The value of an `int` that fits in 60 bits (at most two 30-bit digits), else `None`.
///
/// # Safety
/// `obj` must be an exact `int`.
#[inline]
pub unsafe fn small_long_value(obj: *mut PyObject) -> Option<i64> {
    // SAFETY: `obj` is a live PyLongObject; digits up to |ob_size| exist.
    unsafe {
        let long = obj as *mut PyLongObject;
        let size = (*long).ob_base.ob_size;
        let magnitude = match size.unsigned_abs() {
            0 => 0,
            1 => (*long).ob_digit[0] as i64,
            2 => (*long).ob_digit[0] as i64 | ((*long).ob_digit[1] as i64) << 30,
            _ => return None,
        };
        Some(if size < 0 { -magnitude } else { magnitude })
    }
}

/// The value of an exact `int` if it fits in an `i64`.
///
/// # Safety
/// `obj` must be an exact `int`.
#[inline]
pub unsafe fn long_value(obj: *mut PyObject) -> Option<i64> {
    // SAFETY: per the contract; the slow path is the C API's own conversion.
    unsafe {
        if let Some(v) = small_long_value(obj) {
            return Some(v);
        }
        let mut overflow = 0;
        let v = ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow);
        if overflow != 0 || (v == -1 && !ffi::PyErr_Occurred().is_null()) {
            ffi::PyErr_Clear();
            return None;
        }
        Some(v)
    }
}

extern "C" {
    static _PyRuntime: u8;
}

/// Offset of `gilstate.tstate_current` in `_PyRuntime` (3.11.7, `offsetof` on its headers).
const TSTATE_CURRENT_OFFSET: usize = 576;

/// Offset of the cached small ints (`-5..=256`, each a 32-byte `PyLongObject`) in
/// `_PyRuntime` (`global_objects.singletons.small_ints`).
const SMALL_INTS_OFFSET: usize = 680;
pub const SMALL_INT_MIN: i64 = -5;
pub const SMALL_INT_COUNT: i64 = 262;
pub const SMALL_INT_SIZE: i64 = 32;

/// Address of the cached `int` object for -5 (the first of the small ints).
pub fn small_ints() -> usize {
    // Taking the address of an extern static reads nothing, so it needs no `unsafe`.
    std::ptr::addr_of!(_PyRuntime) as usize + SMALL_INTS_OFFSET
}

/// `interp->float_state` (`struct _Py_float_state`: `int numfree`, then `free_list`, whose
/// floats are linked through `ob_type`): the per-interpreter freelist `PyFloat_FromDouble`
/// pops and `float_dealloc` pushes, at most `FLOAT_FREELIST_MAX` long.
pub const OFFSET_INTERP_FLOAT_NUMFREE: usize = 3608;
pub const OFFSET_INTERP_FLOAT_FREE_LIST: usize = 3616;

extern "C" {
    /// `struct _PyTraceMalloc_Config`: `initialized`, then `tracing` (an int), ...
    static _Py_tracemalloc_config: [c_int; 3];
}

/// Address of `_Py_tracemalloc_config.tracing`: while tracemalloc traces, a new object must
/// be reported (`_PyTraceMalloc_NewReference`, hidden), so inline allocation steps aside.
pub fn tracemalloc_tracing() -> usize {
    std::ptr::addr_of!(_Py_tracemalloc_config) as usize + std::mem::size_of::<c_int>()
}

/// Checks at import that the mirrors agree with the running interpreter on a few canaries.
pub fn check_layout() -> Result<(), String> {
    // SAFETY: called with the GIL held; reads the thread state and its interpreter.
    unsafe {
        let ts = _PyThreadState_UncheckedGet();
        if thread_state() != ts {
            return Err("the current thread state is not where CPython 3.11.7 keeps it".into());
        }
        if ts.is_null() || (*ts).interp.is_null() || (*ts).cframe.is_null() {
            return Err("thread state layout does not match CPython 3.11".into());
        }
        if (*ts).recursion_limit <= 0 || (*ts).recursion_remaining > (*ts).recursion_limit {
            return Err("recursion counters do not match CPython 3.11's layout".into());
        }
        // Compiled code boxes small ints by address: the cache must be where we think.
        for v in [SMALL_INT_MIN, 0, 256] {
            let obj = ffi::PyLong_FromLongLong(v);
            let expected = small_ints() + ((v - SMALL_INT_MIN) * SMALL_INT_SIZE) as usize;
            ffi::Py_XDECREF(obj);
            if obj as usize != expected {
                return Err("the small-int cache is not where CPython 3.11.7 keeps it".into());
            }
        }
        // Compiled code takes floats from the freelist: a freed float must land at its head.
        let interp = (*ts).interp as *mut u8;
        let numfree = interp.add(OFFSET_INTERP_FLOAT_NUMFREE) as *const c_int;
        let head = interp.add(OFFSET_INTERP_FLOAT_FREE_LIST) as *const *mut PyObject;
        let obj = ffi::PyFloat_FromDouble(1.5);
        let before = *numfree;
        if obj.is_null() {
            ffi::PyErr_Clear();
        } else {
            ffi::Py_DECREF(obj);
            if before < 100 && (*head != obj || *numfree != before + 1) {
                return Err("the float freelist is not where CPython 3.11.7 keeps it".into());
            }
        }
        // Compiled code steps range iterators: iter(range(5, 100, 3)) after two steps.
        let range = ffi::PyObject_CallFunction(
            std::ptr::addr_of_mut!(ffi::PyRange_Type) as *mut PyObject,
            c"lll".as_ptr(),
            5 as std::os::raw::c_long,
            100 as std::os::raw::c_long,
            3 as std::os::raw::c_long,
        );
        let it = if range.is_null() { range } else { ffi::PyObject_GetIter(range) };
        if it.is_null() {
            ffi::PyErr_Clear();
        } else {
            ffi::Py_XDECREF(ffi::PyIter_Next(it));
            ffi::Py_XDECREF(ffi::PyIter_Next(it));
            let field = |offset: i32| *((it as *const u8).offset(offset as isize) as *const std::os::raw::c_long);
            let fields = [objects::OFFSET_RANGEITER_INDEX, objects::OFFSET_RANGEITER_START, objects::OFFSET_RANGEITER_STEP, objects::OFFSET_RANGEITER_LEN].map(field);
            let matches = ffi::Py_TYPE(it) == objects::range_iterator_type() && fields == [2, 5, 3, 32];
            ffi::Py_DECREF(it);
            if !matches {
                ffi::Py_XDECREF(range);
                return Err("range iterators are not laid out as in CPython 3.11.7".into());
            }
        }
        ffi::Py_XDECREF(range);
        // Compiled code steps enumerations of lists: enumerate([7, 8, 9], 4) after one step.
        let list = ffi::Py_BuildValue(c"[iii]".as_ptr(), 7, 8, 9);
        let en = if list.is_null() {
            list
        } else {
            let start = 4 as std::os::raw::c_long;
            ffi::PyObject_CallFunction(std::ptr::addr_of_mut!(ffi::PyEnum_Type) as *mut PyObject, c"Ol".as_ptr(), list, start)
        };
        if en.is_null() {
            ffi::PyErr_Clear();
        } else {
            ffi::Py_XDECREF(ffi::PyIter_Next(en));
            let index = *((en as *const u8).offset(objects::OFFSET_ENUM_INDEX as isize) as *const isize);
            let it = *((en as *const u8).offset(objects::OFFSET_ENUM_ITERATOR as isize) as *const *mut PyObject);
            let matches = index == 5 && !it.is_null() && ffi::Py_TYPE(it) == objects::list_iterator_type() && {
                let seq = *((it as *const u8).offset(objects::OFFSET_LISTITER_SEQ as isize) as *const *mut PyObject);
                let at = *((it as *const u8).offset(objects::OFFSET_LISTITER_INDEX as isize) as *const isize);
                seq == list && at == 1
            };
            ffi::Py_DECREF(en);
            if !matches {
                ffi::Py_XDECREF(list);
                return Err("enumerate objects or list iterators are not laid out as in CPython 3.11.7".into());
            }
        }
        // ... and zips of two lists: zip([7, 8, 9], [7, 8, 9]).
        let zip = if list.is_null() {
            list
        } else {
            ffi::PyObject_CallFunction(std::ptr::addr_of_mut!(ffi::PyZip_Type) as *mut PyObject, c"OO".as_ptr(), list, list)
        };
        if zip.is_null() {
            ffi::PyErr_Clear();
        } else {
            let size = *((zip as *const u8).offset(objects::OFFSET_ZIP_SIZE as isize) as *const isize);
            let its = *((zip as *const u8).offset(objects::OFFSET_ZIP_ITERATORS as isize) as *const *mut PyObject);
            let matches = size == 2
                && !its.is_null()
                && ffi::PyTuple_CheckExact(its) != 0
                && ffi::PyTuple_GET_SIZE(its) == 2
                && ffi::Py_TYPE(ffi::PyTuple_GET_ITEM(its, 1)) == objects::list_iterator_type();
            ffi::Py_DECREF(zip);
            if !matches {
                ffi::Py_XDECREF(list);
                return Err("zip objects are not laid out as in CPython 3.11.7".into());
            }
        }
        ffi::Py_XDECREF(list);
        if pyo3_ffi::Py_Version & 0xFFFF_0000 != 0x030B_0000 {
            return Err(format!("built for CPython 3.11, running {:#x}", pyo3_ffi::Py_Version));
        }
    }
    Ok(())
}

/// A Python str as a Rust String (lossy; for names in reports).
///
/// # Safety
/// `s` must be a live str (or NULL).
pub unsafe fn str_of(s: *mut PyObject) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: per the contract; PyUnicode_AsUTF8AndSize returns a buffer owned by `s`.
    unsafe {
        let mut len = 0;
        let p = ffi::PyUnicode_AsUTF8AndSize(s, &mut len);
        if p.is_null() {
            ffi::PyErr_Clear();
            return String::from("?");
        }
        String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, len as usize)).into_owned()
    }
}
