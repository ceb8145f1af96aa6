//! The code cache: what psyco keeps per code object (a [`CodeEntry`], whose address its
//! `co_extra` slot holds) and every compiled [`Version`], each in a slot map. A version's key
//! is generational: a direct call site holding the key of a version since freed finds nothing,
//! so freeing one code object's versions invalidates only the sites that cached them.
//!
//! **Invariant:** no version is freed while compiled code runs (`active_native > 0`): versions
//! unlinked then (`unbind()`, `disable()`, `memorymax`) wait in `retired` until none runs.
//! Unlinked versions are never entered again: call sites and `last_used` find nothing.

use crate::profile::Profiles;
use crate::cpython::{self, ffi, ffi::PyObject};
use crate::frontend;
use crate::jit::side_tables::{SideTables, VersionKey};
use crate::frontend::Decline;
use crate::policy::CodeShape;
use crate::reasons::{DeclineReason, ExitReason};
use crate::stats::{CodeStats, Stats};
use backend_x86::CompiledCode;
use ir::{ExitKind, Kind, Repr, Snapshot, TypeTag};
use slotmap::{Key, SlotMap};
use std::collections::HashMap;
use std::os::raw::c_void;
use std::ptr::null_mut;

slotmap::new_key_type! {
    /// A code object's entry in the cache.
    pub struct EntryKey;
}

pub struct CodeCache {
    /// Every code object's entry, boxed: its `co_extra` holds the address.
    entries: SlotMap<EntryKey, Box<CodeEntry>>,
    /// Every version, call entries and continuations alike, boxed: machine code embeds the
    /// addresses of its side tables.
    versions: SlotMap<VersionKey, Box<Version>>,
    /// Versions unlinked while compiled code ran, freed once none runs (still boxed: running
    /// code holds their addresses).
    #[allow(clippy::vec_box)]
    retired: Vec<Box<Version>>,
    /// The `co_extra` index the main interpreter gave psyco (negative until asked for, or if
    /// it had none left). Indices are per interpreter; psyco keeps entries only in the main one.
    extra_index: isize,
    /// The function CPython calls on an entry when its code object dies.
    free_entry: unsafe extern "C" fn(*mut c_void),
    /// Compiled activations currently on the C stack: no version is freed while > 0.
    pub(super) active_native: usize,
    /// `retired` is not empty.
    free_pending: bool,
}

impl CodeCache {
    pub fn new(free_entry: unsafe extern "C" fn(*mut c_void)) -> CodeCache {
        CodeCache {
            entries: SlotMap::with_key(),
            versions: SlotMap::with_key(),
            retired: Vec::new(),
            extra_index: -1,
            free_entry,
            active_native: 0,
            free_pending: false,
        }
    }

    /// The code object's entry (read from its `co_extra`), or NULL.
    ///
    /// # Safety
    /// GIL held; `code` a live code object.
    #[inline(always)]
    pub(super) unsafe fn entry_ptr(&self, code: *mut cpython::PyCodeObject) -> *mut CodeEntry {
        // SAFETY: per the contract; a non-NULL extra at our index is one of our entries.
        unsafe { cpython::code_extra(code, self.extra_index) as *mut CodeEntry }
    }

    /// The code object's entry, if psyco made one (for the API: none in a subinterpreter,
    /// where psyco's index may be another tool's).
    ///
    /// # Safety
    /// GIL held; `code` a live code object.
    pub unsafe fn entry_of(&self, code: *mut cpython::PyCodeObject) -> Option<&CodeEntry> {
        // SAFETY: per the contract; a registered entry lives as long as its code object.
        unsafe {
            if !cpython::in_main_interpreter() {
                return None;
            }
            self.entry_ptr(code).as_ref()
        }
    }

