//! Instance, list, tuple and list-iterator layouts of 3.11.7, and how an attribute of a
//! class's instances is reached (`research/cpython311-objects.md` §1 and §4): what the
//! front end needs to load and store attributes and items without the C API, behind a guard
//! on the type's version tag.

use super::{ffi, ffi::PyObject, _PyType_Lookup};
use ffi::PyTypeObject;
use std::mem::offset_of;

/// `tp_version_tag` (a u32): unique per type state, never reused; 0 is no version.
pub const OFFSET_TYPE_VERSION: i32 = offset_of!(PyTypeObject, tp_version_tag) as i32;
const _: () = assert!(offset_of!(PyTypeObject, tp_version_tag) == 0x180);
/// An instance's inline values (`PyDictValues *`) and its materialized `__dict__`, before the
/// object (`_PyObject_ValuesPointer`, `_PyObject_ManagedDictPointer`).
pub const OFFSET_INSTANCE_VALUES: i32 = -32;
/// `PyListObject.ob_item` (reallocated by anything that resizes the list: reload it).
pub const OFFSET_LIST_ITEMS: i32 = offset_of!(ffi::PyListObject, ob_item) as i32;
/// `PyTupleObject.ob_item`: the items, inline.
pub const OFFSET_TUPLE_ITEMS: i32 = offset_of!(ffi::PyTupleObject, ob_item) as i32;
const _: () = assert!(offset_of!(ffi::PyListObject, ob_item) == 24 && offset_of!(ffi::PyTupleObject, ob_item) == 24);
/// `listiterobject` (Objects/listobject.c, in no header): `it_index`, then `it_seq` (NULL
/// once exhausted).
pub const OFFSET_LISTITER_INDEX: i32 = 16;
pub const OFFSET_LISTITER_SEQ: i32 = 24;

const TPFLAGS_MANAGED_DICT: u64 = 1 << 4;
const TPFLAGS_VALID_VERSION_TAG: u64 = 1 << 19;
/// `PyHeapTypeObject.ht_cached_keys`: the shared keys of the instances' inline values.
const OFFSET_HEAPTYPE_CACHED_KEYS: usize = 872;
/// `PyMemberDef` fields (Include/structmember.h): `type` at +8, `offset` at +16, `flags` at +24;
/// `PyMemberDescrObject.d_member` at +40.
const OFFSET_MEMBER_DESCR_MEMBER: usize = 40;
const T_OBJECT_EX: i32 = 16;
/// `PyDictKeysObject`: `dk_log2_index_bytes` (u8) at +9, `dk_kind` at +10, `dk_nentries`
/// at +24, the indices at +32 and then the entries (`me_key`, `me_value` for str keys).
const DICT_KEYS_SPLIT: u8 = 2;

extern "C" {
    static mut PyListIter_Type: PyTypeObject;
}

/// `rangeiterobject` (Objects/rangeobject.c, in no header; 3.11.7): `long index, start,
/// step, len`, for ranges whose bounds fit in a C long; the next value is
/// `start + index * step` while `index < len` (checked at import: `check_layout`).
pub const OFFSET_RANGEITER_INDEX: i32 = 16;
pub const OFFSET_RANGEITER_START: i32 = 24;
pub const OFFSET_RANGEITER_STEP: i32 = 32;
pub const OFFSET_RANGEITER_LEN: i32 = 40;

/// The type of `iter(range(...))` for bounds that fit in a C long.
pub fn range_iterator_type() -> *mut PyTypeObject {
    std::ptr::addr_of_mut!(super::PyRangeIter_Type)
}

/// `enumobject` (Objects/enumobject.c, in no header; 3.11.7): `Py_ssize_t en_index` (the
/// next count; `PY_SSIZE_T_MAX` once counts go past a word, then in `en_longindex`), then
/// `en_sit`, the iterator enumerated (checked at import: `check_layout`).
pub const OFFSET_ENUM_INDEX: i32 = 16;
pub const OFFSET_ENUM_ITERATOR: i32 = 24;

/// `zipobject` (Python/bltinmodule.c, in no header; 3.11.7): `Py_ssize_t tuplesize`, then
/// `ittuple`, the tuple of the iterators zipped (checked at import: `check_layout`).
pub const OFFSET_ZIP_SIZE: i32 = 16;
pub const OFFSET_ZIP_ITERATORS: i32 = 24;

/// The type of `zip(...)`.
pub fn zip_type() -> *mut PyTypeObject {
    std::ptr::addr_of_mut!(ffi::PyZip_Type)
}

/// The type of `enumerate(...)`.
pub fn enumerate_type() -> *mut PyTypeObject {
    std::ptr::addr_of_mut!(ffi::PyEnum_Type)
}

