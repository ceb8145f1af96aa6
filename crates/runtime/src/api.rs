//! The operations behind the `psyco` module's functions, for `pyext` to expose.
//!
//! Every function here must be called with the GIL held.
//!
//! psyco runs in the main interpreter only. CPython gives each interpreter its own
//! frame-evaluation hook and its own code-extra indices, yet shares some code objects
//! (the frozen standard library) between them, while psyco's state, holding objects of the
//! interpreter that compiled them, is one per process. In a subinterpreter, `enable` and
//! `bind` fail, the other changes do nothing (everything there runs interpreted, so it is
//! already stopped, disabled and unbound), and no code object shows compiled versions.

use crate::frontend::Start;
use crate::jit::compile;
use crate::jit::hook;
use crate::jit::state::{self, Mode};
use crate::reasons::DeclineReason;
use crate::stats::CodeStats;

/// `full()` / `bind()` mode switches. `backend` is a backend name; `all` compiles every
/// function that gets hot, otherwise only bound ones.
pub fn enable(all: bool, threshold: Option<u64>, backend: Option<&str>) -> Result<(), String> {
    if in_subinterpreter() {
        return Err(IN_SUBINTERPRETER.into());
    }
    crate::cpython::check_layout()?;
    // SAFETY: GIL held (this module's contract).
    let jit = unsafe { state::jit() };
    if let Some(name) = backend {
        jit.options.backend = backend_named(name)?;
    }
    if all {
        // `full()` with no PSYCO_THRESHOLD: the default policy.
        jit.options.threshold = threshold;
    }
    // PSYCO_DECLINE_GENERIC=0 compiles code even where the interpreter would run it faster
    // (used to exercise compiled paths in tests and in the CPython test-suite gate).
    jit.options.decline_generic = std::env::var("PSYCO_DECLINE_GENERIC").map_or(true, |v| v != "0");
    // PSYCO_VERIFY=1 runs the IR verifier on every compilation in release builds too (the
    // tests do; it costs as much as emitting the IR).
    jit.options.verify = cfg!(debug_assertions) || std::env::var("PSYCO_VERIFY").is_ok_and(|v| v == "1");
    jit.options.backend.prepare();
    let all = all || matches!(jit.mode, Mode::Compiling { all: true });
    // SAFETY: GIL held.
    unsafe { hook::set_mode(Mode::Compiling { all }) };
    Ok(())
}

const IN_SUBINTERPRETER: &str = "psyco runs only in the main interpreter";

/// Whether the calling thread runs a subinterpreter, where psyco stays off (see above).
pub fn in_subinterpreter() -> bool {
    // SAFETY: GIL held (this module's contract).
    unsafe { !crate::cpython::in_main_interpreter() }
}

/// The backend called `name`, or an error naming the valid ones.
fn backend_named(name: &str) -> Result<&'static dyn backend_x86::Backend, String> {
    backend_x86::backend_by_name(name)
        .ok_or_else(|| format!("unknown backend {name:?}; valid backends: {}", backend_x86::BACKEND_NAMES.join(", ")))
}

/// `stop()`: compile nothing more; compiled code keeps running.
pub fn stop() {
    // SAFETY: GIL held.
    unsafe {
        if !in_subinterpreter() && state::jit().mode != Mode::Off {
            hook::set_mode(Mode::Stopped);
        }
    }
}

/// `disable()`: remove the hook and drop all compiled code.
pub fn disable() {
    if !in_subinterpreter() {
        // SAFETY: GIL held.
        unsafe { hook::set_mode(Mode::Off) }
    }
}

/// Marks a code object for compilation at its next call, by `backend` if named (else by the
/// JIT's backend), with `rec` levels of its direct callees.
///
/// # Safety
/// `code` must be a live code object.
pub unsafe fn bind(code: *mut crate::cpython::PyCodeObject, backend: Option<&str>, rec: u32) -> Result<(), String> {
    if in_subinterpreter() {
        return Err(IN_SUBINTERPRETER.into());
    }
    let backend = backend.map(backend_named).transpose()?;
    // SAFETY: GIL held; `code` is live per the contract.
    if unsafe { !state::jit().cache.bind(code, backend, rec) } {
        return Err("could not attach psyco's data to the code object".into());
    }
    // SAFETY: GIL held.
    if unsafe { state::jit().mode } == Mode::Off {
        enable(false, None, None)?;
    }
    Ok(())
}

