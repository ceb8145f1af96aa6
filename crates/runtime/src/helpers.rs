//! Functions that compiled code calls: the generic paths that do what the interpreter does,
//! through CPython's C API, when the specializer knows too little to do better.
//!
//! Calling convention shared by the generic stack operations ([`StackOp`]): they take a
//! pointer to their first input in the frame's value stack, read their inputs there (owned
//! references, consumed as the interpreter consumes them), write their outputs from the same
//! position, and return 1 on success or 0 with an exception set — exactly the stack effect
//! of the bytecode they implement, so a failure leaves the frame as the interpreter's own
//! `error:` path expects.

use crate::cpython::{self, ffi, ffi::PyObject};
use crate::profile::SiteProfile;
use std::ptr::null_mut;

pub type Slots = *mut *mut PyObject;

/// A generic stack operation: `(first input, oparg, auxiliary constant) -> 1 ok / 0 error`.
pub type StackOp = unsafe extern "C" fn(Slots, i64, i64) -> i64;

/// The value of an exact `int` already known (by the version's key) to fit in an `i64`.
pub unsafe extern "C" fn unbox_int(obj: *mut PyObject) -> i64 {
    // SAFETY: the version's key made sure `obj` is an exact int that fits.
    unsafe { cpython::long_value(obj).unwrap_or(0) }
}

/// Whether an exact `int` fits in an `i64`: 1 or 0.
pub unsafe extern "C" fn int_fits_word(obj: *mut PyObject) -> i64 {
    // SAFETY: called from compiled code with the GIL held, on an exact int.
    unsafe { cpython::long_value(obj).is_some() as i64 }
}

pub unsafe extern "C" fn box_int(v: i64) -> *mut PyObject {
    // SAFETY: plain C-API call with the GIL held.
    unsafe { ffi::PyLong_FromLongLong(v) }
}

pub unsafe extern "C" fn box_float(v: f64) -> *mut PyObject {
    // SAFETY: plain C-API call with the GIL held.
    unsafe { ffi::PyFloat_FromDouble(v) }
}

/// `PyObject_IsTrue` that consumes its argument (POP_JUMP_IF_*): 1, 0, or -1 on error.
pub unsafe extern "C" fn truth_consume(obj: *mut PyObject) -> i64 {
    // SAFETY: `obj` is an owned reference from the frame's stack.
    unsafe {
        let r = ffi::PyObject_IsTrue(obj);
        ffi::Py_DECREF(obj);
        r as i64
    }
}

/// The `BINARY_OP` argument table (`NB_*` in `opcode.h`): the C-API function of each.
fn binary_function(op: i64) -> Option<unsafe extern "C" fn(*mut PyObject, *mut PyObject) -> *mut PyObject> {
    use ffi::*;
    Some(match op {
        0 => PyNumber_Add,
        1 => PyNumber_And,
        2 => PyNumber_FloorDivide,
        3 => PyNumber_Lshift,
        4 => PyNumber_MatrixMultiply,
        5 => PyNumber_Multiply,
        6 => PyNumber_Remainder,
        7 => PyNumber_Or,
        9 => PyNumber_Rshift,
        10 => PyNumber_Subtract,
        11 => PyNumber_TrueDivide,
        12 => PyNumber_Xor,
        13 => PyNumber_InPlaceAdd,
        14 => PyNumber_InPlaceAnd,
        15 => PyNumber_InPlaceFloorDivide,
        16 => PyNumber_InPlaceLshift,
        17 => PyNumber_InPlaceMatrixMultiply,
        18 => PyNumber_InPlaceMultiply,
        19 => PyNumber_InPlaceRemainder,
        20 => PyNumber_InPlaceOr,
        22 => PyNumber_InPlaceRshift,
        23 => PyNumber_InPlaceSubtract,
        24 => PyNumber_InPlaceTrueDivide,
        25 => PyNumber_InPlaceXor,
        _ => return None, // 8 and 21 are the powers, handled below
    })
}

/// Stores `result` in `slots[0]` and reports success, as the stack operations do.
unsafe fn finish(slots: Slots, result: *mut PyObject) -> i64 {
    // SAFETY: `slots[0]` is the first input's slot, free now that the inputs are consumed.
    unsafe {
        *slots = result;
    }
    (!result.is_null()) as i64
}

