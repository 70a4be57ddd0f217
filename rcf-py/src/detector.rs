//! `rcf._rcf.Detector`: rcf-core's thresholded detector (anomaly grades, a self-adjusting threshold,
//! explanations, streaming imputation, forecasts) behind a lock, with every call running without
//! the GIL. The public class is `rcf.ThresholdedRandomCutForest`.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use numpy::ndarray::{Array2, Array3};
use numpy::{PyArray1, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rcf_core::detector::{
    AnomalyDescriptor, Detector, DetectorBuilder, DetectorError, FillMethod, Suppression, Transform,
};
use rcf_core::{ForestConfig, ModelPayload};

use crate::errors::{guarded, Error};
use crate::forest::{check_forecast, forecast_arrays, PyForest};
use crate::limits::gather_interruptibly;

/// The suppression reasons, in the order of their codes in `process_series` output.
pub const SUPPRESSIONS: [&str; 7] = [
    "none",
    "near_expected",
    "earlier_anomaly_in_shingle",
    "alert_once",
    "continuation",
    "similar_context",
    "data_drift",
];

fn suppression_code(s: Suppression) -> u8 {
    match s {
        Suppression::None => 0,
        Suppression::NearExpected => 1,
        Suppression::EarlierAnomalyInShingle => 2,
        Suppression::AlertOnce => 3,
        Suppression::Continuation => 4,
        Suppression::SimilarContext => 5,
        Suppression::DataDrift => 6,
    }
}

fn parse_transform(name: &str) -> Result<Transform, Error> {
    Ok(match name {
        "none" => Transform::None,
        "normalize" => Transform::Normalize,
        "difference" => Transform::Difference,
        "normalize_difference" => Transform::NormalizeDifference,
        "subtract_moving_average" => Transform::SubtractMovingAverage,
        other => {
            return Err(Error::Value(format!(
                "transform must be one of 'none', 'normalize', 'difference', 'normalize_difference', \
                 'subtract_moving_average', got {other:?}"
            )))
        }
    })
}

fn parse_fill(name: &str, values: Option<Vec<f32>>) -> Result<FillMethod, Error> {
    Ok(match (name, values) {
        ("reject", None) => FillMethod::Reject,
        ("zero", None) => FillMethod::Zero,
        ("previous", None) => FillMethod::Previous,
        ("linear", None) => FillMethod::Linear,
        ("forest", None) => FillMethod::Forest,
        ("fixed", Some(v)) => FillMethod::Fixed(v),
        (other, _) => {
            return Err(Error::Value(format!(
                "fill must be 'reject', 'zero', 'previous', 'linear', 'forest' or a list of one value per \
                 feature, got {other:?}"
            )))
        }
    })
}

/// A thresholded Random Cut Forest detector (the native half of `rcf.ThresholdedRandomCutForest`).
#[pyclass(module = "rcf._rcf", name = "Detector", frozen)]
pub struct PyDetector {
    inner: RwLock<Detector>,
    config: ForestConfig,
}

impl PyDetector {
    pub(crate) fn wrap(detector: Detector) -> Self {
        PyDetector { config: detector.forest().config().clone(), inner: RwLock::new(detector) }
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Detector>, Error> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Detector>, Error> {
        self.inner.write().map_err(|_| poisoned())
    }

    fn with_read<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Detector) -> T + Send) -> Result<T, Error> {
        py.detach(|| guarded(|| Ok(f(&*self.read()?))))
    }

    fn one_row<'a>(&self, x: &'a PyReadonlyArray1<'_, f32>) -> Result<&'a [f32], Error> {
        let d = self.config.input_dims;
        let values = x.as_slice().map_err(|_| Error::Value("x must be a contiguous float32 array".into()))?;
        if values.len() != d {
            return Err(Error::Value(format!("x has {} values, but the detector expects {d}", values.len())));
        }
        Ok(values)
    }
}

fn poisoned() -> Error {
    Error::Internal("the detector is unusable after an earlier internal error; load it again from a saved copy".into())
}

/// Columns of a run of descriptors, built without the GIL.
struct Columns {
    timestamp: Vec<i64>,
    score: Vec<f64>,
    grade: Vec<f64>,
    threshold: Vec<f64>,
    confidence: Vec<f64>,
    relative_index: Vec<i64>,
    start_of_anomaly: Vec<bool>,
    in_high_score_region: Vec<bool>,
    suppression: Vec<u8>,
    imputed_values: Vec<i64>,
    expected: Array2<f32>,
    actual: Array2<f32>,
    attribution: Array3<f64>,
}

