//! Version caches: per code object, the compiled versions keyed by entry kinds, and the side
//! tables each version's code points into (constants, global-lookup caches, counters).

use crate::cpython::{self, ffi, ffi::PyObject};
use crate::frontend::Decline;
use backend_x86::CompiledCode;
use ir::{ExitKind, Kind, Snapshot, TypeTag};
use std::collections::HashMap;

/// Objects a version's code refers to as constants, each held by a strong reference.
#[derive(Default)]
pub struct ConstPool {
    objects: Vec<*mut PyObject>,
    /// The object standing for each number constant (the code's own constant when the
    /// number came from `LOAD_CONST`, so that identity is CPython's).
    numbers: Vec<(Kind, u32)>,
}

impl ConstPool {
    /// Adds `obj` (taking a new reference) and returns its id.
    pub fn add(&mut self, obj: *mut PyObject) -> u32 {
        if let Some(i) = self.objects.iter().position(|&o| o == obj) {
            return i as u32;
        }
        // SAFETY: `obj` is live; the pool keeps a reference until it is dropped.
        unsafe { ffi::Py_INCREF(obj) };
        self.objects.push(obj);
        (self.objects.len() - 1) as u32
    }

    /// Records `obj` as the object of the number constant `kind` (if none is yet).
    pub fn note_number(&mut self, kind: Kind, obj: *mut PyObject) {
        if !self.numbers.iter().any(|(k, _)| *k == kind) {
            let id = self.add(obj);
            self.numbers.push((kind, id));
        }
    }

    fn number(&self, kind: Kind) -> Option<u32> {
        self.numbers.iter().find(|(k, _)| *k == kind).map(|(_, id)| *id)
    }

    /// The object of the int constant `v`.
    pub fn add_int(&mut self, v: i64) -> Result<u32, Decline> {
        if let Some(id) = self.number(Kind::IntConst(v)) {
            return Ok(id);
        }
        // SAFETY: C-API call with the GIL held; the new reference moves into the pool.
        let id = self.add_new(unsafe { ffi::PyLong_FromLongLong(v) })?;
        self.numbers.push((Kind::IntConst(v), id));
        Ok(id)
    }

    /// The object of the float constant `v`.
    pub fn add_float(&mut self, v: f64) -> Result<u32, Decline> {
        if let Some(id) = self.number(Kind::float_const(v)) {
            return Ok(id);
        }
        // SAFETY: C-API call with the GIL held; the new reference moves into the pool.
        let id = self.add_new(unsafe { ffi::PyFloat_FromDouble(v) })?;
        self.numbers.push((Kind::float_const(v), id));
        Ok(id)
    }

    fn add_new(&mut self, obj: *mut PyObject) -> Result<u32, Decline> {
        if obj.is_null() {
            // SAFETY: clearing the pending MemoryError with the GIL held.
            unsafe { ffi::PyErr_Clear() };
            return Err(Decline("out of memory while compiling".into()));
        }
        let id = self.add(obj);
        // SAFETY: `add` took its own reference (or found an equal pointer); drop ours.
        unsafe { ffi::Py_DECREF(obj) };
        Ok(id)
    }