/// `BINARY_OP oparg`: `[a, b] -> [a op b]`.
pub unsafe extern "C" fn binary_op(slots: Slots, op: i64, _aux: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`.
    unsafe {
        binary(slots, |a, b| match (op, binary_function(op)) {
            (_, Some(f)) => f(a, b),
            (8, None) => ffi::PyNumber_Power(a, b, ffi::Py_None()),
            _ => ffi::PyNumber_InPlacePower(a, b, ffi::Py_None()),
        })
    }
}

/// `[a, b] -> [f(a, b)]`, both inputs consumed.
unsafe fn binary(slots: Slots, f: impl FnOnce(*mut PyObject, *mut PyObject) -> *mut PyObject) -> i64 {
    // SAFETY: two owned inputs at `slots`, released after `f` used them.
    unsafe {
        let (a, b) = (*slots, *slots.add(1));
        let result = f(a, b);
        ffi::Py_DECREF(a);
        ffi::Py_DECREF(b);
        finish(slots, result)
    }
}

/// `UNARY_NEGATIVE`, `UNARY_POSITIVE`, `UNARY_INVERT` (the opcode is the argument):
/// `[a] -> [op a]`.
pub unsafe extern "C" fn unary_op(slots: Slots, opcode: i64, _aux: i64) -> i64 {
    use crate::opcodes::{UNARY_INVERT, UNARY_NEGATIVE};
    // SAFETY: one owned input at `slots`.
    unsafe {
        let a = *slots;
        let result = match opcode as u8 {
            UNARY_NEGATIVE => ffi::PyNumber_Negative(a),
            UNARY_INVERT => ffi::PyNumber_Invert(a),
            _ => ffi::PyNumber_Positive(a),
        };
        ffi::Py_DECREF(a);
        finish(slots, result)
    }
}

/// `COMPARE_OP oparg`: `[a, b] -> [a cmp b]`.
pub unsafe extern "C" fn compare_op(slots: Slots, op: i64, _aux: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`.
    unsafe { binary(slots, |a, b| ffi::PyObject_RichCompare(a, b, op as std::os::raw::c_int)) }
}

/// `PRECALL n; CALL n` with `aux` the keyword-names tuple or NULL:
/// `[NULL|method, callable|self, args...] -> [result]`.
pub unsafe extern "C" fn call(slots: Slots, nargs: i64, kwnames: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries (the first may be NULL) at `slots`.
    unsafe {
        if (*slots).is_null() && kwnames == 0 && is_fastcall_builtin(*slots.add(1)) {
            return call_fastcall_builtin(slots, nargs);
        }
        call_vectorcall(slots, nargs, kwnames)
    }
}

/// Whether `callable` is a builtin function taking exactly `METH_FASTCALL`.
unsafe fn is_fastcall_builtin(callable: *mut PyObject) -> bool {
    // SAFETY: `callable` is live; a builtin function's method definition is static.
    unsafe {
        ffi::Py_TYPE(callable) == std::ptr::addr_of_mut!(ffi::PyCFunction_Type)
            && (*(*(callable as *mut ffi::PyCFunctionObject)).m_ml).ml_flags == ffi::METH_FASTCALL
    }
}

/// Calls a `METH_FASTCALL` builtin as 3.11's specialized `PRECALL_NO_KW_BUILTIN_FAST` does:
/// straight through its C function, so no recursion level is counted (the generic
/// `PyObject_Vectorcall` path counts one, which programs measuring their recursion depth see).
unsafe fn call_fastcall_builtin(slots: Slots, nargs: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries at `slots`, the first NULL; the callable passed
    // `is_fastcall_builtin`, so `ml_meth` is a `PyCFunctionFast`.
    unsafe {
        let callable = *slots.add(1) as *mut ffi::PyCFunctionObject;
        let function = (*(*callable).m_ml).ml_meth.PyCFunctionFast;
        let result = function((*callable).m_self, slots.add(2), nargs as ffi::Py_ssize_t);
        ffi::Py_DECREF(*slots.add(1));
        for i in 0..nargs as usize {
            ffi::Py_DECREF(*slots.add(2 + i));
        }
        finish(slots, result)
    }
}

/// Whether calls of the method descriptor `descr` with `nargs` arguments besides `self`
/// can go straight to its C function ([`call_method_descriptor`]).
///
/// # Safety
/// `descr` must be a live object.
pub unsafe fn is_direct_method_descriptor(descr: *mut PyObject, nargs: usize) -> bool {
    // SAFETY: a method descriptor's method definition is static.
    unsafe {
        if ffi::Py_TYPE(descr) != std::ptr::addr_of_mut!(ffi::PyMethodDescr_Type) {
            return false;
        }
        match (*(*(descr as *mut ffi::PyMethodDescrObject)).d_method).ml_flags {
            ffi::METH_O => nargs == 1,
            ffi::METH_NOARGS => nargs == 0,
            flags => flags == ffi::METH_FASTCALL || flags == ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
        }
    }
}

/// `[method, self, args...] -> [result]` for a method descriptor (`aux`) that
/// `is_direct_method_descriptor` accepted, `self` of its type: its C function called
/// directly, as 3.11's `PRECALL_NO_KW_METHOD_DESCRIPTOR_{O,NOARGS,FAST}` do (the first two
/// count a recursion level). `slots[0]` is not read: the method is `aux`.
pub unsafe extern "C" fn call_method_descriptor(slots: Slots, nargs: i64, descr: i64) -> i64 {
    // SAFETY: `nargs + 1` owned entries from `slots[1]`; the flags select the C signature.
    unsafe {
        let method = (*(descr as *mut ffi::PyMethodDescrObject)).d_method;
        let (this, args) = (*slots.add(1), slots.add(2));
        let result = match (*method).ml_flags {
            flags @ (ffi::METH_O | ffi::METH_NOARGS) => {
                if ffi::Py_EnterRecursiveCall(c" while calling a Python object".as_ptr()) != 0 {
                    null_mut()
                } else {
                    let arg = if flags == ffi::METH_O { *args } else { null_mut() };
                    let r = ((*method).ml_meth.PyCFunction)(this, arg);
                    ffi::Py_LeaveRecursiveCall();
                    r
                }
            }
            ffi::METH_FASTCALL => ((*method).ml_meth.PyCFunctionFast)(this, args, nargs as ffi::Py_ssize_t),
            _ => ((*method).ml_meth.PyCFunctionFastWithKeywords)(this, args, nargs as ffi::Py_ssize_t, null_mut()),
        };
        ffi::Py_DECREF(this);
        for i in 0..nargs as usize {
            ffi::Py_DECREF(*args.add(i));
        }
        finish(slots, result)
    }
}

