//! CPython's types as the kinds see them: `TypeTag` <-> `PyTypeObject`, the singletons, and
//! the type lookups the front end specializes on.

use super::{ffi, ffi::PyObject};
use ir::TypeTag;

/// The type tag of a live object.
pub fn type_tag(obj: *mut PyObject) -> TypeTag {
    // SAFETY: `obj` is a live object; comparing type pointers reads nothing else.
    let ty = unsafe { ffi::Py_TYPE(obj) };
    TypeTag::ALL.into_iter().find(|&t| type_of_tag(t) == ty).unwrap_or(TypeTag::Other)
}

/// The type whose exact instances have `tag` (NULL for `Other` and `RangeIter`, which name
/// no single type here).
pub fn type_of_tag(tag: TypeTag) -> *mut ffi::PyTypeObject {
    // SAFETY: taking the addresses of CPython's static type objects reads nothing; None's
    // type is that of the None singleton.
    unsafe {
        match tag {
            TypeTag::Int => std::ptr::addr_of_mut!(ffi::PyLong_Type),
            TypeTag::Float => std::ptr::addr_of_mut!(ffi::PyFloat_Type),
            TypeTag::Bool => std::ptr::addr_of_mut!(ffi::PyBool_Type),
            TypeTag::NoneType => ffi::Py_TYPE(ffi::Py_None()),
            TypeTag::Str => std::ptr::addr_of_mut!(ffi::PyUnicode_Type),
            TypeTag::Tuple => std::ptr::addr_of_mut!(ffi::PyTuple_Type),
            TypeTag::List => std::ptr::addr_of_mut!(ffi::PyList_Type),
            TypeTag::Dict => std::ptr::addr_of_mut!(ffi::PyDict_Type),
            TypeTag::Set => std::ptr::addr_of_mut!(ffi::PySet_Type),
            TypeTag::Function => std::ptr::addr_of_mut!(ffi::PyFunction_Type),
            TypeTag::Builtin => std::ptr::addr_of_mut!(ffi::PyCFunction_Type),
            TypeTag::Range => std::ptr::addr_of_mut!(ffi::PyRange_Type),
            TypeTag::RangeIter | TypeTag::Other => std::ptr::null_mut(),
        }
    }
}

pub fn true_ptr() -> i64 {
    // SAFETY: the address of a static singleton.
    unsafe { ffi::Py_True() as i64 }
}

pub fn false_ptr() -> i64 {
    // SAFETY: the address of a static singleton.
    unsafe { ffi::Py_False() as i64 }
}

pub fn none_ptr() -> i64 {
    // SAFETY: the address of a static singleton.
    unsafe { ffi::Py_None() as i64 }
}

/// Whether `c` is one of the ints CPython caches (each has a single object).
pub fn is_small_int(c: i64) -> bool {
    (super::SMALL_INT_MIN..super::SMALL_INT_MIN + super::SMALL_INT_COUNT).contains(&c)
}

/// The C method descriptor that `obj.name` is for every exact instance `obj` of `ty`, or
/// NULL: found in the type when the type is immutable and its instances have no `__dict__`
/// (so neither can shadow it), as `_PyObject_GetMethod` would find it.
///
/// # Safety
/// `ty` is NULL or a live type; `name` a live str; GIL held.
pub unsafe fn method_descriptor(ty: *mut ffi::PyTypeObject, name: *mut PyObject) -> *mut PyObject {
    // SAFETY: per the contract; `_PyType_Lookup` neither raises nor runs Python code.
    unsafe {
        if ty.is_null() || (*ty).tp_flags & ffi::Py_TPFLAGS_IMMUTABLETYPE == 0 || (*ty).tp_dictoffset != 0 {
            return std::ptr::null_mut();
        }
        let found = super::_PyType_Lookup(ty, name);
        if found.is_null() || ffi::Py_TYPE(found) != std::ptr::addr_of_mut!(ffi::PyMethodDescr_Type) {
            return std::ptr::null_mut();
        }
        found
    }
}

/// Globals worth treating as constants behind an identity guard: builtins and types (which
/// programs almost never rebind) and functions.
pub fn is_specializable_global(obj: *mut PyObject) -> bool {
    // SAFETY: `obj` is a live object.
    unsafe { matches!(type_tag(obj), TypeTag::Builtin | TypeTag::Function) || ffi::PyType_Check(obj) != 0 }
}

/// The builtins compiled code computes itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    Len,
    IsInstance,
    Min,
    Max,
    Abs,
    /// The type `float`, called.
    Float,
}

/// Which of [`Builtin`] `obj` is: the builtins module's own C function of that name (not a
/// replacement stored under the name), or the type `float`.
///
/// # Safety
/// `obj` a live object; GIL held.
pub unsafe fn builtin(obj: *mut PyObject) -> Option<Builtin> {
    // SAFETY: per the contract; a C function's method table entry is static.
    unsafe {
        if obj == std::ptr::addr_of_mut!(ffi::PyFloat_Type) as *mut PyObject {
            return Some(Builtin::Float);
        }
        if ffi::Py_TYPE(obj) != std::ptr::addr_of_mut!(ffi::PyCFunction_Type) {
            return None;
        }
        let f = obj as *mut ffi::PyCFunctionObject;
        let module = (*f).m_self;
        if module.is_null() || ffi::PyModule_Check(module) == 0 {
            return None;
        }
        let module_name = ffi::PyModule_GetName(module);
        if module_name.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        if std::ffi::CStr::from_ptr(module_name) != c"builtins" {
            return None;
        }
        match std::ffi::CStr::from_ptr((*(*f).m_ml).ml_name).to_bytes() {
            b"len" => Some(Builtin::Len),
            b"isinstance" => Some(Builtin::IsInstance),
            b"min" => Some(Builtin::Min),
            b"max" => Some(Builtin::Max),
            b"abs" => Some(Builtin::Abs),
            _ => None,
        }
    }
}

/// Offset of the length of an exact `str`, `list`, `tuple`, `dict` or `set` (what `len`
/// returns), or `None` for other types.
pub fn length_offset(tag: TypeTag) -> Option<i32> {
    match tag {
        // PyASCIIObject.length, PyVarObject.ob_size, PyDictObject.ma_used.
        TypeTag::Str | TypeTag::List | TypeTag::Tuple | TypeTag::Dict => Some(16),
        // PySetObject.used (after `fill`).
        TypeTag::Set => Some(24),
        _ => None,
    }
}

/// `isinstance(x, cls)` for every `x` of exact type `tag`, when the answer needs no call:
/// `cls` a class whose metatype is exactly `type` (no `__instancecheck__`) and `tag` a
/// builtin type (whose `__class__` is its type).
///
/// # Safety
/// `cls` a live object; GIL held.
pub unsafe fn static_isinstance(tag: TypeTag, cls: *mut PyObject) -> Option<bool> {
    // SAFETY: per the contract.
    unsafe {
        let ty = type_of_tag(tag);
        if ty.is_null() || ffi::Py_TYPE(cls) != std::ptr::addr_of_mut!(ffi::PyType_Type) {
            return None;
        }
        Some(ffi::PyType_IsSubtype(ty, cls as *mut ffi::PyTypeObject) != 0)
    }
}
