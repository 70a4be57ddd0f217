//! Loading `model.tar.gz` or `model.rcf` bytes from Python, through the same checks as the CLI
//! and the server (`rcf_core::artifact::load_within`: sizes bounded by the memory budget, the
//! manifest checked against the model).

use pyo3::prelude::*;
use rcf_core::artifact::load_within;
use rcf_core::{ForestConfig, LoadLimits, ModelPayload};

use crate::detector::PyDetector;
use crate::errors::{guarded, Error};
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

/// Environment variable of the model memory budget, in MiB (as for the `rcf` binary).
const BUDGET_ENV: &str = "RCF_MAX_MODEL_MEMORY_MB";

/// The model memory budget: `RCF_MAX_MODEL_MEMORY_MB` (MiB, at least 1) when set, else rcf-core's
/// default. Read at each call, so a notebook can change it between loads.
pub fn budget_from_env() -> Result<LoadLimits, Error> {
    match std::env::var(BUDGET_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(LoadLimits::default()),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(mib) if mib > 0 => Ok(LoadLimits::from_mib(mib)),
            _ => Err(Error::Value(format!("{BUDGET_ENV}={text:?}: expected a whole number of MiB, at least 1"))),
        },
        Err(e) => Err(Error::Value(format!("{BUDGET_ENV}: {e}"))),
    }
}

/// The budget in bytes, for the Python loader.
#[pyfunction]
pub fn max_model_memory_bytes() -> PyResult<u64> {
    Ok(budget_from_env()?.max_memory_bytes)
}

/// Refuses settings whose forest would outgrow the budget once its samples fill (such a model
/// could not be loaded again either): a `ValueError` now instead of running out of memory later.
pub fn check_forest_memory(config: &ForestConfig) -> Result<(), Error> {
    budget_from_env()?
        .check_model(config, 0)
        .map_err(|e| Error::Value(format!("these settings build a forest too large for the memory budget: {e}")))
}
