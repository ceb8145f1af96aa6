//! The JIT's global state: options, mode, statistics and the code it holds, reached through
//! [`jit`] with the GIL held ([`GilCell`]).

use crate::cpython::{ffi::PyObject, ThreadState};
use crate::jit::code_cache::{CodeCache, CodeEntry};
use crate::stats::Stats;
use std::cell::UnsafeCell;
use std::os::raw::c_void;
use std::ptr::null_mut;

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
    /// Code entries and compiled versions.
    pub cache: CodeCache,
    pub stats: Stats,
    /// `setfilter()`'s predicate (an owned reference, or NULL), asked once per code object.
    pub filter: *mut PyObject,
    /// The filter is running: code it calls runs interpreted.
    pub(super) in_filter: bool,
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

/// The JIT state, for code that only compiled code reaches (direct calls): it exists then, so
/// this skips [`jit`]'s check, on the hottest path there is.
///
/// # Safety
/// As for [`jit`], and the state was created (compiled code exists only after it was).
#[inline(always)]
pub unsafe fn jit_of_compiled_code() -> &'static mut Jit {
    // SAFETY: per the contract, the slot holds the state.
    unsafe { JIT.get().as_mut().unwrap_unchecked() }
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
        cache: CodeCache::new(free_code_entry),
        stats: Stats::default(),
        filter: null_mut(),
        in_filter: false,
        limit_reached: None,
        quiet_threads: Vec::new(),
        bodies_importing: 0,
        log_events: false,
        events: Vec::new(),
    })
}

/// `co_extra`'s free function: CPython calls it with the GIL held when a code object dies.
unsafe extern "C" fn free_code_entry(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: GIL held; a non-NULL extra at psyco's index is one of the cache's entries.
    unsafe {
        let jit = jit();
        jit.cache.remove_entry(p as *mut CodeEntry, &mut jit.stats);
    }
}
