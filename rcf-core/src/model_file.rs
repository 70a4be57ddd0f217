//! The one model format: a fixed header (magic, format version, payload length, CRC-32) followed by
//! the bincode-encoded forest. Loading checks every byte before trusting it: a truncated, corrupted,
//! foreign or newer file is a clear error, and a hostile payload that passes the checksum is still
//! decoded with a size limit and then checked for structural consistency.

use bincode::Options;

use serde::{Deserialize, Serialize};

use crate::compact::{CompactForest, CompactForestRef};
use crate::config::ForestConfig;
use crate::detector::Detector;
use crate::error::ModelFileError;
use crate::forest::Forest;
use crate::load_limits::LoadLimits;

/// First bytes of every model file.
pub const MAGIC: &[u8; 8] = b"RCFMODEL";
/// The newest format version this build reads. Version 1 held a bare forest; version 2 holds a
/// [`ModelPayload`] (a forest or a thresholded detector); version 3 adds the compact forest
/// ([`Forest::to_compact_bytes`]); version 4 changes the detector's state (the corrector keeps
/// the last anomaly's score, the similar-context setting and the run tracked for drift). Files
/// are written with the oldest version that can hold them.
pub const FORMAT_VERSION: u32 = 4;
/// The version of files holding a forest with its trees.
const EXACT_VERSION: u32 = 2;
/// The version of files holding a compact forest.
const COMPACT_VERSION: u32 = 3;
/// The version of files holding a thresholded detector; older detector files have another layout.
const DETECTOR_VERSION: u32 = 4;
/// Bincode's tag of [`StoredPayload::Detector`] (its variant index as a one-byte varint).
const DETECTOR_TAG: u8 = 1;
const HEADER_LEN: usize = 32;

fn codec() -> impl Options {
    bincode::DefaultOptions::new().with_little_endian().with_varint_encoding().reject_trailing_bytes()
}

/// What a model file holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[allow(clippy::large_enum_variant)]
pub enum ModelPayload {
    /// A plain forest.
    Forest(Forest),
    /// A thresholded detector (a forest with transform, threshold and corrector state).
    Detector(Detector),
}

/// What files of version 2 and later hold: the payloads of [`ModelPayload`], then the compact
/// forest (version 3), which is a [`ModelPayload::Forest`] once its trees are regrown.
#[derive(Deserialize)]
#[allow(clippy::large_enum_variant)]
enum StoredPayload {
    Forest(Forest),
    Detector(Detector),
    CompactForest(CompactForest),
}

/// The borrowed twin of [`StoredPayload`]: encodes identically, without cloning the model.
#[derive(Serialize)]
enum PayloadRef<'a> {
    Forest(&'a Forest),
    Detector(&'a Detector),
    CompactForest(CompactForestRef<'a>),
}

impl ModelPayload {
    /// Serializes into the model file format (header + payload).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ModelPayload::Forest(f) => encode(PayloadRef::Forest(f), EXACT_VERSION),
            ModelPayload::Detector(d) => encode(PayloadRef::Detector(d), DETECTOR_VERSION),
        }
    }

    /// Reads any model file this build understands (format versions 1 to 4; detectors from 4),
    /// checking every part, within the default [`LoadLimits`].
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelPayload, ModelFileError> {
        Self::from_bytes_within(bytes, &LoadLimits::default())
    }

    /// [`ModelPayload::from_bytes`] within `limits`: the model's declared memory
    /// ([`LoadLimits::check_model`]) is checked before its payload is decoded.
    pub fn from_bytes_within(bytes: &[u8], limits: &LoadLimits) -> Result<ModelPayload, ModelFileError> {
        let declared = DeclaredModel::read(bytes)?;
        limits.check_model(&declared.config, bytes.len() as u64)?;
        let (header, payload) = (declared.header, &bytes[HEADER_LEN..]);
        let decoder = codec().with_limit(payload.len() as u64);
        let decoded = match header.version {
            1 => decoder.deserialize::<Forest>(payload).map(StoredPayload::Forest),
            _ => decoder.deserialize::<StoredPayload>(payload),
        };
        let (model, regrown) = match decoded.map_err(|e| ModelFileError::Decode(e.to_string()))? {
            StoredPayload::Forest(f) => (ModelPayload::Forest(f), false),
            StoredPayload::Detector(d) => (ModelPayload::Detector(d), false),
            StoredPayload::CompactForest(_) if header.version < COMPACT_VERSION => {
                return Err(ModelFileError::Inconsistent(format!(
                    "a compact forest needs format version {COMPACT_VERSION}, the header says {}",
                    header.version
                )));
            }
            // Checked as it is regrown; its trees are this build's own work, not the file's.
            StoredPayload::CompactForest(c) => {
                (ModelPayload::Forest(Forest::try_from(c).map_err(ModelFileError::Inconsistent)?), true)
            }
        };
        let forest = match &model {
            ModelPayload::Forest(f) => f,
            ModelPayload::Detector(d) => d.forest(),
        };
        forest.config.validate().map_err(|e| ModelFileError::Inconsistent(e.to_string()))?;
        if !regrown {
            forest.check_consistency().map_err(ModelFileError::Inconsistent)?;
        }
        if let ModelPayload::Detector(d) = &model {
            d.check_consistency().map_err(ModelFileError::Inconsistent)?;
        }
        Ok(model)
    }
}

