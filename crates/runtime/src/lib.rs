//! The runtime: everything that touches CPython 3.11. It owns the frame-evaluation hook, the
//! bytecode front end, the version caches, side exits and the helpers compiled code calls.
//! `pyext` is a thin Python-facing layer over [`api`].

pub mod api;
pub mod bytecode;
pub mod calls;
pub mod cpython;
pub mod feedback;
pub mod frontend;
pub mod helpers;
pub mod jit;
pub mod opcodes;
pub mod policy;
pub mod profile;
pub mod reasons;
pub mod registry;
pub mod stats;
