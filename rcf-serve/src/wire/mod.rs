//! Wire formats of `/invocations` (and the training channels): one decoder per content type
//! behind [`Decoder`], one encoder per accept type in [`encode`].

pub mod csv_rows;
pub mod encode;
pub mod features;
#[cfg(test)]
mod fuzz_tests;
pub mod json;
pub mod jsonlines;
pub mod lines;
pub mod media;
pub mod proto;
pub mod recordio;

use std::io::Cursor;

pub use media::{InputFormat, OutputFormat};

/// What a request decodes to: `rows × feature_dim` values, row-major, and which rows asked for
/// attribution through their own `configuration`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batch {
    /// Feature values, row-major.
    pub values: Vec<f32>,
    /// Number of rows.
    pub rows: usize,
    /// Per-row attribution requests (empty when no row asked).
    pub attribution: Vec<bool>,
    /// True when the request as a whole asked for attribution (JSON top-level `configuration`).
    pub attribution_all: bool,
}

impl Batch {
    /// True if row `i` should carry attribution (`header` = asked for by the custom attributes).
    pub fn wants_attribution(&self, i: usize, header: bool) -> bool {
        header || self.attribution_all || self.attribution.get(i).copied().unwrap_or(false)
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// Malformed input (HTTP 400); the message names the record and the problem.
    BadRequest(String),
    /// Input decodes to more data than allowed (HTTP 413).
    TooLarge(String),
    /// The server's memory budget cannot hold the decoded data now (HTTP 503); see [`DecodeLimits::charge`].
    Busy(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::BadRequest(m) | WireError::TooLarge(m) | WireError::Busy(m) => f.write_str(m),
        }
    }
}

/// Takes bytes from a memory budget before they are allocated, or says why it cannot.
pub type Charge<'a> = &'a dyn Fn(u64) -> Result<(), WireError>;

/// Limits that apply while decoding one body.
#[derive(Clone, Copy)]
pub struct DecodeLimits<'a> {
    /// Values per row (the model's feature_dim).
    pub feature_dim: usize,
    /// Largest number of decoded values (bounds memory: sparse rows expand to feature_dim).
    pub max_values: usize,
    /// When set, every growth of the decoded values is charged here before it is allocated: a
    /// small sparse body can decode to far more bytes than it holds, so the server counts them
    /// against its shared budget as they grow instead of after the fact.
    pub charge: Option<Charge<'a>>,
}

#[cfg(test)]
impl DecodeLimits<'_> {
    /// Limits without a budget to charge.
    pub fn new(feature_dim: usize, max_values: usize) -> Self {
        DecodeLimits { feature_dim, max_values, charge: None }
    }
}

/// Collects rows while decoding, enforcing [`DecodeLimits`].
pub(crate) struct RowSink<'a> {
    limits: DecodeLimits<'a>,
    batch: Batch,
}

impl<'a> RowSink<'a> {
    pub(crate) fn new(limits: DecodeLimits<'a>) -> Self {
        RowSink { limits, batch: Batch::default() }
    }

    /// Checks the limit before a row is added; `what` names the record.
    pub(crate) fn room(&mut self, what: &dyn Fn() -> String) -> Result<(), WireError> {
        if self.batch.values.len() + self.limits.feature_dim > self.limits.max_values {
            return Err(WireError::TooLarge(format!(
                "{}: the request decodes to more than {} values ({} features per record); send fewer records per request",
                what(),
                self.limits.max_values,
                self.limits.feature_dim
            )));
        }
        self.charge_growth()
    }

    /// With a budget to charge, grows the values (geometrically, within `max_values`) before the
    /// next row needs it, charging the new capacity first.
    fn charge_growth(&mut self) -> Result<(), WireError> {
        let Some(charge) = self.limits.charge else { return Ok(()) };
        let values = &mut self.batch.values;
        let needed = values.len() + self.limits.feature_dim;
        let capacity = values.capacity();
        if needed <= capacity {
            return Ok(());
        }
        let grown = needed.max(capacity.saturating_mul(2)).min(self.limits.max_values);
        charge(((grown - capacity) * std::mem::size_of::<f32>()) as u64)?;
        values.reserve_exact(grown - values.len());
        Ok(())
    }

    pub(crate) fn values(&mut self) -> &mut Vec<f32> {
        &mut self.batch.values
    }

    /// Marks the row just added as complete, with its own attribution request.
    pub(crate) fn finish_row(&mut self, attribution: bool) {
        if attribution {
            self.batch.attribution.resize(self.batch.rows, false);
            self.batch.attribution.push(true);
        } else if !self.batch.attribution.is_empty() {
            self.batch.attribution.push(false);
        }
        self.batch.rows += 1;
    }