    pub fn get(&self, id: u32) -> *mut PyObject {
        self.objects[id as usize]
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

impl Drop for ConstPool {
    fn drop(&mut self) {
        for &obj in &self.objects {
            // SAFETY: versions are dropped with the GIL held; each entry is a reference we own.
            unsafe { ffi::Py_DECREF(obj) };
        }
    }
}

/// A `LOAD_GLOBAL` site's cache: the value found last time and the versions of the globals
/// and builtins dicts it was found under (any change to either dict changes its version).
#[repr(C)]
pub struct GlobalSite {
    globals: *mut PyObject,
    builtins: *mut PyObject,
    name: *mut PyObject,
    globals_version: u64,
    builtins_version: u64,
    value: *mut PyObject,
}

impl GlobalSite {
    pub const OFFSET_GLOBALS_VERSION: i32 = std::mem::offset_of!(GlobalSite, globals_version) as i32;
    pub const OFFSET_BUILTINS_VERSION: i32 = std::mem::offset_of!(GlobalSite, builtins_version) as i32;
    pub const OFFSET_VALUE: i32 = std::mem::offset_of!(GlobalSite, value) as i32;

    pub fn new(globals: *mut PyObject, builtins: *mut PyObject, name: *mut PyObject) -> GlobalSite {
        GlobalSite { globals, builtins, name, globals_version: 0, builtins_version: 0, value: std::ptr::null_mut() }
    }

    /// The name's current value (borrowed), or NULL when it is not defined.
    ///
    /// # Safety
    /// The dicts and the name must be alive (the version keeps them) and the GIL held.
    pub unsafe fn lookup(&self) -> *mut PyObject {
        // SAFETY: per the contract above; dict lookups with a str key cannot run Python code.
        unsafe {
            let hash = ffi::PyObject_Hash(self.name);
            let v = cpython::_PyDict_GetItem_KnownHash(self.globals, self.name, hash);
            if !v.is_null() {
                return v;
            }
            cpython::_PyDict_GetItem_KnownHash(self.builtins, self.name, hash)
        }
    }
}

fn dict_version(dict: *mut PyObject) -> u64 {
    // SAFETY: `dict` is a live exact dict (checked before compiling).
    unsafe { (*(dict as *mut cpython::PyDictObject)).ma_version_tag }
}

/// `LOAD_GLOBAL` from compiled code: the cached value if neither dict changed.
pub unsafe extern "C" fn load_global(site: *mut GlobalSite) -> *mut PyObject {
    // SAFETY: `site` points into the side tables of the running version.
    let site = unsafe { &mut *site };
    let (g, b) = (dict_version(site.globals), dict_version(site.builtins));
    if g != site.globals_version || b != site.builtins_version || site.value.is_null() {
        // SAFETY: the version keeps the dicts and the name alive; the GIL is held.
        site.value = unsafe { site.lookup() };
        site.globals_version = g;
        site.builtins_version = b;
    }
    site.value
}

/// Boxes `item` into `list` (so that its address stays fixed) and returns that address,
/// for machine code to use.
fn keep<T>(list: &mut Vec<Box<T>>, item: T) -> *mut T {
    let mut boxed = Box::new(item);
    let ptr: *mut T = &mut *boxed;
    list.push(boxed);
    ptr
}

/// Everything a version's machine code refers to besides the code itself.
#[derive(Default)]
pub struct SideTables {
    pub consts: ConstPool,
    pub sites: Vec<Box<GlobalSite>>,
    pub direct_sites: Vec<Box<crate::calls::DirectSite>>,
    /// Back-edges taken in compiled code (incremented by the code itself).
    pub back_edges: Box<u64>,
}

impl SideTables {
    pub fn add_site(&mut self, site: GlobalSite) -> *mut GlobalSite {
        keep(&mut self.sites, site)
    }

    pub fn add_direct_site(&mut self, site: crate::calls::DirectSite) -> *mut crate::calls::DirectSite {
        keep(&mut self.direct_sites, site)
    }

    pub fn back_edges_address(&mut self) -> *mut u64 {
        &mut *self.back_edges
    }

    /// Bytes held, for the memory accounting.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.consts.len() * 8
            + self.sites.len() * std::mem::size_of::<GlobalSite>()
            + self.direct_sites.iter().map(|s| std::mem::size_of_val(&**s) + s.key.len() * 16).sum::<usize>()
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
            Kind::MachineInt => ArgCheck { small_int: true, ..exactly(crate::frontend::type_of_tag(TypeTag::Int)) },
            Kind::UnboxedFloat => exactly(crate::frontend::type_of_tag(TypeTag::Float)),
            Kind::MachineBool => exactly(crate::frontend::type_of_tag(TypeTag::Bool)),
            Kind::Exact(t) => exactly(crate::frontend::type_of_tag(t)),
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
    /// Where it starts, and the kinds it was made for (see [`crate::frontend::Start`]).
    pub start: crate::frontend::Start,
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
    pub shape: crate::policy::CodeShape,
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
            shape: unsafe { crate::policy::CodeShape::of(code) },
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

    /// Every version held: call entries, then continuations.
    pub fn all_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().chain(&self.continuations).map(|v| &**v)
    }
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
