//! pyext (placeholder).
