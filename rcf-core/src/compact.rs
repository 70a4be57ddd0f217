//! The compact model form: a forest without its trees. Each tree is regrown on load by inserting
//! its sampler's points, so the file keeps everything that decides what the forest learns next
//! (samples, weights, shingle, random streams) and drops the random cuts, which are most of its
//! bytes. The loaded forest holds the same samples but new cuts: its scores are statistically
//! equivalent to the original's, not bit-identical (AWS's Java state mapper does the same).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::ForestConfig;
use crate::forest::{Forest, SampledTree};
use crate::point_store::PointStore;
use crate::rng::TreeRng;
use crate::sampler::Sampler;
use crate::shingle::Shingle;
use crate::tree::Tree;

/// The borrowed, written twin of [`CompactForest`].
#[derive(Serialize)]
pub(crate) struct CompactForestRef<'a> {
    config: &'a ForestConfig,
    store: &'a PointStore,
    samplers: Vec<(&'a Sampler, &'a TreeRng)>,
    shingle: &'a Shingle,
    points_seen: u64,
    metadata: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a Forest> for CompactForestRef<'a> {
    fn from(f: &'a Forest) -> Self {
        CompactForestRef {
            config: &f.config,
            store: &f.store,
            samplers: f.trees.iter().map(|t| (&t.sampler, &t.rng)).collect(),
            shingle: &f.shingle,
            points_seen: f.points_seen,
            metadata: &f.metadata,
        }
    }
}

/// A compact forest as read, before its trees are regrown.
#[derive(Deserialize)]
pub(crate) struct CompactForest {
    config: ForestConfig,
    store: PointStore,
    #[serde(deserialize_with = "crate::load_limits::bounded::per_tree")]
    samplers: Vec<(Sampler, TreeRng)>,
    shingle: Shingle,
    points_seen: u64,
    #[serde(deserialize_with = "crate::load_limits::bounded::metadata")]
    metadata: BTreeMap<String, String>,
}

impl TryFrom<CompactForest> for Forest {
    type Error = String;

    /// Checks the point store against the samplers, then regrows every tree (in parallel) by
    /// inserting its sample in sampler order, drawing cuts from a copy of the tree's stream.
    fn try_from(c: CompactForest) -> Result<Self, String> {
        c.config.validate().map_err(|e| e.to_string())?;
        if c.samplers.len() != c.config.num_trees {
            return Err("the number of samplers does not match the configuration".into());
        }
        if !c.shingle.is_consistent(c.config.input_dims, c.config.shingle_size) {
            return Err("shingle does not match the configuration".into());
        }
        // Checked before regrowing: a tree can only hold a valid sample's worth of points.
        if let Some(i) = c.samplers.iter().position(|(s, _)| !s.is_valid() || s.capacity() != c.config.sample_size) {
            return Err(format!("tree {i}: sampler heap is invalid"));
        }
        let mut store = c.store;
        store.recount(c.samplers.iter().map(|(s, _)| s))?;
        if store.dims() != c.config.dimensions() {
            return Err("the point store's dimensions do not match the configuration".into());
        }
        let mut live = (0..store.capacity() as u32).filter(|&s| store.is_live(s));
        if let Some(slot) = live.find(|&s| store.get(s).iter().any(|v| !v.is_finite())) {
            return Err(format!("point {slot} holds a value that is not finite"));
        }
        let (dims, cache) = (c.config.dimensions(), c.config.bounding_box_cache);
        let trees = c
            .samplers
            .into_par_iter()
            .enumerate()
            .map(|(i, (sampler, rng))| {
                let mut tree = Tree::new(dims, cache);
                let mut cuts = rng.clone();
                for p in sampler.points() {
                    if tree.insert(p.slot, &store, &mut cuts) != p.slot {
                        return Err(format!("tree {i}: two sampled slots hold the same point"));
                    }
                }
                Ok(SampledTree { sampler, tree, rng })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Forest {
            config: c.config,
            store,
            trees,
            shingle: c.shingle,
            points_seen: c.points_seen,
            metadata: c.metadata,
        })
    }
}
