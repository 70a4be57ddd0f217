//! `rcf._rcf.Forest`: the rcf-core forest behind a lock, with every call running without the GIL.
//!
//! Batches arrive as 2-D C-contiguous float32 NumPy arrays and are read in place; results go back
//! as NumPy arrays that take ownership of the Rust vectors (no copy, no Python object per point).

use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use numpy::ndarray::{Array2, Array3};
use numpy::{PyArray1, PyArray2, PyArray3, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use rcf_core::artifact::{self, Manifest, TrainingStats};
use rcf_core::{limits, Forest, ForestBuilder, ForestConfig};

use crate::errors::{guarded, Error};
use crate::limits::gather_interruptibly;
use crate::pool;

/// A Random Cut Forest (the native half of `rcf.RandomCutForest`).
///
/// Reads take a shared lock and writes an exclusive one, so threads may score one forest at once
/// while another updates it; all of it happens with the GIL released.
#[pyclass(module = "rcf._rcf", name = "Forest", frozen)]
pub struct PyForest {
    inner: RwLock<Forest>,
    /// The configuration never changes, so it is kept outside the lock: reading it never waits
    /// (with the GIL held) for an update running in another thread.
    config: ForestConfig,
}

/// The rows of a batch as one row-major slice, after checking the row width.
fn rows<'a>(x: &'a PyReadonlyArray2<'_, f32>, input_dims: usize) -> Result<&'a [f32], Error> {
    let width = x.shape()[1];
    if width != input_dims {
        return Err(Error::Value(format!("X has {width} features per row, but the forest expects {input_dims}")));
    }
    // as_slice() also accepts Fortran order, which would be read transposed: insist on C order.
    if !x.is_c_contiguous() {
        return Err(Error::Value("X must be a C-contiguous float32 array".into()));
    }
    x.as_slice().map_err(|_| Error::Value("X must be a C-contiguous float32 array".into()))
}

impl PyForest {
    pub(crate) fn wrap(forest: Forest) -> Self {
        PyForest { config: forest.config().clone(), inner: RwLock::new(forest) }
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Forest>, Error> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Forest>, Error> {
        self.inner.write().map_err(|_| poisoned())
    }

    fn input_dims(&self) -> Result<usize, Error> {
        Ok(self.config.input_dims)
    }

    /// Runs `f` on the forest under the shared lock, with the GIL released while waiting for it.
    fn with_read<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Forest) -> T + Send) -> Result<T, Error> {
        py.detach(|| guarded(|| Ok(f(&*self.read()?))))
    }
}

/// Checks that the model can forecast (it is shingled); rcf-core checks the horizon and coverage.
pub(crate) fn check_forecast(shingle_size: usize) -> Result<(), Error> {
    if shingle_size < 2 {
        return Err(Error::Value(format!(
            "forecasting needs shingle_size of at least 2 (the model has {shingle_size}): the forest \
             extrapolates a shingled series"
        )));
    }
    Ok(())
}

/// A forecast as three (horizon, dims) arrays.
#[allow(clippy::type_complexity)]
pub(crate) fn forecast_arrays<'py>(
    py: Python<'py>,
    horizon: usize,
    dims: usize,
    f: rcf_core::Forecast,
) -> PyResult<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<f32>>)> {
    let shape = |v: Vec<f32>| -> Result<Array2<f32>, Error> {
        Array2::from_shape_vec((horizon, dims), v).map_err(|e| Error::Internal(e.to_string()))
    };
    Ok((
        PyArray2::from_owned_array(py, shape(f.values)?),
        PyArray2::from_owned_array(py, shape(f.lower)?),
        PyArray2::from_owned_array(py, shape(f.upper)?),
    ))
}

fn poisoned() -> Error {
    Error::Internal("the forest is unusable after an earlier internal error; load it again from a saved copy".into())
}

#[allow(clippy::too_many_arguments)]
fn builder(
    input_dims: usize,
    shingle_size: usize,
    num_trees: usize,
    sample_size: usize,
    time_decay: Option<f64>,
    output_after: Option<usize>,
    initial_accept_fraction: f64,
    seed: Option<u64>,
) -> Result<ForestBuilder, Error> {
    let mut b = ForestBuilder::new(input_dims)
        .shingle_size(shingle_size)
        .num_trees(num_trees)
        .sample_size(sample_size)
        .initial_accept_fraction(initial_accept_fraction);
    if let Some(l) = time_decay {
        b = b.time_decay(l);
    }
    if let Some(n) = output_after {
        // The forest's configuration does not bound it; the shared limit does.
        b = b.output_after(limits::OUTPUT_AFTER.check_count(n)?);
    }
    if let Some(s) = seed {
        b = b.seed(s);
    }
    crate::loading::check_forest_memory(&b.config()?)?;
    Ok(b)
}

