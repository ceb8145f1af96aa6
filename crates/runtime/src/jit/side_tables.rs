//! Side tables: everything a version's machine code points into besides the code itself
//! (constants, `LOAD_GLOBAL` caches, direct call sites, counters). Their addresses are
//! embedded in the code, so each lives in a box of its own.

use crate::cpython::{self, ffi, ffi::PyObject, PyCodeObject};
use ir::Kind;
use slotmap::Key;

slotmap::new_key_type! {
    /// A version in the code cache (`jit::code_cache`), declared here because a direct call
    /// site caches one: it reads as nothing once that version is freed.
    pub struct VersionKey;
}

/// A constant could not be made (CPython ran out of memory; its error is cleared): the
/// compilation needing it is declined (the front end's `Decline` converts from it).
#[derive(Debug)]
pub struct OutOfMemory;

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
    pub fn add_int(&mut self, v: i64) -> Result<u32, OutOfMemory> {
        if let Some(id) = self.number(Kind::IntConst(v)) {
            return Ok(id);
        }
        // SAFETY: C-API call with the GIL held; the new reference moves into the pool.
        let id = self.add_new(unsafe { ffi::PyLong_FromLongLong(v) })?;
        self.numbers.push((Kind::IntConst(v), id));
        Ok(id)
    }

    /// The object of the float constant `v`.
    pub fn add_float(&mut self, v: f64) -> Result<u32, OutOfMemory> {
        if let Some(id) = self.number(Kind::float_const(v)) {
            return Ok(id);
        }
        // SAFETY: C-API call with the GIL held; the new reference moves into the pool.
        let id = self.add_new(unsafe { ffi::PyFloat_FromDouble(v) })?;
        self.numbers.push((Kind::float_const(v), id));
        Ok(id)
    }

    fn add_new(&mut self, obj: *mut PyObject) -> Result<u32, OutOfMemory> {
        if obj.is_null() {
            // SAFETY: clearing the pending MemoryError with the GIL held.
            unsafe { ffi::PyErr_Clear() };
            return Err(OutOfMemory);
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
    pub direct_sites: Vec<Box<DirectSite>>,
    /// Back-edges taken in compiled code (incremented by the code itself).
    pub back_edges: Box<u64>,
}

impl SideTables {
    pub fn add_site(&mut self, site: GlobalSite) -> *mut GlobalSite {
        keep(&mut self.sites, site)
    }

    pub fn add_direct_site(&mut self, site: DirectSite) -> *mut DirectSite {
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

/// A call site of a Python function, remembering which compiled version of the callee its
/// calls run, so that later calls skip the hook's version selection.
pub struct DirectSite {
    /// The callee's code (a strong reference), known when compiling (a constant function) or
    /// learned at the first call (NULL until then; see [`call_cached`]).
    pub callee: *mut PyCodeObject,
    /// Kinds the caller's code guarantees for the arguments.
    pub key: Vec<Kind>,
    /// The callee's version its calls run (null until resolved; stale once freed).
    pub version: VersionKey,
    /// The site's static kinds (`key`) fit the cached version: no argument check needed.
    pub always_fits: bool,
    /// The site calls methods (`[method, self, args...]`); `key` starts with `self`.
    pub method_site: bool,
}

impl DirectSite {
    /// A site for calls of `callee` (or of what its first call finds, when NULL).
    pub fn new(callee: *mut PyCodeObject, key: Vec<Kind>) -> DirectSite {
        // SAFETY: `callee` is NULL or a live code object; GIL held.
        unsafe { ffi::Py_XINCREF(callee as *mut PyObject) };
        DirectSite { callee, key, version: VersionKey::null(), always_fits: false, method_site: false }
    }
}

impl Drop for DirectSite {
    fn drop(&mut self) {
        // SAFETY: versions (and their sites) are dropped with the GIL held.
        unsafe { ffi::Py_XDECREF(self.callee as *mut PyObject) };
    }
}