    /// Whether psyco has its `co_extra` index, asking the main interpreter for it the first
    /// time (entries are made only there).
    ///
    /// # Safety
    /// GIL held, in the main interpreter.
    unsafe fn has_extra_index(&mut self) -> bool {
        if self.extra_index < 0 {
            // SAFETY: exported API, called in the main interpreter with the GIL held; the
            // index is psyco's for that interpreter's lifetime (-1 if none is left).
            self.extra_index = unsafe { cpython::_PyEval_RequestCodeExtraIndex(self.free_entry) };
        }
        self.extra_index >= 0
    }

    /// The code object's entry, created if `create` (NULL if there is none, or it could not
    /// be stored: out of memory, no index, or not in the main interpreter).
    ///
    /// # Safety
    /// GIL held; `code` a live code object.
    pub(super) unsafe fn entry_for(&mut self, code: *mut cpython::PyCodeObject, create: bool) -> *mut CodeEntry {
        // SAFETY: per the contract.
        unsafe {
            let e = self.entry_ptr(code);
            if !e.is_null() || !create || !cpython::in_main_interpreter() || !self.has_extra_index() {
                return e;
            }
            let key = self.entries.insert_with_key(|key| Box::new(CodeEntry::new(key, code)));
            let e: *mut CodeEntry = &mut *self.entries[key];
            if !cpython::set_code_extra(code, self.extra_index, e as *mut c_void) {
                self.entries.remove(key);
                return null_mut();
            }
            e
        }
    }

    /// Removes the entry of a code object that is being freed, with its versions.
    ///
    /// # Safety
    /// GIL held; `e` one of this cache's entries (from `co_extra`).
    pub(super) unsafe fn remove_entry(&mut self, e: *mut CodeEntry, stats: &mut Stats) {
        // SAFETY: per the contract. None of its versions runs: a running version's frame
        // holds the code object.
        let entry = unsafe { self.entries.remove((*e).key) };
        if let Some(mut entry) = entry {
            let mut garbage = Vec::new();
            unlink(&mut self.versions, &mut entry, &mut garbage);
            free(garbage, stats);
        }
    }

    /// A live version by key (`None` once it was freed).
    #[inline(always)]
    pub fn version(&self, key: VersionKey) -> Option<&Version> {
        self.versions.get(key).map(|v| &**v)
    }

    /// A live version's address (kept while it is linked, and while it runs after that).
    #[inline(always)]
    pub(super) fn version_ptr(&mut self, key: VersionKey) -> Option<*mut Version> {
        self.versions.get_mut(key).map(|v| &mut **v as *mut Version)
    }

    /// Links a new version into `e`'s call versions (or its continuations).
    pub(super) fn add_version(&mut self, e: &mut CodeEntry, mut version: Box<Version>, continuation: bool) -> VersionKey {
        version.owner = e;
        let key = self.versions.insert(version);
        if continuation { e.continuations.push(key) } else { e.versions.push(key) }
        key
    }

    /// Unlinks the version at `version`, one of `e`'s: neither calls nor exits find it again,
    /// and it is freed once no compiled code runs.
    pub(super) fn retire(&mut self, e: &mut CodeEntry, version: *const Version) {
        let versions = &mut self.versions;
        for linked in [&mut e.versions, &mut e.continuations] {
            if let Some(i) = linked.iter().position(|&k| versions.get(k).is_some_and(|v| std::ptr::eq(&**v, version))) {
                if let Some(v) = versions.remove(linked.remove(i)) {
                    e.retired_back_edges += *v.tables.back_edges;
                    self.retired.push(v);
                }
            }
        }
        self.free_pending = true;
    }

    /// Every version of `e`: call entries, then continuations.
    pub fn versions_of<'a>(&'a self, e: &'a CodeEntry) -> impl Iterator<Item = &'a Version> {
        e.versions.iter().chain(&e.continuations).filter_map(|&k| self.version(k))
    }

    /// Every entry.
    pub fn entries(&self) -> impl Iterator<Item = &CodeEntry> {
        self.entries.values().map(|e| &**e)
    }

