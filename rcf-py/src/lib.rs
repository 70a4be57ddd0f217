//! `rcf._rcf`: the native half of the `rcf` Python package (the public API lives in
//! `python/rcf/`). Every loop over data runs here, with the GIL released and panics caught.

mod detector;
mod errors;
mod forest;
mod limits;
mod loading;
mod pool;

use pyo3::prelude::*;

/// The native module. Not a public API: use `import rcf`.
#[pymodule]
fn _rcf(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<forest::PyForest>()?;
    m.add_class::<detector::PyDetector>()?;
    m.add_function(wrap_pyfunction!(detector::read_model, m)?)?;
    m.add_function(wrap_pyfunction!(loading::load_artifact, m)?)?;
    m.add_function(wrap_pyfunction!(loading::max_model_memory_bytes, m)?)?;
    m.add("SUPPRESSIONS", detector::SUPPRESSIONS.to_vec())?;
    m.add("InvalidInputError", py.get_type::<errors::InvalidInputError>())?;
    m.add("ModelFileError", py.get_type::<errors::ModelFileError>())?;
    m.add("FORMAT_VERSION", rcf_core::FORMAT_VERSION)?;
    m.add("LIMITS", limits::table(py)?)?;
    m.add("MAX_POOLS", pool::MAX_POOLS)?;
    m.add_function(wrap_pyfunction!(limits::check_parameter, m)?)?;
    m.add("DEFAULT_MAX_MODEL_MEMORY_BYTES", rcf_core::DEFAULT_MAX_MODEL_MEMORY_BYTES)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(panic_for_testing, m)?)?;
    Ok(())
}

/// Panics inside the same guard every method uses; lets the test suite prove that a Rust panic
/// surfaces as `RuntimeError` instead of crossing into Python.
#[pyfunction(name = "_panic_for_testing")]
fn panic_for_testing(py: Python<'_>) -> PyResult<()> {
    let result: Result<(), errors::Error> = py.detach(|| errors::guarded(|| panic!("deliberate panic")));
    Ok(result?)
}