/// `call` through `PyObject_Vectorcall`, whatever the callable.
pub unsafe extern "C" fn call_vectorcall(slots: Slots, nargs: i64, kwnames: i64) -> i64 {
    // SAFETY: `nargs + 2` owned entries (the first may be NULL) at `slots`.
    unsafe {
        let is_method = !(*slots).is_null();
        let callable = if is_method { *slots } else { *slots.add(1) };
        let args = if is_method { slots.add(1) } else { slots.add(2) };
        let total = nargs as usize + is_method as usize;
        let kwnames = kwnames as *mut PyObject;
        let positional = total - if kwnames.is_null() { 0 } else { ffi::PyTuple_GET_SIZE(kwnames) as usize };
        // `args[-1]` is a slot of ours, so callees may borrow it (PY_VECTORCALL_ARGUMENTS_OFFSET).
        let result = ffi::PyObject_Vectorcall(
            callable,
            args,
            positional | ffi::PY_VECTORCALL_ARGUMENTS_OFFSET,
            kwnames,
        );
        ffi::Py_XDECREF(*slots);
        ffi::Py_DECREF(*slots.add(1));
        for i in 0..nargs as usize {
            ffi::Py_DECREF(*slots.add(2 + i));
        }
        finish(slots, result)
    }
}

/// The profile of a site whose helper takes one (`profile` is 0 or a live [`SiteProfile`]).
unsafe fn profile<'a>(profile: i64) -> Option<&'a SiteProfile> {
    // SAFETY: per the contract; the version's code entry keeps its profiles.
    unsafe { (profile as *const SiteProfile).as_ref() }
}

/// `s[index]` of an exact str, `index` counting from the end when negative: the
/// one-character string (CPython's cached one for Latin-1), or NULL, without an exception,
/// when the index is out of range (or memory ran out): the generic path then raises.
pub unsafe extern "C" fn str_item(s: *mut PyObject, index: i64) -> *mut PyObject {
    // SAFETY: `s` is an exact str (the caller's kind); GIL held.
    unsafe {
        let len = ffi::PyUnicode_GetLength(s) as i64;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return null_mut();
        }
        let item = ffi::PyUnicode_FromOrdinal(ffi::PyUnicode_ReadChar(s, i as isize) as std::os::raw::c_int);
        if item.is_null() {
            ffi::PyErr_Clear();
        }
        item
    }
}

/// `len(obj)`, consuming the reference to `obj`: the length, or -1 with an exception set.
pub unsafe extern "C" fn length(obj: *mut PyObject) -> i64 {
    // SAFETY: an owned reference; GIL held.
    unsafe {
        let n = ffi::PyObject_Length(obj);
        ffi::Py_DECREF(obj);
        n as i64
    }
}

/// `a == b` for two exact strs (1 or 0).
pub unsafe extern "C" fn str_equal(a: *mut PyObject, b: *mut PyObject) -> i64 {
    extern "C" {
        fn _PyUnicode_Equal(a: *mut PyObject, b: *mut PyObject) -> std::os::raw::c_int;
    }
    // SAFETY: two exact strs (the caller's kinds); it reads them only.
    unsafe { i64::from(_PyUnicode_Equal(a, b)) }
}

/// Records the type of `obj` (live) as the output of the profiled site `site` (0: none).
pub unsafe extern "C" fn record_output(site: i64, obj: *mut PyObject) {
    // SAFETY: the site's profile lives as long as the version that calls this; GIL held.
    if let Some(p) = unsafe { profile(site) } {
        unsafe { p.output.record(obj) };
    }
}

/// A guard on the type a site's profile saw failed: the site's output (`output` 1) or input
/// (0) is of several types.
pub unsafe extern "C" fn profile_mispredicted(site: i64, output: i64) {
    // SAFETY: the site's profile lives as long as the version that calls this.
    if let Some(p) = unsafe { profile(site) } {
        if output != 0 { p.output.mispredicted() } else { p.input.mispredicted() }
    }
}

/// `GET_ITER`: `[iterable] -> [iter(iterable)]`, recording the iterable's type in the site's
/// `profile` (0: none).
pub unsafe extern "C" fn get_iter(slots: Slots, site: i64, _aux: i64) -> i64 {
    // SAFETY: one owned input at `slots`.
    unsafe {
        let obj = *slots;
        if let Some(p) = profile(site) {
            p.input.record(obj);
        }
        let result = ffi::PyObject_GetIter(obj);
        ffi::Py_DECREF(obj);
        finish(slots, result)
    }
}

