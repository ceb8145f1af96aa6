//! Type profiles: what compiled code saw at the sites whose types 3.11 leaves no feedback
//! for when psyco compiled the code before the interpreter ran it (a loop's first call).
//!
//! A site (`LOAD_ATTR`, `STORE_ATTR`, `LOAD_METHOD`, `BINARY_SUBSCR`, `STORE_SUBSCR`,
//! `GET_ITER`, `FOR_ITER`) compiled generically records the type of its input (the object,
//! container or iterable) and of its output (the value it produced). A version compiled
//! later reads them: a site that saw one type is specialized for it behind a guard, one that
//! saw several stays generic. Profiles belong to the code object's entry and are keyed by
//! instruction, so every version of the code shares them.

use crate::cpython::{ffi, ffi::PyObject, ffi::PyTypeObject};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ptr::null_mut;

/// The types seen at one side of a site: none yet, one, or several. The one type is held by
/// a weak reference: a profile must keep nothing alive (a class's methods hold their module's
/// globals, which must be finalized at exit as without psyco), and a compiler reading it
/// later must not read a freed type. Its address alone identifies it while recording.
#[derive(Default)]
pub struct TypeSeen {
    ty: Cell<*mut PyTypeObject>,
    weak: Cell<*mut PyObject>,
    several: Cell<bool>,
}

/// What a site saw, for the compiler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    Nothing,
    One(*mut PyTypeObject),
    Several,
}

impl TypeSeen {
    /// Records the type of `obj` (non-NULL, live; GIL held).
    ///
    /// # Safety
    /// Per the above.
    #[inline]
    pub unsafe fn record(&self, obj: *mut PyObject) {
        // SAFETY: per the contract.
        unsafe {
            let ty = ffi::Py_TYPE(obj);
            let seen = self.ty.get();
            if seen == ty || self.several.get() {
                return;
            }
            if seen.is_null() {
                let weak = ffi::PyWeakref_NewRef(ty as *mut PyObject, null_mut());
                if weak.is_null() {
                    // (Out of memory: the site stays generic.)
                    ffi::PyErr_Clear();
                    self.several.set(true);
                    return;
                }
                self.ty.set(ty);
                self.weak.set(weak);
            } else {
                self.several.set(true);
            }
        }
    }

    /// The site's guard on the type seen failed: it is not of one type after all.
    pub fn mispredicted(&self) {
        self.several.set(true);
    }

    /// What was seen; a type that died since is as good as several (another type may have
    /// its address now). GIL held.
    pub fn seen(&self) -> Seen {
        if self.several.get() {
            return Seen::Several;
        }
        let weak = self.weak.get();
        if weak.is_null() {
            return Seen::Nothing;
        }
        // SAFETY: our weak reference (GIL held); it answers None once its type died.
        let ty = unsafe { ffi::PyWeakref_GetObject(weak) };
        if ty == self.ty.get() as *mut PyObject {
            Seen::One(self.ty.get())
        } else {
            Seen::Several
        }
    }
}

impl Drop for TypeSeen {
    fn drop(&mut self) {
        let weak = self.weak.replace(null_mut());
        if !weak.is_null() {
            // SAFETY: the reference `record` made; profiles are dropped with the GIL held
            // (with their code object's entry).
            unsafe { ffi::Py_DECREF(weak) };
        }
    }
}

/// One site's profile: its input's and its output's types.
#[derive(Default)]
pub struct SiteProfile {
    pub input: TypeSeen,
    pub output: TypeSeen,
}

/// The profiles of one code object, by instruction offset (code units). Each profile is
/// boxed: compiled code holds its address.
#[derive(Default)]
pub struct Profiles {
    sites: RefCell<HashMap<u32, Box<SiteProfile>>>,
}

impl Profiles {
    /// The profile of the site at `pc`, created empty if new; its address is stable for the
    /// life of `self`.
    pub fn site(&self, pc: u32) -> *const SiteProfile {
        &**self.sites.borrow_mut().entry(pc).or_default()
    }

    /// What the site at `pc` saw on its input and output sides.
    pub fn seen(&self, pc: u32) -> (Seen, Seen) {
        match self.sites.borrow().get(&pc) {
            Some(p) => (p.input.seen(), p.output.seen()),
            None => (Seen::Nothing, Seen::Nothing),
        }
    }
}
