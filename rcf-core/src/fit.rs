//! Batch fit with SageMaker's semantics: reservoir-sample `min(N, trees × sample_size)` points in one
//! pass (so the input may be larger than memory), split the sample into equal disjoint per-tree
//! samples, and build each tree from its share.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use crate::config::ForestConfig;
use crate::error::InputError;
use crate::forest::Forest;
use crate::input::check_point;
use crate::rng::uniform;
use crate::sampler::{SampledPoint, Sampler};
use crate::shingle::Shingle;

/// Uniform reservoir (Vitter's algorithm R) of flat points.
struct Reservoir {
    dims: usize,
    capacity: usize,
    values: Vec<f32>,
    seen: u64,
    rng: Xoshiro256PlusPlus,
}

impl Reservoir {
    fn offer(&mut self, point: &[f32]) {
        self.seen += 1;
        let len = self.values.len() / self.dims;
        if len < self.capacity {
            self.values.extend_from_slice(point);
        } else {
            let j = self.rng.random_range(0..self.seen);
            if (j as usize) < self.capacity {
                let at = j as usize * self.dims;
                self.values[at..at + self.dims].copy_from_slice(point);
            }
        }
    }

    fn shuffle(&mut self) {
        let n = self.values.len() / self.dims;
        for i in (1..n).rev() {
            let j = self.rng.random_range(0..=i);
            for k in 0..self.dims {
                self.values.swap(i * self.dims + k, j * self.dims + k);
            }
        }
    }
}

impl Forest {
    /// Fits a forest to `rows` in one pass, as SageMaker's built-in RCF trains.
    ///
    /// With shingling, rows are consecutive inputs and the sample is drawn from the shingled points.
    /// The sample is `min(N, num_trees × sample_size)` points, floored to a multiple of `num_trees`
    /// (each tree gets the same number, disjoint from the others). When there are fewer points than
    /// trees, every tree gets one point, drawn round-robin. The fitted forest can be scored at once
    /// and keeps learning through [`Forest::update`].
    ///
    /// Errors name the row (zero-based) that was wrong; nothing is built then.
    pub fn fit<I, R>(config: ForestConfig, rows: I) -> Result<Forest, InputError>
    where
        I: IntoIterator<Item = R>,
        R: AsRef<[f32]>,
    {
        let dims = config.dimensions();
        let capacity = config.num_trees * config.sample_size;
        let mut reservoir = Reservoir {
            dims,
            capacity,
            values: Vec::new(),
            seen: 0,
            rng: Xoshiro256PlusPlus::seed_from_u64(config.seed ^ 0xF17_5EED),
        };
        let mut shingle = Shingle::new(config.input_dims, config.shingle_size);
        for (i, row) in rows.into_iter().enumerate() {
            let row = row.as_ref();
            check_point(row, config.input_dims).map_err(|e| e.in_row(i))?;
            shingle.push(row);
            if shingle.is_full() {
                reservoir.offer(shingle.point());
            }
        }
        reservoir.shuffle();

        let mut forest = Forest::new(config);
        forest.shingle = shingle;
        forest.points_seen = reservoir.seen;
        forest.build_from_sample(&reservoir.values);
        Ok(forest)
    }

    /// Gives each tree an equal, disjoint share of `sample` (flat points) and builds the trees.
    fn build_from_sample(&mut self, sample: &[f32]) {
        let dims = self.config.dimensions();
        let n = sample.len() / dims;
        if n == 0 {
            return;
        }
        let trees = self.trees.len();
        let per_tree = (n / trees).max(1);
        let slots: Vec<u32> = sample.chunks_exact(dims).map(|p| self.store.insert(p)).collect();
        let share = |t: usize| -> Vec<u32> {
            if n >= trees {
                slots[t * per_tree..(t + 1) * per_tree].to_vec()
            } else {
                vec![slots[t % n]]
            }
        };
        // Trees only read the store while building, so they build in parallel; each tree's result
        // depends only on its own share and random stream.
        let (config, store, newest) = (&self.config, &self.store, self.points_seen);
        let used: Vec<Vec<u32>> = self
            .trees
            .par_iter_mut()
            .enumerate()
            .map(|(t, unit)| {
                let mine = share(t);
                let first_index = newest.saturating_sub(mine.len() as u64);
                mine.iter()
                    .enumerate()
                    .map(|(k, &slot)| {
                        let weight = Sampler::weight(first_index + k as u64, config.time_decay, uniform(&mut unit.rng));
                        let used = unit.tree.insert(slot, store, &mut unit.rng);
                        unit.sampler.push(SampledPoint { weight, slot: used });
                        used
                    })
                    .collect()
            })
            .collect();
        for slot in used.into_iter().flatten() {
            self.store.add_ref(slot);
        }
        for slot in slots {
            self.store.release_if_unused(slot);
        }
    }
}
