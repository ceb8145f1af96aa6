//! The PEP 523 frame-evaluation hook: choosing (or compiling) a version for each call,
//! running it on CPython's own frame, and handing the frame to the interpreter when compiled
//! code leaves.
//!
//! All state here is touched only with the GIL held ([`GilCell`]).

use crate::cpython::{self, ffi, ffi::PyObject, InterpreterFrame, ThreadState};
use crate::frontend::{self, CompileRequest, Start};
use crate::policy::{self, BodyRun, CodeShape};
use crate::stats::{self, Stats};
use crate::version::{ArgCheck, CodeEntry, Version};
use ir::{ExitKind, Kind};
use std::cell::UnsafeCell;
use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;
use std::time::Instant;

/// State shared by every thread, accessed only with the GIL held.
pub struct GilCell<T>(UnsafeCell<T>);

// SAFETY: every access goes through `get`, whose callers hold the GIL, which serializes them.
unsafe impl<T> Sync for GilCell<T> {}

impl<T> GilCell<T> {
    pub const fn new(v: T) -> GilCell<T> {
        GilCell(UnsafeCell::new(v))
    }

    /// # Safety
    /// The GIL must be held, and the reference must not outlive a call that can release it
    /// or re-enter psyco (so no two live `&mut` exist).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self) -> &mut T {
        // SAFETY: per the contract above.
        unsafe { &mut *self.0.get() }
    }
}

/// What the hook does with calls of code it has not compiled yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Hook not installed.
    Off,
    /// Compile functions that reach the threshold (`full()`), or only bound ones.
    Compiling { all: bool },
    /// `stop()`: compile nothing more; compiled code keeps running.
    Stopped,
}

pub struct Options {
    /// Calls before a function is compiled (0: at its first call); `None`: the default
    /// policy (see `policy`).
    pub threshold: Option<u64>,
    pub backend: &'static dyn backend_x86::Backend,
    /// Versions per code object before the generic version serves.
    pub max_versions: usize,
    /// Leave code that is mostly generic operations to the interpreter (unless bound).
    pub decline_generic: bool,
    /// Verify the IR of every compilation (see `CompileRequest::verify`).
    pub verify: bool,
    /// Live code and side-table bytes past which nothing more is compiled (`memory=`).
    pub memory_stop: Option<usize>,
    /// Live bytes the JIT never exceeds: reaching it frees all compiled code (`memorymax=`).
    pub memory_max: Option<usize>,
}

pub struct Jit {
    pub mode: Mode,
    pub options: Options,
    extra_index: isize,
    /// Every code object that has an entry (for stats and for dropping code).
    pub entries: Vec<*mut CodeEntry>,
    pub stats: Stats,
    /// Compiled activations currently on the C stack: code cannot be freed while > 0.
    active_native: usize,
    /// Incremented whenever compiled code is dropped: caches of versions (call sites)
    /// are valid only for the generation they were made in.
    pub generation: u64,
    drop_pending: bool,
    /// `setfilter()`'s predicate (an owned reference, or NULL), asked once per code object.
    pub filter: *mut PyObject,
    /// The filter is running: code it calls runs interpreted.
    in_filter: bool,
    /// Which memory limit stopped compilation, if one did.
    pub limit_reached: Option<&'static str>,
    /// Threads whose calls compile nothing (psyco's own profiler threads).
    pub quiet_threads: Vec<*mut ThreadState>,
    /// Module and class bodies of imported modules running now (see `policy`).
    pub bodies_importing: usize,
    /// Timestamped events for `psyco.log()`, recorded while `log_events` is set.
    pub log_events: bool,
    pub events: Vec<(f64, String)>,
}

pub static JIT: GilCell<Option<Jit>> = GilCell::new(None);

/// The JIT state, created on first use.
///
/// # Safety
/// GIL held; see [`GilCell::get`].
#[inline]
pub unsafe fn jit() -> &'static mut Jit {
    // SAFETY: per the contract.
    let slot = unsafe { JIT.get() };
    match slot {
        Some(jit) => jit,
        None => init_jit(slot),
    }
}