#[pymethods]
impl PyForest {
    /// An empty forest for rows of `input_dims` values.
    #[new]
    #[pyo3(signature = (input_dims, *, shingle_size=1, num_trees=100, sample_size=256, time_decay=None,
                        output_after=None, initial_accept_fraction=1.0, seed=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        input_dims: usize,
        shingle_size: usize,
        num_trees: usize,
        sample_size: usize,
        time_decay: Option<f64>,
        output_after: Option<usize>,
        initial_accept_fraction: f64,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        let b = builder(
            input_dims,
            shingle_size,
            num_trees,
            sample_size,
            time_decay,
            output_after,
            initial_accept_fraction,
            seed,
        )?;
        Ok(guarded(|| Ok(PyForest::wrap(b.build()?)))?)
    }

    /// Batch fit (SageMaker semantics) on the rows of `x`, a C-contiguous float32 array.
    #[staticmethod]
    #[pyo3(signature = (x, *, shingle_size=1, num_trees=100, sample_size=256, time_decay=None,
                        output_after=None, initial_accept_fraction=1.0, seed=None, n_jobs=None))]
    #[allow(clippy::too_many_arguments)]
    fn fit(
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        shingle_size: usize,
        num_trees: usize,
        sample_size: usize,
        time_decay: Option<f64>,
        output_after: Option<usize>,
        initial_accept_fraction: f64,
        seed: Option<u64>,
        n_jobs: Option<i64>,
    ) -> PyResult<Self> {
        let d = x.shape()[1];
        let b =
            builder(d, shingle_size, num_trees, sample_size, time_decay, output_after, initial_accept_fraction, seed)?;
        let threads = pool::threads_for(n_jobs)?;
        let data = rows(&x, d)?;
        let forest = py.detach(|| {
            guarded(|| {
                let config: ForestConfig = b.config()?;
                let forest = pool::install(threads, || Forest::fit(config, data.chunks_exact(d)))??;
                Ok(forest)
            })
        })?;
        Ok(PyForest::wrap(forest))
    }

    /// Anomaly scores of the rows of `x` against the current model (which is not changed).
    #[pyo3(signature = (x, *, n_jobs=None))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        n_jobs: Option<i64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let threads = pool::threads_for(n_jobs)?;
        let data = rows(&x, self.input_dims()?)?;
        let scores = py.detach(|| {
            guarded(|| {
                // Take the lock on this thread, never inside the pool: a pool worker that blocks on
                // the lock while work-stealing another caller's job can deadlock with a writer.
                let forest = self.read()?;
                let forest: &Forest = &forest;
                pool::install(threads, || forest.score_batch(data).map_err(Error::from))?
            })
        })?;
        Ok(PyArray1::from_vec(py, scores))
    }

    /// Attribution of each row's score: shape (n, d, 2) with [..., 0] = high and [..., 1] = low.
    /// d is the input width when `fold_shingle` (the default), else input width × shingle size
    /// (oldest input first).
    #[pyo3(signature = (x, *, n_jobs=None, fold_shingle=true))]
    fn attribution<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f32>,
        n_jobs: Option<i64>,
        fold_shingle: bool,
    ) -> PyResult<Bound<'py, PyArray3<f64>>> {
        let threads = pool::threads_for(n_jobs)?;
        let input_dims = self.input_dims()?;
        let data = rows(&x, input_dims)?;
        let n = x.shape()[0];
        let dims = self.config.dimensions();
        let d = if fold_shingle { input_dims } else { dims };
        // Unshingled rows are independent: they go through in chunks that keep rcf-core's bound on
        // a call's attribution values. Shingled rows continue one stream and must go in one call.
        let rows_per_call = if self.config.shingle_size == 1 {
            (limits::MAX_ATTRIBUTION_VALUES / dims).max(1)
        } else {
            limits::ATTRIBUTION_VALUES.check_product(n, dims).map_err(Error::from)?;
            n.max(1)
        };
        let array = py.detach(|| {
            guarded(|| {
                let forest = self.read()?;
                let forest: &Forest = &forest;
                let mut flat = Vec::with_capacity(n * d * 2);
                for (i, chunk) in data.chunks(rows_per_call * input_dims).enumerate() {
                    let offset = i * rows_per_call;
                    let parts = pool::install(threads, || forest.attribution_batch(chunk))?.map_err(|e| match e {
                        rcf_core::InputError::InRow { row, source } => {
                            rcf_core::InputError::InRow { row: row + offset, source }
                        }
                        other => other,
                    })?;
                    for part in parts {
                        let part = if fold_shingle { part.fold_shingle(input_dims) } else { part };
                        for (h, l) in part.high.iter().zip(&part.low) {
                            flat.push(*h);
                            flat.push(*l);
                        }
                    }
                }
                Array3::from_shape_vec((n, d, 2), flat).map_err(|e| Error::Internal(e.to_string()))
            })
        })?;
        Ok(PyArray3::from_owned_array(py, array))
    }

    /// Each row of `x` with its NaN values filled by the forest, each row imputed as the next input
    /// of the stream (independently of the other rows).
    fn impute<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let d = self.input_dims()?;
        let data = rows(&x, d)?;
        let n = x.shape()[0];
        let array = py.detach(|| {
            guarded(|| {
                let forest = self.read()?;
                let mut flat = Vec::with_capacity(data.len());
                for (row, input) in data.chunks_exact(d).enumerate() {
                    flat.extend(forest.impute(input).map_err(|e| e.in_row(row))?);
                }
                Array2::from_shape_vec((n, d), flat).map_err(|e| Error::Internal(e.to_string()))
            })
        })?;
        Ok(PyArray2::from_owned_array(py, array))
    }

    /// Density of the sample around each row of `x`, each row taken as the next input.
    fn density<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let d = self.input_dims()?;
        let data = rows(&x, d)?;
        let out = py.detach(|| {
            guarded(|| {
                let forest = self.read()?;
                data.chunks_exact(d)
                    .enumerate()
                    .map(|(row, input)| forest.density(input).map_err(|e| Error::from(e.in_row(row))))
                    .collect::<Result<Vec<f64>, Error>>()
            })
        })?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// The sampled points nearest the next input `x` (at most `k`), nearest first:
    /// `(points (m, input_dims * shingle_size), distances (m,), tree_fractions (m,))`.
    #[allow(clippy::type_complexity)]
    fn near_neighbours<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray1<'py, f32>,
        k: usize,
    ) -> PyResult<(Bound<'py, PyArray2<f32>>, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)> {
        let input = x.as_slice().map_err(|_| Error::Value("x must be a contiguous float32 array".into()))?;
        limits::NEIGHBOURS.check_count(k).map_err(Error::from)?;
        let dims = self.config.dimensions();
        let (points, distances, fractions) = py.detach(|| {
            guarded(|| {
                let found = self.read()?.near_neighbours(input, k)?;
                let m = found.len();
                let mut flat = Vec::with_capacity(m * dims);
                let (mut distances, mut fractions) = (Vec::with_capacity(m), Vec::with_capacity(m));
                for n in found {
                    flat.extend_from_slice(&n.point);
                    distances.push(n.distance);
                    fractions.push(n.tree_fraction);
                }
                let points = Array2::from_shape_vec((m, dims), flat).map_err(|e| Error::Internal(e.to_string()))?;
                Ok((points, distances, fractions))
            })
        })?;
        Ok((
            PyArray2::from_owned_array(py, points),
            PyArray1::from_vec(py, distances),
            PyArray1::from_vec(py, fractions),
        ))
    }

    /// Forecast of the next `horizon` inputs: `(values, lower, upper)`, each (horizon, input_dims).
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
                let forest = self.read()?;
                let forecast = gather_interruptibly(forest.forecast_steps(horizon, coverage)?, horizon, d);
                forecast
            })
        })?;
        forecast_arrays(py, horizon, d, f)
    }

    /// Inserts the rows of `x` in order (all rows are checked first).
    fn update(&self, py: Python<'_>, x: PyReadonlyArray2<'_, f32>) -> PyResult<()> {
        let data = rows(&x, self.input_dims()?)?;
        py.detach(|| guarded(|| Ok(self.write()?.update_batch(data)?)))?;
        Ok(())
    }

    /// Scores each row as the next point of the stream, then inserts it.
    fn score_update<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f32>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let data = rows(&x, self.input_dims()?)?;
        let scores = py.detach(|| guarded(|| Ok(self.write()?.score_update_batch(data)?)))?;
        Ok(PyArray1::from_vec(py, scores))
    }

    /// The model file bytes (`model.rcf`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| guarded(|| Ok(self.read()?.to_bytes())))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A forest from model file bytes or `model.tar.gz` bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let (forest, _) = py.detach(|| guarded(|| Ok(artifact::read_any(data)?)))?;
        Ok(PyForest::wrap(forest))
    }

    /// `model.tar.gz` bytes (model.rcf + manifest.json), the layout shared with the CLI and server.
    /// `training` is `(records, score_mean, score_std)` when known; `compact` writes the model
    /// without its trees (regrown on load).
    #[pyo3(signature = (*, created_by, hyperparameters=BTreeMap::new(), training=None, compact=false))]
    fn pack<'py>(
        &self,
        py: Python<'py>,
        created_by: &str,
        hyperparameters: BTreeMap<String, String>,
        training: Option<(u64, f64, f64)>,
        compact: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| {
            guarded(|| {
                let forest = self.read()?;
                let mut manifest = Manifest::describe(&forest, &[], created_by);
                manifest.hyperparameters = hyperparameters;
                manifest.training =
                    training.map(|(records, score_mean, score_std)| TrainingStats { records, score_mean, score_std });
                Ok(if compact {
                    artifact::pack_compact(&forest, &manifest)
                } else {
                    artifact::pack(&forest, &manifest)
                })
            })
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Reads `model.tar.gz` or bare `model.rcf` bytes: `(forest, manifest_json or None)`.
    #[staticmethod]
    fn unpack(py: Python<'_>, data: &[u8]) -> PyResult<(Self, Option<String>)> {
        let (forest, manifest) = py.detach(|| guarded(|| Ok(artifact::read_any(data)?)))?;
        let json =
            manifest.map(|m| serde_json::to_string(&m)).transpose().map_err(|e| Error::Internal(e.to_string()))?;
        Ok((PyForest::wrap(forest), json))
    }

    /// The configuration as a dict.
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

    /// Values per input row.
    #[getter(input_dims)]
    fn get_input_dims(&self) -> PyResult<usize> {
        Ok(self.input_dims()?)
    }

    /// Shingled points inserted so far.
    #[getter]
    fn points_seen(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.with_read(py, |f| f.points_seen())?)
    }

    /// True once scores are non-zero.
    #[getter]
    fn is_output_ready(&self, py: Python<'_>) -> PyResult<bool> {
        Ok(self.with_read(py, |f| f.is_output_ready())?)
    }

    /// Approximate heap memory of the model in bytes.
    #[getter]
    fn heap_bytes(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.with_read(py, |f| f.heap_bytes())?)
    }

    /// Key/value annotations stored inside the model file.
    fn metadata(&self, py: Python<'_>) -> PyResult<BTreeMap<String, String>> {
        Ok(self.with_read(py, |f| f.metadata().clone())?)
    }

    /// Sets (or, with `None`, removes) one annotation.
    #[pyo3(signature = (key, value))]
    fn set_metadata(&self, py: Python<'_>, key: String, value: Option<String>) -> PyResult<()> {
        py.detach(|| {
            guarded(|| {
                let mut forest = self.write()?;
                match value {
                    Some(v) => forest.metadata_mut().insert(key, v),
                    None => forest.metadata_mut().remove(&key),
                };
                Ok(())
            })
        })?;
        Ok(())
    }

    fn __copy__(&self, py: Python<'_>) -> PyResult<Self> {
        Ok(PyForest::wrap(self.with_read(py, Forest::clone)?))
    }

    fn __deepcopy__(&self, py: Python<'_>, _memo: &Bound<'_, PyAny>) -> PyResult<Self> {
        self.__copy__(py)
    }

    /// Pickles as the model file bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let from_bytes = py.get_type::<PyForest>().getattr("from_bytes")?;
        Ok((from_bytes, (slf.get().to_bytes(py)?,)))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let c = &self.config;
        let points_seen = self.with_read(py, |f| f.points_seen())?;
        Ok(format!(
            "Forest(input_dims={}, shingle_size={}, num_trees={}, sample_size={}, points_seen={})",
            c.input_dims, c.shingle_size, c.num_trees, c.sample_size, points_seen
        ))
    }
}
