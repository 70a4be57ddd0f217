//! One configuration, two implementations: rcf (`rcf_core::Forest`) and krcflib (AWS's Rust RCF,
//! lib name `rcflib`), configured identically and driven through the same [`Detector`] trait.

use rcf_core::{Forest, ForestBuilder};
use rcflib::rcf::{AugmentedRCF, RCFBuilder, RCFOptionsBuilder, RCFSmall, RCF};

/// Forest parameters shared by both implementations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Values per input (channels).
    pub input_dims: usize,
    /// Internal shingle size.
    pub shingle_size: usize,
    /// Number of trees.
    pub num_trees: usize,
    /// Sample size per tree.
    pub sample_size: usize,
    /// Time decay λ.
    pub time_decay: f64,
    /// Shingled points before scores become non-zero.
    pub output_after: usize,
    /// Initial accept fraction of the samplers.
    pub initial_accept_fraction: f64,
    /// Random seed.
    pub seed: u64,
    /// krcflib's bounding-box cache fraction (rcf always caches every box).
    pub bounding_box_cache_fraction: f64,
}

impl Params {
    /// The §5.1 protocol for `channels` inputs, `num_trees` trees and `sample_size` samples:
    /// shingle 8, seed 17, time decay 0.1/sample, initial accept fraction 0.125, full box cache.
    pub fn new(channels: usize, num_trees: usize, sample_size: usize) -> Self {
        Params {
            input_dims: channels,
            shingle_size: 8,
            num_trees,
            sample_size,
            time_decay: 0.1 / sample_size as f64,
            output_after: sample_size / 4,
            initial_accept_fraction: 0.125,
            seed: 17,
            bounding_box_cache_fraction: 1.0,
        }
    }

    /// Dimensions of a shingled point.
    pub fn dimensions(&self) -> usize {
        self.input_dims * self.shingle_size
    }
}

/// Workload (a) of §5.1: 100 trees, sample 256, 1 channel × shingle 8.
pub const WORKLOAD_A: (&str, usize, usize) = ("a", 1, 100);
/// Workload (b) of §5.1: 50 trees, sample 256, 5 channels × shingle 8.
pub const WORKLOAD_B: (&str, usize, usize) = ("b", 5, 50);

/// Parameters of a named workload ("a" or "b").
pub fn workload(name: &str) -> Params {
    match name {
        "a" => Params::new(WORKLOAD_A.1, WORKLOAD_A.2, 256),
        "b" => Params::new(WORKLOAD_B.1, WORKLOAD_B.2, 256),
        other => panic!("unknown workload {other:?} (expected a or b)"),
    }
}

/// The streaming operations both implementations offer.
pub trait Detector {
    /// Anomaly score of `input` as the next stream input (forest unchanged).
    fn score(&self, input: &[f32]) -> f64;
    /// Inserts `input`.
    fn update(&mut self, input: &[f32]);
    /// Total of the attribution of `input` (equals the score).
    fn attribution_total(&self, input: &[f32]) -> f64;
}

impl Detector for Forest {
    #[inline]
    fn score(&self, input: &[f32]) -> f64 {
        Forest::score(self, input).expect("valid input")
    }
    #[inline]
    fn update(&mut self, input: &[f32]) {
        Forest::update(self, input).expect("valid input")
    }
    #[inline]
    fn attribution_total(&self, input: &[f32]) -> f64 {
        Forest::attribution(self, input).expect("valid input").total()
    }
}

/// A krcflib forest, either concrete (serializable) or behind its `build_default` trait object.
pub struct Krcf<R: ?Sized + AugmentedRCF<u64, u64>>(pub Box<R>);

/// krcflib's concrete layout for sample ≤ 256 and dimensions < 255 (what `build_default` picks
/// for workloads a and b); serializable with bincode.
pub type KrcfSmall = Krcf<RCFSmall<u64, u64>>;
/// krcflib through `build_default` (any size).
pub type KrcfAny = Krcf<dyn RCF + Send + Sync>;

impl<R: ?Sized + AugmentedRCF<u64, u64>> Detector for Krcf<R> {
    #[inline]
    fn score(&self, input: &[f32]) -> f64 {
        self.0.score(input).expect("valid input")
    }
    #[inline]
    fn update(&mut self, input: &[f32]) {
        self.0.update(input, 0).expect("valid input")
    }
    #[inline]
    fn attribution_total(&self, input: &[f32]) -> f64 {
        self.0.attribution(input).expect("valid input").total()
    }
}

/// An empty rcf forest with `p`.
pub fn build_rcf(p: &Params) -> Forest {
    ForestBuilder::new(p.input_dims)
        .shingle_size(p.shingle_size)
        .num_trees(p.num_trees)
        .sample_size(p.sample_size)
        .time_decay(p.time_decay)
        .output_after(p.output_after)
        .initial_accept_fraction(p.initial_accept_fraction)
        .seed(p.seed)
        .bounding_box_cache(p.bounding_box_cache_fraction > 0.0)
        .build()
        .expect("valid configuration")
}

fn krcf_builder(p: &Params) -> RCFBuilder {
    let mut b = RCFBuilder::new(p.input_dims, p.shingle_size);
    b.number_of_trees(p.num_trees)
        .tree_capacity(p.sample_size)
        .time_decay(p.time_decay)
        .output_after(p.output_after)
        .initial_accept_fraction(p.initial_accept_fraction)
        .random_seed(p.seed)
        .bounding_box_cache_fraction(p.bounding_box_cache_fraction)
        .internal_shingling(true)
        .parallel_enabled(false);
    b
}

/// An empty krcflib forest with `p` in its `RCFSmall` layout (sample ≤ 256, dimensions < 255).
pub fn build_krcf_small(p: &Params) -> KrcfSmall {
    Krcf(Box::new(krcf_builder(p).build_small_simple::<u64>().expect("valid krcflib configuration")))
}

/// An empty krcflib forest with `p` through `build_default` (picks the smallest layout that fits).
pub fn build_krcf(p: &Params) -> KrcfAny {
    Krcf(krcf_builder(p).build_default().expect("valid krcflib configuration"))
}

/// krcflib's own memory estimate (`RCF::size()`).
pub fn krcf_size<R: ?Sized + AugmentedRCF<u64, u64>>(k: &Krcf<R>) -> usize {
    k.0.size()
}
