//! The `psyco._psyco` extension module: a thin pyo3 layer over `runtime::api`. The public
//! API, argument checking and docs live in the pure-Python package `psyco` beside it.

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCode, PyDict};
use runtime::api;

/// Installs the hook; `all` compiles every hot function, otherwise only bound ones.
#[pyfunction]
#[pyo3(signature = (all, threshold=None, backend=None))]
fn enable(all: bool, threshold: Option<u64>, backend: Option<&str>) -> PyResult<()> {
    api::enable(all, threshold, backend).map_err(|e| {
        if e.starts_with("unknown backend") {
            PyValueError::new_err(e)
        } else {
            PyRuntimeError::new_err(e)
        }
    })
}

/// Whether this is a subinterpreter, where psyco stays off.
#[pyfunction]
fn in_subinterpreter() -> bool {
    api::in_subinterpreter()
}

#[pyfunction]
fn stop() {
    api::stop()
}

#[pyfunction]
fn disable() {
    api::disable()
}

fn code_ptr(code: &Bound<'_, PyAny>) -> PyResult<*mut runtime::cpython::PyCodeObject> {
    if !code.is_instance_of::<PyCode>() {
        return Err(PyTypeError::new_err("expected a code object"));
    }
    Ok(code.as_ptr() as *mut runtime::cpython::PyCodeObject)
}

/// Compiles the code object at its next call (by `backend`, if named), with `rec` levels of
/// the functions it calls directly.
#[pyfunction]
#[pyo3(signature = (code, backend=None, rec=0))]
fn bind_code(code: &Bound<'_, PyAny>, backend: Option<&str>, rec: u32) -> PyResult<()> {
    let code = code_ptr(code)?;
    // SAFETY: `code` is a live code object (borrowed from the caller) and the GIL is held.
    unsafe { api::bind(code, backend, rec) }.map_err(|e| {
        if e.starts_with("unknown backend") {
            PyValueError::new_err(e)
        } else {
            PyRuntimeError::new_err(e)
        }
    })
}

/// Runs the code object interpreted from now on: until bound again (`unbind`) or for good
/// (`cannotcompile`, `forever`).
#[pyfunction]
fn release_code(code: &Bound<'_, PyAny>, forever: bool) -> PyResult<()> {
    let code = code_ptr(code)?;
    // SAFETY: `code` is a live code object and the GIL is held.
    unsafe { api::release(code, forever) }.map_err(PyRuntimeError::new_err)
}

/// Installs `setfilter()`'s predicate (None: no filter); gives back the previous one.
#[pyfunction]
fn set_filter(py: Python<'_>, filter: Option<Bound<'_, PyAny>>) -> Option<Py<PyAny>> {
    if api::in_subinterpreter() {
        // The main interpreter's psyco must not keep (and later call) this interpreter's
        // object; nothing is compiled here, so no filter is asked anyway.
        return None;
    }
    let new = filter.map_or(std::ptr::null_mut(), |f| f.into_ptr());
    let old = api::swap_filter(new);
    // SAFETY: `old` is an owned reference (or NULL) handed back by the JIT.
    (!old.is_null()).then(|| unsafe { Bound::from_owned_ptr(py, old) }.unbind())
}

/// Memory limits in bytes of live code (None: no limit).
#[pyfunction]
#[pyo3(signature = (stop=None, max=None))]
fn set_memory_limits(stop: Option<usize>, max: Option<usize>) {
    api::set_memory_limits(stop, max)
}

/// `(live bytes, the memory limit that stopped compilation or None)`.
#[pyfunction]
fn memory() -> (usize, Option<&'static str>) {
    api::memory()
}

/// Makes the calling thread compile nothing (psyco's profiler threads), or compile again.
#[pyfunction]
fn set_thread_quiet(quiet: bool) {
    api::set_thread_quiet(quiet)
}

/// Starts or stops recording events for `psyco.log()`.
#[pyfunction]
fn set_logging(on: bool) {
    api::set_logging(on)
}

/// The events recorded since the last call: `[(seconds since the epoch, text)]`.
#[pyfunction]
fn take_events() -> Vec<(f64, String)> {
    api::take_events()
}

/// `[(version, reason, bytecode offset, count)]` of the side exits the code object took.
#[pyfunction]
fn exit_sites(code: &Bound<'_, PyAny>) -> PyResult<Vec<(usize, String, u32, u64)>> {
    let code = code_ptr(code)?;
    // SAFETY: `code` is a live code object and the GIL is held.
    Ok(unsafe { api::exit_sites(code) })
}

/// The code objects that have compiled versions.
#[pyfunction]
fn compiled_codes(py: Python<'_>) -> Vec<Py<PyAny>> {
    // SAFETY: the JIT's registered code objects are live; borrowed references become new ones.
    api::compiled_codes().into_iter().map(|c| unsafe { Bound::from_borrowed_ptr(py, c as *mut pyo3::ffi::PyObject) }.unbind()).collect()
}

/// Why the code object runs interpreted for every call, if psyco decided so.
#[pyfunction]
fn declined_reason(code: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    let code = code_ptr(code)?;
    // SAFETY: `code` is a live code object and the GIL is held.
    Ok(unsafe { api::declined_reason(code) })
}

