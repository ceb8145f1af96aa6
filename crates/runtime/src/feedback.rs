//! Type feedback from CPython 3.11's own quickened bytecode (`co_code_adaptive`).
//!
//! Once a code object has run eight `RESUME`s or back-edges in the interpreter, 3.11
//! rewrites its instructions into specialized forms (`LOAD_ATTR_INSTANCE_VALUE`,
//! `BINARY_OP_ADD_INT`, ...) that say what the interpreter saw at each site
//! (`research/cpython311-objects.md`, part 6). Compiling code that has not run is judged
//! while emitting it; code the interpreter has warmed up is judged here first, before
//! anything is emitted: where 3.11 specialized most sites into fast paths that psyco would
//! compile as generic C-API calls, psyco declines at once, for no compile time at all.

use crate::cpython::objects::{AttrPlace, AttrPlan};
use crate::cpython::PyCodeObject;
use crate::opcodes::*;

/// What the quickened bytecode says of a code object's operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    /// Sites psyco handles generically while the interpreter specializes them (so runs them
    /// faster), whatever it made of them: attributes, subscripts, unpacking; and methods of
    /// Python classes, str concatenation and comparison where it specialized them so.
    pub generic: usize,
    /// Sites psyco may compile natively: arithmetic and comparisons the interpreter found
    /// to be on ints or floats, or did not specialize at all (other operators, mixed
    /// operands), loops, calls of Python functions and of builtin types' methods, closure
    /// reads.
    pub may_be_native: usize,
}

impl Balance {
    /// The balance of quickened bytecode (see [`quickened`]).
    pub fn of(units: &[u16]) -> Balance {
        let mut balance = Balance::default();
        let mut i = 0;
        while i < units.len() {
            let opcode = (units[i] & 0xff) as u8;
            match site(opcode).filter(|_| has_run(units, i)) {
                Some(Site::Generic) => balance.generic += 1,
                Some(Site::MayBeNative) => balance.may_be_native += 1,
                None => {}
            }
            i += 1 + CACHE_ENTRIES[DEOPT[opcode as usize] as usize] as usize;
        }
        balance
    }

    /// Whether compiling cannot pay: generic sites outnumber twice every site that could be
    /// native (the front end's own rule, `DeclineReason::MostlyGeneric`, on the interpreter's evidence).
    pub fn mostly_generic(self) -> bool {
        self.generic > 2 * self.may_be_native
    }
}

/// The quickened bytecode of a code object the interpreter has warmed up (a copy: the
/// interpreter rewrites it as it runs), or `None` when it has not quickened it (it ran fewer
/// than eight calls or back-edges: no feedback).
///
/// # Safety
/// `code` is a live code object; GIL held.
pub unsafe fn quickened(code: *mut PyCodeObject) -> Option<Vec<u16>> {
    // SAFETY: per the contract; `co_code_adaptive` holds `ob_size` code units inline.
    unsafe {
        if (*code).co_warmup != 0 {
            return None;
        }
        Some(std::slice::from_raw_parts((*code).co_code_adaptive.as_ptr(), (*code).ob_base.ob_size as usize).to_vec())
    }
}

/// Whether the instruction whose opcode unit is at `i` has run since the code was quickened:
/// code that never ran says nothing of what compiling pays. An adaptive instruction's counter
/// (its first cache unit) is 0 from quickening until its first execution, which sets it for
/// good (53 once specialized, a backoff of 17 or more if it failed to, 501 after a deopt:
/// `research/cpython311-objects.md` 6.2); other forms ran or have no counter.
fn has_run(units: &[u16], i: usize) -> bool {
    let adaptive = matches!(
        (units[i] & 0xff) as u8,
        BINARY_OP_ADAPTIVE
            | BINARY_SUBSCR_ADAPTIVE
            | CALL_ADAPTIVE
            | COMPARE_OP_ADAPTIVE
            | LOAD_ATTR_ADAPTIVE
            | LOAD_GLOBAL_ADAPTIVE
            | LOAD_METHOD_ADAPTIVE
            | PRECALL_ADAPTIVE
            | STORE_ATTR_ADAPTIVE
            | STORE_SUBSCR_ADAPTIVE
            | UNPACK_SEQUENCE_ADAPTIVE
    );
    !adaptive || units.get(i + 1).is_some_and(|&counter| counter != 0)
}

