//! One-pass training shared by SageMaker's `rcf train` and the offline `rcf train --input`: rows
//! are read on their own thread and streamed into `Forest::fit` (a reservoir of at most
//! `num_trees × sample_size` points, so memory stays bounded), while a bounded sample of the rows
//! is kept to estimate the training score statistics.

use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver};

use anyhow::anyhow;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rcf_core::{Forest, ForestConfig};

/// Rows handed from the reading thread to the sampler at a time (fewer for very wide rows, see
/// [`chunk_rows`]).
pub const CHUNK_ROWS: usize = 4096;
/// Most values in one chunk: with a few chunks in flight between the threads, this keeps the
/// reader's memory near 100 MB whatever `feature_dim` is (4096 rows up to 1024 values wide).
const MAX_CHUNK_VALUES: usize = 4 << 20;

/// Rows per chunk for rows of `dim` values: [`CHUNK_ROWS`], or fewer so that a chunk holds at
/// most [`MAX_CHUNK_VALUES`] values.
pub fn chunk_rows(dim: usize) -> usize {
    CHUNK_ROWS.min(MAX_CHUNK_VALUES / dim.max(1)).max(1)
}
/// Values kept to estimate the training score statistics.
const STATS_VALUES: usize = 4 << 20;
/// Rows kept to estimate the training score statistics.
const STATS_MAX_ROWS: usize = 100_000;

/// A fitted forest, the number of rows read, and the rows kept for the score statistics.
pub struct Fitted {
    /// The forest.
    pub forest: Forest,
    /// Rows read.
    pub records: u64,
    /// Runs of consecutive rows (row-major) kept for the statistics: for a forest without
    /// shingling one uniform sample of rows; with shingling, a uniform sample of whole chunks, so
    /// that each run can be scored as a stretch of the stream.
    pub stats_runs: Vec<Vec<f32>>,
}

impl Fitted {
    /// Scores of the kept rows under the fitted forest. With shingling the first
    /// `shingle_size − 1` rows of each run only fill the shingle and are not scored.
    pub fn training_scores(&self) -> anyhow::Result<Vec<f64>> {
        let skip = self.forest.config().shingle_size - 1;
        let mut scores = Vec::new();
        for run in &self.stats_runs {
            let s = self.forest.score_batch(run).map_err(|e| anyhow!("scoring the training sample: {e}"))?;
            scores.extend(s.into_iter().skip(skip));
        }
        Ok(scores)
    }
}

/// A row of a chunk handed over by the reading thread.
struct RowRef {
    chunk: Rc<Vec<f32>>,
    start: usize,
    end: usize,
}

impl AsRef<[f32]> for RowRef {
    fn as_ref(&self) -> &[f32] {
        &self.chunk[self.start..self.end]
    }
}

/// Pulls chunks from the reader thread, yields rows to `Forest::fit`, and keeps the statistics sample.
struct Rows {
    rx: Receiver<Vec<f32>>,
    dim: usize,
    chunk: Rc<Vec<f32>>,
    at: usize,
    seen: u64,
    chunks_seen: u64,
    stats: Vec<f32>,
    stats_rows: usize,
    whole_chunks: bool,
    chunk_sample: Vec<Rc<Vec<f32>>>,
    rng: Xoshiro256PlusPlus,
}

impl Rows {
    fn sample_row(&mut self, start: usize, end: usize) {
        let row = &self.chunk[start..end];
        if (self.stats.len() / self.dim) < self.stats_rows {
            self.stats.extend_from_slice(row);
        } else {
            let j = self.rng.random_range(0..self.seen);
            if (j as usize) < self.stats_rows {
                let at = j as usize * self.dim;
                self.stats[at..at + self.dim].copy_from_slice(row);
            }
        }
    }

    fn sample_chunk(&mut self) {
        let capacity = (self.stats_rows / chunk_rows(self.dim)).max(1);
        self.chunks_seen += 1;
        if self.chunk_sample.len() < capacity {
            self.chunk_sample.push(Rc::clone(&self.chunk));
        } else {
            let j = self.rng.random_range(0..self.chunks_seen) as usize;
            if j < capacity {
                self.chunk_sample[j] = Rc::clone(&self.chunk);
            }
        }
    }
}

impl Iterator for Rows {
    type Item = RowRef;

    fn next(&mut self) -> Option<RowRef> {
        if self.at >= self.chunk.len() {
            self.chunk = Rc::new(self.rx.recv().ok()?);
            self.at = 0;
            if self.whole_chunks {
                self.sample_chunk();
            }
        }
        let (start, end) = (self.at, self.at + self.dim);
        self.at = end;
        self.seen += 1;
        if !self.whole_chunks {
            self.sample_row(start, end);
        }
        Some(RowRef { chunk: Rc::clone(&self.chunk), start, end })
    }
}

/// Fits a forest to the rows that `produce` emits (each a slice of `config.input_dims` values;
/// `produce` runs on its own thread, returns the number of rows read, and stops when `emit`
/// fails). `seed` drives the statistics sample.
pub fn fit_streaming<P>(config: ForestConfig, seed: u64, produce: P) -> anyhow::Result<Fitted>
where
    P: FnOnce(&mut dyn FnMut(&[f32]) -> Result<(), String>) -> Result<u64, String> + Send,
{
    let dim = config.input_dims;
    let whole_chunks = config.shingle_size > 1;
    let (tx, rx) = sync_channel::<Vec<f32>>(4);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let chunk_values = chunk_rows(dim) * dim;
            let mut chunk = Vec::with_capacity(chunk_values);
            let mut emit = |row: &[f32]| -> Result<(), String> {
                chunk.extend_from_slice(row);
                if chunk.len() >= chunk_values {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(chunk_values));
                    tx.send(full).map_err(|_| "the sampler stopped".to_string())?;
                }
                Ok(())
            };
            let rows = produce(&mut emit)?;
            if !chunk.is_empty() {
                tx.send(chunk).map_err(|_| "the sampler stopped".to_string())?;
            }
            Ok::<u64, String>(rows)
        });
        let mut rows = Rows {
            rx,
            dim,
            chunk: Rc::new(Vec::new()),
            at: 0,
            seen: 0,
            chunks_seen: 0,
            stats: Vec::new(),
            stats_rows: (STATS_VALUES / dim).clamp(1, STATS_MAX_ROWS),
            whole_chunks,
            chunk_sample: Vec::new(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x57A7),
        };
        let fitted = Forest::fit(config, &mut rows);
        let Rows { stats, rx, chunk_sample, .. } = rows;
        drop(rx);
        let read = reader.join().map_err(|_| anyhow!("the data reader thread panicked"))?;
        let records = read.map_err(|e| anyhow!(e))?;
        let forest = fitted.map_err(|e| anyhow!("training data: {e}"))?;
        let stats_runs =
            if whole_chunks { chunk_sample.iter().map(|c| c.as_ref().clone()).collect() } else { vec![stats] };
        Ok(Fitted { forest, records, stats_runs })
    })
}