#[pyfunction]
fn is_compiled_code(code: &Bound<'_, PyAny>) -> PyResult<bool> {
    let code = code_ptr(code)?;
    // SAFETY: `code` is a live code object and the GIL is held.
    Ok(unsafe { api::is_compiled(code) })
}

/// `[(entry kinds, IR text, disassembly)]` for each version of the code object; the IR with
/// fake, stable addresses if `stable_addresses`.
#[pyfunction]
#[pyo3(signature = (code, stable_addresses=false))]
fn versions(code: &Bound<'_, PyAny>, stable_addresses: bool) -> PyResult<Vec<(String, String, String)>> {
    let code = code_ptr(code)?;
    // SAFETY: `code` is a live code object and the GIL is held.
    Ok(unsafe { api::versions_of(code, stable_addresses) })
}

/// All counters as a dict (see `psyco.stats`).
#[pyfunction]
fn stats<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let r = api::report();
    let d = PyDict::new(py);
    d.set_item("mode", r.mode)?;
    d.set_item("backend", r.backend)?;
    d.set_item("threshold", r.threshold)?;
    d.set_item("functions_compiled", r.functions_compiled)?;
    d.set_item("versions_compiled", r.versions_compiled)?;
    d.set_item("continuations_compiled", r.continuations_compiled)?;
    d.set_item("versions", r.versions_live)?;
    d.set_item("instructions_compiled", r.instructions_compiled)?;
    let seconds = |ns: u64| ns as f64 / 1e9;
    d.set_item("compile_time", seconds(r.compile.total_ns()))?;
    let phases = PyDict::new(py);
    phases.set_item("frontend", seconds(r.compile.frontend_ns))?;
    phases.set_item("verify", seconds(r.compile.verify_ns))?;
    phases.set_item("backend", seconds(r.compile.backend_ns))?;
    d.set_item("compile_phases", phases)?;
    d.set_item("compile_time_declined", seconds(r.compile.declined_ns))?;
    d.set_item("compile_attempts", r.compile.attempts)?;
    d.set_item("compile_rounds", r.compile.rounds)?;
    d.set_item("code_bytes", r.code_bytes_live)?;
    d.set_item("code_bytes_total", r.code_bytes)?;
    let declined = PyDict::new(py);
    for (k, v) in &r.declined {
        declined.set_item(k, v)?;
    }
    d.set_item("declined", declined)?;
    let exits = PyDict::new(py);
    for (k, v) in &r.exits {
        exits.set_item(k, v)?;
    }
    d.set_item("side_exits", exits)?;
    let codes = PyDict::new(py);
    for c in &r.codes {
        let e = PyDict::new(py);
        e.set_item("calls", c.calls)?;
        e.set_item("native_entries", c.native_entries)?;
        e.set_item("back_edges", c.back_edges)?;
        e.set_item("versions", c.versions)?;
        e.set_item("continuations", c.continuations)?;
        e.set_item("backends", c.backends.clone())?;
        e.set_item("declined", c.declined.as_deref())?;
        let exits = PyDict::new(py);
        for (k, v) in &c.exits {
            exits.set_item(k.name().as_ref(), v)?;
        }
        e.set_item("side_exits", exits)?;
        e.set_item("filename", &c.filename)?;
        e.set_item("firstlineno", c.firstlineno)?;
        e.set_item("compile_time", seconds(c.compile_ns))?;
        e.set_item("instructions_compiled", c.instructions_compiled)?;
        codes.set_item(format!("{}:{}:{}", c.filename, c.firstlineno, c.name), e)?;
    }
    d.set_item("codes", codes)?;
    Ok(d)
}

#[pymodule]
fn _psyco(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(enable, m)?)?;
    m.add_function(wrap_pyfunction!(stop, m)?)?;
    m.add_function(wrap_pyfunction!(in_subinterpreter, m)?)?;
    m.add_function(wrap_pyfunction!(disable, m)?)?;
    m.add_function(wrap_pyfunction!(bind_code, m)?)?;
    m.add_function(wrap_pyfunction!(is_compiled_code, m)?)?;
    m.add_function(wrap_pyfunction!(stats, m)?)?;
    m.add_function(wrap_pyfunction!(versions, m)?)?;
    m.add_function(wrap_pyfunction!(release_code, m)?)?;
    m.add_function(wrap_pyfunction!(set_filter, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_limits, m)?)?;
    m.add_function(wrap_pyfunction!(memory, m)?)?;
    m.add_function(wrap_pyfunction!(set_logging, m)?)?;
    m.add_function(wrap_pyfunction!(set_thread_quiet, m)?)?;
    m.add_function(wrap_pyfunction!(take_events, m)?)?;
    m.add_function(wrap_pyfunction!(exit_sites, m)?)?;
    m.add_function(wrap_pyfunction!(compiled_codes, m)?)?;
    m.add_function(wrap_pyfunction!(declined_reason, m)?)?;
    m.add("BACKENDS", backend_x86::BACKEND_NAMES.to_vec())?;
    Ok(())
}
