//! What psyco keeps per code object: its [`CodeEntry`] (in the code's `co_extra` slot) with
//! the compiled [`Version`]s, the argument checks that select one, binding and releasing code,
//! and freeing compiled code.

use crate::cpython::{self, ffi, ffi::PyObject};
use crate::frontend;
use crate::jit::side_tables::SideTables;
use crate::jit::state::{jit, Jit};
use crate::policy::{self, CodeShape};
use crate::stats;
use backend_x86::CompiledCode;
use ir::{ExitKind, Kind, Snapshot, TypeTag};
use std::collections::HashMap;
use std::os::raw::c_void;
use std::ptr::null_mut;

/// Frees every compiled version once no compiled code is running.
#[inline]
pub(super) fn drop_code_if_idle(jit: &mut Jit) {
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

pub(super) unsafe extern "C" fn free_code_entry(p: *mut c_void) {
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
pub(super) unsafe fn entry_for(jit: &mut Jit, code: *mut cpython::PyCodeObject, create: bool) -> *mut CodeEntry {
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
pub(super) unsafe fn arg_kind(obj: *mut PyObject) -> Kind {
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

/// One argument of a version key as the hook checks it on every call, without computing the
/// argument's kind: any object (or NULL), or an object of exactly type `ty` — for machine
/// ints also at most two digits, which certainly fits a word. A check that fails only means
/// "ask the full selection".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgCheck {
    /// NULL: any object passes (if `any`), or none does.
    ty: *mut ffi::PyTypeObject,
    any: bool,
    small_int: bool,
}

impl ArgCheck {
    pub fn of(kind: Kind) -> ArgCheck {
        let exactly = |ty: *mut ffi::PyTypeObject| ArgCheck { ty, any: false, small_int: false };
        match kind {
            Kind::Object => ArgCheck { ty: std::ptr::null_mut(), any: true, small_int: false },
            Kind::MachineInt => ArgCheck { small_int: true, ..exactly(frontend::type_of_tag(TypeTag::Int)) },
            Kind::UnboxedFloat => exactly(frontend::type_of_tag(TypeTag::Float)),
            Kind::MachineBool => exactly(frontend::type_of_tag(TypeTag::Bool)),
            Kind::Exact(t) => exactly(frontend::type_of_tag(t)),
            _ => exactly(std::ptr::null_mut()),
        }
    }

    pub fn all(key: &[Kind]) -> Box<[ArgCheck]> {
        key.iter().map(|&k| ArgCheck::of(k)).collect()
    }

    /// Whether `obj` (an argument, or NULL) certainly has a kind the key accepts.
    ///
    /// # Safety
    /// `obj` is NULL or a live object.
    #[inline]
    pub unsafe fn passes(self, obj: *mut PyObject) -> bool {
        if self.any {
            return true;
        }
        // SAFETY: per the contract.
        unsafe {
            !obj.is_null()
                && ffi::Py_TYPE(obj) == self.ty
                && (!self.small_int || (*(obj as *mut ffi::PyVarObject)).ob_size.unsigned_abs() <= 2)
        }
    }
}

/// One compiled version of a code object.
pub struct Version {
    /// `code`'s entry point (cached: every call runs it).
    pub entry: backend_x86::EntryFn,
    /// Where it starts, and the kinds it was made for (see [`frontend::Start`]).
    pub start: frontend::Start,
    pub key: Vec<Kind>,
    /// `key`, as the hook checks it on every call.
    pub arg_checks: Box<[ArgCheck]>,
    pub globals: *mut PyObject,
    pub builtins: *mut PyObject,
    pub code: CompiledCode,
    /// The backend that made `code`.
    pub backend: &'static str,
    pub tables: SideTables,
    /// The IR's snapshots: how to rebuild the frame at each exit.
    pub snapshots: Vec<Snapshot>,
    /// Exits taken, per snapshot.
    pub exit_counts: Vec<u64>,
    pub exit_buffer: Vec<u64>,
    /// Address of the interpreter's eval breaker the code polls (to rebuild its IR).
    pub eval_breaker: u64,
    pub decline_generic: bool,
    /// The request's free-variable kinds (see `CompileRequest::free_kinds`).
    pub free_kinds: Vec<Kind>,
}

impl Version {
    pub fn bytes(&self) -> usize {
        self.code.code_size()
            + self.tables.bytes()
            + self.exit_buffer.len() * 8
            + self.snapshots.iter().map(|s| 64 + s.entries.len() * 48).sum::<usize>()
    }

    pub fn exit_reason(&self, snapshot: usize) -> (&str, ExitKind) {
        let s = &self.snapshots[snapshot];
        (&s.reason, s.kind)
    }
}

/// What psyco keeps per code object (in its `co_extra` slot).
pub struct CodeEntry {
    /// The code object (borrowed: the entry dies with it).
    pub code: *mut cpython::PyCodeObject,
    /// What the compilation policy knows of the code.
    pub shape: CodeShape,
    pub calls: u64,
    /// `bind()` asked for this code to be compiled at its next call.
    pub bound: bool,
    /// The backend `bind()` chose for this code (else the JIT's).
    pub backend: Option<&'static dyn backend_x86::Backend>,
    /// Levels of callees `bind(rec=...)` binds along with this code when it is compiled.
    pub bind_rec: u32,
    /// `setfilter()`'s predicate was asked about this code.
    pub filtered: bool,
    pub declined: Option<String>,
    /// Argument kinds for which compiling was declined (the code may run compiled for others).
    pub declined_keys: Vec<Vec<Kind>>,
    /// `declined_keys`, as the hook checks them on every call.
    pub declined_checks: Vec<Box<[ArgCheck]>>,
    /// Versions entered by calls. Boxed so that a running version keeps its address while
    /// the list grows.
    pub versions: Vec<Box<Version>>,
    /// Versions that frames left by a failed guard continue in (entered mid-code).
    pub continuations: Vec<Box<Version>>,
    /// Offsets where compiling a continuation was declined (not tried again).
    pub continuations_declined: Vec<u32>,
    /// The version the last call ran (tried first: most call sites are monomorphic).
    pub last_used: usize,
    /// Entries into compiled code, and exits by reason, over all versions ever held.
    pub native_entries: u64,
    pub exits: HashMap<String, u64>,
    /// Time spent compiling this code (every attempt; a `Cell` because compiling borrows the
    /// entry shared).
    pub compile_ns: std::cell::Cell<u64>,
}

impl CodeEntry {
    pub fn new(code: *mut cpython::PyCodeObject) -> CodeEntry {
        CodeEntry {
            code,
            // SAFETY: entries are made for live code objects, with the GIL held.
            shape: unsafe { CodeShape::of(code) },
            calls: 0,
            bound: false,
            backend: None,
            bind_rec: 0,
            filtered: false,
            declined: None,
            declined_keys: Vec::new(),
            declined_checks: Vec::new(),
            versions: Vec::new(),
            continuations: Vec::new(),
            continuations_declined: Vec::new(),
            last_used: 0,
            native_entries: 0,
            exits: HashMap::new(),
            compile_ns: std::cell::Cell::new(0),
        }
    }

    /// Number of argument slots (the version key's length).
    pub fn nargs(&self, code: *mut cpython::PyCodeObject) -> usize {
        // SAFETY: `code` is this entry's live code object.
        let c = unsafe { &*code };
        let star = |flag| ((c.co_flags & flag) != 0) as usize;
        (c.co_argcount + c.co_kwonlyargcount) as usize + star(cpython::CO_VARARGS) + star(cpython::CO_VARKEYWORDS)
    }

    pub fn back_edges(&self) -> u64 {
        self.all_versions().map(|v| *v.tables.back_edges).sum()
    }

    /// This entry's counters, for `stats()`.
    pub fn stats(&self) -> stats::CodeStats {
        // SAFETY: the entry's code object is live while the entry is registered.
        let (name, filename, firstlineno) =
            unsafe { (cpython::str_of((*self.code).co_qualname), cpython::str_of((*self.code).co_filename), (*self.code).co_firstlineno) };
        stats::CodeStats {
            name,
            filename,
            firstlineno,
            calls: self.calls,
            native_entries: self.native_entries,
            back_edges: self.back_edges(),
            versions: self.versions.len(),
            continuations: self.continuations.len(),
            backends: {
                let mut names: Vec<&'static str> = self.all_versions().map(|v| v.backend).collect();
                names.sort_unstable();
                names.dedup();
                names
            },
            // A code object declined only for some argument kinds says why, too.
            declined: self.declined.clone().or_else(|| (!self.declined_keys.is_empty()).then(|| frontend::MOSTLY_GENERIC.to_string())),
            exits: self.exits.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            compile_ns: self.compile_ns.get(),
        }
    }

    /// Every version held: call entries, then continuations.
    pub fn all_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().chain(&self.continuations).map(|v| &**v)
    }
}

/// Version `index` of `e` (boxed: the address stays valid while the list grows).
#[inline(always)]
pub(super) unsafe fn version_at(e: *mut CodeEntry, index: usize) -> *mut Version {
    // SAFETY: the caller found `index` in the live entry's list.
    unsafe { &mut **(*e).versions.as_mut_ptr().add(index) }
}

/// Per-code counters for `stats()`.
pub fn code_stats(jit: &Jit) -> Vec<stats::CodeStats> {
    jit.entries
        .iter()
        .map(|&e| {
            // SAFETY: registered entries are live; their code objects too.
            let e = unsafe { &*e };
            e.stats()
        })
        .collect()
}
