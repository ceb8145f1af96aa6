//! Entering the interpreter on its throw path without the `call` event that path reports.
//!
//! 3.11's `_PyEval_EvalFrameDefault` called with `throwflag` reports a `call` event to the
//! tracer and the profiler before it unwinds (`TRACE_FUNCTION_THROW_ENTRY`, meant for
//! `generator.throw()`). A compiled frame that leaves with an exception while one of them is
//! on (a callee switched it on: compiled code does not run under one) was entered before
//! that, and the interpreter would have reported no `call` for it: `sys.settrace`'s test
//! `test_09_settrace_and_raise` checks exactly this. So for that one entry the trace and
//! profile functions are replaced by stand-ins that drop the frame's `call` event and put the
//! real functions back; no Python code runs between the swap and the event.

use crate::cpython::{self, ffi::PyObject, InterpreterFrame, PyFrameObject, ThreadState, TraceFunc};
use std::cell::Cell;
use std::os::raw::c_int;

/// `PyTrace_CALL`.
const CALL_EVENT: c_int = 0;

/// A function a stand-in replaces, with the frame whose `call` event it drops.
type Replaced = Option<(*mut InterpreterFrame, TraceFunc)>;

thread_local! {
    static REPLACED_TRACE: Cell<Replaced> = const { Cell::new(None) };
    static REPLACED_PROFILE: Cell<Replaced> = const { Cell::new(None) };
}

/// Runs `frame` in the interpreter from its pending exception (`throwflag` 1), with no `call`
/// event for it if a tracer or profiler is on.
///
/// # Safety
/// GIL held; `ts` the running thread's state; `frame` a frame rebuilt for the interpreter
/// with an exception set.
pub unsafe fn throw_without_call_event(ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: the running thread's state, GIL held; the stand-ins restore what they replace.
    unsafe {
        let t = &mut *ts;
        // Inside a trace function (`tracing`), the interpreter reports nothing anyway.
        if (*t.cframe).use_tracing == 0 || t.tracing != 0 {
            return cpython::_PyEval_EvalFrameDefault(ts, frame, 1);
        }
        if let Some(trace) = t.c_tracefunc {
            REPLACED_TRACE.set(Some((frame, trace)));
            t.c_tracefunc = Some(trace_stand_in);
        }
        if let Some(profile) = t.c_profilefunc {
            REPLACED_PROFILE.set(Some((frame, profile)));
            t.c_profilefunc = Some(profile_stand_in);
        }
        let result = cpython::_PyEval_EvalFrameDefault(ts, frame, 1);
        // The frame was not entered (its recursion check failed first): nothing ran, and the
        // real functions go back now.
        if let Some((_, trace)) = REPLACED_TRACE.take() {
            put_back(&mut t.c_tracefunc, trace_stand_in, trace);
        }
        if let Some((_, profile)) = REPLACED_PROFILE.take() {
            put_back(&mut t.c_profilefunc, profile_stand_in, profile);
        }
        result
    }
}

/// Puts `real` back in `slot` if `stand_in` is still there.
fn put_back(slot: &mut Option<TraceFunc>, stand_in: TraceFunc, real: TraceFunc) {
    if slot.is_some_and(|f| std::ptr::fn_addr_eq(f, stand_in)) {
        *slot = Some(real);
    }
}

unsafe extern "C" fn trace_stand_in(obj: *mut PyObject, frame: *mut PyFrameObject, what: c_int, arg: *mut PyObject) -> c_int {
    // SAFETY: called by the interpreter as the thread's trace function.
    unsafe {
        let Some((entered, trace)) = REPLACED_TRACE.take() else { return 0 };
        (*cpython::thread_state()).c_tracefunc = Some(trace);
        forward_unless_entry(entered, trace, obj, frame, what, arg)
    }
}

unsafe extern "C" fn profile_stand_in(obj: *mut PyObject, frame: *mut PyFrameObject, what: c_int, arg: *mut PyObject) -> c_int {
    // SAFETY: called by the interpreter as the thread's profile function.
    unsafe {
        let Some((entered, profile)) = REPLACED_PROFILE.take() else { return 0 };
        (*cpython::thread_state()).c_profilefunc = Some(profile);
        forward_unless_entry(entered, profile, obj, frame, what, arg)
    }
}

/// Drops the `call` event of the frame entered on the throw path; any other event (none is
/// expected first) goes to the real function.
unsafe fn forward_unless_entry(
    entered: *mut InterpreterFrame,
    real: TraceFunc,
    obj: *mut PyObject,
    frame: *mut PyFrameObject,
    what: c_int,
    arg: *mut PyObject,
) -> c_int {
    // SAFETY: `frame` is the live frame object the interpreter reports the event for.
    unsafe {
        if what == CALL_EVENT && (*frame).f_frame == entered {
            return 0;
        }
        real(obj, frame, what, arg)
    }
}
