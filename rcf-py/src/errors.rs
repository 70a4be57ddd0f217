//! Mapping of rcf-core errors and Rust panics onto Python exceptions.
//!
//! Every call from Python into Rust goes through [`guarded`], so a panic becomes a `RuntimeError`
//! instead of unwinding into the interpreter.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rcf_core::detector::DetectorError;
use rcf_core::{ConfigError, InputError, ModelFileError as CoreModelFileError};

create_exception!(
    _rcf,
    InvalidInputError,
    PyValueError,
    "A row handed to the forest was unusable. Attributes `row` and `column` (zero-based) say where; \
     either may be None when it does not apply."
);
create_exception!(
    _rcf,
    ModelFileError,
    PyValueError,
    "A model file or model.tar.gz could not be read (truncated, corrupted, foreign, or newer)."
);

/// An error of this crate before it is turned into a Python exception (which needs the GIL).
#[derive(Debug)]
pub enum Error {
    Input(InputError),
    Config(ConfigError),
    ModelFile(CoreModelFileError),
    Detector(DetectorError),
    Value(String),
    Internal(String),
    /// An exception raised while the call checked for signals (`KeyboardInterrupt`).
    Python(PyErr),
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<CoreModelFileError> for Error {
    fn from(e: CoreModelFileError) -> Self {
        Error::ModelFile(e)
    }
}

impl From<DetectorError> for Error {
    fn from(e: DetectorError) -> Self {
        Error::Detector(e)
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Input(InputError::Argument(e)) | Error::Detector(DetectorError::Input(InputError::Argument(e))) => {
                PyValueError::new_err(e.to_string())
            }
            Error::Input(e) => input_error(e),
            Error::Detector(e) => detector_error(e),
            Error::Config(e) => PyValueError::new_err(e.to_string()),
            Error::ModelFile(e) => ModelFileError::new_err(e.to_string()),
            Error::Value(msg) => PyValueError::new_err(msg),
            Error::Internal(msg) => PyRuntimeError::new_err(msg),
            Error::Python(e) => e,
        }
    }
}

/// The detector's errors: bad values and timestamps that do not increase become
/// `InvalidInputError` (a `ValueError`) naming the row (and column); a missing value rejected by
/// `fill="reject"` says how to have it imputed instead.
fn detector_error(e: DetectorError) -> PyErr {
    let (row, inner) = match e {
        DetectorError::InRow { row, source } => (Some(row), *source),
        other => (None, other),
    };
    match inner {
        DetectorError::Input(InputError::NonFinite { index, value }) if value.is_nan() => invalid_input(
            row,
            Some(index),
            "value is NaN (missing); the detector was built with fill=\"reject\" (pass fill=\"previous\", \
             \"linear\", \"forest\", ... to impute missing values)"
                .to_string(),
        ),
        DetectorError::Input(e) => input_error(match row {
            Some(r) => e.in_row(r),
            None => e,
        }),
        DetectorError::TimestampNotIncreasing { previous, found } => invalid_input(
            row,
            None,
            format!(
                "timestamp {found} is not after the previous timestamp {previous}; timestamps must increase strictly"
            ),
        ),
        DetectorError::InRow { .. } => invalid_input(row, None, inner.to_string()),
        DetectorError::Unsupported(msg) => PyValueError::new_err(msg),
    }
}

/// `InvalidInputError(message, row, column)` with a message that names both.
fn input_error(e: InputError) -> PyErr {
    let (row, inner) = match e {
        InputError::InRow { row, source } => (Some(row), *source),
        other => (None, other),
    };
    let (column, what) = match inner {
        InputError::NonFinite { index, value } => {
            (Some(index), format!("value is {value}; only finite numbers are accepted"))
        }
        InputError::WrongLength { expected, found } => (None, format!("expected {expected} values, found {found}")),
        other => (None, other.to_string()),
    };
    invalid_input(row, column, what)
}

/// `InvalidInputError` with `row` and `column` attributes and a message that starts with them.
fn invalid_input(row: Option<usize>, column: Option<usize>, what: String) -> PyErr {
    let place = match (row, column) {
        (Some(r), Some(c)) => format!("row {r}, column {c}: "),
        (Some(r), None) => format!("row {r}: "),
        (None, Some(c)) => format!("column {c}: "),
        (None, None) => String::new(),
    };
    let err = InvalidInputError::new_err(format!("{place}{what}"));
    Python::attach(|py| {
        let value = err.value(py);
        // Setting an attribute on a fresh exception instance cannot fail in practice; if it did,
        // the message still names the row and column.
        let _ = value.setattr("row", row);
        let _ = value.setattr("column", column);
    });
    err
}

/// Runs `f`, turning a panic into [`Error::Internal`].
pub fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| Err(Error::Internal(panic_message(payload))))
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    format!("internal error in rcf (this is a bug, please report it): {what}")
}
