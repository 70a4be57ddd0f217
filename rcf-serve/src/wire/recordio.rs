//! RecordIO framing (`u32 magic 0xCED7230A`, `u32 length`, payload, zero padding to 4 bytes) and
//! the conversion of a decoded [`Record`] into a feature row.

use std::io::{ErrorKind, Read};

use prost::Message;

use super::features::{dense_into, sparse_into};
use super::proto::{Kind, Record, Value};

/// First word of every frame (little-endian on the wire: `0A 23 D7 CE`).
pub const MAGIC: u32 = 0xCED7_230A;
/// Largest single record accepted (bounds memory on untrusted input).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// Fills `buf` completely; `Ok(false)` on a clean end of input before the first byte.
fn read_full<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Reads framed records one at a time from any reader (a request body, a file, a Pipe-mode FIFO).
pub struct FrameReader<R> {
    reader: R,
    offset: u64,
    buf: Vec<u8>,
}

impl<R: Read> FrameReader<R> {
    /// Reads frames from `reader`.
    pub fn new(reader: R) -> Self {
        FrameReader { reader, offset: 0, buf: Vec::new() }
    }

    /// The next decoded record, `Ok(None)` at the end. Errors name the byte offset of the frame.
    pub fn next_record(&mut self) -> Result<Option<Record>, String> {
        let at = self.offset;
        let mut header = [0u8; 8];
        match read_full(&mut self.reader, &mut header[..4]) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => return Err(format!("truncated recordIO frame header at byte {at}: {e}")),
        }
        let magic = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        if magic != MAGIC {
            return Err(format!("bad recordIO magic 0x{magic:08X} at byte {at} (expected 0x{MAGIC:08X})"));
        }
        match read_full(&mut self.reader, &mut header[4..]) {
            Ok(true) => {}
            _ => return Err(format!("truncated recordIO frame header at byte {at}")),
        }
        let word = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if word >> 29 != 0 {
            return Err(format!(
                "recordIO frame at byte {at} uses continuation flag {} (multi-part records are not supported)",
                word >> 29
            ));
        }
        let len = (word & 0x1FFF_FFFF) as usize;
        if len > MAX_RECORD_BYTES {
            return Err(format!("recordIO frame at byte {at} declares {len} bytes (limit {MAX_RECORD_BYTES})"));
        }
        self.buf.clear();
        let got = (&mut self.reader).take(len as u64).read_to_end(&mut self.buf).map_err(|e| e.to_string())?;
        if got < len {
            return Err(format!("truncated recordIO frame at byte {at}: header declares {len} bytes, found {got}"));
        }
        let pad = (4 - len % 4) % 4;
        let mut padding = [0u8; 3];
        // Padding after the last frame may be missing; anything else is an error on the next call.
        let _ = read_full(&mut self.reader, &mut padding[..pad]);
        self.offset += 8 + (len + pad) as u64;
        Record::decode(self.buf.as_slice())
            .map(Some)
            .map_err(|e| format!("recordIO frame at byte {at} is not an aialgs.data.Record: {e}"))
    }
}

/// Encodes `records` as a recordIO stream.
pub fn write_records(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    for record in records {
        let payload = record.encode_to_vec();
        out.extend_from_slice(&MAGIC.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&payload);
        out.resize(out.len() + (4 - payload.len() % 4) % 4, 0);
    }
    out
}

/// Appends the tensor `value` (dense or sparse) as one row of `dim` values to `out`.
pub fn tensor_into(value: &Value, dim: usize, out: &mut Vec<f32>) -> Result<(), String> {
    match &value.kind {
        Some(Kind::Float32Tensor(t)) => put(out, dim, &t.keys, &t.shape, t.values.iter().map(|&v| v as f64)),
        Some(Kind::Float64Tensor(t)) => put(out, dim, &t.keys, &t.shape, t.values.iter().copied()),
        Some(Kind::Int32Tensor(t)) => put(out, dim, &t.keys, &t.shape, t.values.iter().map(|&v| v as f64)),
        Some(Kind::Bytes(_)) => Err("features are a Bytes value; expected a Float32, Float64 or Int32 tensor".into()),
        None => Err("feature value holds no tensor".into()),
    }
}

fn put<I>(out: &mut Vec<f32>, dim: usize, keys: &[u64], shape: &[u64], values: I) -> Result<(), String>
where
    I: ExactSizeIterator<Item = f64>,
{
    if keys.is_empty() {
        if !shape.is_empty() {
            let product = shape.iter().try_fold(1u64, |a, &b| a.checked_mul(b));
            if product != Some(values.len() as u64) {
                return Err(format!("dense tensor has shape {shape:?} but {} values", values.len()));
            }
        }
        dense_into(out, dim, values)
    } else {
        sparse_into(out, dim, keys, shape, values)
    }
}

/// The feature row of `record` (tensor under key `values`), appended to `out`.
pub fn record_features(record: &Record, dim: usize, out: &mut Vec<f32>) -> Result<(), String> {
    let value = record.features.get("values").ok_or_else(|| {
        let keys: Vec<&str> = record.features.keys().map(String::as_str).collect();
        format!("no feature tensor under key \"values\" (found keys {keys:?})")
    })?;
    tensor_into(value, dim, out)
}

/// The first label value of `record` (label key `values`).
pub fn record_label(record: &Record) -> Result<f64, String> {
    let value = record.label.get("values").ok_or("no label under key \"values\"")?;
    let first = match &value.kind {
        Some(Kind::Float32Tensor(t)) => t.values.first().map(|&v| v as f64),
        Some(Kind::Float64Tensor(t)) => t.values.first().copied(),
        Some(Kind::Int32Tensor(t)) => t.values.first().map(|&v| v as f64),
        _ => None,
    };
    first.ok_or_else(|| "label tensor is empty or not numeric".to_string())
}
