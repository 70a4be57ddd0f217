//! The parameter ranges of `rcf_core::limits`, for the Python side: `check_parameter` checks one
//! value (so Python never states a range of its own), `LIMITS` lists them all, and long calls
//! gather their steps while checking for Ctrl-C.

use std::time::{Duration, Instant};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt};
use rcf_core::limits::{self, Limit};
use rcf_core::{Forecast, Imputation};

use crate::errors::Error;

/// How often a long call (a forecast) checks for Ctrl-C: often enough to stop promptly, seldom
/// enough that taking the GIL costs nothing measurable.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Checks `value` against the range of the parameter `name` and returns it (an int for counts, a
/// float otherwise). Raises `ValueError` naming the parameter, the value and the range, or
/// `TypeError` for a value of the wrong type.
#[pyfunction]
pub fn check_parameter(py: Python<'_>, name: &str, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let limit = limits::find(name).ok_or_else(|| PyValueError::new_err(format!("no limit is known for {name:?}")))?;
    if !limit.integer {
        let number: f64 = value
            .extract()
            .map_err(|_| PyTypeError::new_err(format!("{name} must be a number, got {}", type_name(value))))?;
        let checked = limit.check(number).map_err(Error::from)?;
        return Ok(checked.into_pyobject(py)?.into_any().unbind());
    }
    if !value.is_instance_of::<PyInt>() || value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{name} must be an int, got {}", type_name(value))));
    }
    // An int beyond 64 bits (or negative) is out of every range; say so with its own digits.
    let checked = match value.extract::<u64>().ok().and_then(|v| usize::try_from(v).ok()) {
        Some(v) => limit.check_count(v),
        None => Err(limit.rejects(value.str()?.to_string())),
    };
    Ok(checked.map_err(Error::from)?.into_pyobject(py)?.into_any().unbind())
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map_or_else(|_| "?".into(), |n| n.to_string())
}

/// `{name: {"min", "max", "min_inclusive", "max_inclusive", "integer", "expected"}}`.
pub fn table<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for Limit { name, min, min_inclusive, max, max_inclusive, integer, expected } in limits::ALL {
        let d = PyDict::new(py);
        if *integer {
            d.set_item("min", *min as u64)?;
            d.set_item("max", *max as u64)?;
        } else {
            d.set_item("min", *min)?;
            d.set_item("max", *max)?;
        }
        d.set_item("min_inclusive", *min_inclusive)?;
        d.set_item("max_inclusive", *max_inclusive)?;
        d.set_item("integer", *integer)?;
        d.set_item("expected", *expected)?;
        out.set_item(*name, d)?;
    }
    Ok(out)
}

/// Collects forecast steps (called without the GIL), taking the GIL briefly every
/// [`SIGNAL_CHECK_INTERVAL`] to let Ctrl-C raise `KeyboardInterrupt`, which ends the call.
pub fn gather_interruptibly(
    steps: impl Iterator<Item = Imputation>,
    horizon: usize,
    dims: usize,
) -> Result<Forecast, Error> {
    let mut forecast = Forecast::with_capacity(horizon, dims);
    let mut checked = Instant::now();
    for step in steps {
        if checked.elapsed() >= SIGNAL_CHECK_INTERVAL {
            Python::attach(|py| py.check_signals()).map_err(Error::Python)?;
            checked = Instant::now();
        }
        forecast.push(step);
    }
    Ok(forecast)
}
