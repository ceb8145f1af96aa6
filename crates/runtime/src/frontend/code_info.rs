//! The code object as the front end reads it, once per compilation: the decoded bytecode, its
//! blocks and loop heads, its exception table and its slot layout.

use crate::reasons::DeclineReason;
use super::{decline, Result};
use crate::bytecode::{self, Instr};
use crate::cpython::{self, ffi, ffi::PyObject, PyCodeObject};
use crate::opcodes::*;
use std::collections::{BTreeSet, HashMap};

const FLAGS_DECLINED: i32 =
    cpython::CO_GENERATOR | cpython::CO_COROUTINE | cpython::CO_ITERABLE_COROUTINE | cpython::CO_ASYNC_GENERATOR;

pub(super) struct CodeInfo {
    /// The live code object (for its constants and names, which are read when used).
    pub(super) object: *mut PyCodeObject,
    pub(super) instrs: Vec<Instr>,
    /// Index in `instrs` of the instruction starting at each offset.
    pub(super) by_start: HashMap<u32, usize>,
    pub(super) block_starts: BTreeSet<u32>,
    /// Targets of backward jumps.
    pub(super) loop_heads: BTreeSet<u32>,
    pub(super) nlocals: usize,
    /// Arguments, including `*args` and `**kwargs`.
    pub(super) nargs: usize,
    pub(super) nfree: usize,
    pub(super) stacksize: usize,
    /// Slots holding cells (cell and free variables): always objects.
    pub(super) cell_slots: Vec<bool>,
    /// Cell slots this code rebinds (`STORE_DEREF`, `DELETE_DEREF`): their values change
    /// while it runs, so only their types are speculated on.
    pub(super) rebound_cells: BTreeSet<usize>,
    /// The exception table: where an exception raised by an instruction is handled.
    pub(super) handlers: Vec<ExceptionHandler>,
}

/// The code units of `code`'s unquickened bytecode, as `PyCode_GetCode` gives it (`None` if
/// that failed; its exception is cleared).
///
/// # Safety
/// `code` is a live code object; GIL held.
pub(super) unsafe fn code_units(code: *mut PyCodeObject) -> Option<Vec<u16>> {
    // SAFETY: per the contract; `PyCode_GetCode` returns a new bytes object or NULL.
    unsafe {
        let bytes = cpython::PyCode_GetCode(code);
        if bytes.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let len = ffi::PyBytes_Size(bytes) as usize;
        let ptr = ffi::PyBytes_AsString(bytes) as *const u8;
        let units = std::slice::from_raw_parts(ptr, len).chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
        ffi::Py_DECREF(bytes);
        Some(units)
    }
}

/// Constant `i` of the live code object `code` (a borrowed reference; `i` in range, as a
/// `LOAD_CONST` argument is).
pub(super) fn code_constant(code: *mut PyCodeObject, i: usize) -> *mut PyObject {
    // SAFETY: co_consts is a tuple of the live code object; the index is in range.
    unsafe { ffi::PyTuple_GetItem((*code).co_consts, i as isize) }
}

impl CodeInfo {
    pub(super) fn read(code: *mut PyCodeObject) -> Result<CodeInfo> {
        // SAFETY: `code` is the live code object of the frame being compiled (GIL held).
        let (flags, nlocals, nargs, nfree, stacksize, cell_slots, units, handlers) = unsafe {
            let c = &*code;
            let Some(units) = code_units(code) else { return decline(DeclineReason::NoBytecode) };
            let table = c.co_exceptiontable;
            let handlers = parse_exception_table(std::slice::from_raw_parts(
                ffi::PyBytes_AsString(table) as *const u8,
                ffi::PyBytes_Size(table) as usize,
            ));
            let kinds = c.co_localspluskinds;
            let kinds = std::slice::from_raw_parts(
                ffi::PyBytes_AsString(kinds) as *const u8,
                ffi::PyBytes_Size(kinds) as usize,
            );
            let cell_slots: Vec<bool> =
                kinds.iter().map(|k| k & (cpython::CO_FAST_CELL | cpython::CO_FAST_FREE) != 0).collect();
            let nargs = c.co_argcount
                + c.co_kwonlyargcount
                + ((c.co_flags & cpython::CO_VARARGS) != 0) as i32
                + ((c.co_flags & cpython::CO_VARKEYWORDS) != 0) as i32;
            (
                c.co_flags,
                c.co_nlocalsplus as usize,
                nargs as usize,
                c.co_nfreevars as usize,
                c.co_stacksize as usize,
                cell_slots,
                units,
                handlers,
            )
        };
        if flags & FLAGS_DECLINED != 0 {
            return decline(DeclineReason::Generator);
        }
        let instrs = bytecode::decode(&units);
        let by_start = instrs.iter().enumerate().map(|(i, ins)| (ins.start, i)).collect();
        let mut block_starts = BTreeSet::from([0]);
        let mut loop_heads = BTreeSet::new();
        for ins in &instrs {
            if let Some(t) = ins.jump_target() {
                block_starts.insert(t);
                block_starts.insert(ins.next);
                if t <= ins.start {
                    loop_heads.insert(t);
                }
            }
            if !ins.falls_through() {
                block_starts.insert(ins.next);
            }
        }
        block_starts.extend(handlers.iter().map(|h| h.target));
        let rebound_cells =
            instrs.iter().filter(|i| matches!(i.opcode, STORE_DEREF | DELETE_DEREF)).map(|i| i.arg as usize).collect();
        Ok(CodeInfo {
            object: code,
            instrs,
            by_start,
            block_starts,
            loop_heads,
            nlocals,
            nargs,
            nfree,
            stacksize,
            cell_slots,
            rebound_cells,
            handlers,
        })
    }

