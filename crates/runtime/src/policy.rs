//! When code is worth compiling: what "every function that runs enough" means for `full()`.
//!
//! Compiling costs far more than running code once: a module imported at start-up runs most
//! of its functions a handful of times, and compiling them made imports 10-30x slower. So by
//! default code is compiled once it shows that it runs enough, as CPython's own quickening
//! waits for eight calls or loop iterations:
//! - a function whose bytecode has a loop, at its first call (the loop may run long, and a
//!   running frame is never taken over later) — except while a module is being imported:
//!   code that runs then mostly runs once, so it waits to be warm as straight code does, and
//!   then until it has paid for its compilation (below);
//! - a function without loops, at its [`CALLS_BEFORE_COMPILING_STRAIGHT_CODE`]th call;
//! - module bodies, class bodies and `exec`/`eval` code, never: they run once and resolve
//!   names through dicts (`LOAD_NAME`, `STORE_NAME`), which compiled code leaves for at once;
//! - the import system's entry point (`_find_and_load` of the frozen `importlib._bootstrap`),
//!   never: it runs once per import.
//!
//! While importing, code warm by calls is compiled only once the time it has run interpreted
//! since then is [`IMPORT_PAYBACK`] times what compiling it is expected to cost (its
//! instructions at the JIT's measured time per instruction so far): the rent-or-buy rule, so
//! compiling adds at most about 1/[`IMPORT_PAYBACK`] to the imports' own time, and what runs
//! long during an import is still compiled. The hook times only such waiting code. Once the
//! imports are over, warm code compiles at its next call as ever.
//!
//! "Being imported" means that the import system is finding or loading a module, or the body
//! of a module other than `__main__` is running (the hook sees those frames start and end:
//! [`BodyRun`]); the program's own script is not an import, so its functions compile as early
//! as ever.
//!
//! `PSYCO_THRESHOLD=N` (or `Options::threshold`) replaces the first two rules by "after N
//! calls" and drops the payback rule (no timing: compile decisions are then reproducible),
//! so `PSYCO_THRESHOLD=0` compiles every function at its first call.

use crate::cpython::{self, ffi, PyCodeObject};
use crate::opcodes::*;
use crate::reasons::DeclineReason;

/// Calls that a function without loops runs interpreted before it is compiled (CPython 3.11
/// quickens code after eight calls or back-edges: code that runs less is not worth it).
pub const CALLS_BEFORE_COMPILING_STRAIGHT_CODE: u64 = 8;

/// While importing, warm code is compiled once it has run interpreted this many times as long
/// as compiling it is expected to take (4: compiling costs at most about a quarter more).
pub const IMPORT_PAYBACK: u64 = 4;

/// The expected compile time per bytecode instruction before the JIT has measured its own
/// (a little above what the dynasm backend takes: better late than wasted).
pub const DEFAULT_NS_PER_INSTRUCTION: u64 = 10_000;

/// Functions with more bytecode instructions than this are compiled only once their
/// interpreted time has paid for it (as during imports), loops or not: compiling them costs
/// milliseconds (re's compiler, 1,060 instructions, took 90 ms at its first call and ran
/// 0.1 ms per call), so a first call is no evidence that it pays. (At 400, `re.compile`
/// x200 took 1.92x plain; at 200, 1.78x. The loops of the benchmark programs have fewer.)
pub const BIG_CODE_INSTRUCTIONS: u32 = 200;