impl Columns {
    fn new(descriptors: &[AnomalyDescriptor], dims: usize) -> Self {
        let mut c = Columns::with_capacity(descriptors.len(), dims);
        c.append(descriptors, dims);
        c
    }

    /// Columns for `n` rows of `dims` features, filled by [`Columns::append`].
    fn with_capacity(n: usize, dims: usize) -> Self {
        Columns {
            timestamp: Vec::with_capacity(n),
            score: Vec::with_capacity(n),
            grade: Vec::with_capacity(n),
            threshold: Vec::with_capacity(n),
            confidence: Vec::with_capacity(n),
            relative_index: Vec::with_capacity(n),
            start_of_anomaly: Vec::with_capacity(n),
            in_high_score_region: Vec::with_capacity(n),
            suppression: Vec::with_capacity(n),
            imputed_values: Vec::with_capacity(n),
            expected: Array2::from_elem((n, dims), f32::NAN),
            actual: Array2::from_elem((n, dims), f32::NAN),
            attribution: Array3::from_elem((n, dims, 2), f64::NAN),
        }
    }

    /// Adds the next rows.
    fn append(&mut self, descriptors: &[AnomalyDescriptor], dims: usize) {
        let c = self;
        for d in descriptors {
            let i = c.timestamp.len();
            c.timestamp.push(d.timestamp);
            c.score.push(d.score);
            c.grade.push(d.grade);
            c.threshold.push(d.threshold);
            c.confidence.push(d.confidence);
            c.relative_index.push(d.relative_index);
            c.start_of_anomaly.push(d.start_of_anomaly);
            c.in_high_score_region.push(d.in_high_score_region);
            c.suppression.push(suppression_code(d.suppression));
            c.imputed_values.push(d.imputed_values as i64);
            if let Some(v) = &d.expected_values {
                for (j, x) in v.iter().take(dims).enumerate() {
                    c.expected[[i, j]] = *x;
                }
            }
            if let Some(v) = &d.actual_values {
                for (j, x) in v.iter().take(dims).enumerate() {
                    c.actual[[i, j]] = *x;
                }
            }
            if let Some(a) = &d.attribution {
                let folded = a.fold_shingle(dims);
                for j in 0..folded.dims().min(dims) {
                    c.attribution[[i, j, 0]] = folded.high[j];
                    c.attribution[[i, j, 1]] = folded.low[j];
                }
            }
        }
    }

    fn into_dict<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        out.set_item("timestamp", PyArray1::from_vec(py, self.timestamp))?;
        out.set_item("score", PyArray1::from_vec(py, self.score))?;
        out.set_item("grade", PyArray1::from_vec(py, self.grade))?;
        out.set_item("threshold", PyArray1::from_vec(py, self.threshold))?;
        out.set_item("confidence", PyArray1::from_vec(py, self.confidence))?;
        out.set_item("relative_index", PyArray1::from_vec(py, self.relative_index))?;
        out.set_item("start_of_anomaly", PyArray1::from_vec(py, self.start_of_anomaly))?;
        out.set_item("in_high_score_region", PyArray1::from_vec(py, self.in_high_score_region))?;
        out.set_item("suppression", PyArray1::from_vec(py, self.suppression))?;
        out.set_item("imputed_values", PyArray1::from_vec(py, self.imputed_values))?;
        out.set_item("expected", PyArray2::from_owned_array(py, self.expected))?;
        out.set_item("actual", PyArray2::from_owned_array(py, self.actual))?;
        out.set_item("attribution", PyArray3::from_owned_array(py, self.attribution))?;
        Ok(out)
    }
}

/// Shingled attribution values held at once while a series is processed (16 MiB).
const SERIES_CHUNK_VALUES: usize = 1 << 20;

/// True when some row could fail part-way through a series (a missing or infinite value, or
/// timestamps that do not increase within the batch); rows before it would then already be learnt.
fn may_fail_midway(rows: &[f32], dims: usize, timestamps: Option<&[i64]>) -> bool {
    let bad_value = rows.chunks_exact(dims).skip(1).any(|r| r.iter().any(|v| !v.is_finite()));
    let bad_time = timestamps.is_some_and(|ts| ts.windows(2).any(|w| w[1] <= w[0]));
    bad_value || bad_time
}