    pub(crate) fn finish(mut self, empty: &str) -> Result<Batch, WireError> {
        if self.batch.rows == 0 {
            return Err(WireError::BadRequest(format!("{empty}: the request holds no records")));
        }
        self.batch.attribution.resize(if self.batch.attribution.is_empty() { 0 } else { self.batch.rows }, false);
        Ok(self.batch)
    }

    pub(crate) fn set_attribution_all(&mut self, on: bool) {
        self.batch.attribution_all = on;
    }
}

/// A request-body decoder for one content type.
pub trait Decoder: Send + Sync {
    /// Decodes `body` into rows of `limits.feature_dim` values.
    fn decode(&self, body: &[u8], limits: &DecodeLimits<'_>) -> Result<Batch, WireError>;
}

/// The decoder for `format`.
pub fn decoder(format: InputFormat) -> Box<dyn Decoder> {
    match format {
        InputFormat::Csv { label_size } => Box::new(csv_rows::CsvDecoder { label_size }),
        InputFormat::Json => Box::new(json::JsonDecoder),
        InputFormat::JsonLines => Box::new(jsonlines::JsonLinesDecoder),
        InputFormat::RecordIo => Box::new(RecordIoDecoder),
    }
}

/// `application/x-recordio-protobuf` requests.
pub struct RecordIoDecoder;

impl Decoder for RecordIoDecoder {
    fn decode(&self, body: &[u8], limits: &DecodeLimits<'_>) -> Result<Batch, WireError> {
        if body.is_empty() {
            return Err(WireError::BadRequest("request body is empty; expected recordIO-protobuf records".into()));
        }
        let mut frames = recordio::FrameReader::new(Cursor::new(body));
        let mut sink = RowSink::new(*limits);
        let mut index = 0usize;
        loop {
            let name = || format!("record {}", index + 1);
            let record = match frames.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return Err(WireError::BadRequest(format!("{}: {e}", name()))),
            };
            sink.room(&name)?;
            recordio::record_features(&record, limits.feature_dim, sink.values())
                .map_err(|e| WireError::BadRequest(format!("{}: {e}", name())))?;
            let attribution = match record.configuration.as_deref() {
                None | Some("") => false,
                Some(text) => {
                    parse_configuration_text(text).map_err(|e| WireError::BadRequest(format!("{}: {e}", name())))?
                }
            };
            sink.finish_row(attribution);
            index += 1;
        }
        sink.finish("recordIO body")
    }
}

/// Reads a `configuration` object: `{"attribution": true|false}`; other keys are rejected.
pub fn parse_configuration(value: &serde_json::Value) -> Result<bool, String> {
    let object = match value {
        serde_json::Value::Null => return Ok(false),
        serde_json::Value::Object(o) => o,
        other => {
            return Err(format!("configuration must be a JSON object like {{\"attribution\": true}}, found {other}"))
        }
    };
    let mut attribution = false;
    for (key, v) in object {
        match (key.as_str(), v) {
            ("attribution", serde_json::Value::Bool(b)) => attribution = *b,
            ("attribution", other) => {
                return Err(format!("configuration.attribution must be true or false, found {other}"))
            }
            (other, _) => return Err(format!("configuration has unknown key {other:?} (known: \"attribution\")")),
        }
    }
    Ok(attribution)
}

/// Longest `configuration` read, in bytes (`{"attribution": true}` needs 22): it is parsed only
/// after this check, so a large one costs nothing.
pub const MAX_CONFIGURATION_BYTES: usize = 4096;

/// [`parse_configuration`] on JSON text (recordIO's `configuration` string field, or a JSON
/// `configuration` kept as raw text), after checking its size.
pub fn parse_configuration_text(text: &str) -> Result<bool, String> {
    if text.len() > MAX_CONFIGURATION_BYTES {
        return Err(format!(
            "configuration is {} bytes, over the {MAX_CONFIGURATION_BYTES} read; expected {{\"attribution\": true}}",
            text.len()
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("configuration is not valid JSON ({e})"))?;
    parse_configuration(&value)
}

/// Reads `X-Amzn-SageMaker-Custom-Attributes`: `key=value` pairs separated by `,` or `;`.
/// `attribution=true` asks for attribution; other keys belong to other users and are ignored.
pub fn custom_attributes_want_attribution(header: &str) -> Result<bool, String> {
    for pair in header.split([',', ';']) {
        let (key, value) = match pair.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (pair.trim(), ""),
        };
        if key.eq_ignore_ascii_case("attribution") {
            return match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(format!(
                    "X-Amzn-SageMaker-Custom-Attributes: attribution must be true or false, found {value:?}"
                )),
            };
        }
    }
    Ok(false)
}
