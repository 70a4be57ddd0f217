//! The forest: trees with their samplers over one shared point store, plus the input shingle.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::attribution::AttributionVisitor;
use crate::config::{ForestBuilder, ForestConfig};
use crate::divector::DiVector;
use crate::error::InputError;
use crate::input::{check_batch, check_point};
use crate::point_store::PointStore;
use crate::rng::{tree_rng, uniform, TreeRng};
use crate::sampler::{Admission, SampledPoint, Sampler};
use crate::score::{NarrowPoint, Normaliser};
use crate::shingle::Shingle;
use crate::tree::{descend_group, BatchDescent, Climbs, NodeRef, Tree, GROUP};

/// A sampler and the tree built on its sample, with the random stream both draw from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SampledTree {
    pub(crate) sampler: Sampler,
    pub(crate) tree: Tree,
    pub(crate) rng: TreeRng,
}

impl SampledTree {
    fn new(config: &ForestConfig, index: usize) -> Self {
        SampledTree {
            sampler: Sampler::new(config.sample_size),
            tree: Tree::new(config.dimensions(), config.bounding_box_cache),
            rng: tree_rng(config.seed, index),
        }
    }

    /// Offers the point in `slot`, arriving at `sequence_index`, to this tree's sampler.
    fn offer(&mut self, slot: u32, sequence_index: u64, store: &mut PointStore, config: &ForestConfig) {
        let weight = Sampler::weight(sequence_index, config.time_decay, uniform(&mut self.rng));
        let rng = &mut self.rng;
        let admission = self.sampler.admit(weight, config.initial_accept_fraction, || uniform(rng));
        if let Admission::Accepted { weight, evicted } = admission {
            if let Some(old) = evicted {
                self.tree.delete(old.slot, store).expect("a sampled point is always in its tree");
                store.remove_ref(old.slot);
            }
            self.insert(slot, weight, store);
        }
    }

    fn insert(&mut self, slot: u32, weight: f32, store: &mut PointStore) {
        let used = self.tree.insert(slot, store, &mut self.rng);
        store.add_ref(used);
        self.sampler.push(SampledPoint { weight, slot: used });
    }
}

/// Most rows per block of batch scoring and attribution: every tree is walked once per block, by
/// all its points, so larger blocks keep trees in cache longer (1024 measured faster than 256
/// without the box cache).
const MAX_BLOCK: usize = 1024;

/// The points a batch of inputs makes, one after another, `dims` values each: those of rows
/// `first_ready..rows` (earlier rows complete no shingle, or the model is not ready to score).
struct BatchPoints<'a> {
    values: std::borrow::Cow<'a, [f32]>,
    dims: usize,
    rows: usize,
    first_ready: usize,
}

/// The results of `work` for every row of `batch` (`empty` for rows before `first_ready`),
/// computed in parallel over blocks of rows, at most [`MAX_BLOCK`] but small enough to give every
/// thread of the pool work; `work` gets a block's points and a slot (set to `empty`) for each.
fn in_blocks<T: Clone + Send + Sync>(
    batch: &BatchPoints,
    empty: T,
    work: impl Fn(&[&[f32]], &mut [T]) + Sync,
) -> Vec<T> {
    let mut results = vec![empty; batch.rows];
    let ready = &mut results[batch.first_ready..];
    let block = ready.len().div_ceil(rayon::current_num_threads()).clamp(GROUP, MAX_BLOCK);
    ready.par_chunks_mut(block).zip(batch.values.par_chunks(block * batch.dims)).for_each(|(out, values)| {
        let points: Vec<&[f32]> = values.chunks_exact(batch.dims).collect();
        work(&points, out);
    });
    results
}

/// The trees of `chunk` (at most [`GROUP`], at least one) as a stack array and how many it holds:
/// queries group trees once per point, too often to allocate.
#[inline(always)]
fn tree_group(chunk: &[SampledTree]) -> ([&Tree; GROUP], usize) {
    let mut group = [&chunk[0].tree; GROUP];
    for (slot, t) in group.iter_mut().zip(chunk) {
        *slot = &t.tree;
    }
    (group, chunk.len().min(GROUP))
}