#[pymethods]
impl PyDetector {
    /// An empty detector for inputs of `input_dims` values (see `rcf.ThresholdedRandomCutForest`).
    #[new]
    #[pyo3(signature = (input_dims, *, shingle_size=8, num_trees=50, sample_size=256, time_decay=None,
                        output_after=None, seed=None, transform="none", z_factor=3.0, lower_threshold=0.8,
                        anomaly_rate=None, fill="reject", fill_values=None, alert_once=false,
                        ignore_near_expected=(0.0, 0.0), noise_suppression=1.0, similar_context_suppression=0.1,
                        forecast_horizon=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        input_dims: usize,
        shingle_size: usize,
        num_trees: usize,
        sample_size: usize,
        time_decay: Option<f64>,
        output_after: Option<usize>,
        seed: Option<u64>,
        transform: &str,
        z_factor: f64,
        lower_threshold: f64,
        anomaly_rate: Option<f64>,
        fill: &str,
        fill_values: Option<Vec<f32>>,
        alert_once: bool,
        ignore_near_expected: (f64, f64),
        noise_suppression: f64,
        similar_context_suppression: f64,
        forecast_horizon: Option<usize>,
    ) -> PyResult<Self> {
        let detector = guarded(|| {
            let mut b = DetectorBuilder::new(input_dims)
                .shingle_size(shingle_size)
                .num_trees(num_trees)
                .sample_size(sample_size)
                .transform(parse_transform(transform)?)
                .z_factor(z_factor)
                .lower_threshold(lower_threshold)
                .fill(parse_fill(fill, fill_values)?)
                .alert_once(alert_once)
                .ignore_near_expected(ignore_near_expected.0, ignore_near_expected.1)
                .noise_suppression(noise_suppression)
                .similar_context_suppression(similar_context_suppression);
            if let Some(l) = time_decay {
                b = b.time_decay(l);
            }
            if let Some(n) = output_after {
                b = b.output_after(n);
            }
            if let Some(s) = seed {
                b = b.seed(s);
            }
            if let Some(r) = anomaly_rate {
                b = b.anomaly_rate(r);
            }
            if let Some(h) = forecast_horizon {
                b = b.forecast_horizon(h);
            }
            let detector = b.build()?;
            crate::loading::check_forest_memory(detector.forest().config())?;
            Ok(detector)
        })?;
        Ok(PyDetector::wrap(detector))
    }

    /// Processes one input (`timestamp` None: the previous timestamp + 1); returns the descriptor's
    /// columns for one row (see `process_series`).
    #[pyo3(signature = (x, timestamp=None))]
    fn process<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f32>,
        timestamp: Option<i64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let values = self.one_row(&x)?;
        let dims = self.config.input_dims;
        let columns = py.detach(|| {
            guarded(|| {
                let mut detector = self.write()?;
                let descriptor = match timestamp {
                    Some(t) => detector.process(values, t)?,
                    None => match detector.process_series(values, None) {
                        Ok(mut d) => d.pop().ok_or_else(|| Error::Internal("no descriptor".into()))?,
                        Err(DetectorError::InRow { source, .. }) => return Err((*source).into()),
                        Err(e) => return Err(e.into()),
                    },
                };
                Ok(Columns::new(std::slice::from_ref(&descriptor), dims))
            })
        })?;
        columns.into_dict(py)
    }

    /// Processes the rows of `x` in order (timestamps None: continuing from the previous timestamp
    /// + 1). Returns a dict of column arrays. If a row fails, the detector is left as it was.
    #[pyo3(signature = (x, timestamps=None))]
    fn process_series<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        timestamps: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let dims = self.config.input_dims;
        if x.shape()[1] != dims {
            return Err(Error::Value(format!(
                "X has {} features per row, but the detector expects {dims}",
                x.shape()[1]
            ))
            .into());
        }
        if !x.is_c_contiguous() {
            return Err(Error::Value("X must be a C-contiguous float32 array".into()).into());
        }
        let rows = x.as_slice().map_err(|_| Error::Value("X must be a C-contiguous float32 array".into()))?;
        let ts = match &timestamps {
            Some(t) => {
                Some(t.as_slice().map_err(|_| Error::Value("timestamps must be a contiguous int64 array".into()))?)
            }
            None => None,
        };
        let n = x.shape()[0];
        if let Some(t) = ts.filter(|t| t.len() != n) {
            return Err(Error::Value(format!("timestamps has {} values, but X has {n} rows", t.len())).into());
        }
        // A descriptor carries the attribution of every shingled dimension, so they are turned into
        // columns a bounded number of rows at a time.
        let rows_per_chunk = (SERIES_CHUNK_VALUES / self.config.dimensions()).max(1);
        let columns = py.detach(|| {
            guarded(|| {
                let mut detector = self.write()?;
                let run = |work: &mut Detector| -> Result<Columns, Error> {
                    let mut columns = Columns::with_capacity(n, dims);
                    for (i, chunk) in rows.chunks(rows_per_chunk * dims).enumerate() {
                        let first = i * rows_per_chunk;
                        let chunk_ts = ts.map(|t| &t[first..first + chunk.len() / dims]);
                        let descriptors = work.process_series(chunk, chunk_ts).map_err(|e| match e {
                            DetectorError::InRow { row, source } => DetectorError::InRow { row: row + first, source },
                            other => other,
                        })?;
                        columns.append(&descriptors, dims);
                    }
                    Ok(columns)
                };
                if may_fail_midway(rows, dims, ts) {
                    // Work on a copy so that a failing row leaves the detector unchanged.
                    let mut work = detector.clone();
                    let columns = run(&mut work)?;
                    *detector = work;
                    Ok(columns)
                } else {
                    // Only the first row can fail here (its timestamp, its values), before any change.
                    run(&mut detector)
                }
            })
        })?;
        columns.into_dict(py)
    }

    /// Forecast of the next `horizon` inputs in input units: `(values, lower, upper)`, each
    /// (horizon, input_dims).
    #[pyo3(signature = (horizon, coverage=0.9))]
    #[allow(clippy::type_complexity)]
    fn forecast<'py>(
        &self,
        py: Python<'py>,
        horizon: usize,
        coverage: f64,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>)> {
        check_forecast(self.config.shingle_size)?;
        let d = self.config.input_dims;
        let f = py.detach(|| {
            guarded(|| {
                let detector = self.read()?;
                let forecast = gather_interruptibly(detector.forecast_steps(horizon, coverage)?, horizon, d);
                forecast
            })
        })?;
        forecast_arrays(py, horizon, d, f)
    }

    /// The next input `x` with its NaN values imputed (the detector is not changed).
    fn impute<'py>(&self, py: Python<'py>, x: PyReadonlyArray1<'py, f32>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let values = self.one_row(&x)?;
        let out = py.detach(|| guarded(|| Ok(self.read()?.impute(values)?)))?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// The model file bytes (`model.rcf`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.with_read(py, |d| d.to_bytes())?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A detector from model file bytes (`model.rcf`).
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let detector = py.detach(|| guarded(|| Ok(Detector::from_bytes(data)?)))?;
        Ok(PyDetector::wrap(detector))
    }

    /// The forest configuration as a dict.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let c = &self.config;
        let d = PyDict::new(py);
        d.set_item("input_dims", c.input_dims)?;
        d.set_item("shingle_size", c.shingle_size)?;
        d.set_item("num_trees", c.num_trees)?;
        d.set_item("sample_size", c.sample_size)?;
        d.set_item("time_decay", c.time_decay)?;
        d.set_item("output_after", c.output_after)?;
        d.set_item("initial_accept_fraction", c.initial_accept_fraction)?;
        d.set_item("seed", c.seed)?;
        Ok(d)
    }

    /// Values per input.
    #[getter]
    fn input_dims(&self) -> usize {
        self.config.input_dims
    }

    /// Inputs processed so far (imputed ones included).
    #[getter]
    fn inputs_seen(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.with_read(py, |d| d.inputs_seen())?)
    }

    /// The current threshold.
    #[getter]
    fn threshold(&self, py: Python<'_>) -> PyResult<f64> {
        Ok(self.with_read(py, |d| d.threshold())?)
    }

    /// Approximate heap memory of the forest in bytes.
    #[getter]
    fn heap_bytes(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.with_read(py, |d| d.forest().heap_bytes())?)
    }

    fn __copy__(&self, py: Python<'_>) -> PyResult<Self> {
        Ok(PyDetector::wrap(self.with_read(py, Detector::clone)?))
    }

    fn __deepcopy__(&self, py: Python<'_>, _memo: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__copy__(py)
    }

    /// Pickles as the model file bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let from_bytes = py.get_type::<PyDetector>().getattr("from_bytes")?;
        Ok((from_bytes, (slf.get().to_bytes(py)?,)))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let c = &self.config;
        let seen = self.with_read(py, |d| d.inputs_seen())?;
        Ok(format!(
            "Detector(input_dims={}, shingle_size={}, num_trees={}, sample_size={}, inputs_seen={})",
            c.input_dims, c.shingle_size, c.num_trees, c.sample_size, seen
        ))
    }
}

/// Reads model file bytes (`model.rcf`, any format version this build reads): a `Forest` or a
/// `Detector`, by what the file holds.
#[pyfunction]
pub fn read_model(py: Python<'_>, data: &[u8]) -> PyResult<Py<PyAny>> {
    let model = py.detach(|| guarded(|| Ok(ModelPayload::from_bytes(data)?)))?;
    Ok(match model {
        ModelPayload::Forest(f) => Bound::new(py, PyForest::wrap(f))?.into_any().unbind(),
        ModelPayload::Detector(d) => Bound::new(py, PyDetector::wrap(d))?.into_any().unbind(),
    })
}