/// Whether the instruction whose opcode unit is at `pc` in quickened bytecode `units` may
/// still compile to a native operation by the interpreter's evidence: not if 3.11 specialized
/// it for objects psyco handles generically ([`Balance`]'s generic sites).
pub fn may_be_native_at(units: &[u16], pc: u32) -> bool {
    !matches!(site_at(units, pc), Some(Site::Generic))
}

/// Whether a call may be native, by what its `PRECALL` (its opcode unit at `precall`) found:
/// a Python function, a method of a builtin type or a class, or nothing yet; not a bound
/// method or another builtin, which psyco calls generically.
pub fn call_may_be_native(units: &[u16], precall: u32) -> bool {
    matches!(site_at(units, precall), Some(Site::MayBeNative))
}

/// What 3.11's inline cache at the attribute site whose opcode unit is at `pc` says, when the
/// interpreter specialized it for instances of one type: that type's version and where the
/// attribute is (`_PyAttrCache`: counter, version as two u16 halves, index). Cached version 0
/// is no feedback (3.11.7 caches it wrongly: `research/cpython311-objects.md` §3.4).
pub fn attr_cache(units: &[u16], pc: u32) -> Option<AttrPlan> {
    let pc = pc as usize;
    let cache = units.get(pc + 1..pc + 5)?;
    let version = u32::from(cache[1]) | u32::from(cache[2]) << 16;
    let place = match (units[pc] & 0xff) as u8 {
        LOAD_ATTR_INSTANCE_VALUE | STORE_ATTR_INSTANCE_VALUE => AttrPlace::InlineValue(i32::from(cache[3])),
        LOAD_ATTR_SLOT | STORE_ATTR_SLOT => AttrPlace::Slot(i32::from(cache[3])),
        _ => return None,
    };
    (version != 0).then_some(AttrPlan { version, place })
}

fn site_at(units: &[u16], pc: u32) -> Option<Site> {
    units.get(pc as usize).and_then(|&unit| site((unit & 0xff) as u8))
}

enum Site {
    Generic,
    MayBeNative,
}