/// `FOR_ITER`: `[it] -> [it, next]` and 1; at the end `[]` and 2; on error 0. The
/// iterator's and the items' types go into the site's `profile` (0: none).
pub unsafe extern "C" fn for_iter(slots: Slots, site: i64, _aux: i64) -> i64 {
    // SAFETY: one owned iterator at `slots`; `slots[1]` is free.
    unsafe {
        let it = *slots;
        let p = profile(site);
        if let Some(p) = p {
            p.input.record(it);
        }
        let next = match (*ffi::Py_TYPE(it)).tp_iternext {
            Some(f) => f(it),
            None => null_mut(),
        };
        if !next.is_null() {
            if let Some(p) = p {
                p.output.record(next);
            }
            *slots.add(1) = next;
            return 1;
        }
        if !ffi::PyErr_Occurred().is_null() {
            if ffi::PyErr_ExceptionMatches(ffi::PyExc_StopIteration) == 0 {
                return 0;
            }
            ffi::PyErr_Clear();
        }
        ffi::Py_DECREF(it);
        2
    }
}

/// `BINARY_SUBSCR`: `[container, key] -> [container[key]]`, the container's and the item's
/// types recorded in the site's `profile` (0: none).
pub unsafe extern "C" fn binary_subscr(slots: Slots, site: i64, _aux: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`.
    unsafe {
        let p = profile(site);
        if let Some(p) = p {
            p.input.record(*slots);
        }
        let ok = binary(slots, |container, key| ffi::PyObject_GetItem(container, key));
        if let (Some(p), 1) = (p, ok) {
            p.output.record(*slots);
        }
        ok
    }
}

/// `STORE_SUBSCR`: `[value, container, key] -> []`, the container's type recorded in the
/// site's `profile` (0: none).
pub unsafe extern "C" fn store_subscr(slots: Slots, site: i64, _aux: i64) -> i64 {
    // SAFETY: three owned inputs at `slots`.
    unsafe {
        let (v, c, k) = (*slots, *slots.add(1), *slots.add(2));
        if let Some(p) = profile(site) {
            p.input.record(c);
        }
        let r = ffi::PyObject_SetItem(c, k, v);
        ffi::Py_DECREF(v);
        ffi::Py_DECREF(c);
        ffi::Py_DECREF(k);
        (r == 0) as i64
    }
}

/// `LOAD_ATTR` with `aux` the name: `[obj] -> [obj.name]`, the object's and the value's
/// types recorded in the site's `profile` (0: none).
pub unsafe extern "C" fn load_attr(slots: Slots, site: i64, name: i64) -> i64 {
    // SAFETY: one owned input at `slots`; `name` is a str kept alive by the code object.
    unsafe {
        let obj = *slots;
        let p = profile(site);
        if let Some(p) = p {
            p.input.record(obj);
        }
        let result = ffi::PyObject_GetAttr(obj, name as *mut PyObject);
        if let (Some(p), false) = (p, result.is_null()) {
            p.output.record(result);
        }
        ffi::Py_DECREF(obj);
        finish(slots, result)
    }
}

/// `STORE_ATTR` with `aux` the name: `[value, obj] -> []`, the object's type recorded in the
/// site's `profile` (0: none).
pub unsafe extern "C" fn store_attr(slots: Slots, site: i64, name: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`.
    unsafe {
        let (v, obj) = (*slots, *slots.add(1));
        if let Some(p) = profile(site) {
            p.input.record(obj);
        }
        let r = ffi::PyObject_SetAttr(obj, name as *mut PyObject, v);
        ffi::Py_DECREF(v);
        ffi::Py_DECREF(obj);
        (r == 0) as i64
    }
}

extern "C" {
    fn _PyObject_GetMethod(obj: *mut PyObject, name: *mut PyObject, method: *mut *mut PyObject) -> std::os::raw::c_int;
}

/// `LOAD_METHOD` with `aux` the name: `[obj] -> [method, obj]` or `[NULL, attribute]`, the
/// object's type recorded in the site's `profile` (0: none).
pub unsafe extern "C" fn load_method(slots: Slots, site: i64, name: i64) -> i64 {
    // SAFETY: one owned input at `slots`; `slots[1]` is free.
    unsafe {
        let obj = *slots;
        if let Some(p) = profile(site) {
            p.input.record(obj);
        }
        let mut method = null_mut();
        if _PyObject_GetMethod(obj, name as *mut PyObject, &mut method) != 0 {
            *slots = method;
            *slots.add(1) = obj;
            return 1;
        }
        ffi::Py_DECREF(obj);
        *slots = null_mut();
        *slots.add(1) = method;
        (!method.is_null()) as i64
    }
}

/// `[items...] -> [sequence]`, the `n` item references moving into a new sequence made by
/// `new` and filled by `set_item` (which steals).
unsafe fn build_sequence(
    slots: Slots,
    n: i64,
    new: unsafe extern "C" fn(isize) -> *mut PyObject,
    set_item: unsafe fn(*mut PyObject, isize, *mut PyObject),
) -> i64 {
    // SAFETY: `n` owned items at `slots`.
    unsafe {
        let seq = new(n as isize);
        for i in 0..n as usize {
            if seq.is_null() {
                ffi::Py_DECREF(*slots.add(i));
            } else {
                set_item(seq, i as isize, *slots.add(i));
            }
        }
        finish(slots, seq)
    }
}

/// `BUILD_TUPLE n`: `[items...] -> [tuple]`.
pub unsafe extern "C" fn build_tuple(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: `n` owned items at `slots`.
    unsafe { build_sequence(slots, n, ffi::PyTuple_New, |t, i, v| ffi::PyTuple_SET_ITEM(t, i, v)) }
}

