//! The PEP 523 frame-evaluation hook: choosing (or compiling) a version for each call,
//! running it on CPython's own frame, and handing the frame to the interpreter when compiled
//! code leaves. Calls that compiled code makes directly enter at [`run_direct`].
//!
//! All state here is touched only with the GIL held ([`crate::jit::state::GilCell`]).

use crate::calls::{Hook, RunPushedFrame};
use crate::cpython::{self, ffi, ffi::PyObject, InterpreterFrame, ThreadState};
use crate::jit::code_cache::{arg_kind, ArgCheck, CodeEntry, Version};
use crate::jit::compile::compile_version;
use crate::jit::deopt::after_exit;
use crate::jit::run::{run_default, run_native, thread_allows_compiled};
use crate::jit::side_tables::DirectSite;
use crate::jit::state::{jit, jit_of_compiled_code, Jit, Mode};
use crate::policy::{BodyRun, CodeShape};
use crate::reasons::DeclineReason;
use ir::Kind;
use std::os::raw::c_int;
use std::ptr::null_mut;

/// Installs or removes the hook to match `mode`.
///
/// # Safety
/// GIL held.
pub unsafe fn set_mode(mode: Mode) {
    // SAFETY: GIL held by the caller.
    unsafe {
        let jit = jit();
        let ts = cpython::thread_state();
        let interp = (*ts).interp;
        match mode {
            Mode::Off => {
                // Passing the default evaluator stores NULL: the interpreter runs alone again
                // (unless another PEP 523 user replaced psyco's hook: that one stays).
                if hook_installed(ts) {
                    cpython::_PyInterpreterState_SetEvalFrameFunc(interp, cpython::_PyEval_EvalFrameDefault);
                }
                jit.cache.drop_all(&mut jit.stats);
            }
            _ => cpython::_PyInterpreterState_SetEvalFrameFunc(interp, eval_frame),
        }
        jit.mode = mode;
    }
}

/// Whether the frame's arguments certainly have kinds that the key behind `checks` accepts,
/// by one type test per argument; `false` means "ask the full selection".
#[inline]
unsafe fn fits_quickly(checks: &[ArgCheck], frame: *mut InterpreterFrame) -> bool {
    // SAFETY: the frame's first `checks.len()` slots hold its arguments.
    unsafe { checks.iter().enumerate().all(|(i, c)| c.passes(*cpython::frame_slot(frame, i))) }
}

/// Functions with more argument slots than this run interpreted (their key would not fit
/// the hook's stack buffer).
const MAX_KEYED_ARGS: usize = 16;

/// Whether a version compiled for `key` accepts arguments of kinds `actual`.
#[inline]
fn accepts(key: &[Kind], actual: &[Kind]) -> bool {
    key.iter().zip(actual).all(|(k, a)| k == a || *k == Kind::Object || a.le(*k))
}

/// Python call depth below which the C stack is not checked (each level through the hook
/// costs at most a few hundred bytes of it; threads have megabytes).
const SHALLOW_DEPTH: i32 = 2000;

/// C stack kept free below the guard: enough for the interpreter to raise and unwind.
const C_STACK_MARGIN: usize = 256 * 1024;