#[cold]
fn init_jit(slot: &'static mut Option<Jit>) -> &'static mut Jit {
    slot.insert(Jit {
        mode: Mode::Off,
        options: Options {
            threshold: None,
            backend: &backend_x86::DynasmBackend,
            max_versions: 4,
            decline_generic: true,
            verify: cfg!(debug_assertions),
            memory_stop: None,
            memory_max: None,
        },
        // SAFETY: exported API; the index is ours for the interpreter's lifetime.
        extra_index: unsafe { cpython::_PyEval_RequestCodeExtraIndex(free_code_entry) },
        entries: Vec::new(),
        stats: Stats::default(),
        active_native: 0,
        generation: 1,
        drop_pending: false,
        filter: null_mut(),
        in_filter: false,
        limit_reached: None,
        quiet_threads: Vec::new(),
        bodies_importing: 0,
        log_events: false,
        events: Vec::new(),
    })
}

/// Installs or removes the hook to match `mode`.
///
/// # Safety
/// GIL held.
pub unsafe fn set_mode(mode: Mode) {
    // SAFETY: GIL held by the caller.
    unsafe {
        let jit = jit();
        let interp = (*cpython::thread_state()).interp;
        match mode {
            Mode::Off => {
                // Passing the default evaluator stores NULL: the interpreter runs alone again.
                cpython::_PyInterpreterState_SetEvalFrameFunc(interp, cpython::_PyEval_EvalFrameDefault);
                jit.drop_pending = true;
                drop_code_if_idle(jit);
            }
            _ => cpython::_PyInterpreterState_SetEvalFrameFunc(interp, eval_frame),
        }
        jit.mode = mode;
    }
}

/// Frees every compiled version once no compiled code is running.
#[inline]
fn drop_code_if_idle(jit: &mut Jit) {
    if jit.drop_pending && jit.active_native == 0 {
        drop_code(jit);
    }
}

#[cold]
fn drop_code(jit: &mut Jit) {
    jit.drop_pending = false;
    jit.generation += 1;
    for &e in &jit.entries {
        // SAFETY: registered entries are live (removed when their code object dies).
        let entry = unsafe { &mut *e };
        jit.stats.code_bytes_freed += entry.all_versions().map(|v| v.bytes()).sum::<usize>();
        entry.versions.clear();
        entry.continuations.clear();
        entry.continuations_declined.clear();
        entry.calls = 0;
    }
}

unsafe extern "C" fn free_code_entry(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: called by CPython with the GIL held when a code object dies; `p` came from
    // `Box::into_raw` in `entry_for`.
    unsafe {
        let jit = jit();
        jit.entries.retain(|&e| e as *mut c_void != p);
        drop(Box::from_raw(p as *mut CodeEntry));
    }
}

/// The code object's entry, if psyco made one (read from its `co_extra`; for the API).
///
/// # Safety
/// GIL held; `code` a live code object; the reference is not kept past the API call.
pub unsafe fn entry_of(code: *mut cpython::PyCodeObject) -> Option<&'static CodeEntry> {
    // SAFETY: per the contract; a non-NULL extra is a live entry of ours.
    unsafe { entry_for(jit(), code, false).as_ref() }
}

/// The code object's entry, created if `create`.
unsafe fn entry_for(jit: &mut Jit, code: *mut cpython::PyCodeObject, create: bool) -> *mut CodeEntry {
    // SAFETY: `code` is live (its frame is being evaluated).
    unsafe {
        let e = cpython::code_extra(code, jit.extra_index) as *mut CodeEntry;
        if !e.is_null() || !create {
            return e;
        }
        let mut entry = CodeEntry::new(code);
        if entry.shape == CodeShape::NotAFunction {
            // Not worth compiling ever (see `policy`): the hook's first check sends it on.
            jit.stats.declined(policy::NOT_A_FUNCTION);
            entry.declined = Some(policy::NOT_A_FUNCTION.into());
        }
        let e = Box::into_raw(Box::new(entry));
        if cpython::_PyCode_SetExtra(code as *mut PyObject, jit.extra_index, e as *mut c_void) != 0 {
            ffi::PyErr_Clear();
            drop(Box::from_raw(e));
            return null_mut();
        }
        jit.entries.push(e);
        e
    }
}

/// Why code that `unbind()` released runs interpreted (until bound again).
pub const UNBOUND: &str = "unbound by psyco.unbind()";

/// Why code passed to `cannotcompile()` runs interpreted, for good.
pub const CANNOT_COMPILE: &str = "psyco.cannotcompile()";

/// Marks a code object to be compiled at its next call, whatever the threshold, by `backend`
/// if given, binding `rec` levels of the Python functions it calls directly along with it.
///
/// # Safety
/// GIL held; `code` a live code object.
pub unsafe fn bind_code(code: *mut cpython::PyCodeObject, backend: Option<&'static dyn backend_x86::Backend>, rec: u32) -> bool {
    // SAFETY: per the contract.
    unsafe {
        let jit = jit();
        let e = entry_for(jit, code, true);
        if e.is_null() {
            return false;
        }
        let e = &mut *e;
        if e.declined.as_deref() == Some(UNBOUND) {
            e.declined = None;
        }
        e.bound = true;
        e.bind_rec = e.bind_rec.max(rec);
        if backend.is_some() {
            e.backend = backend;
        }
        true
    }
}

/// `unbind()` (`reason` = [`UNBOUND`]) and `cannotcompile()` (`reason` = [`CANNOT_COMPILE`]):
/// the code runs interpreted from its next call on; its compiled versions are freed now if no
/// compiled code is running, else when psyco drops code or the code object dies.
///
/// # Safety
/// GIL held; `code` a live code object.
pub unsafe fn release_code(code: *mut cpython::PyCodeObject, reason: &'static str) -> bool {
    // SAFETY: per the contract.
    unsafe {
        let jit = jit();
        let e = entry_for(jit, code, true);
        if e.is_null() {
            return false;
        }
        let e = &mut *e;
        if e.declined.as_deref() != Some(CANNOT_COMPILE) {
            e.declined = Some(reason.into());
        }
        e.bound = false;
        // Call sites caching one of its versions must look again.
        jit.generation += 1;
        if jit.active_native == 0 {
            jit.stats.code_bytes_freed += e.all_versions().map(|v| v.bytes()).sum::<usize>();
            e.versions.clear();
            e.continuations.clear();
        }
        true
    }
}