/// `BUILD_LIST n`: `[items...] -> [list]`.
pub unsafe extern "C" fn build_list(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: `n` owned items at `slots`.
    unsafe { build_sequence(slots, n, ffi::PyList_New, |l, i, v| ffi::PyList_SET_ITEM(l, i, v)) }
}

/// `CONTAINS_OP`: `item in container` (1 or 0), or -1 on error; consumes both.
pub unsafe extern "C" fn contains(item: *mut PyObject, container: *mut PyObject) -> i64 {
    // SAFETY: two owned references; GIL held.
    unsafe {
        let r = ffi::PySequence_Contains(container, item);
        ffi::Py_DECREF(item);
        ffi::Py_DECREF(container);
        r as i64
    }
}

/// `IS_OP oparg`: `[a, b] -> [bool]` (`is not` when oparg is 1).
pub unsafe extern "C" fn is_op(slots: Slots, invert: i64, _aux: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`.
    unsafe {
        let (a, b) = (*slots, *slots.add(1));
        let same = (a == b) as i64;
        ffi::Py_DECREF(a);
        ffi::Py_DECREF(b);
        finish(slots, ffi::PyBool_FromLong((same ^ invert) as _))
    }
}

/// `UNPACK_SEQUENCE n`: `[seq] -> [item n-1, ..., item 0]`, with the interpreter's errors.
pub unsafe extern "C" fn unpack_sequence(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: one owned input at `slots`; `n` slots from `slots` are free for the outputs.
    unsafe {
        let seq = *slots;
        let n = n as usize;
        let exact = ffi::Py_TYPE(seq) == std::ptr::addr_of_mut!(ffi::PyTuple_Type)
            || ffi::Py_TYPE(seq) == std::ptr::addr_of_mut!(ffi::PyList_Type);
        if exact && ffi::PySequence_Size(seq) as usize == n {
            for i in 0..n {
                let item = ffi::PySequence_Fast_GET_ITEM(seq, i as isize);
                ffi::Py_INCREF(item);
                *slots.add(n - 1 - i) = item;
            }
            ffi::Py_DECREF(seq);
            return 1;
        }
        let it = ffi::PyObject_GetIter(seq);
        if it.is_null() {
            let ty = ffi::Py_TYPE(seq);
            if ffi::PyErr_ExceptionMatches(ffi::PyExc_TypeError) != 0 && (*ty).tp_iter.is_none() && ffi::PySequence_Check(seq) == 0 {
                let name = std::ffi::CStr::from_ptr((*ty).tp_name).to_string_lossy();
                set_error(ffi::PyExc_TypeError, &format!("cannot unpack non-iterable {name} object"));
            }
            ffi::Py_DECREF(seq);
            return 0;
        }
        ffi::Py_DECREF(seq);
        let mut got = 0;
        let mut ok = true;
        while got < n {
            let item = ffi::PyIter_Next(it);
            if item.is_null() {
                if ffi::PyErr_Occurred().is_null() {
                    set_error(ffi::PyExc_ValueError, &format!("not enough values to unpack (expected {n}, got {got})"));
                }
                ok = false;
                break;
            }
            *slots.add(n - 1 - got) = item;
            got += 1;
        }
        if ok {
            let extra = ffi::PyIter_Next(it);
            if !extra.is_null() {
                ffi::Py_DECREF(extra);
                set_error(ffi::PyExc_ValueError, &format!("too many values to unpack (expected {n})"));
                ok = false;
            } else if !ffi::PyErr_Occurred().is_null() {
                ok = false;
            }
        }
        ffi::Py_DECREF(it);
        if !ok {
            for i in 0..got {
                ffi::Py_DECREF(*slots.add(n - 1 - i));
            }
        }
        ok as i64
    }
}

unsafe fn set_error(kind: *mut PyObject, message: &str) {
    let text = std::ffi::CString::new(message).unwrap_or_default();
    // SAFETY: C-API call with the GIL held.
    unsafe { ffi::PyErr_SetString(kind, text.as_ptr()) }
}

/// `BUILD_MAP n`: `[k1, v1, ..., kn, vn] -> [dict]`.
pub unsafe extern "C" fn build_map(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: `2n` owned inputs at `slots`.
    unsafe {
        let n = n as usize;
        let mut dict = ffi::PyDict_New();
        for i in 0..n {
            if !dict.is_null() && ffi::PyDict_SetItem(dict, *slots.add(2 * i), *slots.add(2 * i + 1)) != 0 {
                ffi::Py_DECREF(dict);
                dict = null_mut();
            }
        }
        for i in 0..2 * n {
            ffi::Py_DECREF(*slots.add(i));
        }
        finish(slots, dict)
    }
}

/// `BUILD_CONST_KEY_MAP n`: `[v1, ..., vn, keys] -> [dict]`.
pub unsafe extern "C" fn build_const_key_map(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: `n + 1` owned inputs at `slots`; the last is a tuple of `n` keys.
    unsafe {
        let n = n as usize;
        let keys = *slots.add(n);
        let mut dict = ffi::PyDict_New();
        for i in 0..n {
            if !dict.is_null() && ffi::PyDict_SetItem(dict, ffi::PyTuple_GET_ITEM(keys, i as isize), *slots.add(i)) != 0 {
                ffi::Py_DECREF(dict);
                dict = null_mut();
            }
        }
        for i in 0..=n {
            ffi::Py_DECREF(*slots.add(i));
        }
        finish(slots, dict)
    }
}

/// `BUILD_SLICE n`: `[start, stop(, step)] -> [slice]`.
pub unsafe extern "C" fn build_slice(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: `n` (2 or 3) owned inputs at `slots`.
    unsafe {
        let step = if n == 3 { *slots.add(2) } else { null_mut() };
        let slice = ffi::PySlice_New(*slots, *slots.add(1), step);
        for i in 0..n as usize {
            ffi::Py_DECREF(*slots.add(i));
        }
        finish(slots, slice)
    }
}

/// `LIST_APPEND i` / `SET_ADD i`: `[v] -> []`, adding `v` to the container `i` below it.
pub unsafe extern "C" fn collection_add(slots: Slots, depth: i64, is_set: i64) -> i64 {
    // SAFETY: one owned input at `slots`; the container is a live object `depth` slots below.
    unsafe {
        let v = *slots;
        let container = *slots.sub(depth as usize);
        let r = if is_set != 0 { ffi::PySet_Add(container, v) } else { ffi::PyList_Append(container, v) };
        ffi::Py_DECREF(v);
        (r == 0) as i64
    }
}

/// `MAP_ADD i`: `[key, value] -> []`, into the dict `i` slots below the key.
pub unsafe extern "C" fn map_add(slots: Slots, depth: i64, _aux: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`; the dict is live `depth` slots below the key.
    unsafe {
        let (k, v) = (*slots, *slots.add(1));
        let r = ffi::PyDict_SetItem(*slots.sub(depth as usize), k, v);
        ffi::Py_DECREF(k);
        ffi::Py_DECREF(v);
        (r == 0) as i64
    }
}

