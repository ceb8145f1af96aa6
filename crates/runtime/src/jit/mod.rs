//! The JIT proper: its state, the frame-evaluation hook, the code cache of compiled
//! versions, compiling them, and leaving compiled code.

pub mod code_cache;
pub mod compile;
pub mod deopt;
pub mod hook;
pub mod run;
pub mod side_tables;
pub mod state;
