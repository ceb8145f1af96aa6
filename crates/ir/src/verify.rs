//! The IR verifier (placeholder module, filled in below).
