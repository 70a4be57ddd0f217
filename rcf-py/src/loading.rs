//! Loading `model.tar.gz` or `model.rcf` bytes from Python, through the same checks as the CLI
//! and the server (`rcf_core::artifact::load_within`: sizes bounded by the memory budget, the
//! manifest checked against the model).

use pyo3::prelude::*;
use rcf_core::artifact::load_within;
use rcf_core::{LoadLimits, ModelPayload};

use crate::detector::PyDetector;
use crate::errors::guarded;
use crate::forest::PyForest;

/// Reads `model.tar.gz` or bare `model.rcf` bytes within a memory budget of `max_memory_bytes`
/// (default 2 GiB): `(Forest or Detector, manifest JSON as written, or None)`.
#[pyfunction]
#[pyo3(signature = (data, max_memory_bytes=None))]
pub fn load_artifact(
    py: Python<'_>,
    data: &[u8],
    max_memory_bytes: Option<u64>,
) -> PyResult<(Py<PyAny>, Option<String>)> {
    let limits = max_memory_bytes.map_or_else(LoadLimits::default, LoadLimits::new);
    let loaded = py.detach(|| guarded(|| Ok(load_within(data, &limits)?)))?;
    let manifest = loaded.manifest_json.map(|json| String::from_utf8_lossy(&json).into_owned());
    let model = match loaded.model {
        ModelPayload::Forest(f) => Bound::new(py, PyForest::wrap(f))?.into_any().unbind(),
        ModelPayload::Detector(d) => Bound::new(py, PyDetector::wrap(d))?.into_any().unbind(),
    };
    Ok((model, manifest))
}
