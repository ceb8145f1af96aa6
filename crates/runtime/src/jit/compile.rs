//! Compiling a version for a frame: the `setfilter()` predicate, the version cap, the memory
//! limits, the statistics and the events `psyco.log()` shows.

use crate::cpython::{self, ffi, ffi::PyObject, InterpreterFrame, ThreadState};
use crate::frontend::{self, CompileRequest, Start};
use crate::jit::code_cache::{arg_kind, ArgCheck, CodeEntry, Version};
use crate::jit::side_tables::VersionKey;
use crate::jit::state::{jit, Jit, Mode};
use crate::reasons::DeclineReason;
use ir::Kind;
use std::time::Instant;

/// How many times a code object's versions are retired to be compiled again with their
/// sites' profiles (`ExitReason::Reoptimize`): once the loops that profiled have run.
const MAX_REOPTIMIZATIONS: u32 = 1;

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

/// Compiles a version for these argument kinds (or the generic one past the cap).
pub(super) unsafe fn compile_version(
    jit: &mut Jit,
    e: &mut CodeEntry,
    ts: *mut ThreadState,
    frame: *mut InterpreterFrame,
    mut kinds: Vec<Kind>,
) -> Option<VersionKey> {
    if jit.in_filter {
        return None;
    }
    if !e.filtered {
        e.filtered = true;
        // SAFETY: GIL held; the filter is a live callable.
        if !jit.filter.is_null() && !unsafe { filter_accepts(jit, e.code) } {
            jit.stats.declined(DeclineReason::Filtered);
            e.declined = Some(DeclineReason::Filtered.into());
            return None;
        }
    }
    if e.versions.len() >= jit.options.max_versions {
        // Past the cap one generic version, keyed on nothing, serves every call.
        kinds.iter_mut().for_each(|k| *k = Kind::Object);
        if let Some(&k) = e.versions.iter().find(|&&k| jit.cache.version(k).is_some_and(|v| v.key == kinds)) {
            return Some(k);
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
                // (A site that learns its callee at its first call has none yet.)
                for site in version.tables.direct_sites.iter().filter(|site| !site.callee.is_null()) {
                    // SAFETY: the caller's constant pool keeps each callee alive.
                    unsafe { jit.cache.bind(site.callee, backend, e.bind_rec - 1) };
                }
            }
            Some(jit.cache.add_version(e, version, false))
        }
        Err((why, kinds)) => {
            // Code that is mostly generic for these kinds may be worth compiling for others
            // (ints, floats): only this key is declined, up to a few keys.
            if !(why.reason.key_only() && e.decline_key(kinds)) {
                e.declined = Some(why);
            }
            None
        }
    }
}

/// `qualname (file:line)` of a code object, for the log.
fn code_name(code: *mut cpython::PyCodeObject) -> String {
    // SAFETY: entries' code objects are live.
    unsafe {
        let c = &*code;
        format!("{} ({}:{})", cpython::str_of(c.co_qualname), cpython::str_of(c.co_filename), c.co_firstlineno)
    }
}

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
pub(super) unsafe fn build_version(
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
            profiles: Some(&e.profiles),
            may_reoptimize: e.reoptimized < MAX_REOPTIMIZATIONS,
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
            return Err(frontend::Decline::from(DeclineReason::NotDicts));
        }
        let output = frontend::compile(&req, &mut cost)?;
        backend_began = Some(Instant::now());
        let code = backend
            .compile(&output.func)
            .map_err(|e| frontend::Decline { reason: DeclineReason::Backend, detail: Some(e.to_string()) })?;
        Ok((output, code))
    }));
    let result = compiled.unwrap_or_else(|_| Err(DeclineReason::CompilerPanic.into()));
    let ended = Instant::now();
    let spent = |from: Instant, to: Instant| to.saturating_duration_since(from).as_nanos() as u64;
    let front_end = spent(began, backend_began.unwrap_or(ended));
    let phases = &mut jit.stats.compile;
    phases.verify_ns += cost.verify_ns;
    phases.frontend_ns += front_end.saturating_sub(cost.verify_ns);
    phases.backend_ns += backend_began.map_or(0, |b| spent(b, ended));
    phases.rounds += cost.rounds as u64;
    phases.attempts += 1;
    e.compile_ns.set(e.compile_ns.get() + spent(began, ended));
    let (output, code) = match result {
        Ok(compiled) => compiled,
        Err(why) => {
            jit.stats.compile.declined_ns += spent(began, ended);
            jit.stats.declined(why.reason);
            log_event(jit, || format!("declined {}: {why}", code_name(e.code)));
            return Err((why, req.entry_kinds));
        }
    };
    let instructions = output.instructions as u64;
    let version = Version {
        // Set when the cache links the version to its entry.
        owner: std::ptr::null_mut(),
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
        may_reoptimize: req.may_reoptimize,
        free_kinds: req.free_kinds,
        snapshots: output.func.snapshots,
        exit_reasons: output.exit_reasons,
        code,
        backend: backend.name(),
        tables: output.tables,
    };
    if jit.options.memory_max.is_some_and(|max| live_bytes(jit) + version.bytes() > max) {
        // Keeping this code would pass `memorymax`: free everything instead (now, or once no
        // compiled code runs; it is not entered again) and compile nothing more.
        jit.limit_reached = Some("memorymax");
        jit.mode = Mode::Stopped;
        let live = live_bytes(jit);
        log_event(jit, || format!("memorymax reached ({live} bytes live): freeing all compiled code, compiling nothing more"));
        jit.cache.drop_all(&mut jit.stats);
        return Err((DeclineReason::MemoryMax.into(), version.key));
    }
    jit.stats.instructions_compiled += instructions;
    e.instructions_compiled.set(e.instructions_compiled.get() + instructions);
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
