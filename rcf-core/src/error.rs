//! Error types. Every fallible public call returns one of these; nothing in the crate panics on user input.

use thiserror::Error;

/// A configuration value was outside its valid range.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// A parameter was outside its allowed range.
    #[error("invalid {name}: {value} ({expected})")]
    OutOfRange {
        /// Parameter name as used by the builder.
        name: &'static str,
        /// The rejected value, rendered as text.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
}

/// A point handed to the forest was unusable.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum InputError {
    /// The point had the wrong number of values.
    #[error("expected {expected} values per point, found {found}")]
    WrongLength {
        /// Values expected (the forest's input dimensions).
        expected: usize,
        /// Values found.
        found: usize,
    },
    /// A value was NaN or infinite.
    #[error("value at index {index} is {value}; only finite numbers are accepted")]
    NonFinite {
        /// Position of the offending value within the point.
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// A batch call failed at one row; `source` says why.
    #[error("row {row}: {source}")]
    InRow {
        /// Zero-based row number within the batch.
        row: usize,
        /// What was wrong with that row.
        #[source]
        source: Box<InputError>,
    },
    /// The operation needs a different configuration.
    #[error("{what}")]
    Unsupported {
        /// What is needed.
        what: &'static str,
    },
    /// An argument of the call (a forecast horizon, a coverage, a count) was outside its range.
    #[error(transparent)]
    Argument(#[from] ConfigError),
    /// A batch was not a whole number of rows.
    #[error("batch of {len} values is not a whole number of rows of {row_len}")]
    RaggedBatch {
        /// Total number of values handed in.
        len: usize,
        /// Expected row length.
        row_len: usize,
    },
}

impl InputError {
    /// Wraps this error with the row it occurred in.
    pub fn in_row(self, row: usize) -> InputError {
        InputError::InRow { row, source: Box::new(self) }
    }
}

/// A model file could not be read.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ModelFileError {
    /// The file is shorter than its header says.
    #[error("model file is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The file does not start with the rcf magic number.
    #[error("not an rcf model file (bad magic number)")]
    NotAModel,
    /// The file was written by a newer format version than this build reads.
    #[error("model format version {found} is newer than the newest this build reads ({supported}); upgrade rcf")]
    NewerVersion {
        /// Version in the file.
        found: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// The payload checksum does not match: the file is corrupted.
    #[error("model file is corrupted: checksum {found:08x} does not match {expected:08x}")]
    Checksum {
        /// Checksum stored in the header.
        expected: u32,
        /// Checksum of the bytes present.
        found: u32,
    },
    /// The payload decoded but describes an impossible forest.
    #[error("model file is inconsistent: {0}")]
    Inconsistent(String),
    /// The payload could not be decoded.
    #[error("model payload could not be decoded: {0}")]
    Decode(String),
    /// The model declares more memory (or a larger file) than the load budget allows; nothing of
    /// that size was allocated.
    #[error(
        "{what} needs about {} MiB ({declared} bytes), over the model memory budget of {} MiB ({budget} bytes); \
         if you trust this model, raise the budget (RCF_MAX_MODEL_MEMORY_MB for rcf and the Python package, \
         LoadLimits in Rust)",
        mib(*declared),
        mib(*budget)
    )]
    OverBudget {
        /// What declared the size (the model's shape, an archive entry, ...).
        what: String,
        /// Bytes it declares.
        declared: u64,
        /// The budget, in bytes.
        budget: u64,
    },
    /// The manifest beside the model file does not describe it.
    #[error("manifest.json does not match model.rcf: {0}")]
    Manifest(String),
}

/// Bytes in whole MiB, rounded up (so a figure over the budget never prints as equal to it).
fn mib(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

/// Any error from this crate.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RcfError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Invalid input point.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Unreadable model file.
    #[error(transparent)]
    ModelFile(#[from] ModelFileError),
}