/// What the policy needs to know of a code object, read once when psyco first sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeShape {
    /// A module or class body, or `exec`/`eval` code (no `CO_OPTIMIZED`).
    NotAFunction,
    /// The import system's entry point: while it runs, a module is being found or loaded.
    ImportEntry,
    /// A function body; `has_loop` when its bytecode jumps backwards; `instructions` counts
    /// its bytecode instructions (inline caches excluded).
    Function { has_loop: bool, instructions: u32 },
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
            if is_import_entry(code) {
                return CodeShape::ImportEntry;
            }
            let bytes = cpython::PyCode_GetCode(code);
            if bytes.is_null() {
                ffi::PyErr_Clear();
                return CodeShape::Function { has_loop: true, instructions: 0 };
            }
            let units = std::slice::from_raw_parts(ffi::PyBytes_AsString(bytes) as *const u8, ffi::PyBytes_Size(bytes) as usize);
            // Opcodes sit at even offsets; caches are zeros (CACHE) in the unquickened bytecode.
            let opcodes = || units.chunks_exact(2).map(|unit| unit[0]).filter(|&op| op != CACHE);
            let has_loop = opcodes().any(is_backward_jump);
            let instructions = opcodes().count() as u32;
            ffi::Py_DECREF(bytes);
            CodeShape::Function { has_loop, instructions }
        }
    }

    /// Calls this code runs interpreted before it is compiled, given the user's threshold
    /// (`None`: the default policy of this module's doc) and whether a module is being
    /// imported; `None` for never.
    pub fn calls_before_compiling(self, threshold: Option<u64>, waits: bool) -> Option<u64> {
        match (self, threshold) {
            (CodeShape::NotAFunction | CodeShape::ImportEntry, _) => None,
            (CodeShape::Function { .. }, Some(calls)) => Some(calls),
            (CodeShape::Function { has_loop: true, .. }, None) if !waits => Some(0),
            (CodeShape::Function { .. }, None) => Some(CALLS_BEFORE_COMPILING_STRAIGHT_CODE),
        }
    }

    /// Whether compiling must wait for the code to pay for it, while importing (`importing`)
    /// or because it is big ([`BIG_CODE_INSTRUCTIONS`]): then [`CodeShape::import_payback_ns`]
    /// applies, and loops are no reason to compile at the first call.
    pub fn waits_for_payback(self, importing: bool) -> bool {
        importing || matches!(self, CodeShape::Function { instructions, .. } if instructions > BIG_CODE_INSTRUCTIONS)
    }

    /// Why code of this shape is never compiled (`None` for functions, which may be).
    pub fn never_compiled(self) -> Option<DeclineReason> {
        match self {
            CodeShape::NotAFunction => Some(DeclineReason::NotAFunction),
            CodeShape::ImportEntry => Some(DeclineReason::ImportEntry),
            CodeShape::Function { .. } => None,
        }
    }

    /// The interpreted time after which, during an import, code warm by calls has paid for its
    /// compilation, given the JIT's measured compile time per instruction (`None` before it
    /// measured any); `None` when the payback rule does not apply (a user's threshold).
    pub fn import_payback_ns(self, threshold: Option<u64>, ns_per_instruction: Option<u64>) -> Option<u64> {
        match (self, threshold) {
            (CodeShape::Function { instructions, .. }, None) => {
                let per_instruction = ns_per_instruction.unwrap_or(DEFAULT_NS_PER_INSTRUCTION);
                Some(IMPORT_PAYBACK * u64::from(instructions) * per_instruction)
            }
            _ => None,
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
    /// Which kind of run a frame of code of this shape with these globals is (`None` for a
    /// function's: functions run in whatever their caller runs).
    ///
    /// # Safety
    /// `globals` is a live dict; GIL held.
    pub unsafe fn of(shape: CodeShape, globals: *mut ffi::PyObject) -> Option<BodyRun> {
        // SAFETY: per the contract; a borrowed lookup that runs no Python code (str keys).
        unsafe {
            match shape {
                CodeShape::Function { .. } => None,
                CodeShape::ImportEntry => Some(BodyRun::Import),
                CodeShape::NotAFunction => {
                    let name = ffi::PyDict_GetItemString(globals, c"__name__".as_ptr());
                    let main = !name.is_null() && is_ascii(name, c"__main__");
                    Some(if main { BodyRun::Main } else { BodyRun::Import })
                }
            }
        }
    }
}

/// Whether `code` is `_find_and_load` of the frozen `importlib._bootstrap`, which every
/// import statement, `__import__` and `importlib.import_module` call runs to find and load a
/// module that is not loaded yet.
///
/// # Safety
/// `code` is a live code object; GIL held.
unsafe fn is_import_entry(code: *mut PyCodeObject) -> bool {
    // SAFETY: per the contract; a code object's name and filename are str objects.
    unsafe { is_ascii((*code).co_name, c"_find_and_load") && is_ascii((*code).co_filename, c"<frozen importlib._bootstrap>") }
}

/// Whether `object` is a str equal to `text`.
///
/// # Safety
/// `object` is a live object; GIL held.
unsafe fn is_ascii(object: *mut ffi::PyObject, text: &std::ffi::CStr) -> bool {
    // SAFETY: per the contract; the comparison runs no Python code.
    unsafe { ffi::PyUnicode_Check(object) != 0 && ffi::PyUnicode_CompareWithASCIIString(object, text.as_ptr()) == 0 }
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
            let function = CodeShape::Function { has_loop, instructions: 10 };
            assert_eq!(function.calls_before_compiling(Some(0), importing), Some(0));
            assert_eq!(function.calls_before_compiling(Some(5), importing), Some(5));
            assert_eq!(function.import_payback_ns(Some(5), Some(1000)), None);
            assert_eq!(CodeShape::NotAFunction.calls_before_compiling(Some(0), importing), None);
            assert_eq!(CodeShape::NotAFunction.calls_before_compiling(None, importing), None);
            assert_eq!(CodeShape::ImportEntry.calls_before_compiling(Some(0), importing), None);
        }
    }

    #[test]
    fn by_default_loops_compile_at_once_unless_importing_and_straight_code_once_warm() {
        let warm = Some(CALLS_BEFORE_COMPILING_STRAIGHT_CODE);
        let looping = CodeShape::Function { has_loop: true, instructions: 10 };
        let straight = CodeShape::Function { has_loop: false, instructions: 10 };
        assert_eq!(looping.calls_before_compiling(None, false), Some(0));
        assert_eq!(looping.calls_before_compiling(None, true), warm);
        assert_eq!(straight.calls_before_compiling(None, false), warm);
        assert_eq!(straight.calls_before_compiling(None, true), warm);
    }

    #[test]
    fn big_code_waits_for_payback_like_imports_and_small_code_only_while_importing() {
        let big = CodeShape::Function { has_loop: true, instructions: BIG_CODE_INSTRUCTIONS + 1 };
        let small = CodeShape::Function { has_loop: true, instructions: BIG_CODE_INSTRUCTIONS };
        assert!(big.waits_for_payback(false) && big.waits_for_payback(true));
        assert!(!small.waits_for_payback(false) && small.waits_for_payback(true));
        assert!(!CodeShape::NotAFunction.waits_for_payback(false));
    }

    #[test]
    fn while_importing_code_waits_until_it_ran_payback_times_its_expected_compile_time() {
        let code = CodeShape::Function { has_loop: false, instructions: 50 };
        assert_eq!(code.import_payback_ns(None, Some(2_000)), Some(IMPORT_PAYBACK * 50 * 2_000));
        assert_eq!(code.import_payback_ns(None, None), Some(IMPORT_PAYBACK * 50 * DEFAULT_NS_PER_INSTRUCTION));
        assert_eq!(CodeShape::NotAFunction.import_payback_ns(None, None), None);
        assert_eq!(CodeShape::ImportEntry.never_compiled(), Some(DeclineReason::ImportEntry));
        assert_eq!(code.never_compiled(), None);
    }

    #[test]
    fn backward_jumps_are_recognized() {
        assert!(is_backward_jump(JUMP_BACKWARD));
        assert!(is_backward_jump(POP_JUMP_BACKWARD_IF_TRUE));
        assert!(!is_backward_jump(JUMP_FORWARD));
        assert!(!is_backward_jump(POP_JUMP_FORWARD_IF_FALSE));
    }
}