/// The type of `iter(list)`.
pub fn list_iterator_type() -> *mut PyTypeObject {
    std::ptr::addr_of_mut!(PyListIter_Type)
}

/// Where the instances of one type keep an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrPlace {
    /// A `__slots__` member at this byte offset in the object (NULL when unset).
    Slot(i32),
    /// Index into the inline values (present unless the instance's `__dict__` was
    /// materialized; NULL when unset on that instance).
    InlineValue(i32),
}

/// How an attribute of `ty`'s exact instances is reached, valid while `ty`'s version tag is
/// `version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrPlan {
    pub version: u32,
    pub place: AttrPlace,
}

/// The plan for `obj.name` (`store`: `obj.name = v`) on exact instances of `ty`, as 3.11's
/// specializer would choose `LOAD_ATTR_SLOT`/`_INSTANCE_VALUE` (or the `STORE_ATTR` forms):
/// generic attribute access, then a `__slots__` member, or a name of the shared keys that no
/// data descriptor of the class overrides. `None` for every other shape (the generic path
/// does those), and when the type has no valid version (never trust version 0: 3.11.7 does).
///
/// # Safety
/// `ty` a live type, `name` a live str; GIL held.
pub unsafe fn attr_plan(ty: *mut PyTypeObject, name: *mut PyObject, store: bool) -> Option<AttrPlan> {
    // SAFETY: per the contract; `_PyType_Lookup` neither raises nor runs Python code, and
    // the descriptor, the keys and their entries are read while the type holds them.
    unsafe {
        // (libpython's exported functions have one address: it is built without semantic
        // interposition, and types store the exported symbol.)
        let generic = if store {
            (*ty).tp_setattro.map(|f| f as usize) == Some(ffi::PyObject_GenericSetAttr as *const () as usize)
        } else {
            (*ty).tp_getattro.map(|f| f as usize) == Some(ffi::PyObject_GenericGetAttr as *const () as usize)
        };
        if !generic || ffi::PyUnicode_CheckExact(name) == 0 {
            return None;
        }
        // The lookup gives the type a version when it can.
        let descr = _PyType_Lookup(ty, name);
        let version = (*ty).tp_version_tag;
        if (*ty).tp_flags & TPFLAGS_VALID_VERSION_TAG == 0 || version == 0 {
            return None;
        }
        if !descr.is_null() {
            let dtype = ffi::Py_TYPE(descr);
            if dtype == std::ptr::addr_of_mut!(ffi::PyMemberDescr_Type) {
                let member = *((descr as *const u8).add(OFFSET_MEMBER_DESCR_MEMBER) as *const *const u8);
                let (kind, offset, flags) =
                    (*(member.add(8) as *const i32), *(member.add(16) as *const isize), *(member.add(24) as *const i32));
                // Read-only and audited members take the generic path (it raises, or audits).
                return (kind == T_OBJECT_EX && flags == 0 && (16..65536).contains(&offset))
                    .then_some(AttrPlan { version, place: AttrPlace::Slot(offset as i32) });
            }
            // A data descriptor (property, getset) wins over the instance; a descriptor whose
            // class may change (gain `__get__`/`__set__`) cannot be trusted by the version.
            if (*dtype).tp_descr_set.is_some() || (*dtype).tp_flags & ffi::Py_TPFLAGS_IMMUTABLETYPE == 0 {
                return None;
            }
        }
        if (*ty).tp_flags & TPFLAGS_MANAGED_DICT == 0 || (*ty).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE == 0 {
            return None;
        }
        let keys = *((ty as *const u8).add(OFFSET_HEAPTYPE_CACHED_KEYS) as *const *const u8);
        if keys.is_null() || *keys.add(10) != DICT_KEYS_SPLIT {
            return None;
        }
        let nentries = *(keys.add(24) as *const isize);
        let entries = keys.add(32 + (1usize << *keys.add(9))) as *const [*mut PyObject; 2];
        // The shared keys are append-only, so an index found now stays this name's.
        (0..nentries)
            .find(|&i| (*entries.offset(i))[0] == name)
            .map(|i| AttrPlan { version, place: AttrPlace::InlineValue(i as i32) })
    }
}

/// How `obj.name` finds a class attribute on `ty`'s exact instances, valid while `ty`'s
/// version tag is `version`: the class's object `value` (a plain Python function for
/// methods, a value that is no descriptor for attributes), which no instance can shadow
/// while `shadow` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassAttrPlan {
    pub version: u32,
    pub value: *mut PyObject,
    pub shadow: Shadow,
}

