//! `application/jsonlines`: one instance per line, in any of the JSON instance shapes.
//! Blank lines between records are rejected; a trailing newline is fine.

use super::json::decode_instance;
use super::{Batch, DecodeLimits, Decoder, RowSink, WireError};

/// The JSON Lines decoder.
pub struct JsonLinesDecoder;

impl Decoder for JsonLinesDecoder {
    fn decode(&self, body: &[u8], limits: &DecodeLimits<'_>) -> Result<Batch, WireError> {
        let bad = WireError::BadRequest;
        let text = std::str::from_utf8(body)
            .map_err(|e| bad(format!("request body is not UTF-8 (invalid byte at {})", e.valid_up_to())))?;
        let text = text.trim_end();
        if text.trim_start().is_empty() {
            return Err(bad("request body is empty; expected one JSON record per line".into()));
        }
        let mut sink = RowSink::new(*limits);
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let name = || format!("line {}", i + 1);
            if line.trim().is_empty() {
                return Err(bad(format!("{} is empty; every line must hold one record", name())));
            }
            sink.room(&name)?;
            decode_instance(line, &mut sink, limits.feature_dim).map_err(|e| bad(format!("{}: {e}", name())))?;
        }
        sink.finish("JSON Lines body")
    }
}