/// The kind that selects a version for an argument.
unsafe fn arg_kind(obj: *mut PyObject) -> Kind {
    if obj.is_null() {
        return Kind::Object;
    }
    // SAFETY: `obj` is a live argument of the frame.
    unsafe {
        match frontend::type_tag(obj) {
            ir::TypeTag::Int => match cpython::long_value(obj) {
                Some(_) => Kind::MachineInt,
                None => Kind::Exact(ir::TypeTag::Int),
            },
            ir::TypeTag::Float => Kind::UnboxedFloat,
            ir::TypeTag::Bool => Kind::MachineBool,
            ir::TypeTag::Other => Kind::Object,
            t => Kind::Exact(t),
        }
    }
}

/// What the frame's free variables hold now, as `CompileRequest::free_kinds` describes.
unsafe fn free_kinds(frame: *mut InterpreterFrame) -> Vec<Kind> {
    // SAFETY: a live frame (GIL held); its function's closure is a tuple of cells.
    unsafe {
        let func = (*frame).f_func;
        if func.is_null() || ffi::Py_TYPE(func) != std::ptr::addr_of_mut!(ffi::PyFunction_Type) {
            return Vec::new();
        }
        let closure = (*(func as *mut cpython::PyFunctionObject)).func_closure;
        if closure.is_null() || ffi::PyTuple_GET_SIZE(closure) != (*(*frame).f_code).co_nfreevars as isize {
            return Vec::new();
        }
        (0..ffi::PyTuple_GET_SIZE(closure))
            .map(|i| {
                let value = (*(ffi::PyTuple_GET_ITEM(closure, i) as *mut cpython::PyCellObject)).ob_ref;
                match arg_kind(value) {
                    Kind::MachineInt => Kind::IntConst(cpython::long_value(value).unwrap()),
                    Kind::UnboxedFloat => Kind::Exact(ir::TypeTag::Float),
                    Kind::MachineBool => Kind::Exact(ir::TypeTag::Bool),
                    k => k,
                }
            })
            .collect()
    }
}

/// Whether the thread lets a call run compiled: no tracing or profiling, nothing pending
/// for the eval breaker (the interpreter handles it at the call's RESUME), recursion left.
#[inline]
unsafe fn thread_allows_compiled(ts: *mut ThreadState) -> bool {
    // SAFETY: the running thread's state, GIL held.
    unsafe { (*(*ts).cframe).use_tracing == 0 && (*(*ts).interp).eval_breaker == 0 && (*ts).recursion_remaining > 0 }
}

/// Whether the frame's arguments certainly have kinds that the key behind `checks` accepts,
/// by one type test per argument; `false` means "ask the full selection".
#[inline]
unsafe fn fits_quickly(checks: &[ArgCheck], frame: *mut InterpreterFrame) -> bool {
    // SAFETY: the frame's first `checks.len()` slots hold its arguments.
    unsafe { checks.iter().enumerate().all(|(i, c)| c.passes(*cpython::frame_slot(frame, i))) }
}

/// Argument kinds declined one by one (as mostly generic) before the whole code is.
const MAX_DECLINED_KEYS: usize = 4;

/// Functions with more argument slots than this run interpreted (their key would not fit
/// the hook's stack buffer).
const MAX_KEYED_ARGS: usize = 16;

/// Whether a version compiled for `key` accepts arguments of kinds `actual`.
#[inline]
fn accepts(key: &[Kind], actual: &[Kind]) -> bool {
    key.iter().zip(actual).all(|(k, a)| k == a || *k == Kind::Object || a.le(*k))
}

unsafe fn run_default(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int) -> *mut PyObject {
    // SAFETY: forwarding the hook's own arguments.
    unsafe { cpython::_PyEval_EvalFrameDefault(ts, frame, throwflag) }
}