/// A Random Cut Forest over a stream of points.
///
/// Scoring takes `&self` and never changes the forest; [`Forest::update`] inserts a point.
/// With a shingle size above 1 the forest joins the last `shingle_size` inputs into one point
/// itself, so callers always pass single inputs of [`ForestConfig::input_dims`] values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "StoredForest")]
pub struct Forest {
    pub(crate) config: ForestConfig,
    pub(crate) store: PointStore,
    pub(crate) trees: Vec<SampledTree>,
    pub(crate) shingle: Shingle,
    /// Shingled points inserted so far (the sampler's sequence index).
    pub(crate) points_seen: u64,
    pub(crate) metadata: BTreeMap<String, String>,
}

/// Two forests are equal when their stored states are: they then give identical results for
/// every future call. (Unused storage, which a saved model does not keep, is not compared.)
impl PartialEq for Forest {
    fn eq(&self, other: &Self) -> bool {
        self.to_bytes() == other.to_bytes()
    }
}

/// A forest as decoded, before the trees' derived data (parents, masses, boxes) is rebuilt.
#[derive(Deserialize)]
struct StoredForest {
    config: ForestConfig,
    store: PointStore,
    #[serde(deserialize_with = "crate::load_limits::bounded::per_tree")]
    trees: Vec<SampledTree>,
    shingle: Shingle,
    points_seen: u64,
    #[serde(deserialize_with = "crate::load_limits::bounded::metadata")]
    metadata: BTreeMap<String, String>,
}

impl TryFrom<StoredForest> for Forest {
    type Error = String;

    /// The configuration is checked first: it bounds every array sized while rebuilding (and is
    /// what a loader's memory budget was checked against).
    fn try_from(mut s: StoredForest) -> Result<Self, String> {
        s.config.validate().map_err(|e| e.to_string())?;
        if s.store.dims() != s.config.dimensions() || s.trees.len() != s.config.num_trees {
            return Err("forest shape does not match its configuration".into());
        }
        s.store.recount(s.trees.iter().map(|t| &t.sampler))?;
        let mut trees = s.trees;
        for (i, t) in trees.iter_mut().enumerate() {
            t.tree.rebuild_derived(&s.store, s.config.sample_size).map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(Forest {
            config: s.config,
            store: s.store,
            trees,
            shingle: s.shingle,
            points_seen: s.points_seen,
            metadata: s.metadata,
        })
    }
}

impl Forest {
    /// A builder for a forest over inputs of `input_dims` values.
    pub fn builder(input_dims: usize) -> ForestBuilder {
        ForestBuilder::new(input_dims)
    }

    /// An empty forest with an already validated configuration.
    pub(crate) fn new(config: ForestConfig) -> Self {
        let trees = (0..config.num_trees).map(|i| SampledTree::new(&config, i)).collect();
        Forest {
            store: PointStore::new(config.dimensions(), if config.shingle_size > 1 { config.input_dims } else { 0 }),
            shingle: Shingle::new(config.input_dims, config.shingle_size),
            trees,
            config,
            points_seen: 0,
            metadata: BTreeMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ForestConfig {
        &self.config
    }

    /// Shingled points inserted so far.
    pub fn points_seen(&self) -> u64 {
        self.points_seen
    }

    /// True once enough points have been seen for scores to be non-zero (`output_after`).
    pub fn is_output_ready(&self) -> bool {
        self.points_seen >= self.config.output_after as u64
    }

    /// Free-form key/value annotations stored with the model (training statistics, provenance).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Mutable access to the annotations.
    pub fn metadata_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.metadata
    }

    /// Approximate heap memory held by the model, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
            + self.trees.iter().map(|t| t.tree.heap_bytes() + t.sampler.capacity() * 8).sum::<usize>()
    }

    /// Number of distinct points currently held by the samples.
    pub fn stored_points(&self) -> usize {
        self.store.live_points()
    }

    /// Inserts one input.
    pub fn update(&mut self, input: &[f32]) -> Result<(), InputError> {
        check_point(input, self.config.input_dims)?;
        self.insert_unchecked(input);
        Ok(())
    }

