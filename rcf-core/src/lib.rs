//! # rcf-core
//!
//! A streaming Random Cut Forest (Guha et al., ICML 2016) that computes what AWS's RCF computes:
//! time-decayed per-tree reservoir samples, random cut trees, the expected-inverse-depth anomaly
//! score and its per-dimension attribution, internal shingling, SageMaker-style batch fit, and one
//! versioned, checksummed model format shared by the Python package, the CLI and the server.
//!
//! ```
//! use rcf_core::ForestBuilder;
//!
//! let mut forest = ForestBuilder::new(1).shingle_size(4).num_trees(50).sample_size(64).seed(42).build()?;
//! for t in 0..2000 {
//!     let value = (t as f32 * 0.1).sin();
//!     forest.update(&[value])?;
//! }
//! let normal = forest.score(&[(2000f32 * 0.1).sin()])?;
//! let spike = forest.score(&[25.0])?;
//! assert!(spike > normal);
//!
//! // Attribution splits the score by dimension and direction; its total is the score.
//! let why = forest.attribution(&[25.0])?;
//! assert!((why.total() - spike).abs() < 1e-6 * spike);
//!
//! // One model format everywhere: save, load, and carry on bit-identically.
//! let bytes = forest.to_bytes();
//! let restored = rcf_core::Forest::from_bytes(&bytes)?;
//! assert_eq!(restored.score(&[25.0])?, spike);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod artifact;
mod attribution;
mod compact;
mod config;
pub mod detector;
mod divector;
mod error;
mod fit;
mod forest;
mod impute;
mod input;
pub mod limits;
mod load_limits;
mod model_file;
mod neighbours;
mod point_store;
mod rng;
mod sampler;
pub mod score;
mod shingle;
mod tree;

pub use config::{ForestBuilder, ForestConfig, MAX_DIMENSIONS, MAX_SAMPLE_SIZE, MAX_TREES};
pub use divector::DiVector;
pub use error::{ConfigError, InputError, ModelFileError, RcfError};
pub use forest::Forest;
pub use impute::{Forecast, ForecastSteps, Imputation};
pub use load_limits::{LoadLimits, DEFAULT_MAX_MODEL_MEMORY_BYTES, MAX_ARCHIVE_ENTRIES, MAX_METADATA_ENTRIES};
pub use model_file::{
    check_header_prefix, DeclaredModel, ModelHeader, ModelPayload, FORMAT_VERSION, MAGIC, MODEL_HEADER_LEN,
};
pub use neighbours::Neighbour;
