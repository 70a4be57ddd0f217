//! Bounds on what loading a model from untrusted bytes may cost. A model file declares its own
//! size (the forest's configuration, the payload length, the archive's entry sizes); every one of
//! those figures is checked against a [`LoadLimits`] budget before anything of that size is
//! allocated, decoded or regrown. The crate reads no environment: each face sets the budget
//! (`rcf` and the Python package from `RCF_MAX_MODEL_MEMORY_MB`).

use crate::config::ForestConfig;
use crate::error::ModelFileError;

/// Default memory budget of one model load: 2 GiB. It holds every model built within the
/// documented common sizes (e.g. 1000 trees × 2048 samples × 40 dimensions with bounding-box
/// caching declares about 1.0 GiB) and stops files that declare more than a process can
/// reasonably spend on one model.
pub const DEFAULT_MAX_MODEL_MEMORY_BYTES: u64 = 2 << 30;
/// Most entries read from a `model.tar.gz` (it holds two files; archivers may add a few).
pub const MAX_ARCHIVE_ENTRIES: usize = 64;

/// How much one model load may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// Bytes a model may declare: its estimated memory once built
    /// ([`ForestConfig::estimated_memory_bytes`]) plus its model file. Also the most a
    /// `model.tar.gz` may decompress to.
    pub max_memory_bytes: u64,
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits { max_memory_bytes: DEFAULT_MAX_MODEL_MEMORY_BYTES }
    }
}

impl LoadLimits {
    /// A budget of `max_memory_bytes`.
    pub fn new(max_memory_bytes: u64) -> Self {
        LoadLimits { max_memory_bytes }
    }

    /// A budget of `mib` MiB (saturating), the unit the faces' settings use.
    pub fn from_mib(mib: u64) -> Self {
        LoadLimits { max_memory_bytes: mib.saturating_mul(1 << 20) }
    }

    /// Checks that `declared` bytes of `what` fit the budget.
    pub fn check(&self, what: &str, declared: u64) -> Result<(), ModelFileError> {
        if declared > self.max_memory_bytes {
            return Err(ModelFileError::OverBudget { what: what.to_string(), declared, budget: self.max_memory_bytes });
        }
        Ok(())
    }

    /// Checks a model's declared size: the memory its configuration builds plus its file bytes.
    pub fn check_model(&self, config: &ForestConfig, file_bytes: u64) -> Result<(), ModelFileError> {
        let what = format!(
            "a model of {} trees × {} samples × {} dimensions{} ({} file bytes)",
            config.num_trees,
            config.sample_size,
            config.dimensions(),
            if config.bounding_box_cache { " with bounding-box caching" } else { "" },
            file_bytes
        );
        self.check(&what, config.estimated_memory_bytes().saturating_add(file_bytes))
    }
}

/// Most metadata entries decoded from a model file.
pub const MAX_METADATA_ENTRIES: usize = 1 << 16;

/// Decoding helpers that refuse a collection longer than the configuration allows while it is
/// decoded: a cheaply encoded element (an empty tree is a few bytes) can cost hundreds of bytes
/// in memory, so counts must be bounded before the payload length bounds them.
pub(crate) mod bounded {
    use std::collections::BTreeMap;
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    use crate::config::MAX_TREES;

    struct SeqOf<C, T>(usize, PhantomData<(C, T)>);

    impl<'de, C: Default + Extend<T>, T: Deserialize<'de>> Visitor<'de> for SeqOf<C, T> {
        type Value = C;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "at most {} elements", self.0)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<C, A::Error> {
            if let Some(declared) = seq.size_hint().filter(|&n| n > self.0) {
                return Err(A::Error::invalid_length(declared, &self));
            }
            let (mut out, mut count) = (C::default(), 0usize);
            while let Some(item) = seq.next_element()? {
                count += 1;
                if count > self.0 {
                    return Err(A::Error::invalid_length(count, &self));
                }
                out.extend(Some(item));
            }
            Ok(out)
        }
    }

    /// A collection (`Vec`, `VecDeque`, ...) of at most `MAX` elements.
    pub(crate) fn at_most<'de, D, C, T, const MAX: usize>(d: D) -> Result<C, D::Error>
    where
        D: Deserializer<'de>,
        C: Default + Extend<T>,
        T: Deserialize<'de>,
    {
        d.deserialize_seq(SeqOf::<C, T>(MAX, PhantomData))
    }

    /// A vector of at most [`MAX_TREES`] elements: one per tree.
    pub(crate) fn per_tree<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        at_most::<D, Vec<T>, T, MAX_TREES>(d)
    }

    struct MapOf(usize);

    impl<'de> Visitor<'de> for MapOf {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "at most {} entries", self.0)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let declared = map.size_hint().unwrap_or(0);
            if declared > self.0 {
                return Err(A::Error::invalid_length(declared, &self));
            }
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry()? {
                if out.len() == self.0 {
                    return Err(A::Error::invalid_length(out.len() + 1, &self));
                }
                out.insert(k, v);
            }
            Ok(out)
        }
    }

    /// Metadata of at most [`super::MAX_METADATA_ENTRIES`] entries.
    pub(crate) fn metadata<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
        d.deserialize_map(MapOf(super::MAX_METADATA_ENTRIES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ForestBuilder;

    #[test]
    fn common_sizes_fit_the_default_budget() {
        let limits = LoadLimits::default();
        for (trees, samples, dims) in [(100, 256, 10), (1000, 2048, 40), (1000, 1024, 64), (500, 2048, 64)] {
            let config = ForestBuilder::new(dims).num_trees(trees).sample_size(samples).seed(1).config().unwrap();
            assert!(limits.check_model(&config, 200 << 20).is_ok(), "{trees} × {samples} × {dims}");
        }
    }

    #[test]
    fn the_largest_configuration_is_refused_with_the_figures() {
        let config = ForestBuilder::new(65535).num_trees(10_000).sample_size(16_384).seed(1).config().unwrap();
        let err = LoadLimits::from_mib(512).check_model(&config, 1000).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("10000 trees × 16384 samples × 65535 dimensions"), "{text}");
        assert!(text.contains("512 MiB"), "{text}");
        assert!(text.contains("RCF_MAX_MODEL_MEMORY_MB"), "{text}");
    }
}