    /// Name `i` of `co_names`, as the address the helpers take.
    pub(super) fn name(&self, i: usize) -> i64 {
        // SAFETY: co_names is a tuple of the live code object; the index is in range.
        unsafe { ffi::PyTuple_GetItem((*self.object).co_names, i as isize) as i64 }
    }

    /// Whether the instruction at `pc` is entered only from the one before it (no jump and no
    /// handler leads there), so that a handler may do it together with that one.
    pub(super) fn entered_only_from_before(&self, pc: u32) -> bool {
        !self.instrs.iter().any(|i| i.jump_target() == Some(pc)) && !self.handlers.iter().any(|h| h.target == pc)
    }

    /// The slot of the free variable `__class__` (what zero-argument `super()` reads), if the
    /// code has one.
    pub(super) fn class_cell_slot(&self) -> Option<usize> {
        // SAFETY: the names and kinds of the live code object's locals, one byte of kind per
        // name.
        unsafe {
            let names = (*self.object).co_localsplusnames;
            let kinds = ffi::PyBytes_AsString((*self.object).co_localspluskinds) as *const u8;
            (0..ffi::PyTuple_GET_SIZE(names) as usize).find(|&i| {
                *kinds.add(i) & crate::cpython::CO_FAST_FREE != 0
                    && ffi::PyTuple_GET_ITEM(names, i as isize) == crate::cpython::objects::class_name()
            })
        }
    }

    /// Constant `i` of `co_consts` (a borrowed reference).
    pub(super) fn constant(&self, i: usize) -> *mut PyObject {
        code_constant(self.object, i)
    }

    /// The handler of an exception raised by the instruction at `pc`, if any.
    pub(super) fn handler_at(&self, pc: u32) -> Option<ExceptionHandler> {
        self.handlers.iter().find(|h| h.start <= pc && pc < h.end).copied()
    }
}

/// One entry of a code object's exception table (offsets in code units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ExceptionHandler {
    start: u32,
    end: u32,
    pub(super) target: u32,
    /// Stack depth the handler starts from.
    pub(super) depth: usize,
    /// Whether the raising instruction's offset is pushed before the exception.
    pub(super) lasti: bool,
}

/// Parses 3.11's `co_exceptiontable` (`Objects/exception_handling_notes.txt`): entries of
/// four varints (start, length, target, depth << 1 | lasti), each varint in 6-bit groups,
/// most significant first, bit 6 meaning "more follows".
fn parse_exception_table(bytes: &[u8]) -> Vec<ExceptionHandler> {
    let mut it = bytes.iter().copied();
    let mut varint = || -> Option<u32> {
        let mut b = it.next()?;
        let mut v = (b & 63) as u32;
        while b & 64 != 0 {
            b = it.next()?;
            v = (v << 6) | (b & 63) as u32;
        }
        Some(v)
    };
    let mut out = Vec::new();
    while let (Some(start), Some(len), Some(target), Some(dl)) = (varint(), varint(), varint(), varint()) {
        out.push(ExceptionHandler { start, end: start + len, target, depth: (dl >> 1) as usize, lasti: dl & 1 != 0 });
    }
    out
}