/// `FORMAT_VALUE oparg`: `[value(, spec)] -> [str]`.
pub unsafe extern "C" fn format_value(slots: Slots, oparg: i64, _aux: i64) -> i64 {
    // SAFETY: one or two owned inputs at `slots`.
    unsafe {
        let spec = if oparg & 4 != 0 { *slots.add(1) } else { null_mut() };
        let mut value = *slots;
        let convert: Option<unsafe extern "C" fn(*mut PyObject) -> *mut PyObject> = match oparg & 3 {
            1 => Some(ffi::PyObject_Str),
            2 => Some(ffi::PyObject_Repr),
            3 => Some(ffi::PyObject_ASCII),
            _ => None,
        };
        if let Some(f) = convert {
            let converted = f(value);
            ffi::Py_DECREF(value);
            if converted.is_null() {
                ffi::Py_XDECREF(spec);
                return 0;
            }
            value = converted;
        }
        let result = if ffi::PyUnicode_CheckExact(value) != 0 && spec.is_null() {
            value
        } else {
            let r = ffi::PyObject_Format(value, spec);
            ffi::Py_DECREF(value);
            ffi::Py_XDECREF(spec);
            r
        };
        finish(slots, result)
    }
}

extern "C" {
    fn _PyUnicode_JoinArray(separator: *mut PyObject, items: *const *mut PyObject, n: isize) -> *mut PyObject;
}

/// `BUILD_STRING n`: `[s1, ..., sn] -> [s1 + ... + sn]`.
pub unsafe extern "C" fn build_string(slots: Slots, n: i64, _aux: i64) -> i64 {
    // SAFETY: `n` owned str inputs at `slots`.
    unsafe {
        let empty = ffi::PyUnicode_FromStringAndSize(null_mut(), 0);
        let result = if empty.is_null() { null_mut() } else { _PyUnicode_JoinArray(empty, slots, n as isize) };
        ffi::Py_XDECREF(empty);
        for i in 0..n as usize {
            ffi::Py_DECREF(*slots.add(i));
        }
        finish(slots, result)
    }
}

/// `MAKE_FUNCTION flags`: `[(closure), (annotations), (kwdefaults), (defaults), code] ->
/// [function]`, with `aux` the globals dict.
pub unsafe extern "C" fn make_function(slots: Slots, flags: i64, globals: i64) -> i64 {
    // SAFETY: `1 + popcount(flags & 0xF)` owned inputs at `slots`, the code object last.
    unsafe {
        let extras = (flags & 0xF).count_ones() as usize;
        let code = *slots.add(extras);
        let func = ffi::PyFunction_New(code, globals as *mut PyObject);
        ffi::Py_DECREF(code);
        // Inputs sit in stack order (bottom to top): defaults, kwdefaults, annotations,
        // closure, each only if its flag is set, then the code.
        let mut next = 0;
        let mut take = |bit: i64| {
            (flags & bit != 0).then(|| {
                next += 1;
                *slots.add(next - 1)
            })
        };
        let (defaults, kwdefaults, annotations, closure) = (take(1), take(2), take(4), take(8));
        if func.is_null() {
            for obj in [closure, annotations, kwdefaults, defaults].into_iter().flatten() {
                ffi::Py_DECREF(obj);
            }
            return 0;
        }
        let f = func as *mut cpython::PyFunctionObject;
        // The interpreter stores the references directly (the fields were NULL).
        if let Some(c) = closure {
            (*f).func_closure = c;
        }
        if let Some(a) = annotations {
            (*f).func_annotations = a;
        }
        if let Some(k) = kwdefaults {
            (*f).func_kwdefaults = k;
        }
        if let Some(d) = defaults {
            (*f).func_defaults = d;
        }
        finish(slots, func)
    }
}