/// Runs a module or class body in the interpreter, counting the imports in progress for the
/// compilation policy (`policy::BodyRun`).
#[cold]
#[inline(never)]
unsafe fn run_body(ts: *mut ThreadState, frame: *mut InterpreterFrame, throwflag: c_int) -> *mut PyObject {
    // SAFETY: per `eval_frame`; `jit()` is re-read after the body ran (it may have re-entered).
    unsafe {
        if BodyRun::of((*frame).f_globals) == BodyRun::Main {
            return run_default(ts, frame, throwflag);
        }
        jit().bodies_importing += 1;
        let result = run_default(ts, frame, throwflag);
        jit().bodies_importing -= 1;
        result
    }
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
        let known = cpython::code_extra(code, jit().extra_index) as *mut CodeEntry;
        if !known.is_null() && (*known).declined.is_some() {
            if (*known).shape == CodeShape::NotAFunction {
                return run_body(ts, frame, throwflag);
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
            if let Some(v) = entry.versions.get(entry.last_used) {
                if v.globals == (*frame).f_globals && v.builtins == (*frame).f_builtins && fits_quickly(&v.arg_checks, frame) {
                    return run_version(jit, known, version_at(known, entry.last_used), ts, frame);
                }
            }
            // Then: arguments of kinds declined as mostly generic run interpreted, at once.
            if entry.declined_checks.iter().any(|k| fits_quickly(k, frame)) {
                return run_default(ts, frame, throwflag);
            }
        }
        let may_compile = matches!(jit.mode, Mode::Compiling { .. });
        let e = if known.is_null() { entry_for(jit, code, may_compile && fresh_call) } else { known };
        if !e.is_null() && (*e).shape == CodeShape::NotAFunction {
            return run_body(ts, frame, throwflag);
        }
        if e.is_null() || !runnable || (*e).declined.is_some() {
            return run_default(ts, frame, throwflag);
        }
        let nargs = (*e).nargs(code);
        if nargs > MAX_KEYED_ARGS {
            let why = format!("more than {MAX_KEYED_ARGS} arguments");
            jit.stats.declined(&why);
            (*e).declined = Some(why);
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
        let found = match entry.versions.get(last) {
            Some(v) if matches(v) => Some(last),
            _ => entry.versions.iter().position(|v| matches(v)),
        };
        if let Some(i) = found {
            entry.last_used = i;
        }
        let index = match found {
            Some(i) => i,
            None => {
                let importing = jit.bodies_importing > 0;
                let warm = (*e).shape.calls_before_compiling(jit.options.threshold, importing).is_some_and(|n| (*e).calls >= n);
                let compile_now = match jit.mode {
                    Mode::Compiling { all } => (*e).bound || (all && warm),
                    _ => false,
                } && !jit.quiet_threads.contains(&ts);
                (*e).calls += 1;
                if !compile_now || (*e).declined_keys.iter().any(|k| k.as_slice() == kinds) {
                    return run_default(ts, frame, throwflag);
                }
                match compile_version(jit, &mut *e, ts, frame, kinds.to_vec()) {
                    Some(i) => i,
                    None => return run_default(ts, frame, throwflag),
                }
            }
        };
        run_version(jit, e, version_at(e, index), ts, frame)
    }
}

/// Runs a frame pushed by a direct call site: the version the site cached if it is still
/// valid, fits the arguments and nothing asks for the interpreter, else through the hook
/// (then caching the version the hook ran).
///
/// # Safety
/// GIL held; `frame` a fresh, initialized frame on the thread's frame stack; `site` live,
/// or NULL for a call whose callee was only found at run time.
#[inline(always)]
pub unsafe fn run_direct(ts: *mut ThreadState, frame: *mut InterpreterFrame, site: *mut crate::calls::DirectSite) -> *mut PyObject {
    // SAFETY: per the contract.
    unsafe {
        if site.is_null() {
            return evaluate(ts, frame);
        }
        let jit = jit();
        let s = &mut *site;
        // The cached version is for the site's code and the globals it was compiled with
        // (a function's `__code__` can be replaced; two functions can share code).
        if s.generation == jit.generation
            && (*frame).f_code == s.callee
            && (*s.version).globals == (*frame).f_globals
            && (*s.version).builtins == (*frame).f_builtins
            && jit.mode != Mode::Off
            && thread_allows_compiled(ts)
            && ((*ts).recursion_limit - (*ts).recursion_remaining <= SHALLOW_DEPTH || !c_stack_exhausted())
            && (s.always_fits || fits_quickly(&(*s.version).arg_checks, frame))
        {
            // The caller is compiled code, already counted in `active_native`.
            return run_and_finish(s.entry, s.version, ts, frame);
        }
        let (code, globals, builtins) = ((*frame).f_code, (*frame).f_globals, (*frame).f_builtins);
        let result = evaluate(ts, frame);
        // Cache the version the hook chose for this call (an inline cache, checked on the
        // arguments unless the site's static kinds always fit it).
        let jit = self::jit();
        let e = entry_for(jit, code, false);
        if code == s.callee && !e.is_null() && (*e).last_used < (*e).versions.len() {
            let v = version_at(e, (*e).last_used);
            if (*v).globals == globals && (*v).builtins == builtins {
                (s.entry, s.version, s.generation) = (e, v, jit.generation);
                s.always_fits = accepts(&(*v).key, &s.key);
            }
        }
        result
    }
}

/// `_PyEval_EvalFrame` for a frame pushed by psyco itself: through the hook while psyco is
/// installed, else straight to the interpreter.
///
/// # Safety
/// GIL held; `frame` a fresh, initialized frame on the thread's frame stack.
pub unsafe fn evaluate(ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: per the contract.
    unsafe {
        if jit().mode == Mode::Off {
            cpython::_PyEval_EvalFrameDefault(ts, frame, 0)
        } else {
            eval_frame(ts, frame, 0)
        }
    }
}

/// Compiles a version for these argument kinds (or the generic one past the cap).
unsafe fn compile_version(
    jit: &mut Jit,
    e: &mut CodeEntry,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
    mut kinds: Vec<Kind>,
) -> Option<usize> {
    if jit.in_filter {
        return None;
    }
    if !e.filtered {
        e.filtered = true;
        // SAFETY: GIL held; the filter is a live callable.
        if !jit.filter.is_null() && !unsafe { filter_accepts(jit, e.code) } {
            jit.stats.declined(FILTERED);
            e.declined = Some(FILTERED.into());
            return None;
        }
    }
    if e.versions.len() >= jit.options.max_versions {
        // Past the cap one generic version, keyed on nothing, serves every call.
        kinds.iter_mut().for_each(|k| *k = Kind::Object);
        if let Some(i) = e.versions.iter().position(|v| v.key == kinds) {
            return Some(i);
        }
        if e.versions.len() > jit.options.max_versions {
            return None;
        }
    }
    // SAFETY: live frame and thread state (GIL held).
    match unsafe { build_version(jit, e, ts, frame, Start::Call, kinds) } {
        Ok(version) => {
            if e.versions.is_empty() {
                jit.stats.functions_compiled += 1;
            }
            if e.bind_rec > 0 {
                let backend = e.backend;
                for site in &version.tables.direct_sites {
                    // SAFETY: the caller's constant pool keeps each callee alive.
                    unsafe { bind_code(site.callee, backend, e.bind_rec - 1) };
                }
            }
            e.versions.push(version);
            Some(e.versions.len() - 1)
        }
        Err((why, kinds)) => {
            // Code that is mostly generic for these kinds may be worth compiling for others
            // (ints, floats): only this key is declined, up to a few keys.
            if why.0 == frontend::MOSTLY_GENERIC && e.declined_keys.len() < MAX_DECLINED_KEYS {
                e.declined_checks.push(ArgCheck::all(&kinds));
                e.declined_keys.push(kinds);
            } else {
                e.declined = Some(why.0);
            }
            None
        }
    }
}

/// Why code that `setfilter()`'s predicate turned down runs interpreted.
/// Why code is not compiled once `memorymax` is reached.
pub const MEMORY_MAX: &str = "memorymax reached";

/// `qualname (file:line)` of a code object, for the log.
fn code_name(code: *mut cpython::PyCodeObject) -> String {
    // SAFETY: entries' code objects are live.
    unsafe {
        let c = &*code;
        format!("{} ({}:{})", crate::version::str_of(c.co_qualname), crate::version::str_of(c.co_filename), c.co_firstlineno)
    }
}

pub const FILTERED: &str = "setfilter() predicate said no";

/// Asks `setfilter()`'s predicate about `code` (code it calls runs interpreted meanwhile); an
/// exception in it is reported as unraisable and counts as "no".
unsafe fn filter_accepts(jit: &mut Jit, code: *mut cpython::PyCodeObject) -> bool {
    // SAFETY: GIL held; `jit.filter` is an owned callable and `code` a live code object.
    unsafe {
        let filter = jit.filter;
        ffi::Py_INCREF(filter);
        jit.in_filter = true;
        let result = ffi::PyObject_CallOneArg(filter, code as *mut PyObject);
        let jit = self::jit();
        jit.in_filter = false;
        ffi::Py_DECREF(filter);
        if result.is_null() {
            ffi::PyErr_WriteUnraisable(filter);
            return false;
        }
        let yes = ffi::PyObject_IsTrue(result);
        ffi::Py_DECREF(result);
        if yes < 0 {
            ffi::PyErr_WriteUnraisable(filter);
        }
        yes == 1
    }
}

/// Records an event for `psyco.log()` (only while a log is open).
pub fn log_event(jit: &mut Jit, what: impl FnOnce() -> String) {
    const MAX_EVENTS: usize = 100_000;
    if jit.log_events && jit.events.len() < MAX_EVENTS {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        jit.events.push((now, what()));
    }
}

/// Live bytes of compiled code and side tables.
pub fn live_bytes(jit: &Jit) -> usize {
    jit.stats.code_bytes - jit.stats.code_bytes_freed
}

/// Compiles the frame's code to start at `start` for these entry kinds, counting it (or why
/// it was declined) in the statistics.
unsafe fn build_version(
    jit: &mut Jit,
    e: &CodeEntry,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
    start: Start,
    kinds: Vec<Kind>,
) -> Result<Box<Version>, (frontend::Decline, Vec<Kind>)> {
    let began = Instant::now();
    // SAFETY: live frame and thread state (GIL held).
    let req = unsafe {
        CompileRequest {
            code: (*frame).f_code,
            globals: (*frame).f_globals,
            builtins: (*frame).f_builtins,
            eval_breaker: std::ptr::addr_of_mut!((*(*ts).interp).eval_breaker) as u64,
            start,
            entry_kinds: kinds,
            decline_generic: jit.options.decline_generic && !e.bound,
            free_kinds: free_kinds(frame),
            verify: jit.options.verify,
        }
    };
    // SAFETY: checking the dict types of the live frame.
    let exact_dicts = unsafe { ffi::PyDict_CheckExact(req.globals) != 0 && ffi::PyDict_CheckExact(req.builtins) != 0 };
    // A bug in the compiler must not take the interpreter down: it declines instead.
    let backend = e.backend.unwrap_or(jit.options.backend);
    let mut cost = frontend::CompileCost::default();
    let mut backend_began = None;
    let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if !exact_dicts {
            return Err(frontend::Decline("globals or builtins are not dicts".into()));
        }
        let output = frontend::compile(&req, &mut cost)?;
        backend_began = Some(Instant::now());
        let code = backend.compile(&output.func).map_err(|e| frontend::Decline(format!("backend: {e}")))?;
        Ok((output, code))
    }));
    let result = compiled.unwrap_or_else(|_| Err(frontend::Decline("internal error (compiler panic)".into())));
    let ended = Instant::now();
    let spent = |from: Instant, to: Instant| to.saturating_duration_since(from).as_nanos() as u64;
    let front_end = spent(began, backend_began.unwrap_or(ended));
    let phases = &mut jit.stats.compile;
    phases.verify_ns += cost.verify_ns;
    phases.frontend_ns += front_end - cost.verify_ns.min(front_end);
    phases.backend_ns += backend_began.map_or(0, |b| spent(b, ended));
    phases.rounds += cost.rounds as u64;
    phases.attempts += 1;
    e.compile_ns.set(e.compile_ns.get() + spent(began, ended));
    let (output, code) = match result {
        Ok(compiled) => compiled,
        Err(why) => {
            jit.stats.compile.declined_ns += spent(began, ended);
            jit.stats.declined(&why.0);
            log_event(jit, || format!("declined {}: {}", code_name(e.code), why.0));
            return Err((why, req.entry_kinds));
        }
    };
    let instructions = output.instructions as u64;
    let version = Version {
        entry: code.entry(),
        start,
        arg_checks: ArgCheck::all(&req.entry_kinds),
        key: req.entry_kinds,
        globals: req.globals,
        builtins: req.builtins,
        exit_buffer: vec![0; code.exit_buffer_len()],
        exit_counts: vec![0; output.func.snapshots.len()],
        eval_breaker: req.eval_breaker,
        decline_generic: req.decline_generic,
        free_kinds: req.free_kinds,
        snapshots: output.func.snapshots,
        code,
        backend: backend.name(),
        tables: output.tables,
    };
    if jit.options.memory_max.is_some_and(|max| live_bytes(jit) + version.bytes() > max) {
        // Keeping this code would pass `memorymax`: free everything instead (now, or once no
        // compiled code runs) and compile nothing more.
        jit.limit_reached = Some("memorymax");
        jit.drop_pending = true;
        jit.mode = Mode::Stopped;
        let live = live_bytes(jit);
        log_event(jit, || format!("memorymax reached ({live} bytes live): freeing all compiled code, compiling nothing more"));
        drop_code_if_idle(jit);
        return Err((frontend::Decline(MEMORY_MAX.into()), version.key));
    }
    jit.stats.instructions_compiled += instructions;
    match start {
        Start::Call => jit.stats.versions_compiled += 1,
        Start::Resume { .. } => jit.stats.continuations_compiled += 1,
    }
    jit.stats.code_bytes += version.bytes();
    log_event(jit, || {
        let kinds = version.key.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ");
        let at = match start {
            Start::Call => String::new(),
            Start::Resume { pc, .. } => format!(" continuing at offset {}", 2 * pc),
        };
        format!("compiled {}{at} for ({kinds}) with {}: {} bytes in {} us", code_name(e.code), backend.name(), version.bytes(), began.elapsed().as_micros())
    });
    if jit.options.memory_stop.is_some_and(|stop| live_bytes(jit) >= stop) && jit.mode != Mode::Off {
        jit.limit_reached = Some("memory");
        jit.mode = Mode::Stopped;
        let live = live_bytes(jit);
        log_event(jit, || format!("memory limit reached ({live} bytes live): compiling nothing more"));
    }
    Ok(Box::new(version))
}

