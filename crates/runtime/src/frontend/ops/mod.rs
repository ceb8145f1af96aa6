//! The handlers of the opcode table ([`super::dispatch`]), one module per opcode family.
//! Generators will get theirs in `generators.rs` (`YIELD_VALUE`, `RETURN_GENERATOR`, `SEND`).

mod calls;
mod control;
mod exceptions;
mod inline;
mod locals;
mod names;
mod numbers;
mod objects;