/// `MAKE_CELL`: wraps the value of a local slot in a new cell (1 ok, 0 error).
pub unsafe extern "C" fn make_cell(slot: Slots) -> i64 {
    // SAFETY: `slot` is a local slot of the running frame, holding NULL or an owned value.
    unsafe {
        let cell = ffi::PyCell_New(*slot);
        if cell.is_null() {
            return 0;
        }
        ffi::Py_XDECREF(*slot);
        *slot = cell;
        1
    }
}

/// `COPY_FREE_VARS n`: the function's closure cells into the frame's free-variable slots.
pub unsafe extern "C" fn copy_free_vars(frame: *mut cpython::InterpreterFrame, n: i64) {
    // SAFETY: the running frame's function has a closure tuple of at least `n` cells.
    unsafe {
        let code = (*frame).f_code;
        let closure = (*((*frame).f_func as *mut cpython::PyFunctionObject)).func_closure;
        let offset = ((*code).co_nlocals + (*code).co_nplaincellvars) as usize;
        for i in 0..n as usize {
            let cell = ffi::PyTuple_GET_ITEM(closure, i as isize);
            ffi::Py_INCREF(cell);
            *cpython::frame_slot(frame, offset + i) = cell;
        }
    }
}

/// `STORE_DEREF`: `cell.contents = value`, consuming `value`.
pub unsafe extern "C" fn store_deref(cell: *mut PyObject, value: *mut PyObject) {
    // SAFETY: `cell` is a live cell; `value` an owned reference that moves into it.
    unsafe {
        let contents = cell as *mut cpython::PyCellObject;
        let old = (*contents).ob_ref;
        (*contents).ob_ref = value;
        ffi::Py_XDECREF(old);
    }
}

/// `PyObject_IsTrue` without consuming (`JUMP_IF_*_OR_POP`): 1, 0, or -1 on error.
pub unsafe extern "C" fn truth(obj: *mut PyObject) -> i64 {
    // SAFETY: `obj` is a live object.
    unsafe { ffi::PyObject_IsTrue(obj) as i64 }
}

/// The interpreter's `error:` and `exception_unwind` for a compiled handler: adds this frame
/// to the traceback and returns the normalized exception (owned), with the error cleared.
/// Out of memory, as there: an error without an exception set becomes a SystemError (CPython
/// itself can lose one: `take_ownership` clears the MemoryError of a frame object it could
/// not make, and with it the exception that error replaced), and a frame object that cannot
/// be made raises MemoryError instead (`PyEval_GetFrame` would clear the pending exception).
pub unsafe extern "C" fn enter_handler() -> *mut PyObject {
    // SAFETY: the running frame is linked as the current one; GIL held.
    unsafe {
        if ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_SetString(ffi::PyExc_SystemError, c"error return without exception set".as_ptr());
        }
        let (mut ty, mut value, mut tb) = (null_mut(), null_mut(), null_mut());
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        let frame = ffi::PyEval_GetFrame();
        if frame.is_null() {
            ffi::Py_XDECREF(ty);
            ffi::Py_XDECREF(value);
            ffi::Py_XDECREF(tb);
            ffi::PyErr_NoMemory();
        } else {
            ffi::PyErr_Restore(ty, value, tb);
            ffi::PyTraceBack_Here(frame);
        }
        ffi::PyErr_Fetch(&mut ty, &mut value, &mut tb);
        ffi::PyErr_NormalizeException(&mut ty, &mut value, &mut tb);
        ffi::PyException_SetTraceback(value, if tb.is_null() { ffi::Py_None() } else { tb });
        ffi::Py_XDECREF(tb);
        ffi::Py_XDECREF(ty);
        value
    }
}

/// The thread's `exc_info` (`_PyErr_StackItem *`, whose first field is `exc_value`).
unsafe fn exc_info() -> *mut *mut PyObject {
    // SAFETY: the thread state is live; `exc_info` is at offset 120 in 3.11.
    unsafe { *((cpython::thread_state() as *mut u8).add(cpython::OFFSET_TSTATE_EXC_INFO) as *mut *mut *mut PyObject) }
}

/// `PUSH_EXC_INFO`: `[exc] -> [previous exception or None, exc]`, making `exc` the one
/// being handled.
pub unsafe extern "C" fn push_exc_info(slots: Slots, _arg: i64, _aux: i64) -> i64 {
    // SAFETY: one owned exception at `slots`; `slots[1]` is free.
    unsafe {
        let value = *slots;
        let info = exc_info();
        let previous = *info;
        *slots = if previous.is_null() {
            ffi::Py_INCREF(ffi::Py_None());
            ffi::Py_None()
        } else {
            previous
        };
        ffi::Py_INCREF(value);
        *slots.add(1) = value;
        *info = value;
        1
    }
}

