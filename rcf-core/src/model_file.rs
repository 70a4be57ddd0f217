//! The one model format: a fixed header (magic, format version, payload length, CRC-32) followed by
//! the bincode-encoded forest. Loading checks every byte before trusting it: a truncated, corrupted,
//! foreign or newer file is a clear error, and a hostile payload that passes the checksum is still
//! decoded with a size limit and then checked for structural consistency.

use bincode::Options;

use serde::{Deserialize, Serialize};

use crate::detector::Detector;
use crate::error::ModelFileError;
use crate::forest::Forest;

/// First bytes of every model file.
pub const MAGIC: &[u8; 8] = b"RCFMODEL";
/// The format version this build writes (and the newest it reads). Version 1 held a bare forest;
/// version 2 holds a [`ModelPayload`] (a forest or a thresholded detector).
pub const FORMAT_VERSION: u32 = 2;
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

/// The borrowed twin of [`ModelPayload`]: encodes identically, without cloning the model.
#[derive(Serialize)]
enum PayloadRef<'a> {
    Forest(&'a Forest),
    Detector(&'a Detector),
}

impl ModelPayload {
    /// Serializes into the model file format (header + payload).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ModelPayload::Forest(f) => encode(PayloadRef::Forest(f)),
            ModelPayload::Detector(d) => encode(PayloadRef::Detector(d)),
        }
    }

    /// Reads any model file this build understands (format versions 1 and 2), checking every part.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelPayload, ModelFileError> {
        let header = read_header(bytes)?;
        let payload = &bytes[HEADER_LEN..HEADER_LEN + header.payload_len];
        let found = crc32fast::hash(payload);
        if found != header.checksum {
            return Err(ModelFileError::Checksum { expected: header.checksum, found });
        }
        let decoder = codec().with_limit(payload.len() as u64);
        let decoded = match header.version {
            1 => decoder.deserialize::<Forest>(payload).map(ModelPayload::Forest),
            _ => decoder.deserialize::<ModelPayload>(payload),
        };
        let model = decoded.map_err(|e| ModelFileError::Decode(e.to_string()))?;
        let forest = match &model {
            ModelPayload::Forest(f) => f,
            ModelPayload::Detector(d) => d.forest(),
        };
        forest.config.validate().map_err(|e| ModelFileError::Inconsistent(e.to_string()))?;
        forest.check_consistency().map_err(ModelFileError::Inconsistent)?;
        if let ModelPayload::Detector(d) = &model {
            d.check_consistency().map_err(ModelFileError::Inconsistent)?;
        }
        Ok(model)
    }
}

fn encode(model: PayloadRef<'_>) -> Vec<u8> {
    let payload = codec().serialize(&model).expect("serializing in-memory data cannot fail");
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // flags, reserved
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // reserved
    out.extend_from_slice(&payload);
    out
}

impl Forest {
    /// Serializes the complete model state. After [`Forest::from_bytes`], further scores and updates
    /// are bit-identical to the original's.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(PayloadRef::Forest(self))
    }

    /// Reads a forest written by [`Forest::to_bytes`] (this or an older format version).
    pub fn from_bytes(bytes: &[u8]) -> Result<Forest, ModelFileError> {
        match ModelPayload::from_bytes(bytes)? {
            ModelPayload::Forest(forest) => Ok(forest),
            ModelPayload::Detector(_) => Err(ModelFileError::Inconsistent(
                "this file holds a thresholded detector, not a plain forest; load it as a detector".into(),
            )),
        }
    }
}

impl Detector {
    /// Serializes the detector's complete state in the model file format.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(PayloadRef::Detector(self))
    }

    /// Reads a detector written by [`Detector::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Detector, ModelFileError> {
        match ModelPayload::from_bytes(bytes)? {
            ModelPayload::Detector(detector) => Ok(detector),
            ModelPayload::Forest(_) => Err(ModelFileError::Inconsistent(
                "this file holds a plain forest, not a thresholded detector".into(),
            )),
        }
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
    let available = (bytes.len() - HEADER_LEN) as u64;
    if payload_len > available {
        return Err(ModelFileError::Truncated { expected: HEADER_LEN as u64 + payload_len, found: bytes.len() as u64 });
    }
    if payload_len < available {
        return Err(ModelFileError::Inconsistent(format!("{} unexpected bytes after the payload", available - payload_len)));
    }
    Ok(ModelHeader { version, payload_len: payload_len as usize, checksum: word(24) })
}