    /// Scores one input as if it were the next in the stream, then inserts it.
    pub fn score_update(&mut self, input: &[f32]) -> Result<f64, InputError> {
        let score = self.score(input)?;
        self.insert_unchecked(input);
        Ok(score)
    }

    fn insert_unchecked(&mut self, input: &[f32]) {
        self.shingle.push(input);
        if !self.shingle.is_full() {
            return;
        }
        let slot = self.store.insert(self.shingle.point());
        let sequence_index = self.points_seen;
        for tree in &mut self.trees {
            tree.offer(slot, sequence_index, &mut self.store, &self.config);
        }
        self.store.release_if_unused(slot);
        self.points_seen += 1;
    }

    /// The anomaly score of `input` as the next point of the stream (AWS's expected inverse depth;
    /// about 1 or less for normal points, higher for anomalies). 0 until the forest
    /// [`is_output_ready`](Forest::is_output_ready). The forest is not changed.
    pub fn score(&self, input: &[f32]) -> Result<f64, InputError> {
        check_point(input, self.config.input_dims)?;
        let mut point = Vec::with_capacity(self.config.dimensions());
        if !self.next_point(input, &mut point) {
            return Ok(0.0);
        }
        Ok(self.score_point(&point))
    }

    /// Per-dimension attribution of [`Forest::score`]; its total equals the score.
    /// Dimensions are those of the shingled point (see [`DiVector::fold_shingle`]).
    pub fn attribution(&self, input: &[f32]) -> Result<DiVector, InputError> {
        check_point(input, self.config.input_dims)?;
        let mut point = Vec::with_capacity(self.config.dimensions());
        if !self.next_point(input, &mut point) {
            return Ok(DiVector::zeros(self.config.dimensions()));
        }
        Ok(self.attribute_point(&point))
    }

    /// Forms the shingled point `input` would complete; false if no score is due yet.
    fn next_point(&self, input: &[f32], point: &mut Vec<f32>) -> bool {
        if !self.is_output_ready() || !self.shingle.full_after_next() {
            return false;
        }
        self.shingle.point_with(input, point);
        true
    }

    pub(crate) fn score_point(&self, point: &[f32]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { self.score_point_avx2(point) };
        }
        self.score_point_portable(point)
    }