/// `POP_EXCEPT`: restores the exception handled before (consumes `previous`).
pub unsafe extern "C" fn pop_except(previous: *mut PyObject) {
    // SAFETY: `previous` is the owned value PUSH_EXC_INFO saved.
    unsafe {
        let info = exc_info();
        let value = *info;
        *info = previous;
        ffi::Py_XDECREF(value);
    }
}

/// `CHECK_EXC_MATCH`: `[exc, type] -> [exc, bool]`; on error `[exc]`.
pub unsafe extern "C" fn check_exc_match(slots: Slots, _arg: i64, _aux: i64) -> i64 {
    // SAFETY: two owned inputs at `slots`.
    unsafe {
        let (left, right) = (*slots, *slots.add(1));
        let valid = if ffi::PyTuple_Check(right) != 0 {
            (0..ffi::PyTuple_GET_SIZE(right)).all(|i| ffi::PyExceptionClass_Check(ffi::PyTuple_GET_ITEM(right, i)) != 0)
        } else {
            ffi::PyExceptionClass_Check(right) != 0
        };
        if !valid {
            set_error(ffi::PyExc_TypeError, "catching classes that do not inherit from BaseException is not allowed");
            ffi::Py_DECREF(right);
            return 0;
        }
        let matches = ffi::PyErr_GivenExceptionMatches(left, right);
        ffi::Py_DECREF(right);
        *slots.add(1) = ffi::PyBool_FromLong(matches as _);
        1
    }
}

/// What the interpreter's `eval_frame_handle_pending` does when the eval breaker is set:
/// signal handlers and pending calls, and a GIL hand-off if another thread asked. (An
/// asynchronous exception is left to the interpreter, which alone can clear its flag: compiled
/// code leaves for it at the next back-edge.) 1 ok, 0 with an exception set.
pub unsafe extern "C" fn handle_pending() -> i64 {
    // SAFETY: the GIL is held by the running thread, whose state is live.
    unsafe {
        if ffi::Py_MakePendingCalls() < 0 {
            return 0;
        }
        if (*(*cpython::thread_state()).interp).gil_drop_request != 0 {
            let saved = ffi::PyEval_SaveThread();
            ffi::PyEval_RestoreThread(saved);
        }
        1
    }
}

/// Builds `iter(range(start, stop, step))`: how a virtual range iterator is materialized.
pub unsafe fn range_iterator(start: i64, stop: i64, step: i64) -> *mut PyObject {
    // SAFETY: C-API calls with the GIL held; every new reference is released or returned.
    unsafe {
        let args = [ffi::PyLong_FromLongLong(start), ffi::PyLong_FromLongLong(stop), ffi::PyLong_FromLongLong(step)];
        let mut result = null_mut();
        if args.iter().all(|a| !a.is_null()) {
            let range = ffi::PyObject_Vectorcall(
                std::ptr::addr_of_mut!(ffi::PyRange_Type) as *mut PyObject,
                args.as_ptr(),
                3,
                null_mut(),
            );
            if !range.is_null() {
                result = ffi::PyObject_GetIter(range);
                ffi::Py_DECREF(range);
            }
        }
        for a in args {
            ffi::Py_XDECREF(a);
        }
        result
    }
}

/// Python's float `**` for a positive finite base and a finite exponent: C's `pow`, as
/// CPython's `float_pow` calls it for such operands (the caller leaves for an infinite result,
/// which CPython reports as OverflowError).
pub extern "C" fn float_pow(a: f64, b: f64) -> f64 {
    extern "C" {
        /// libm's (the one CPython links).
        fn pow(x: f64, y: f64) -> f64;
    }
    // SAFETY: a pure function of two doubles.
    unsafe { pow(a, b) }
}

/// Python's float `%` (CPython's `float_rem`).
pub extern "C" fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b; // C fmod
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

/// Python's float `//` (CPython's `_float_div_mod`, quotient part).
pub extern "C" fn float_floor_div(a: f64, b: f64) -> f64 {
    let m = a % b; // C fmod
    let mut div = (a - m) / b;
    if m != 0.0 && (b < 0.0) != (m < 0.0) {
        div -= 1.0;
    }
    if div != 0.0 {
        let floor = div.floor();
        if div - floor > 0.5 {
            floor + 1.0
        } else {
            floor
        }
    } else {
        0.0f64.copysign(a / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_mod_and_floor_div_follow_python() {
        // Values from CPython 3.11: (a, b, a % b, a // b)
        let cases = [
            (7.5, 2.0, 1.5, 3.0),
            (-7.5, 2.0, 0.5, -4.0),
            (7.5, -2.0, -0.5, -4.0),
            (-7.5, -2.0, -1.5, 3.0),
            (0.0, -3.0, -0.0, -0.0),
            (-0.0, 3.0, 0.0, -0.0),
        ];
        for (a, b, m, d) in cases {
            assert_eq!(float_mod(a, b).to_bits(), f64::to_bits(m), "{a} % {b}");
            assert_eq!(float_floor_div(a, b).to_bits(), f64::to_bits(d), "{a} // {b}");
        }
    }
}

/// Builds the range iterator a virtual one stands for (called when it must exist).
pub unsafe extern "C" fn materialize_range_iter(cur: i64, stop: i64, step: i64) -> *mut PyObject {
    // SAFETY: GIL held by the compiled code's caller.
    unsafe { range_iterator(cur, stop, step) }
}
