//! x86-64 code generation from the psyco IR: one [`Backend`] trait, and its implementations.
//!
//! A backend turns an [`ir::Function`] into machine code that follows the IR's entry
//! convention (see the `ir` crate): `extern "sysv64" fn(args: *const u64, exit_buffer:
//! *mut u64) -> Outcome`. Nothing above this trait knows which backend runs.
//!
//! Architecture invariant: this crate knows no CPython ABI. Helper addresses and offsets reach
//! it as plain integers inside the IR.

mod code_heap;
pub mod cranelift;
pub mod disasm;
pub mod dynasm;
pub mod regalloc;

use ir::{Function, Outcome};
use std::fmt;

pub use crate::cranelift::CraneliftBackend;
pub use crate::dynasm::DynasmBackend;

/// Why a function could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError(pub String);

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

/// A code generator for x86-64.
pub trait Backend: Send + Sync {
    /// The name users select it by (`PSYCO_BACKEND`).
    fn name(&self) -> &'static str;
    /// Compiles a verified function.
    fn compile(&self, f: &Function) -> Result<CompiledCode, CompileError>;
    /// Readies what every compilation needs and the first one would otherwise set up (the
    /// code memory), when the JIT is turned on.
    fn prepare(&self) {}
}

/// The names of the backends, in the order of preference.
pub const BACKEND_NAMES: [&str; 2] = ["dynasm", "cranelift"];

/// The backend called `name`, if there is one.
pub fn backend_by_name(name: &str) -> Option<&'static dyn Backend> {
    match name {
        "dynasm" => Some(&DynasmBackend),
        "cranelift" => Some(&CraneliftBackend::HOST),
        _ => None,
    }
}

/// Executable machine code for one function. Dropping it frees the code.
pub struct CompiledCode {
    memory: CodeMemory,
    entry: usize,
    exit_buffer_len: usize,
}

/// The executable memory a backend put the code in, owned (and freed) by [`CompiledCode`].
enum CodeMemory {
    Dynasm(code_heap::HeapCode),
    Cranelift(Box<cranelift::JitCode>),
}

impl CodeMemory {
    fn bytes(&self) -> &[u8] {
        match self {
            CodeMemory::Dynasm(code) => code.bytes(),
            CodeMemory::Cranelift(code) => code.bytes(),
        }
    }
}

/// The signature of compiled code (see the `ir` crate's entry convention).
pub type EntryFn = unsafe extern "sysv64" fn(*const u64, *mut u64) -> Outcome;

impl CompiledCode {
    /// Code in `memory` whose first instruction is at offset `entry`.
    fn new(memory: CodeMemory, entry: usize, exit_buffer_len: usize) -> CompiledCode {
        CompiledCode { memory, entry, exit_buffer_len }
    }

    /// Size of the machine code in bytes.
    pub fn code_size(&self) -> usize {
        self.code().len()
    }

    /// Words the exit buffer passed to [`CompiledCode::entry`] must hold.
    pub fn exit_buffer_len(&self) -> usize {
        self.exit_buffer_len
    }

    /// The machine code.
    pub fn code(&self) -> &[u8] {
        self.memory.bytes()
    }

    /// Address of the first instruction (for disassembly listings).
    pub fn address(&self) -> u64 {
        self.code().as_ptr() as u64 + self.entry as u64
    }

    /// The entry point. Calling it is unsafe: the IR may read and write any memory its
    /// loads and stores name and call any address its calls name.
    pub fn entry(&self) -> EntryFn {
        // SAFETY: `entry` is the offset of the function's first instruction in executable
        // memory that lives as long as `self`, and the code follows the `EntryFn` ABI.
        unsafe { std::mem::transmute::<*const u8, EntryFn>(self.code().as_ptr().add(self.entry)) }
    }

    /// Runs the code with these arguments and an exit buffer of the right size.
    ///
    /// # Safety
    /// Whatever the IR's loads, stores and calls touch must be valid for this call.
    pub unsafe fn call(&self, args: &[u64], exit_buffer: &mut Vec<u64>) -> Outcome {
        if exit_buffer.len() < self.exit_buffer_len {
            exit_buffer.resize(self.exit_buffer_len, 0);
        }
        // SAFETY: the caller vouches for the IR's memory accesses; the buffers are live and
        // large enough for every `Param` (checked by the verifier against `num_params`, which
        // the caller matches) and every exit.
        unsafe { (self.entry())(args.as_ptr(), exit_buffer.as_mut_ptr()) }
    }

    /// The disassembly, one instruction per line, with addresses relative to the start.
    pub fn disassemble(&self) -> String {
        disasm::disassemble(self.code(), self.address())
    }
}