/// Whether the code object has compiled code (call versions or continuations).
///
/// # Safety
/// `code` must be a live code object.
pub unsafe fn is_compiled(code: *mut crate::cpython::PyCodeObject) -> bool {
    // SAFETY: GIL held; `code` is live per the contract.
    unsafe { state::jit().cache.entry_of(code) }.is_some_and(|e| !(e.versions.is_empty() && e.continuations.is_empty()))
}

/// The global counters and the per-code ones.
pub struct Report {
    pub mode: &'static str,
    pub backend: &'static str,
    pub threshold: Option<u64>,
    pub functions_compiled: u64,
    pub versions_compiled: u64,
    pub continuations_compiled: u64,
    pub versions_live: usize,
    pub instructions_compiled: u64,
    pub compile: crate::stats::CompileTime,
    pub code_bytes: usize,
    pub code_bytes_live: usize,
    pub declined: Vec<(String, u64)>,
    pub exits: Vec<(String, u64)>,
    pub codes: Vec<CodeStats>,
}

pub fn report() -> Report {
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    let live: Vec<_> = jit.cache.all_versions().map(|v| v.bytes()).collect();
    Report {
        mode: match jit.mode {
            Mode::Off => "off",
            Mode::Compiling { all: true } => "full",
            Mode::Compiling { all: false } => "bound",
            Mode::Stopped => "stopped",
        },
        backend: jit.options.backend.name(),
        threshold: jit.options.threshold,
        functions_compiled: jit.stats.functions_compiled,
        versions_compiled: jit.stats.versions_compiled,
        continuations_compiled: jit.stats.continuations_compiled,
        versions_live: live.len(),
        instructions_compiled: jit.stats.instructions_compiled,
        compile: jit.stats.compile,
        code_bytes: jit.stats.code_bytes,
        code_bytes_live: live.iter().sum(),
        declined: jit.stats.declined.iter().map(|(k, v)| (k.name().to_string(), *v)).collect(),
        exits: jit.stats.exits.iter().map(|(k, v)| (k.name().into_owned(), *v)).collect(),
        codes: jit.cache.code_stats(),
    }
}

/// Per version of a code object (continuations last): its entry kinds, IR text (with fake,
/// stable addresses if `stable_addresses`, as in the recorded benchmark corpus) and disassembly. The IR is not
/// kept with the code (memory): it is rebuilt here, as the front end made it.
///
/// # Safety
/// `code` must be a live code object.
pub unsafe fn versions_of(code: *mut crate::cpython::PyCodeObject, stable_addresses: bool) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    // SAFETY: GIL held; `code` is live per the contract.
    let cache = &unsafe { state::jit() }.cache;
    if let Some(entry) = unsafe { cache.entry_of(code) } {
        for v in cache.versions_of(entry) {
            let kinds = v.key.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ");
            let key = match v.start {
                Start::Call => kinds,
                Start::Resume { pc, depth } => format!("resume at {pc} (depth {depth}): {kinds}"),
            };
            let req = crate::frontend::CompileRequest {
                code,
                globals: v.globals,
                builtins: v.builtins,
                eval_breaker: v.eval_breaker,
                start: v.start,
                entry_kinds: v.key.clone(),
                decline_generic: v.decline_generic,
                free_kinds: v.free_kinds.clone(),
                verify: true,
                // (The profiles as they are now: sites seen since may compile otherwise.)
                profiles: Some(&entry.profiles),
                may_reoptimize: v.may_reoptimize,
            };
            let ir = match crate::frontend::compile(&req, &mut Default::default()) {
                Ok(output) if stable_addresses => ir::text::print(&ir::addresses::with_stable_addresses(&output.func)),
                Ok(output) => ir::text::print(&output.func),
                Err(why) => format!("; IR not rebuilt: {why}"),
            };
            out.push((key, ir, v.code.disassemble()));
        }
    }
    out
}