/// What keeps an instance attribute from shadowing a class attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shadow {
    /// The instances have no `__dict__` (`__slots__` only).
    NoDict,
    /// The instances keep their attributes in inline values of these shared keys, which do
    /// not hold the name while they hold `entries` names (they are append-only); a
    /// materialized `__dict__` is not checked, so its pointer must be NULL.
    SharedKeys { keys: *const u8, entries: isize },
    /// The class attribute is a data descriptor (a property): it takes precedence over
    /// instance attributes.
    DataDescriptor,
}

/// `dk_nentries` of a `PyDictKeysObject`.
pub const OFFSET_KEYS_NENTRIES: i32 = 24;
/// An instance's materialized `__dict__`, before the object (`_PyObject_ManagedDictPointer`).
pub const OFFSET_INSTANCE_DICT: i32 = -24;

/// The plan for `obj.name(...)` on exact instances of `ty`, as 3.11's `LOAD_METHOD_NO_DICT`
/// and `_WITH_VALUES` find it: generic attribute access and a plain function in the class.
/// `None` otherwise (classmethods, staticmethods, other callables, shadowed names).
///
/// # Safety
/// `ty` a live type, `name` a live str; GIL held.
pub unsafe fn method_plan(ty: *mut PyTypeObject, name: *mut PyObject) -> Option<ClassAttrPlan> {
    // SAFETY: per the contract; reading a live object's type.
    unsafe { class_attr_plan(ty, name, |value| ffi::Py_TYPE(value) == std::ptr::addr_of_mut!(ffi::PyFunction_Type)) }
}

/// The plan for `obj.name` on exact instances of `ty` when the class holds a value that is no
/// descriptor (a constant of the class: an int, a str, a tuple, None...), which
/// `PyObject_GenericGetAttr` returns as it is unless the instance shadows it. (3.11 does not
/// specialize this: its `LOAD_ATTR` looks the class up every time.)
///
/// # Safety
/// `ty` a live type, `name` a live str; GIL held.
pub unsafe fn class_value_plan(ty: *mut PyTypeObject, name: *mut PyObject) -> Option<ClassAttrPlan> {
    // SAFETY: per the contract; reading a live object's type.
    unsafe { class_attr_plan(ty, name, |value| (*ffi::Py_TYPE(value)).tp_descr_get.is_none()) }
}

/// The getter of the `property` that `obj.name` finds on `ty`'s exact instances, when it is
/// a Python function of one argument (so that calling it directly is what
/// `property.__get__` does): `(version, getter)`, valid while `ty`'s version tag is
/// `version` (a property is a data descriptor: no instance attribute shadows it).
///
/// # Safety
/// `ty` a live type, `name` a live str; GIL held.
pub unsafe fn property_getter(ty: *mut PyTypeObject, name: *mut PyObject) -> Option<(u32, *mut PyObject)> {
    // SAFETY: per the contract; a property object's first field after the header is its
    // getter (`propertyobject.prop_get`, Objects/descrobject.c), NULL when it has none.
    unsafe {
        if (*ty).tp_getattro.map(|f| f as usize) != Some(ffi::PyObject_GenericGetAttr as *const () as usize)
            || ffi::PyUnicode_CheckExact(name) == 0
            || (*ty).tp_flags & TPFLAGS_VALID_VERSION_TAG == 0
            || (*ty).tp_version_tag == 0
        {
            return None;
        }
        let descr = _PyType_Lookup(ty, name);
        if descr.is_null() || ffi::Py_TYPE(descr) != std::ptr::addr_of_mut!(ffi::PyProperty_Type) {
            return None;
        }
        let getter = *((descr as *const u8).add(OFFSET_PROPERTY_GET) as *const *mut PyObject);
        (!getter.is_null() && crate::calls::can_call_directly(getter, 1)).then_some(((*ty).tp_version_tag, getter))
    }
}

/// Offset of a `property`'s getter (`prop_get`, right after the object header).
const OFFSET_PROPERTY_GET: usize = 16;

