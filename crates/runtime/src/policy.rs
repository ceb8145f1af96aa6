//! When code is worth compiling: what "every function that runs enough" means for `full()`.
//!
//! Compiling costs far more than running code once: a module imported at start-up runs most
//! of its functions a handful of times, and compiling them made imports 10-30x slower. So by
//! default code is compiled once it shows that it runs enough, as CPython's own quickening
//! waits for eight calls or loop iterations:
//! - a function whose bytecode has a loop, at its first call (the loop may run long, and a
//!   running frame is never taken over later) — except while a module is being imported:
//!   code that runs then mostly runs once, so it waits to be warm as straight code does;
//! - a function without loops, at its [`CALLS_BEFORE_COMPILING_STRAIGHT_CODE`]th call;
//! - module bodies, class bodies and `exec`/`eval` code, never: they run once and resolve
//!   names through dicts (`LOAD_NAME`, `STORE_NAME`), which compiled code leaves for at once.
//!
//! "Being imported" means that the body of a module other than `__main__` is running (the
//! hook sees those frames start and end: [`BodyRun`]); the program's own script is not an
//! import, so its functions compile as early as ever.
//!
//! `PSYCO_THRESHOLD=N` (or `Options::threshold`) replaces the first two rules by "after N
//! calls", so `PSYCO_THRESHOLD=0` compiles every function at its first call.

use crate::cpython::{self, ffi, PyCodeObject};
use crate::opcodes::*;

/// Calls that a function without loops runs interpreted before it is compiled (CPython 3.11
/// quickens code after eight calls or back-edges: code that runs less is not worth it).
pub const CALLS_BEFORE_COMPILING_STRAIGHT_CODE: u64 = 8;

/// What the policy needs to know of a code object, read once when psyco first sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeShape {
    /// A module or class body, or `exec`/`eval` code (no `CO_OPTIMIZED`).
    NotAFunction,
    /// A function body; `has_loop` when its bytecode jumps backwards.
    Function { has_loop: bool },
}

impl CodeShape {
    /// Reads the shape of a live code object.
    ///
    /// # Safety
    /// `code` is a live code object; GIL held.
    pub unsafe fn of(code: *mut PyCodeObject) -> CodeShape {
        // SAFETY: per the contract; `PyCode_GetCode` returns a new bytes object (or NULL with
        // an exception set, cleared here: the code is then treated as having a loop, which
        // only compiles it earlier).
        unsafe {
            if (*code).co_flags & cpython::CO_OPTIMIZED == 0 {
                return CodeShape::NotAFunction;
            }
            let bytes = cpython::PyCode_GetCode(code);
            if bytes.is_null() {
                ffi::PyErr_Clear();
                return CodeShape::Function { has_loop: true };
            }
            let units = std::slice::from_raw_parts(ffi::PyBytes_AsString(bytes) as *const u8, ffi::PyBytes_Size(bytes) as usize);
            // Opcodes sit at even offsets; caches are zeros in the unquickened bytecode.
            let has_loop = units.chunks_exact(2).any(|unit| is_backward_jump(unit[0]));
            ffi::Py_DECREF(bytes);
            CodeShape::Function { has_loop }
        }
    }

    /// Calls this code runs interpreted before it is compiled, given the user's threshold
    /// (`None`: the default policy of this module's doc) and whether a module is being
    /// imported; `None` for never.
    pub fn calls_before_compiling(self, threshold: Option<u64>, importing: bool) -> Option<u64> {
        match (self, threshold) {
            (CodeShape::NotAFunction, _) => None,
            (CodeShape::Function { .. }, Some(calls)) => Some(calls),
            (CodeShape::Function { has_loop: true }, None) if !importing => Some(0),
            (CodeShape::Function { .. }, None) => Some(CALLS_BEFORE_COMPILING_STRAIGHT_CODE),
        }
    }
}

/// What running a module or class body means for the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyRun {
    /// The body of an imported module (or a class body inside one, or `exec` code): while it
    /// runs, the program is importing.
    Import,
    /// The body of `__main__`: the program itself.
    Main,
}

impl BodyRun {
    /// Which kind of body the frame with these globals runs.
    ///
    /// # Safety
    /// `globals` is a live dict; GIL held.
    pub unsafe fn of(globals: *mut ffi::PyObject) -> BodyRun {
        // SAFETY: per the contract; a borrowed lookup that runs no Python code (str keys).
        unsafe {
            let name = ffi::PyDict_GetItemString(globals, c"__name__".as_ptr());
            let main = !name.is_null()
                && ffi::PyUnicode_Check(name) != 0
                && ffi::PyUnicode_CompareWithASCIIString(name, c"__main__".as_ptr()) == 0;
            if main { BodyRun::Main } else { BodyRun::Import }
        }
    }
}

fn is_backward_jump(opcode: u8) -> bool {
    matches!(
        opcode,
        JUMP_BACKWARD
            | JUMP_BACKWARD_NO_INTERRUPT
            | POP_JUMP_BACKWARD_IF_FALSE
            | POP_JUMP_BACKWARD_IF_TRUE
            | POP_JUMP_BACKWARD_IF_NONE
            | POP_JUMP_BACKWARD_IF_NOT_NONE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_threshold_applies_to_every_function_and_never_to_bodies() {
        for (has_loop, importing) in [(false, false), (true, false), (false, true), (true, true)] {
            assert_eq!(CodeShape::Function { has_loop }.calls_before_compiling(Some(0), importing), Some(0));
            assert_eq!(CodeShape::Function { has_loop }.calls_before_compiling(Some(5), importing), Some(5));
            assert_eq!(CodeShape::NotAFunction.calls_before_compiling(Some(0), importing), None);
            assert_eq!(CodeShape::NotAFunction.calls_before_compiling(None, importing), None);
        }
    }

    #[test]
    fn by_default_loops_compile_at_once_unless_importing_and_straight_code_once_warm() {
        let warm = Some(CALLS_BEFORE_COMPILING_STRAIGHT_CODE);
        assert_eq!(CodeShape::Function { has_loop: true }.calls_before_compiling(None, false), Some(0));
        assert_eq!(CodeShape::Function { has_loop: true }.calls_before_compiling(None, true), warm);
        assert_eq!(CodeShape::Function { has_loop: false }.calls_before_compiling(None, false), warm);
        assert_eq!(CodeShape::Function { has_loop: false }.calls_before_compiling(None, true), warm);
    }

    #[test]
    fn backward_jumps_are_recognized() {
        assert!(is_backward_jump(JUMP_BACKWARD));
        assert!(is_backward_jump(POP_JUMP_BACKWARD_IF_TRUE));
        assert!(!is_backward_jump(JUMP_FORWARD));
        assert!(!is_backward_jump(POP_JUMP_FORWARD_IF_FALSE));
    }
}