fn encode(model: PayloadRef<'_>, version: u32) -> Vec<u8> {
    let payload = codec().serialize(&model).expect("serializing in-memory data cannot fail");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // flags, reserved
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // reserved
    out.extend_from_slice(&payload);
    out
}

impl ModelPayload {
    /// The plain forest this payload holds, or an error naming what it holds instead.
    pub fn into_forest(self) -> Result<Forest, ModelFileError> {
        match self {
            ModelPayload::Forest(forest) => Ok(forest),
            ModelPayload::Detector(_) => Err(ModelFileError::Inconsistent(
                "this file holds a thresholded detector, not a plain forest; load it as a detector".into(),
            )),
        }
    }
}

impl Forest {
    /// Serializes the complete model state. After [`Forest::from_bytes`], further scores and updates
    /// are bit-identical to the original's.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(PayloadRef::Forest(self), EXACT_VERSION)
    }

    /// Serializes the forest without its trees (under half of [`Forest::to_bytes`] for 100 trees of
    /// 256 shingled points). [`Forest::from_bytes`] regrows each tree from its sample: the loaded
    /// forest holds the same samples, weights, shingle and random streams, with new random cuts, so
    /// its scores are statistically equivalent to this forest's but not bit-identical. Loading the
    /// same file always gives the same forest.
    pub fn to_compact_bytes(&self) -> Vec<u8> {
        encode(PayloadRef::CompactForest(self.into()), COMPACT_VERSION)
    }

    /// Reads a forest written by [`Forest::to_bytes`] or [`Forest::to_compact_bytes`] (this or an
    /// older format version).
    pub fn from_bytes(bytes: &[u8]) -> Result<Forest, ModelFileError> {
        ModelPayload::from_bytes(bytes)?.into_forest()
    }
}

impl Detector {
    /// Serializes the detector's complete state in the model file format.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(PayloadRef::Detector(self), DETECTOR_VERSION)
    }

    /// Reads a detector written by [`Detector::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Detector, ModelFileError> {
        match ModelPayload::from_bytes(bytes)? {
            ModelPayload::Detector(detector) => Ok(detector),
            ModelPayload::Forest(_) => {
                Err(ModelFileError::Inconsistent("this file holds a plain forest, not a thresholded detector".into()))
            }
        }
    }
}

/// What a model file declares about itself, read without decoding its payload: the header
/// (checksum verified) and the forest's configuration (validated), which bounds everything the
/// payload can build.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredModel {
    /// The header.
    pub header: ModelHeader,
    /// The forest's configuration, the first thing in every payload.
    pub config: ForestConfig,
}