/// Version `index` of `e` (boxed: the address stays valid while the list grows).
#[inline(always)]
unsafe fn version_at(e: *mut CodeEntry, index: usize) -> *mut Version {
    // SAFETY: the caller found `index` in the live entry's list.
    unsafe { &mut **(*e).versions.as_mut_ptr().add(index) }
}

/// Runs `version` of `e` on `frame` for the hook, keeping the code alive meanwhile.
#[inline(always)]
unsafe fn run_version(jit: &mut Jit, e: *mut CodeEntry, version: *mut Version, ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: versions are not freed while `active_native > 0`.
    unsafe {
        jit.active_native += 1;
        let result = run_and_finish(e, version, ts, frame);
        // Re-borrow: compiled code and the interpreter may have run psyco recursively.
        let jit = self::jit();
        jit.active_native -= 1;
        drop_code_if_idle(jit);
        result
    }
}

/// Runs `version` on `frame`. When the compiled code leaves, the frame goes on in a
/// continuation version or in the interpreter, which finishes the call.
///
/// # Safety
/// GIL held; `version` live and kept so by `active_native > 0`.
#[inline(always)]
unsafe fn run_and_finish(e: *mut CodeEntry, version: *mut Version, ts: *mut ThreadState, frame: *mut InterpreterFrame) -> *mut PyObject {
    // SAFETY: per the contract.
    unsafe {
        let outcome = run_native(e, version, ts, frame);
        if outcome.exit == 0 {
            outcome.value as *mut PyObject
        } else {
            after_exit(e, version, (outcome.exit - 1) as usize, ts, frame)
        }
    }
}