    /// Every version not freed yet (retired ones included), for the memory report.
    pub fn all_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.values().chain(&self.retired).map(|v| &**v)
    }

    /// Frees what waits to be freed, once no compiled code runs.
    #[inline]
    pub(super) fn free_if_idle(&mut self, stats: &mut Stats) {
        if self.free_pending && self.active_native == 0 {
            self.free_now(stats);
        }
    }

    /// Unlinks every version (code is compiled afresh from the next calls on, if at all) and
    /// frees them now if no compiled code runs, else once none does.
    pub(super) fn drop_all(&mut self, stats: &mut Stats) {
        for e in self.entries.values_mut() {
            unlink(&mut self.versions, e, &mut self.retired);
            e.continuations_declined.clear();
            e.calls = 0;
        }
        self.free_pending = true;
        self.free_if_idle(stats);
    }

    #[cold]
    fn free_now(&mut self, stats: &mut Stats) {
        let garbage = std::mem::take(&mut self.retired);
        self.free_pending = false;
        free(garbage, stats);
    }

    /// Marks a code object to be compiled at its next call, whatever the threshold, by
    /// `backend` if given, binding `rec` levels of the Python functions it calls directly
    /// along with it. False if CPython could not store its entry.
    ///
    /// # Safety
    /// GIL held; `code` a live code object.
    pub unsafe fn bind(&mut self, code: *mut cpython::PyCodeObject, backend: Option<&'static dyn backend_x86::Backend>, rec: u32) -> bool {
        // SAFETY: per the contract; the entry is live.
        let Some(e) = (unsafe { self.entry_for(code, true).as_mut() }) else {
            return false;
        };
        if e.declined.as_ref().is_some_and(|d| d.reason == DeclineReason::Unbound) {
            e.declined = None;
        }
        e.bound = true;
        e.bind_rec = e.bind_rec.max(rec);
        if backend.is_some() {
            e.backend = backend;
        }
        true
    }

    /// `unbind()` (`reason` = `Unbound`) and `cannotcompile()` (`reason` = `CannotCompile`):
    /// the code runs interpreted from its next call on, and call sites
    /// that cached one of its versions find nothing. The versions are freed now if no compiled
    /// code runs, else once none does. False if CPython could not store its entry.
    ///
    /// # Safety
    /// GIL held; `code` a live code object.
    pub unsafe fn release(&mut self, code: *mut cpython::PyCodeObject, reason: DeclineReason, stats: &mut Stats) -> bool {
        // SAFETY: per the contract; the entry is live.
        let Some(e) = (unsafe { self.entry_for(code, true).as_mut() }) else {
            return false;
        };
        if !e.declined.as_ref().is_some_and(|d| d.reason == DeclineReason::CannotCompile) {
            e.declined = Some(reason.into());
        }
        e.bound = false;
        // Unlinked now (call sites find nothing), freed once no compiled code runs.
        unlink(&mut self.versions, e, &mut self.retired);
        self.free_pending = true;
        self.free_if_idle(stats);
        true
    }

    /// Per-code counters for `stats()`.
    pub fn code_stats(&self) -> Vec<CodeStats> {
        self.entries().map(|e| self.stats_of(e)).collect()
    }

    fn stats_of(&self, e: &CodeEntry) -> CodeStats {
        // SAFETY: the entry's code object is live while the entry is registered.
        let (name, filename, firstlineno) =
            unsafe { (cpython::str_of((*e.code).co_qualname), cpython::str_of((*e.code).co_filename), (*e.code).co_firstlineno) };
        CodeStats {
            name,
            filename,
            firstlineno,
            calls: e.calls,
            native_entries: e.native_entries,
            back_edges: e.retired_back_edges + self.versions_of(e).map(|v| *v.tables.back_edges).sum::<u64>(),
            versions: e.versions.len(),
            continuations: e.continuations.len(),
            backends: {
                let mut names: Vec<&'static str> = self.versions_of(e).map(|v| v.backend).collect();
                names.sort_unstable();
                names.dedup();
                names
            },
            // A code object declined only for some argument kinds says why, too.
            declined: e.declined.as_ref().map(|d| d.to_string()).or_else(|| {
                (!e.declined_keys.is_empty()).then(|| DeclineReason::MostlyGeneric.name().to_string())
            }),
            exits: e.exits.iter().map(|(k, v)| (*k, *v)).collect(),
            compile_ns: e.compile_ns.get(),
            instructions_compiled: e.instructions_compiled.get(),
        }
    }
}