impl DeclaredModel {
    /// Reads the header, verifies the payload checksum, and decodes and validates the
    /// configuration at the payload's start.
    pub fn read(bytes: &[u8]) -> Result<DeclaredModel, ModelFileError> {
        let header = read_header(bytes)?;
        let payload = &bytes[HEADER_LEN..];
        let found = crc32fast::hash(payload);
        if found != header.checksum {
            return Err(ModelFileError::Checksum { expected: header.checksum, found });
        }
        if (2..DETECTOR_VERSION).contains(&header.version) && payload.first() == Some(&DETECTOR_TAG) {
            return Err(ModelFileError::Inconsistent(format!(
                "this thresholded detector was saved in format version {}, whose detector state this build \
                 no longer reads (detectors need version {DETECTOR_VERSION}); process the data again with this build",
                header.version
            )));
        }
        // Version 1 holds a bare forest; later versions a one-byte payload tag, then a forest, a
        // detector (whose forest comes first) or a compact forest, each starting with the config.
        let config_bytes = match (header.version, payload.first()) {
            (1, _) => payload,
            (_, Some(0..=2)) => &payload[1..],
            (_, Some(tag)) => return Err(ModelFileError::Decode(format!("unknown payload kind {tag}"))),
            (_, None) => return Err(ModelFileError::Decode("the payload is empty".into())),
        };
        let config: ForestConfig = bincode::DefaultOptions::new()
            .with_little_endian()
            .with_varint_encoding()
            .allow_trailing_bytes()
            .with_limit(config_bytes.len() as u64)
            .deserialize(config_bytes)
            .map_err(|e| ModelFileError::Decode(format!("configuration: {e}")))?;
        config.validate().map_err(|e| ModelFileError::Inconsistent(e.to_string()))?;
        Ok(DeclaredModel { header, config })
    }
}

/// The fixed-size header of a model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelHeader {
    /// Format version the file was written with.
    pub version: u32,
    /// Payload bytes after the header.
    pub payload_len: usize,
    /// CRC-32 of the payload.
    pub checksum: u32,
}

/// Parses and checks the header: magic, version, and that the whole payload is present.
pub fn read_header(bytes: &[u8]) -> Result<ModelHeader, ModelFileError> {
    read_header_of(bytes, bytes.len() as u64)
}

/// Length of the fixed header that starts every model file.
pub const MODEL_HEADER_LEN: usize = HEADER_LEN;

/// Checks the header at the start of a model file of `total_len` bytes from its first
/// [`MODEL_HEADER_LEN`] bytes alone, before the rest is read: a stream that is not a model, or
/// whose header disagrees with its length, is refused without reading (or inflating) the rest.
///
/// Without `total_len` (a stream of unknown length) only the header itself is checked; its
/// `payload_len` then says how much more to read.
pub fn check_header_prefix(prefix: &[u8], total_len: Option<u64>) -> Result<ModelHeader, ModelFileError> {
    let prefix = &prefix[..prefix.len().min(HEADER_LEN)];
    let declared = |p: &[u8]| {
        let len = p.get(16..24).map_or(0, |b| u64::from_le_bytes(b.try_into().expect("8-byte slice")));
        (HEADER_LEN as u64).saturating_add(len)
    };
    read_header_of(prefix, total_len.unwrap_or_else(|| declared(prefix)))
}

/// [`read_header`] over `bytes`, the start of a file of `total_len` bytes.
fn read_header_of(bytes: &[u8], total_len: u64) -> Result<ModelHeader, ModelFileError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            ModelFileError::Truncated { expected: HEADER_LEN as u64, found: bytes.len() as u64 }
        } else {
            ModelFileError::NotAModel
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(ModelFileError::Truncated { expected: HEADER_LEN as u64, found: bytes.len() as u64 });
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4-byte slice"));
    let version = word(8);
    if version > FORMAT_VERSION {
        return Err(ModelFileError::NewerVersion { found: version, supported: FORMAT_VERSION });
    }
    if version == 0 {
        return Err(ModelFileError::NotAModel);
    }
    let payload_len = u64::from_le_bytes(bytes[16..24].try_into().expect("8-byte slice"));
    let available = total_len.saturating_sub(HEADER_LEN as u64);
    if payload_len > available {
        let expected = (HEADER_LEN as u64).saturating_add(payload_len);
        return Err(ModelFileError::Truncated { expected, found: total_len });
    }
    if payload_len < available {
        return Err(ModelFileError::Inconsistent(format!(
            "{} unexpected bytes after the payload",
            available - payload_len
        )));
    }
    Ok(ModelHeader { version, payload_len: payload_len as usize, checksum: word(24) })
}