/// The class attribute `name` of `ty` that `accept` takes, with what keeps instances from
/// shadowing it.
///
/// # Safety
/// Per `method_plan`.
unsafe fn class_attr_plan(
    ty: *mut PyTypeObject,
    name: *mut PyObject,
    accept: impl Fn(*mut PyObject) -> bool,
) -> Option<ClassAttrPlan> {
    // SAFETY: per the contract, as in `attr_plan`.
    unsafe {
        if (*ty).tp_getattro.map(|f| f as usize) != Some(ffi::PyObject_GenericGetAttr as *const () as usize)
            || ffi::PyUnicode_CheckExact(name) == 0
        {
            return None;
        }
        let value = _PyType_Lookup(ty, name);
        let version = (*ty).tp_version_tag;
        if value.is_null()
            || !accept(value)
            || (*ty).tp_flags & TPFLAGS_VALID_VERSION_TAG == 0
            || version == 0
        {
            return None;
        }
        let shadow = if (*ty).tp_flags & TPFLAGS_MANAGED_DICT != 0 && (*ty).tp_flags & ffi::Py_TPFLAGS_HEAPTYPE != 0 {
            let keys = *((ty as *const u8).add(OFFSET_HEAPTYPE_CACHED_KEYS) as *const *const u8);
            if keys.is_null() || *keys.add(10) != DICT_KEYS_SPLIT {
                return None;
            }
            let entries = *(keys.add(OFFSET_KEYS_NENTRIES as usize) as *const isize);
            let first = keys.add(32 + (1usize << *keys.add(9))) as *const [*mut PyObject; 2];
            if (0..entries).any(|i| (*first.offset(i))[0] == name) {
                return None;
            }
            Shadow::SharedKeys { keys, entries }
        } else if (*ty).tp_dictoffset == 0 {
            Shadow::NoDict
        } else {
            return None;
        };
        Some(ClassAttrPlan { version, value, shadow })
    }
}

/// The plain function `cls.name` is for a class `cls` whose metatype is exactly `type` (so
/// the class's version tag covers the lookup, and `type` itself has no attribute `name`), as
/// 3.11's `LOAD_METHOD_CLASS` finds it: `(version, function)`.
///
/// # Safety
/// `cls` a live object, `name` a live str; GIL held.
pub unsafe fn class_function(cls: *mut PyObject, name: *mut PyObject) -> Option<(u32, *mut PyObject)> {
    // SAFETY: per the contract.
    unsafe {
        if ffi::Py_TYPE(cls) != std::ptr::addr_of_mut!(ffi::PyType_Type) || ffi::PyUnicode_CheckExact(name) == 0 {
            return None;
        }
        let ty = cls as *mut PyTypeObject;
        if !_PyType_Lookup(std::ptr::addr_of_mut!(ffi::PyType_Type), name).is_null() {
            return None;
        }
        let function = _PyType_Lookup(ty, name);
        let version = (*ty).tp_version_tag;
        (!function.is_null()
            && ffi::Py_TYPE(function) == std::ptr::addr_of_mut!(ffi::PyFunction_Type)
            && (*ty).tp_flags & TPFLAGS_VALID_VERSION_TAG != 0
            && version != 0)
            .then_some((version, function))
    }
}

/// The Python `__init__` of `cls` when calling `cls` means 3.11's `type_call` with the
/// default `__new__`: an exact `type` as metaclass, `object.__new__`, not abstract, and an
/// `__init__` that is a Python function (so the slot is `slot_tp_init`, which calls it with
/// the instance and checks that it returns None). `None` for any other class or callable.
///
/// # Safety
/// `cls` a live object; GIL held.
pub unsafe fn python_init(cls: *mut PyObject) -> Option<*mut PyObject> {
    // SAFETY: per the contract; `_PyType_Lookup` neither raises nor runs Python code.
    unsafe {
        if ffi::Py_TYPE(cls) != std::ptr::addr_of_mut!(ffi::PyType_Type) {
            return None;
        }
        let ty = cls as *mut PyTypeObject;
        // Both slots are read from CPython's type objects: the addresses compare exactly.
        let object_new = (*std::ptr::addr_of_mut!(ffi::PyBaseObject_Type)).tp_new.map(|f| f as usize);
        if (*ty).tp_new.map(|f| f as usize) != object_new || (*ty).tp_flags & ffi::Py_TPFLAGS_IS_ABSTRACT != 0 {
            return None;
        }
        let init = _PyType_Lookup(ty, init_name());
        (!init.is_null() && ffi::Py_TYPE(init) == std::ptr::addr_of_mut!(ffi::PyFunction_Type)).then_some(init)
    }
}

/// The interned str `"__init__"` (made once, kept for the process).
fn init_name() -> *mut PyObject {
    static NAME: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    interned(&NAME, c"__init__")
}

/// The interned str `"__class__"` (made once, kept for the process).
pub fn class_name() -> *mut PyObject {
    static NAME: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    interned(&NAME, c"__class__")
}

/// `text` interned, made at the first call (GIL held) and never released, so the pointer
/// stays valid.
fn interned(cell: &std::sync::OnceLock<usize>, text: &std::ffi::CStr) -> *mut PyObject {
    // SAFETY: callers hold the GIL (they run from compiled code or the compiler).
    *cell.get_or_init(|| unsafe { ffi::PyUnicode_InternFromString(text.as_ptr()) as usize }) as *mut PyObject
}
