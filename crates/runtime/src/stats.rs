//! Counters: what was compiled, what was declined and why, and every side exit by reason.
//! Exits are named `<area>_<reason>` by the snapshots that take them (`int_overflow`,
//! `eval_breaker`, `exception`, ...).

use crate::reasons::{DeclineReason, ExitReason};
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Stats {
    pub functions_compiled: u64,
    pub versions_compiled: u64,
    /// Versions compiled for frames that left through a failed guard (see `Start::Resume`).
    pub continuations_compiled: u64,
    pub instructions_compiled: u64,
    pub compile: CompileTime,
    /// Bytes of code and side tables ever allocated, and freed.
    pub code_bytes: usize,
    pub code_bytes_freed: usize,
    pub declined: BTreeMap<DeclineReason, u64>,
    pub exits: BTreeMap<ExitReason, u64>,
}

impl Stats {
    pub fn declined(&mut self, why: DeclineReason) {
        *self.declined.entry(why).or_insert(0) += 1;
    }

    /// The JIT's compile time per bytecode instruction compiled so far (declined attempts
    /// included, which only makes it dearer), once it compiled anything.
    pub fn ns_per_instruction(&self) -> Option<u64> {
        (self.instructions_compiled > 0).then(|| self.compile.total_ns() / self.instructions_compiled)
    }

    pub fn exit(&mut self, reason: ExitReason) {
        *self.exits.entry(reason).or_insert(0) += 1;
    }
}

/// All the JIT's compilation time, by phase: every attempt counts, declined ones and
/// continuations included.
#[derive(Default, Clone, Copy)]
pub struct CompileTime {
    /// Bytecode to IR (everything before the backend but the verifier).
    pub frontend_ns: u64,
    /// The IR verifier (see `CompileRequest::verify`).
    pub verify_ns: u64,
    /// IR to machine code.
    pub backend_ns: u64,
    /// The part of the above spent on attempts that ended declined.
    pub declined_ns: u64,
    /// Compilations attempted, and the front end's fixpoint rounds over all of them.
    pub attempts: u64,
    pub rounds: u64,
}

impl CompileTime {
    pub fn total_ns(&self) -> u64 {
        self.frontend_ns + self.verify_ns + self.backend_ns
    }
}

/// One code object's counters.
pub struct CodeStats {
    pub name: String,
    pub filename: String,
    pub firstlineno: i32,
    pub calls: u64,
    pub native_entries: u64,
    pub back_edges: u64,
    pub versions: usize,
    pub continuations: usize,
    /// The backends that made the live versions.
    pub backends: Vec<&'static str>,
    pub declined: Option<String>,
    pub exits: BTreeMap<ExitReason, u64>,
    /// Time spent compiling this code, declined attempts included.
    pub compile_ns: u64,
    /// Bytecode instructions of the versions compiled.
    pub instructions_compiled: u64,
}