/// Moves `e`'s versions out of `versions` into `into` (boxes kept: they may be running).
#[allow(clippy::vec_box)]
fn unlink(versions: &mut SlotMap<VersionKey, Box<Version>>, e: &mut CodeEntry, into: &mut Vec<Box<Version>>) {
    into.extend(e.versions.drain(..).chain(e.continuations.drain(..)).filter_map(|k| versions.remove(k)));
    e.last_used = VersionKey::null();
}

/// Frees unlinked versions, counting their bytes. Called last, once the cache is consistent
/// again: releasing their objects may free code objects, which re-enters the cache.
#[allow(clippy::vec_box)]
fn free(garbage: Vec<Box<Version>>, stats: &mut Stats) {
    stats.code_bytes_freed += garbage.iter().map(|v| v.bytes()).sum::<usize>();
    drop(garbage);
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
    /// The entry that holds it: live while the version runs (its frame holds the code object).
    pub owner: *mut CodeEntry,
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
    /// Why each snapshot leaves (indexed as `snapshots`).
    pub exit_reasons: Vec<ExitReason>,
    /// Exits taken, per snapshot.
    pub exit_counts: Vec<u64>,
    pub exit_buffer: Vec<u64>,
    /// Address of the interpreter's eval breaker the code polls (to rebuild its IR).
    pub eval_breaker: u64,
    pub decline_generic: bool,
    /// Whether its loops leave once to have it compiled again (`CompileRequest::may_reoptimize`).
    pub may_reoptimize: bool,
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

    pub fn exit_reason(&self, snapshot: usize) -> (ExitReason, ExitKind) {
        (self.exit_reasons[snapshot], self.snapshots[snapshot].kind)
    }
}

/// What psyco keeps per code object.
pub struct CodeEntry {
    /// Its own key in the cache (to remove it when the code object dies).
    key: EntryKey,
    /// The code object (borrowed: the entry dies with it).
    pub code: *mut cpython::PyCodeObject,
    /// What the compilation policy knows of the code.
    pub shape: CodeShape,
    pub calls: u64,
    /// Time the code ran interpreted during imports once warm by calls, waiting to pay for its
    /// compilation (`policy::CodeShape::import_payback_ns`).
    pub import_wait_ns: u64,
    /// Activations of the code now running while it waits (only the outermost one's time
    /// counts: a recursive call's is inside it already).
    pub waiting_activations: u32,
    /// Back edges that versions retired since ran (`CodeStats::back_edges` counts them too).
    pub retired_back_edges: u64,
    /// `bind()` asked for this code to be compiled at its next call.
    pub bound: bool,
    /// The backend `bind()` chose for this code (else the JIT's).
    pub backend: Option<&'static dyn backend_x86::Backend>,
    /// Levels of callees `bind(rec=...)` binds along with this code when it is compiled.
    pub bind_rec: u32,
    /// `setfilter()`'s predicate was asked about this code.
    pub filtered: bool,
    pub declined: Option<Decline>,
    /// Argument kinds for which compiling was declined (the code may run compiled for others).
    pub declined_keys: Vec<Vec<Kind>>,
    /// `declined_keys`, as the hook checks them on every call.
    pub declined_checks: Vec<Box<[ArgCheck]>>,
    /// Versions entered by calls.
    pub versions: Vec<VersionKey>,
    /// Versions that frames left by a failed guard continue in (entered mid-code).
    pub continuations: Vec<VersionKey>,
    /// Offsets where compiling a continuation was declined (not tried again).
    pub continuations_declined: Vec<u32>,
    /// The version the last call ran (tried first: most call sites are monomorphic; null
    /// before the first).
    pub last_used: VersionKey,
    /// Entries into compiled code, and exits by reason, over all versions ever held.
    pub native_entries: u64,
    pub exits: HashMap<ExitReason, u64>,
    /// Time spent compiling this code (every attempt; a `Cell` because compiling borrows the
    /// entry shared).
    pub compile_ns: std::cell::Cell<u64>,
    /// Bytecode instructions of the versions compiled (for compile time per instruction).
    pub instructions_compiled: std::cell::Cell<u64>,
    /// What compiled code saw at its object sites, for the versions compiled after it.
    pub profiles: Profiles,
    /// Versions retired to be compiled again with the profiles (`ExitReason::Reoptimize`).
    pub reoptimized: u32,
}