/// How a (quickened) instruction counts in the balance.
fn site(opcode: u8) -> Option<Site> {
    Some(match opcode {
        LOAD_ATTR_MODULE | LOAD_ATTR_WITH_HINT | STORE_ATTR_WITH_HINT => Site::Generic,
        LOAD_METHOD_CLASS | LOAD_METHOD_MODULE | LOAD_METHOD_WITH_VALUES | LOAD_METHOD_WITH_DICT => Site::Generic,
        BINARY_SUBSCR_DICT | BINARY_SUBSCR_GETITEM | STORE_SUBSCR_DICT => Site::Generic,
        // Compiled natively behind a guard on what the interpreter found.
        LOAD_ATTR_INSTANCE_VALUE | LOAD_ATTR_SLOT | STORE_ATTR_INSTANCE_VALUE | STORE_ATTR_SLOT => Site::MayBeNative,
        BINARY_SUBSCR_LIST_INT | BINARY_SUBSCR_TUPLE_INT | STORE_SUBSCR_LIST_INT => Site::MayBeNative,
        UNPACK_SEQUENCE_LIST | UNPACK_SEQUENCE_TUPLE | UNPACK_SEQUENCE_TWO_TUPLE => Site::MayBeNative,
        BINARY_OP_ADD_UNICODE | BINARY_OP_INPLACE_ADD_UNICODE | COMPARE_OP_STR_JUMP => Site::Generic,
        // Not specialized: still operations psyco only does through the C API.
        LOAD_ATTR | LOAD_ATTR_ADAPTIVE | STORE_ATTR | STORE_ATTR_ADAPTIVE => Site::Generic,
        BINARY_SUBSCR | BINARY_SUBSCR_ADAPTIVE | STORE_SUBSCR | STORE_SUBSCR_ADAPTIVE => Site::Generic,
        UNPACK_SEQUENCE | UNPACK_SEQUENCE_ADAPTIVE => Site::Generic,
        BINARY_OP_ADD_INT | BINARY_OP_SUBTRACT_INT | BINARY_OP_MULTIPLY_INT => Site::MayBeNative,
        BINARY_OP_ADD_FLOAT | BINARY_OP_SUBTRACT_FLOAT | BINARY_OP_MULTIPLY_FLOAT => Site::MayBeNative,
        COMPARE_OP_INT_JUMP | COMPARE_OP_FLOAT_JUMP => Site::MayBeNative,
        // Not specialized (yet, or for good): the operands may still be numbers psyco unboxes.
        BINARY_OP | BINARY_OP_ADAPTIVE | COMPARE_OP | COMPARE_OP_ADAPTIVE => Site::MayBeNative,
        // Calls, by what `PRECALL` found: Python functions (called directly), methods of
        // builtin types and classes (`range`) may be native; other builtins count for neither.
        PRECALL | PRECALL_ADAPTIVE | PRECALL_PYFUNC | PRECALL_BUILTIN_CLASS => Site::MayBeNative,
        PRECALL_NO_KW_METHOD_DESCRIPTOR_O | PRECALL_NO_KW_METHOD_DESCRIPTOR_NOARGS => Site::MayBeNative,
        PRECALL_NO_KW_METHOD_DESCRIPTOR_FAST | PRECALL_METHOD_DESCRIPTOR_FAST_WITH_KEYWORDS => Site::MayBeNative,
        PRECALL_NO_KW_LIST_APPEND => Site::MayBeNative,
        FOR_ITER | LOAD_DEREF | LOAD_METHOD_NO_DICT => Site::MayBeNative,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specialized_object_sites_are_generic_and_numbers_may_be_native() {
        assert!(matches!(site(LOAD_ATTR_WITH_HINT), Some(Site::Generic)));
        assert!(matches!(site(BINARY_SUBSCR_DICT), Some(Site::Generic)));
        assert!(matches!(site(LOAD_ATTR_INSTANCE_VALUE), Some(Site::MayBeNative)));
        assert!(matches!(site(BINARY_SUBSCR_LIST_INT), Some(Site::MayBeNative)));
        assert!(matches!(site(BINARY_OP_ADD_INT), Some(Site::MayBeNative)));
        assert!(matches!(site(BINARY_OP_ADAPTIVE), Some(Site::MayBeNative)));
        assert!(site(LOAD_FAST).is_none());
        // Specialized forms deoptimize to the base the cache sizes are given for.
        assert_eq!(DEOPT[LOAD_ATTR_INSTANCE_VALUE as usize], LOAD_ATTR);
        assert_eq!(CACHE_ENTRIES[DEOPT[BINARY_OP_ADD_INT as usize] as usize], CACHE_ENTRIES[BINARY_OP as usize]);
    }

    #[test]
    fn attribute_caches_give_version_and_place_and_never_version_0() {
        let unit = |opcode: u8, arg: u8| u16::from(opcode) | u16::from(arg) << 8;
        // LOAD_ATTR_SLOT for type version 0x0001_0002 at offset 24; then an
        // INSTANCE_VALUE cache holding version 0.
        let units = vec![unit(LOAD_ATTR_SLOT, 0), 53, 2, 1, 24, unit(LOAD_ATTR_INSTANCE_VALUE, 0), 53, 0, 0, 3];
        assert_eq!(attr_cache(&units, 0), Some(AttrPlan { version: 0x0001_0002, place: AttrPlace::Slot(24) }));
        assert_eq!(attr_cache(&units, 5), None);
    }

    #[test]
    fn adaptive_sites_count_only_once_they_ran() {
        let unit = |opcode: u8, arg: u8| u16::from(opcode) | u16::from(arg) << 8;
        // LOAD_ATTR_ADAPTIVE (4 cache units) never run, then one that failed to specialize,
        // then BINARY_OP_ADAPTIVE (1 cache unit) never run.
        let mut units = vec![unit(LOAD_ATTR_ADAPTIVE, 0), 0, 0, 0, 0];
        units.extend([unit(LOAD_ATTR_ADAPTIVE, 1), 17, 0, 0, 0, unit(BINARY_OP_ADAPTIVE, 0), 0]);
        assert_eq!(Balance::of(&units), Balance { generic: 1, may_be_native: 0 });
    }

    #[test]
    fn the_rule_is_two_generic_sites_per_native_one() {
        assert!(Balance { generic: 5, may_be_native: 2 }.mostly_generic());
        assert!(!Balance { generic: 4, may_be_native: 2 }.mostly_generic());
        assert!(!Balance::default().mostly_generic());
    }
}
