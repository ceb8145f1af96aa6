//! The IR text form (placeholder module, filled in below).