/// Argument kinds declined one by one (as mostly generic) before the whole code is.
const MAX_DECLINED_KEYS: usize = 4;

impl CodeEntry {
    /// Records that compiling for `kinds` was declined as mostly generic (calls with them run
    /// interpreted from now on); false once [`MAX_DECLINED_KEYS`] are, when the caller
    /// declines the whole code instead.
    pub fn decline_key(&mut self, kinds: Vec<Kind>) -> bool {
        if self.declined_keys.len() >= MAX_DECLINED_KEYS {
            return false;
        }
        self.declined_checks.push(ArgCheck::all(&kinds));
        self.declined_keys.push(kinds);
        true
    }

    /// Whether compiling for `kinds` would be declined as mostly generic: a declined key held
    /// an unboxed number wherever `kinds` does (what compiled code runs natively today is
    /// unboxed arithmetic, so a key that brings no number the declined one lacked finds the
    /// code just as generic: `re`'s parser, called with `verbose` a bool then an int, was
    /// compiled, and declined, twice).
    pub fn declines_key(&self, kinds: &[Kind]) -> bool {
        let unboxed = |k: Kind| matches!(k.repr(), Repr::Word | Repr::Double);
        self.declined_keys.iter().any(|declined| declined.iter().zip(kinds).all(|(&d, &k)| !unboxed(k) || unboxed(d)))
    }

    fn new(key: EntryKey, code: *mut cpython::PyCodeObject) -> CodeEntry {
        // SAFETY: entries are made for live code objects, with the GIL held.
        let shape = unsafe { CodeShape::of(code) };
        CodeEntry {
            key,
            code,
            shape,
            calls: 0,
            import_wait_ns: 0,
            waiting_activations: 0,
            retired_back_edges: 0,
            bound: false,
            backend: None,
            bind_rec: 0,
            filtered: false,
            // Never worth compiling (see `policy`): the hook's first check sends it on.
            declined: shape.never_compiled().map(Decline::from),
            declined_keys: Vec::new(),
            declined_checks: Vec::new(),
            versions: Vec::new(),
            continuations: Vec::new(),
            continuations_declined: Vec::new(),
            last_used: VersionKey::null(),
            native_entries: 0,
            exits: HashMap::new(),
            compile_ns: std::cell::Cell::new(0),
            instructions_compiled: std::cell::Cell::new(0),
            profiles: Profiles::default(),
            reoptimized: 0,
        }
    }

    /// Number of argument slots (the version key's length).
    pub fn nargs(&self, code: *mut cpython::PyCodeObject) -> usize {
        // SAFETY: `code` is this entry's live code object.
        let c = unsafe { &*code };
        let star = |flag| ((c.co_flags & flag) != 0) as usize;
        (c.co_argcount + c.co_kwonlyargcount) as usize + star(cpython::CO_VARARGS) + star(cpython::CO_VARKEYWORDS)
    }
}