/// `unbind()` (`forever` false) or `cannotcompile()` (`forever` true) of a code object.
///
/// # Safety
/// `code` must be a live code object.
pub unsafe fn release(code: *mut crate::cpython::PyCodeObject, forever: bool) -> Result<(), String> {
    if in_subinterpreter() {
        return Ok(());
    }
    let reason = if forever { DeclineReason::CannotCompile } else { DeclineReason::Unbound };
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    // SAFETY: GIL held; `code` is live per the contract.
    if unsafe { jit.cache.release(code, reason, &mut jit.stats) } {
        Ok(())
    } else {
        Err("could not attach psyco's data to the code object".into())
    }
}

/// Installs `filter` (a new reference, or NULL for none) as `setfilter()`'s predicate and
/// gives back the previous one (a reference the caller now owns, or NULL). Not in a
/// subinterpreter: the filter would be that interpreter's object (`pyext` ignores the call).
pub fn swap_filter(filter: *mut crate::cpython::ffi::PyObject) -> *mut crate::cpython::ffi::PyObject {
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    std::mem::replace(&mut jit.filter, filter)
}

/// Memory limits in bytes of live code and side tables (see `state::Options`); clears the
/// record of a limit reached.
pub fn set_memory_limits(stop: Option<usize>, max: Option<usize>) {
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    jit.options.memory_stop = stop;
    jit.options.memory_max = max;
    jit.limit_reached = None;
}

/// Live bytes, and which memory limit stopped compilation (if one did).
pub fn memory() -> (usize, Option<&'static str>) {
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    (compile::live_bytes(jit), jit.limit_reached)
}

/// Starts or stops recording events for `psyco.log()`.
pub fn set_logging(on: bool) {
    // SAFETY: GIL held.
    unsafe { state::jit() }.log_events = on;
}

/// The events recorded since the last call (seconds since the epoch, text).
pub fn take_events() -> Vec<(f64, String)> {
    // SAFETY: GIL held.
    std::mem::take(&mut unsafe { state::jit() }.events)
}

/// Side exits taken from the code object's versions: (version number, reason, bytecode
/// offset in bytes, count), most taken first.
///
/// # Safety
/// `code` must be a live code object.
pub unsafe fn exit_sites(code: *mut crate::cpython::PyCodeObject) -> Vec<(usize, String, u32, u64)> {
    let mut out = Vec::new();
    // SAFETY: GIL held; `code` is live per the contract.
    let cache = &unsafe { state::jit() }.cache;
    if let Some(entry) = unsafe { cache.entry_of(code) } {
        for (i, v) in cache.versions_of(entry).enumerate() {
            for (snap, &count) in v.snapshots.iter().zip(&v.exit_counts) {
                if count > 0 {
                    out.push((i, snap.reason.to_string(), 2 * snap.pc, count));
                }
            }
        }
    }
    out.sort_by(|a, b| b.3.cmp(&a.3).then(a.2.cmp(&b.2)));
    out
}

/// Code objects that have compiled versions.
pub fn compiled_codes() -> Vec<*mut crate::cpython::PyCodeObject> {
    if in_subinterpreter() {
        // They are the main interpreter's objects.
        return Vec::new();
    }
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    jit.cache.entries().filter(|e| !e.versions.is_empty() || !e.continuations.is_empty()).map(|e| e.code).collect()
}

/// Why psyco runs the code object interpreted, if it decided so for every call.
///
/// # Safety
/// `code` must be a live code object.
pub unsafe fn declined_reason(code: *mut crate::cpython::PyCodeObject) -> Option<String> {
    // SAFETY: GIL held; `code` is live per the contract.
    unsafe { state::jit().cache.entry_of(code) }.and_then(|e| e.declined.as_ref().map(|d| d.to_string()))
}

/// Makes the calling thread compile nothing (`quiet`), or compile again: psyco's own
/// profiler threads are quiet, so that they do not spend the memory limits.
pub fn set_thread_quiet(quiet: bool) {
    if in_subinterpreter() {
        return;
    }
    // SAFETY: GIL held.
    let jit = unsafe { state::jit() };
    let ts = crate::cpython::thread_state();
    jit.quiet_threads.retain(|&t| t != ts);
    if quiet {
        jit.quiet_threads.push(ts);
    }
}