/// One activation of compiled code on `frame`.
#[inline(always)]
unsafe fn run_native(e: *mut CodeEntry, version: *mut Version, ts: *mut ThreadState, frame: *mut InterpreterFrame) -> ir::Outcome {
    // SAFETY: per `run_and_finish`.
    unsafe {
        (*e).native_entries += 1;
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

/// Exits after which the frame may continue in a version compiled for what it now holds:
/// a guard on a kind or a value failed, and the rest of the code deserves specializing
/// again (an int that outgrew a machine word, a global that was rebound).
const CONTINUED_EXITS: [&str; 4] = ["int_overflow", "int_shift", "global_changed", "kind_changed"];

/// Compiled code left `frame` through `snapshot` of `version`: count it, rebuild the frame,
/// and finish the call, in continuation versions while there are fitting ones, then in the
/// interpreter.
#[cold]
unsafe fn after_exit(
    e: *mut CodeEntry,
    mut version: *mut Version,
    mut snapshot: usize,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
) -> *mut PyObject {
    // SAFETY: the version just ran on this frame; GIL held; `active_native > 0` keeps every
    // version alive.
    unsafe {
        loop {
            let jit = jit();
            let v = &mut *version;
            v.exit_counts[snapshot] += 1;
            let (reason, kind) = v.exit_reason(snapshot);
            *(*e).exits.entry(reason.to_string()).or_insert(0) += 1;
            jit.stats.exit(reason);
            let continued = kind == ExitKind::Resume && CONTINUED_EXITS.contains(&reason);
            let snap_pc = v.snapshots[snapshot].pc;
            let depth = v.snapshots[snapshot].stack_depth;
            let raise = leave(v, snapshot, frame) || kind == ExitKind::Raise;
            // A continuation that left where it started made no progress: running it (or
            // another) again could go round forever, so the interpreter takes over.
            let progressed = v.start != (Start::Resume { pc: snap_pc, depth });
            let next = if continued && !raise && progressed { continuation(jit, e, ts, frame, snap_pc, depth) } else { None };
            let Some(next) = next else {
                return run_default(ts, frame, raise as c_int);
            };
            version = next;
            // Compiled code keeps the frame's stack to itself (as in a call it runs from the
            // start): the interpreter must not see those entries, nor release them on return.
            (*frame).stacktop = (*(*frame).f_code).co_nlocalsplus;
            let outcome = run_native(e, version, ts, frame);
            if outcome.exit == 0 {
                return outcome.value as *mut PyObject;
            }
            snapshot = (outcome.exit - 1) as usize;
        }
    }
}

/// The continuation version for `frame`, rebuilt to resume at `pc` with `depth` stack
/// entries: one that accepts what the frame holds, else one compiled now (at most
/// `max_versions` per offset, then one generic version), if compiled code may run.
unsafe fn continuation(
    jit: &mut Jit,
    e: *mut CodeEntry,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
    pc: u32,
    depth: u32,
) -> Option<*mut Version> {
    // SAFETY: the frame was just rebuilt; its first `nlocals + depth` slots are live.
    unsafe {
        if jit.mode == Mode::Off || !thread_allows_compiled(ts) {
            return None;
        }
        let entry = &mut *e;
        let nlocals = (*(*frame).f_code).co_nlocalsplus as usize;
        let kinds: Vec<Kind> = (0..nlocals + depth as usize)
            .map(|i| {
                let obj = *cpython::frame_slot(frame, i);
                match (obj.is_null(), arg_kind(obj)) {
                    (true, _) => Kind::Bottom,
                    // The frame owns its stack entries: they stay objects.
                    (false, k) if i >= nlocals => k.type_tag().map_or(Kind::Object, Kind::Exact),
                    (false, k) => k,
                }
            })
            .collect();
        let start = Start::Resume { pc, depth };
        let (globals, builtins) = ((*frame).f_globals, (*frame).f_builtins);
        let fits = |v: &Version| v.start == start && v.globals == globals && v.builtins == builtins && accepts_slots(&v.key, &kinds);
        if let Some(v) = entry.continuations.iter_mut().find(|v| fits(v)) {
            return Some(&mut **v);
        }
        if !matches!(jit.mode, Mode::Compiling { .. }) || entry.continuations_declined.contains(&pc) {
            return None;
        }
        let here = entry.continuations.iter().filter(|v| v.start == start).count();
        let kinds = if here < jit.options.max_versions {
            kinds
        } else if here == jit.options.max_versions {
            // Past the cap, one generic version: every slot any object or NULL.
            vec![Kind::Object; kinds.len()]
        } else {
            return None;
        };
        match build_version(jit, entry, ts, frame, start, kinds) {
            Ok(version) => {
                entry.continuations.push(version);
                entry.continuations.last_mut().map(|v| &mut **v as *mut Version)
            }
            Err(_) => {
                entry.continuations_declined.push(pc);
                None
            }
        }
    }
}

/// Whether a continuation made for slot kinds `key` accepts a frame whose slots hold
/// `actual` (`Bottom`: NULL; a key's `Object` takes anything, NULL included).
fn accepts_slots(key: &[Kind], actual: &[Kind]) -> bool {
    key.iter().zip(actual).all(|(&k, &a)| match (k, a) {
        (Kind::Object, _) => true,
        (Kind::Bottom, a) => a == Kind::Bottom,
        (_, Kind::Bottom) => false,
        (k, a) => k == a || a.le(k),
    })
}

/// Rebuilds the frame as the interpreter expects it at a snapshot. Returns true if building
/// an object failed (an exception is then pending and the frame must take the raise path).
unsafe fn leave(version: *mut Version, snapshot: usize, frame: *mut InterpreterFrame) -> bool {
    // SAFETY: the version is live; the frame is the one the compiled code ran on.
    unsafe {
        let v = &*version;
        let snap = &v.snapshots[snapshot];
        let values: Vec<u64> = v.exit_buffer[..snap.exit_values().count()].to_vec();
        let code = (*frame).f_code;
        let nlocals = (*code).co_nlocalsplus as usize;
        let mut failed = false;
        // Building objects (a range iterator calls `range()`) must not see the exception a
        // raise exit carries: set it aside meanwhile.
        let (mut ty, mut value, mut tb) = (null_mut(), null_mut(), null_mut());
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        let mut next = values.into_iter();
        // One number held in several slots becomes one object, as it was in CPython.
        let mut built: Vec<(Kind, u64, *mut PyObject)> = Vec::new();
        for entry in &snap.entries {
            let mut word = || next.next().unwrap_or(0);
            let scalar = matches!(entry.kind, Kind::MachineInt | Kind::UnboxedFloat | Kind::MachineBool);
            if scalar {
                let bits = word();
                let obj = match built.iter().find(|(k, b, _)| *k == entry.kind && *b == bits) {
                    Some(&(_, _, obj)) => {
                        ffi::Py_INCREF(obj);
                        obj
                    }
                    None => {
                        let obj = match entry.kind {
                            Kind::MachineInt => ffi::PyLong_FromLongLong(bits as i64),
                            Kind::UnboxedFloat => ffi::PyFloat_FromDouble(f64::from_bits(bits)),
                            _ => ffi::PyBool_FromLong(bits as _),
                        };
                        if !obj.is_null() {
                            built.push((entry.kind, bits, obj));
                        }
                        obj
                    }
                };
                failed |= store_rebuilt(frame, nlocals, entry.slot as usize, obj);
                continue;
            }
            let obj = match entry.kind {
                Kind::IntConst(c) => ffi::PyLong_FromLongLong(c),
                Kind::FloatConst(bits) => ffi::PyFloat_FromDouble(f64::from_bits(bits)),
                Kind::BoolConst(b) => ffi::PyBool_FromLong(b as _),
                Kind::ObjConst(_, id) => {
                    let o = v.tables.consts.get(id);
                    ffi::Py_INCREF(o);
                    o
                }
                Kind::VirtualRangeIter => {
                    let (a, b, c) = (word() as i64, word() as i64, word() as i64);
                    crate::helpers::range_iterator(a, b, c)
                }
                Kind::Exact(_) | Kind::Object => word() as *mut PyObject,
                Kind::MachineInt | Kind::UnboxedFloat | Kind::MachineBool => unreachable!("handled above"),
                Kind::Bottom => null_mut(),
            };
            if entry.kind == Kind::Bottom {
                *cpython::frame_slot(frame, entry.slot as usize) = null_mut();
            } else {
                failed |= store_rebuilt(frame, nlocals, entry.slot as usize, obj);
            }
        }
        if failed {
            // The failure's own exception (MemoryError) wins, as it would have in the
            // interpreter had it happened first.
            ffi::Py_XDECREF(ty);
            ffi::Py_XDECREF(value);
            ffi::Py_XDECREF(tb);
        } else {
            ffi::PyErr_Restore(ty, value, tb);
        }
        (*frame).stacktop = (nlocals + snap.stack_depth as usize) as c_int;
        let first = (*code).co_code_adaptive.as_mut_ptr();
        (*frame).prev_instr = match snap.kind {
            ExitKind::Resume => first.add(snap.pc as usize).offset(-1),
            ExitKind::Raise => first.add(snap.pc as usize),
        };
        failed
    }
}

/// Stores a rebuilt object (a new reference, or NULL if building failed, in which case None
/// stands in and `true` is returned) into a frame slot, releasing what a local slot held.
unsafe fn store_rebuilt(frame: *mut InterpreterFrame, nlocals: usize, slot: usize, obj: *mut PyObject) -> bool {
    // SAFETY: the slot belongs to the frame being rebuilt; locals own their old value.
    unsafe {
        let failed = obj.is_null();
        let obj = if failed {
            ffi::Py_INCREF(ffi::Py_None());
            ffi::Py_None()
        } else {
            obj
        };
        let p = cpython::frame_slot(frame, slot);
        if slot < nlocals {
            let old = *p;
            *p = obj;
            ffi::Py_XDECREF(old);
        } else {
            *p = obj;
        }
        failed
    }
}

/// Per-code counters for `stats()`.
pub fn code_stats(jit: &Jit) -> Vec<stats::CodeStats> {
    jit.entries
        .iter()
        .map(|&e| {
            // SAFETY: registered entries are live; their code objects too.
            let e = unsafe { &*e };
            stats::CodeStats::of(e)
        })
        .collect()
}
