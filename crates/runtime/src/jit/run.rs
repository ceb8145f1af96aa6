//! Running a frame: one activation of a compiled version on it, or the interpreter; and
//! whether the thread lets compiled code run at all. Both the hook and the side-exit path
//! ([`crate::jit::deopt`]) run frames, so this sits below both.

use crate::cpython::{self, ffi::PyObject, InterpreterFrame, ThreadState};
use crate::jit::code_cache::Version;
use std::os::raw::c_int;

/// Whether the thread lets a call run compiled: no tracing or profiling, nothing pending
/// for the eval breaker (the interpreter handles it at the call's RESUME), recursion left.
#[inline]
pub(super) unsafe fn thread_allows_compiled(ts: *mut ThreadState) -> bool {
    // SAFETY: the running thread's state, GIL held.
    unsafe { (*(*ts).cframe).use_tracing == 0 && (*(*ts).interp).eval_breaker == 0 && (*ts).recursion_remaining > 0 }
}

/// The interpreter runs `frame` (from its `prev_instr` on).
pub(super) unsafe fn run_default(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int) -> *mut PyObject {
    // SAFETY: forwarding the hook's own arguments.
    unsafe { cpython::_PyEval_EvalFrameDefault(ts, frame, throwflag) }
}

/// One activation of compiled code on `frame`.
#[inline(always)]
pub(super) unsafe fn run_native(version: *mut Version, ts: *mut ThreadState, frame: *mut InterpreterFrame) -> ir::Outcome {
    // SAFETY: per `hook::run_and_finish`: GIL held, `version` live and kept so by
    // `active_native > 0`, `frame` the frame it was compiled for.
    unsafe {
        (*(*version).owner).native_entries += 1;
        // Link the frame for the whole activation, so that callees see it
        // (sys._getframe, tracebacks), and count one level of recursion as the interpreter would.
        let cframe = (*ts).cframe;
        (*frame).previous = (*cframe).current_frame;
        (*cframe).current_frame = frame;
        (*ts).recursion_remaining -= 1;
        let args = [frame as u64, ts as u64];
        // The exit buffer was sized for this code when the version was made.
        let outcome = ((*version).entry)(args.as_ptr(), (*version).exit_buffer.as_mut_ptr());
        (*ts).recursion_remaining += 1;
        (*(*ts).cframe).current_frame = (*frame).previous;
        outcome
    }
}