thread_local! {
    /// Lowest stack address this thread may reach before the guard trips (0: not known yet).
    static STACK_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// This thread's stack limit, from the bounds pthread reports.
fn stack_limit() -> usize {
    STACK_LIMIT.with(|limit| {
        if limit.get() == 0 {
            // SAFETY: plain pthread queries on the current thread with a local attr object.
            let low = unsafe {
                let mut attr: libc::pthread_attr_t = std::mem::zeroed();
                let (mut addr, mut size) = (null_mut(), 0usize);
                let ok = libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0
                    && libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
                libc::pthread_attr_destroy(&mut attr);
                if ok { addr as usize } else { 1 }
            };
            limit.set(low + C_STACK_MARGIN);
        }
        limit.get()
    })
}

/// Whether the C stack is nearly exhausted. With the hook installed every Python call is a
/// C call (3.11 stops inlining them), so deep recursion with a raised recursion limit would
/// overflow the C stack: psyco raises RecursionError instead.
#[inline(never)]
fn c_stack_exhausted() -> bool {
    let marker = 0u8;
    (std::ptr::addr_of!(marker) as usize) < stack_limit()
}

/// The hook itself: every Python frame CPython evaluates comes here first. The path for code
/// psyco declined (generators, most resumptions) is kept tiny, so that it compiles to a few
/// loads and a tail jump into the interpreter; everything else is in `select_and_run`.
unsafe extern "C" fn eval_frame(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int) -> *mut PyObject {
    // SAFETY: called by CPython with the GIL held, a live thread state and frame.
    unsafe {
        // The C stack only runs short in deep recursion: check it only there.
        if (*ts).recursion_limit - (*ts).recursion_remaining > SHALLOW_DEPTH && c_stack_exhausted() {
            return recursion_error();
        }
        let code = (*frame).f_code;
        // The most common case first: code psyco declined runs in the interpreter.
        let known = jit().cache.entry_ptr(code);
        if !known.is_null() && (*known).declined.is_some() {
            if !matches!((*known).shape, CodeShape::Function { .. }) {
                return run_body(ts, frame, throwflag, (*known).shape);
            }
            return run_default(ts, frame, throwflag);
        }
        select_and_run(ts, frame, throwflag, known)
    }
}

#[cold]
#[inline(never)]
fn recursion_error() -> *mut PyObject {
    // SAFETY: GIL held (called from the hook).
    unsafe { ffi::PyErr_SetString(ffi::PyExc_RecursionError, c"maximum recursion depth exceeded".as_ptr()) };
    null_mut()
}

/// Runs a module or class body or the import system's entry in the interpreter, counting the
/// imports in progress for the compilation policy (`policy::BodyRun`).
#[cold]
#[inline(never)]
unsafe fn run_body(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int, shape: CodeShape) -> *mut PyObject {
    // SAFETY: per `eval_frame`; `jit()` is re-read after the body ran (it may have re-entered).
    unsafe {
        if BodyRun::of(shape, (*frame).f_globals) != Some(BodyRun::Import) {
            return run_default(ts, frame, throwflag);
        }
        jit().bodies_importing += 1;
        let result = run_default(ts, frame, throwflag);
        jit().bodies_importing -= 1;
        result
    }
}

/// The rest of the hook: run a fitting version, compile one, or run the interpreter.
/// `known` is the code's entry, or NULL.
#[inline(never)]
unsafe fn select_and_run(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int, known: *mut CodeEntry) -> *mut PyObject {
    // SAFETY: per `eval_frame`.
    unsafe {
        let jit = jit();
        let code = (*frame).f_code;
        let fresh_call = (*frame).prev_instr == (*code).co_code_adaptive.as_mut_ptr().offset(-1);
        let runnable =
            throwflag == 0 && fresh_call && (*frame).owner == cpython::FRAME_OWNED_BY_THREAD && thread_allows_compiled(ts);
        // The next most common case: the version the last call ran fits this one too.
        if runnable && !known.is_null() {
            let entry = &*known;
            if let Some(v) = jit.cache.version_ptr(entry.last_used) {
                if (*v).globals == (*frame).f_globals && (*v).builtins == (*frame).f_builtins && fits_quickly(&(*v).arg_checks, frame) {
                    return run_version(jit, v, ts, frame);
                }
            }
            // Then: arguments of kinds declined as mostly generic run interpreted, at once.
            if entry.declined_checks.iter().any(|k| fits_quickly(k, frame)) {
                return run_default(ts, frame, throwflag);
            }
        }
        let may_compile = matches!(jit.mode, Mode::Compiling { .. });
        let e = if known.is_null() { jit.cache.entry_for(code, may_compile && fresh_call) } else { known };
        if let Some(why) = e.as_ref().and_then(|e| e.shape.never_compiled()) {
            if known.is_null() {
                // First seen now: counted once.
                jit.stats.declined(why);
            }
            return run_body(ts, frame, throwflag, (*e).shape);
        }
        if e.is_null() || !runnable || (*e).declined.is_some() {
            return run_default(ts, frame, throwflag);
        }
        let nargs = (*e).nargs(code);
        if nargs > MAX_KEYED_ARGS {
            jit.stats.declined(DeclineReason::TooManyArguments);
            (*e).declined = Some(DeclineReason::TooManyArguments.into());
            return run_default(ts, frame, throwflag);
        }
        // On the stack: this runs for every call.
        let mut key = [Kind::Object; MAX_KEYED_ARGS];
        for (i, k) in key.iter_mut().enumerate().take(nargs) {
            *k = arg_kind(*cpython::frame_slot(frame, i));
        }
        let kinds = &key[..nargs];
        let (globals, builtins) = ((*frame).f_globals, (*frame).f_builtins);
        let entry = &mut *e;
        let matches = |v: &Version| v.globals == globals && v.builtins == builtins && accepts(&v.key, kinds);
        let last = entry.last_used;
        let found = match jit.cache.version(last) {
            Some(v) if matches(v) => Some(last),
            _ => entry.versions.iter().copied().find(|&k| jit.cache.version(k).is_some_and(matches)),
        };
        if let Some(k) = found {
            entry.last_used = k;
        }
        let key = match found {
            Some(k) => k,
            None => {
                let waits = (*e).shape.waits_for_payback(jit.bodies_importing > 0);
                let warm = (*e).shape.calls_before_compiling(jit.options.threshold, waits).is_some_and(|n| (*e).calls >= n);
                let payback = if waits { (*e).shape.import_payback_ns(jit.options.threshold, jit.stats.ns_per_instruction()) } else { None };
                let paid = payback.is_none_or(|ns| (*e).import_wait_ns >= ns);
                let all = matches!(jit.mode, Mode::Compiling { all: true });
                let compiling = matches!(jit.mode, Mode::Compiling { .. });
                let compile_now = compiling && ((*e).bound || (all && warm && paid)) && !jit.quiet_threads.contains(&ts);
                (*e).calls += 1;
                if all && warm && !paid && !(*e).bound {
                    return run_waiting_import(ts, frame, throwflag, e);
                }
                if !compile_now {
                    return run_default(ts, frame, throwflag);
                }
                if (*e).declines_key(kinds) {
                    // Kinds declined without trying: recorded, so that the next such call is
                    // sent on at once.
                    if !(*e).declined_keys.iter().any(|k| k.as_slice() == kinds) && (*e).decline_key(kinds.to_vec()) {
                        jit.stats.declined(DeclineReason::MostlyGeneric);
                    }
                    return run_default(ts, frame, throwflag);
                }
                match compile_version(jit, &mut *e, ts, frame, kinds.to_vec()) {
                    Some(k) => k,
                    None => return run_default(ts, frame, throwflag),
                }
            }
        };
        match jit.cache.version_ptr(key) {
            Some(v) => run_version(jit, v, ts, frame),
            None => run_default(ts, frame, throwflag),
        }
    }
}

/// Runs, in the interpreter, a frame of code that waits during an import to pay for its
/// compilation, adding the time it took to the code's account (`policy::IMPORT_PAYBACK`).
#[cold]
#[inline(never)]
unsafe fn run_waiting_import(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int, e: *mut CodeEntry) -> *mut PyObject {
    // SAFETY: per `eval_frame`; `e` is the frame's code's entry, boxed, so it stays where it
    // is while the code lives, which the reference held here ensures.
    unsafe {
        let code = (*frame).f_code as *mut PyObject;
        ffi::Py_INCREF(code);
        let start = std::time::Instant::now();
        (*e).waiting_activations += 1;
        let result = run_default(ts, frame, throwflag);
        (*e).waiting_activations -= 1;
        if (*e).waiting_activations == 0 {
            let elapsed = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            (*e).import_wait_ns = (*e).import_wait_ns.saturating_add(elapsed);
        }
        ffi::Py_DECREF(code);
        result
    }
}

/// Runs a frame pushed by a direct call site: the version the site cached if it is still
/// live, fits the arguments and nothing asks for the interpreter, else through the hook
/// (then caching the version the hook ran).
///
/// # Safety
/// GIL held; `frame` a fresh, initialized frame on the thread's frame stack; `site` live,
/// or NULL for a call whose callee was only found at run time.
#[inline(always)]
unsafe fn run_direct(ts: *mut ThreadState, frame: *mut InterpreterFrame, site: *mut DirectSite) -> *mut PyObject {
    // SAFETY: per the contract.
    unsafe {
        if site.is_null() {
            return evaluate(ts, frame);
        }
        // A site is in a version's side tables: compiled code calls here.
        let jit = jit_of_compiled_code();
        let s = &mut *site;
        // The cached version is for the site's code and the globals it was compiled with
        // (a function's `__code__` can be replaced; two functions can share code). It is
        // live, so psyco is not off (`disable()` unlinks every version).
        if let Some(v) = jit.cache.version_ptr(s.version) {
            if (*frame).f_code == s.callee
                && hook_installed(ts)
                && (*v).globals == (*frame).f_globals
                && (*v).builtins == (*frame).f_builtins
                && thread_allows_compiled(ts)
                && ((*ts).recursion_limit - (*ts).recursion_remaining <= SHALLOW_DEPTH || !c_stack_exhausted())
                && (s.always_fits || fits_quickly(&(*v).arg_checks, frame))
            {
                // The caller is compiled code, already counted in `active_native`.
                return run_and_finish(v, ts, frame);
            }
        }
        let (code, globals, builtins) = ((*frame).f_code, (*frame).f_globals, (*frame).f_builtins);
        let result = evaluate(ts, frame);
        // Cache the version the hook chose for this call (an inline cache, checked on the
        // arguments unless the site's static kinds always fit it).
        let jit = self::jit();
        let e = jit.cache.entry_for(code, false);
        if code == s.callee && !e.is_null() {
            if let Some(v) = jit.cache.version((*e).last_used) {
                if v.globals == globals && v.builtins == builtins {
                    s.version = (*e).last_used;
                    s.always_fits = accepts(&v.key, &s.key);
                }
            }
        }
        result
    }
}

impl RunPushedFrame for Hook {
    #[inline(always)]
    unsafe fn run(ts: *mut ThreadState, frame: *mut InterpreterFrame, site: *mut DirectSite) -> *mut PyObject {
        // SAFETY: `run_direct`'s contract is the trait's.
        unsafe { run_direct(ts, frame, site) }
    }
}

/// Whether psyco's hook is the interpreter's: another PEP 523 user (a debugger, a test's
/// recording hook) may have replaced it, and then sees every call, compiled callers' too.
#[inline(always)]
unsafe fn hook_installed(ts: *mut ThreadState) -> bool {
    // SAFETY: the running thread's state and its interpreter are live (GIL held).
    unsafe { (*(*ts).interp).eval_frame.is_some_and(|f| f as *const () == eval_frame as *const ()) }
}

/// `_PyEval_EvalFrame` for a frame pushed by psyco itself: through the interpreter's hook
/// (psyco's, or whichever replaced it), else straight to the interpreter.
///
/// # Safety
/// GIL held; `frame` a fresh, initialized frame on the thread's frame stack.
unsafe fn evaluate(ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: per the contract; a hook takes the same arguments as the interpreter.
    unsafe {
        match (*(*ts).interp).eval_frame {
            Some(hook) => hook(ts, frame, 0),
            None => cpython::_PyEval_EvalFrameDefault(ts, frame, 0),
        }
    }
}

/// Runs `version` on `frame` for the hook, keeping the code alive meanwhile.
#[inline(always)]
unsafe fn run_version(jit: &mut Jit, version: *mut Version, ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: versions are not freed while `active_native > 0`.
    unsafe {
        jit.cache.active_native += 1;
        let result = run_and_finish(version, ts, frame);
        // Re-borrow: compiled code and the interpreter may have run psyco recursively.
        let jit = self::jit();
        jit.cache.active_native -= 1;
        jit.cache.free_if_idle(&mut jit.stats);
        result
    }
}

/// Runs `version` on `frame`. When the compiled code leaves, the frame goes on in a
/// continuation version or in the interpreter, which finishes the call.
///
/// # Safety
/// GIL held; `version` live and kept so by `active_native > 0`.
#[inline(always)]
unsafe fn run_and_finish(version: *mut Version, ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: per the contract.
    unsafe {
        let outcome = run_native(version, ts, frame);
        if outcome.exit == 0 {
            outcome.value as *mut PyObject
        } else {
            after_exit(version, (outcome.exit - 1) as usize, ts, frame)
        }
    }
}