    /// [`Forest::score_point`] compiled for AVX2: the separation sums run eight lanes per
    /// instruction, and a point of at most eight dimensions takes [`Tree::narrow_score`]'s walk.
    /// The arithmetic and its order are the same, so are the results, bit for bit.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn score_point_avx2(&self, point: &[f32]) -> f64 {
        // SAFETY: the CPU has AVX2 (this function's promise).
        // (Each closure is written here, not in a function called from here, to be compiled with
        // AVX2 too.)
        match unsafe { NarrowPoint::new(point) } {
            Some(narrow) => self.score_point_with(point, |tree, leaf, depth, tree_mass| {
                // SAFETY: AVX2 as above (and `narrow` holds `point`).
                unsafe { tree.narrow_score(leaf, depth, point, &narrow, &self.store, tree_mass) }
            }),
            None => self.score_point_with(point, |tree, leaf, depth, tree_mass| {
                tree.raw_score(leaf, depth, point, &self.store, tree_mass)
            }),
        }
    }

    fn score_point_portable(&self, point: &[f32]) -> f64 {
        self.score_point_with(point, |tree, leaf, depth, tree_mass| {
            tree.raw_score(leaf, depth, point, &self.store, tree_mass)
        })
    }

    /// [`Forest::score_point`] given `raw_score(tree, leaf, depth, tree_mass)`, the raw score of the
    /// point in `tree` from the leaf (and depth) its descent reached. Written out rather than
    /// through [`Forest::for_each_leaf`], whose visiting closure would be compiled on its own,
    /// outside [`Forest::score_point_avx2`]'s instruction set.
    #[inline(always)]
    fn score_point_with(&self, point: &[f32], raw_score: impl Fn(&Tree, NodeRef, usize, u32) -> f64) -> f64 {
        let mut total = 0.0;
        let mut normaliser = Normaliser::default();
        for chunk in self.trees.chunks(GROUP) {
            let (buffer, n) = tree_group(chunk);
            let group = &buffer[..n];
            let leaves = descend_group(group, point);
            for (tree, &(leaf, depth)) in group.iter().zip(&leaves) {
                let tree_mass = tree.mass();
                total += raw_score(tree, leaf, depth, tree_mass) * normaliser.of(tree_mass);
            }
        }
        total / self.trees.len() as f64
    }

    /// Calls `visit` with each tree, in order, and the leaf (and its depth) that `point` falls
    /// into, descending [`GROUP`] trees at a time (see [`descend_group`]).
    #[inline]
    fn for_each_leaf(&self, point: &[f32], mut visit: impl FnMut(&Tree, NodeRef, usize)) {
        for chunk in self.trees.chunks(GROUP) {
            let (buffer, n) = tree_group(chunk);
            let group = &buffer[..n];
            let leaves = descend_group(group, point);
            for (tree, &(leaf, depth)) in group.iter().zip(&leaves) {
                visit(tree, leaf, depth);
            }
        }
    }

    pub(crate) fn attribute_point(&self, point: &[f32]) -> DiVector {
        let dims = self.config.dimensions();
        let mut sum = DiVector::zeros(dims);
        let mut visitor = AttributionVisitor::new(0, dims);
        self.for_each_leaf(point, |tree, leaf, depth| {
            visitor.reset(tree.mass());
            tree.visit_from(leaf, depth, point, &self.store, &mut visitor);
            visitor.add_result_to(&mut sum);
        });
        sum.scale(1.0 / self.trees.len() as f64);
        sum
    }

    /// The shingled points a run of row-major `inputs` would form, starting from the current
    /// shingle, without changing the forest; rows that complete no shingle (or all rows, before
    /// the forest is ready to score) come first and have none.
    fn batch_points<'a>(&self, inputs: &'a [f32]) -> Result<BatchPoints<'a>, InputError> {
        let rows = check_batch(inputs, self.config.input_dims)?;
        let dims = self.config.dimensions();
        let inputs = &inputs[..rows * self.config.input_dims];
        if !self.is_output_ready() {
            return Ok(BatchPoints { values: Vec::new().into(), dims, rows, first_ready: rows });
        }
        if self.config.shingle_size == 1 {
            // Each input is its point: no copy.
            return Ok(BatchPoints { values: inputs.into(), dims, rows, first_ready: 0 });
        }
        let mut shingle = self.shingle.clone();
        let mut values = Vec::new();
        let mut first_ready = rows;
        for (row, input) in inputs.chunks_exact(self.config.input_dims).enumerate() {
            shingle.push(input);
            if shingle.is_full() {
                first_ready = first_ready.min(row);
                values.extend_from_slice(shingle.point());
            }
        }
        Ok(BatchPoints { values: values.into(), dims, rows, first_ready })
    }

    /// Scores a batch of row-major inputs against the current model without changing it. With
    /// shingling, the rows are consecutive stream inputs. Runs on the current rayon pool (wrap the
    /// call in `ThreadPool::install` to bound threads); results do not depend on the thread count.
    pub fn score_batch(&self, inputs: &[f32]) -> Result<Vec<f64>, InputError> {
        let points = self.batch_points(inputs)?;
        Ok(in_blocks(&points, 0.0, |ready, totals| self.score_points(ready, totals)))
    }

    /// Sets `totals[i]` to the score of `points[i]`, going tree by tree so that each tree is
    /// loaded into cache once for all the points rather than once per point. The per-point sums
    /// run over the trees in the same order as [`Forest::score_point`], so scores match it bit
    /// for bit.
    fn score_points(&self, points: &[&[f32]], totals: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        {
            if BatchDescent::goes_wide(points.len()) && (2..=8).contains(&self.config.dimensions()) {
                // SAFETY: the CPU has AVX-512F and BMI2, checked just above.
                return unsafe { self.score_points_wide(points, totals) };
            }
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { self.score_points_avx2(points, totals) };
            }
        }
        self.score_points_portable(points, totals)
    }

    /// [`Forest::score_points`] compiled for AVX2 (see [`Forest::score_point_avx2`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn score_points_avx2(&self, points: &[&[f32]], totals: &mut [f64]) {
        // SAFETY: the CPU has AVX2 (this function's promise).
        let narrow: Option<Vec<NarrowPoint>> = points.iter().map(|point| unsafe { NarrowPoint::new(point) }).collect();
        // (Each closure is written here for the reason given at `score_point_avx2`.)
        match narrow {
            Some(narrow) => self.score_points_with(points, totals, |tree, i, leaf, depth, tree_mass| {
                // SAFETY: AVX2 as above (and `narrow[i]` holds `points[i]`).
                unsafe { tree.narrow_score(leaf, depth, points[i], &narrow[i], &self.store, tree_mass) }
            }),
            None => self.score_points_with(points, totals, |tree, i, leaf, depth, tree_mass| {
                tree.raw_score(leaf, depth, points[i], &self.store, tree_mass)
            }),
        }
    }

    /// [`Forest::score_points`] for points of two to eight dimensions with AVX-512: many
    /// descents and walks up in flight at once (see `tree/batch_descent.rs`, `tree/batch_climb.rs`).
    ///
    /// # Safety
    /// The CPU has AVX-512F and BMI2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,bmi2")]
    unsafe fn score_points_wide(&self, points: &[&[f32]], totals: &mut [f64]) {
        let mut descent = BatchDescent::new(points, self.config.dimensions());
        let mut climbs = Climbs::default();
        let mut raw = vec![0.0; points.len()];
        self.mean_over_trees(totals, |tree, tree_mass, scale, totals| {
            descent.descend(tree);
            // SAFETY: AVX-512F and BMI2 (this function's promise).
            unsafe { tree.batch_narrow_scores(descent.found(), points, &self.store, tree_mass, &mut climbs, &mut raw) };
            for (total, raw) in totals.iter_mut().zip(&raw) {
                *total += raw * scale;
            }
        });
    }

    /// Sets `totals` to the mean over the trees of what `add_tree(tree, tree_mass, scale, totals)`
    /// adds for each tree (its raw scores times `scale`, the normaliser for its mass), tree by
    /// tree in the forest's order.
    #[inline(always)]
    fn mean_over_trees(&self, totals: &mut [f64], mut add_tree: impl FnMut(&Tree, u32, f64, &mut [f64])) {
        totals.fill(0.0);
        let mut normaliser = Normaliser::default();
        for tree in self.trees.iter().map(|t| &t.tree) {
            let tree_mass = tree.mass();
            add_tree(tree, tree_mass, normaliser.of(tree_mass), totals);
        }
        let trees = self.trees.len() as f64;
        totals.iter_mut().for_each(|t| *t /= trees);
    }

    fn score_points_portable(&self, points: &[&[f32]], totals: &mut [f64]) {
        self.score_points_with(points, totals, |tree, i, leaf, depth, tree_mass| {
            tree.raw_score(leaf, depth, points[i], &self.store, tree_mass)
        })
    }

    /// [`Forest::score_points`] given `raw_score(tree, i, leaf, depth, tree_mass)`, the raw score of
    /// `points[i]` in `tree` from the leaf (and depth) its descent reached.
    #[inline(always)]
    fn score_points_with(
        &self,
        points: &[&[f32]],
        totals: &mut [f64],
        raw_score: impl Fn(&Tree, usize, NodeRef, usize, u32) -> f64,
    ) {
        let mut descent = BatchDescent::new(points, self.config.dimensions());
        self.mean_over_trees(totals, |tree, tree_mass, scale, totals| {
            for (i, leaf, depth) in descent.through(tree) {
                totals[i] += raw_score(tree, i, leaf, depth, tree_mass) * scale;
            }
        });
    }

    /// Attribution for a batch of row-major inputs; see [`Forest::score_batch`]. At most
    /// [`limits::MAX_ATTRIBUTION_VALUES`](crate::limits::MAX_ATTRIBUTION_VALUES) values
    /// (`rows × input_dims × shingle_size`) per call.
    pub fn attribution_batch(&self, inputs: &[f32]) -> Result<Vec<DiVector>, InputError> {
        let dims = self.config.dimensions();
        // One DiVector of every shingled dimension per row: bounded before it is allocated.
        crate::limits::ATTRIBUTION_VALUES.check_product(inputs.len() / self.config.input_dims, dims)?;
        let points = self.batch_points(inputs)?;
        Ok(in_blocks(&points, DiVector::zeros(dims), |ready, sums| self.attribute_points(ready, sums)))
    }

    /// Adds the attribution of `points[i]` to `sums[i]` (zero on entry), tree by tree as in
    /// [`Forest::score_points`]; each sum runs over the trees in [`Forest::attribute_point`]'s order.
    fn attribute_points(&self, points: &[&[f32]], sums: &mut [DiVector]) {
        let mut visitor = AttributionVisitor::new(0, self.config.dimensions());
        self.for_each_leaf_by_tree(points, |i, tree, leaf, depth| {
            visitor.reset(tree.mass());
            tree.visit_from(leaf, depth, points[i], &self.store, &mut visitor);
            visitor.add_result_to(&mut sums[i]);
        });
        sums.iter_mut().for_each(|sum| sum.scale(1.0 / self.trees.len() as f64));
    }

    /// Calls `visit` with the index of each of `points`, a tree and the leaf (and its depth) the
    /// point falls into there, tree by tree (see [`BatchDescent`]).
    #[inline]
    fn for_each_leaf_by_tree(&self, points: &[&[f32]], mut visit: impl FnMut(usize, &Tree, NodeRef, usize)) {
        let mut descent = BatchDescent::new(points, self.config.dimensions());
        for tree in self.trees.iter().map(|t| &t.tree) {
            for (i, leaf, depth) in descent.through(tree) {
                visit(i, tree, leaf, depth);
            }
        }
    }

    /// Inserts a batch of row-major inputs in order. All rows are checked before any is inserted.
    pub fn update_batch(&mut self, inputs: &[f32]) -> Result<(), InputError> {
        check_batch(inputs, self.config.input_dims)?;
        inputs.chunks_exact(self.config.input_dims).for_each(|row| self.insert_unchecked(row));
        Ok(())
    }

    /// Scores each row then inserts it: the streaming loop in one call. All rows are checked first.
    pub fn score_update_batch(&mut self, inputs: &[f32]) -> Result<Vec<f64>, InputError> {
        check_batch(inputs, self.config.input_dims)?;
        let mut point = Vec::with_capacity(self.config.dimensions());
        let mut scores = Vec::with_capacity(inputs.len() / self.config.input_dims);
        for row in inputs.chunks_exact(self.config.input_dims) {
            scores.push(if self.next_point(row, &mut point) { self.score_point(&point) } else { 0.0 });
            self.insert_unchecked(row);
        }
        Ok(scores)
    }

    /// Checks every internal invariant (tree structure, sampler heaps, reference counts).
    /// Used by the model loader on untrusted files and by property tests.
    pub fn check_consistency(&self) -> Result<(), String> {
        let dims = self.config.dimensions();
        if self.store.dims() != dims || self.trees.len() != self.config.num_trees {
            return Err("forest shape does not match its configuration".into());
        }
        if !self.shingle.is_consistent(self.config.input_dims, self.config.shingle_size) {
            return Err("shingle does not match the configuration".into());
        }
        self.store.check_free_list()?;
        let mut refs = vec![0u64; self.store.capacity()];
        for (i, t) in self.trees.iter().enumerate() {
            let fail = |what: String| format!("tree {i}: {what}");
            if !t.sampler.is_valid() || t.sampler.capacity() != self.config.sample_size {
                return Err(fail("sampler heap is invalid".into()));
            }
            t.tree.check(&self.store).map_err(fail)?;
            // Checked before the leaves are expanded by their masses.
            if t.tree.leaves().iter().map(|&(_, mass)| mass as usize).sum::<usize>() != t.sampler.len() {
                return Err(fail("sampled points differ from the points in the tree".into()));
            }
            let mut sampled: Vec<u32> = Vec::with_capacity(t.sampler.len());
            for p in t.sampler.points() {
                let count = refs.get_mut(p.slot as usize).ok_or_else(|| fail("sampled slot out of range".into()))?;
                *count += 1;
                sampled.push(p.slot);
            }
            let mut in_tree: Vec<u32> =
                t.tree.leaves().into_iter().flat_map(|(slot, mass)| std::iter::repeat_n(slot, mass as usize)).collect();
            sampled.sort_unstable();
            in_tree.sort_unstable();
            if sampled != in_tree {
                return Err(fail("sampled points differ from the points in the tree".into()));
            }
        }
        for (slot, &count) in refs.iter().enumerate() {
            if self.store.ref_count(slot as u32) as u64 != count {
                return Err(format!(
                    "point {slot}: reference count {} but {count} references",
                    self.store.ref_count(slot as u32)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{in_blocks, BatchPoints};
    use crate::ForestBuilder;

    /// Rows that complete no shingle get the empty result; every other row gets its own result,
    /// whatever the block size the pool leads to.
    #[test]
    fn in_blocks_maps_each_result_back_to_its_row() {
        let values: Vec<f32> = (7..2_500).flat_map(|i| [i as f32, 1.0]).collect();
        let batch = BatchPoints { values: values.into(), dims: 2, rows: 2_500, first_ready: 7 };
        for threads in [1, 2, 7] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let sums = pool.install(|| {
                in_blocks(&batch, -1.0, |ready, out| {
                    ready.iter().zip(out).for_each(|(p, o)| *o = p.iter().sum::<f32>());
                })
            });
            let expected: Vec<f32> = (0..2_500).map(|i| if i < 7 { -1.0 } else { i as f32 + 1.0 }).collect();
            assert_eq!(sums, expected, "{threads} threads");
        }
    }

    /// The AVX2 build of scoring must give the portable build's results bit for bit, whatever the
    /// width (a whole number of 8-float lanes or not).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_scores_equal_portable_scores_bit_for_bit() {
        assert!(std::is_x86_feature_detected!("avx2"), "this test needs a CPU with AVX2");
        // Widths of one register (the narrow walk) and wider, with and without cached boxes.
        for (dims, cache) in [1usize, 2, 3, 6, 8, 9, 13, 40].into_iter().flat_map(|d| [(d, true), (d, false)]) {
            let mut forest = ForestBuilder::new(dims)
                .num_trees(20)
                .sample_size(64)
                .bounding_box_cache(cache)
                .seed(dims as u64)
                .build()
                .unwrap();
            let mut state = 7u64;
            let mut next = move || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 20.0
            };
            let stored: Vec<Vec<f32>> = (0..500).map(|_| (0..dims).map(|_| next()).collect()).collect();
            stored.iter().for_each(|p| forest.update(p).unwrap());
            // Points near the data and beyond it, points the trees hold (scored as seen), and
            // points so far out that the f32 sums overflow (recomputed in f64).
            let mut queries: Vec<Vec<f32>> = (0..200).map(|_| (0..dims).map(|_| next() * 1.5).collect()).collect();
            queries.extend(stored[480..].iter().cloned());
            queries.extend((0..5).map(|k| (0..dims).map(|i| if (i + k) % 2 == 0 { 3.0e38 } else { next() }).collect()));
            for p in &queries {
                // SAFETY: AVX2 is present (checked above).
                let wide = unsafe { forest.score_point_avx2(p) };
                assert_eq!(wide.to_bits(), forest.score_point_portable(p).to_bits(), "dims {dims}, cache {cache}");
            }
            let points: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
            let (mut avx2, mut portable) = (vec![0.0; points.len()], vec![0.0; points.len()]);
            // SAFETY: as above.
            unsafe { forest.score_points_avx2(&points, &mut avx2) };
            forest.score_points_portable(&points, &mut portable);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&avx2), bits(&portable), "batch, dims {dims}, cache {cache}");
            // The AVX-512 batch path, on CPUs that have it (the descent's own test checks that
            // this machine's detection and path agree).
            if crate::tree::BatchDescent::goes_wide(points.len()) {
                let mut wide = vec![0.0; points.len()];
                // SAFETY: AVX-512F and BMI2, checked just above.
                unsafe { forest.score_points_wide(&points, &mut wide) };
                assert_eq!(bits(&wide), bits(&portable), "wide batch, dims {dims}, cache {cache}");
            }
        }
    }
}
