//! Runs the backend conformance suite (`tests/conformance`) once per backend.

#[macro_use]
mod conformance;

conformance_suite!(dynasm, backend_x86::DynasmBackend);
conformance_suite!(cranelift, backend_x86::CraneliftBackend::HOST);
conformance_suite!(cranelift_baseline, backend_x86::CraneliftBackend::BASELINE);
