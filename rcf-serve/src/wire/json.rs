//! `application/json`: `{"instances": [ … ], "configuration": {…}}` or a bare list of rows.
//! An instance is `{"features": [..]}`, `{"data": {"features": {"values": [..]}}}`, the sparse
//! `{"data": {"features": {"keys": [..], "shape": [d], "values": [..]}}}`, or a bare `[..]`; each
//! may carry its own `"configuration"`.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::features::{dense_into, sparse_into};
use super::{parse_configuration_text, Batch, DecodeLimits, Decoder, RowSink, WireError};

/// The JSON decoder.
pub struct JsonDecoder;

// `configuration` is kept as raw text and read only once its size is checked: parsed straight into
// a `serde_json::Value`, a large one would take many times the body's size.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    instances: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    configuration: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Instance<'a> {
    features: Option<Vec<f64>>,
    data: Option<Data>,
    #[serde(borrow)]
    configuration: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Data {
    features: Option<Tensor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tensor {
    values: Vec<f64>,
    #[serde(default)]
    keys: Vec<u64>,
    #[serde(default)]
    shape: Vec<u64>,
}

/// Reads an optional `configuration` given as raw JSON text (`null` or absent: no attribution).
fn parse_configuration_raw(raw: Option<&RawValue>) -> Result<bool, String> {
    raw.map_or(Ok(false), |raw| parse_configuration_text(raw.get()))
}

/// Appends one instance (object or bare list) to `sink`; errors are plain reasons.
pub(crate) fn decode_instance(text: &str, sink: &mut RowSink, dim: usize) -> Result<(), String> {
    let attribution = instance_into(text, sink.values(), dim)?;
    sink.finish_row(attribution);
    Ok(())
}

/// Appends the `dim` features of one instance (object or bare list) to `out`; returns whether the
/// instance's own `configuration` asked for attribution. Errors are plain reasons.
pub(crate) fn instance_into(text: &str, out: &mut Vec<f32>, dim: usize) -> Result<bool, String> {
    let text = text.trim_start();
    if text.starts_with('[') {
        let row: Vec<f64> = serde_json::from_str(text).map_err(|e| format!("expected a list of numbers ({e})"))?;
        dense_into(out, dim, row.into_iter())?;
        return Ok(false);
    }
    if !text.starts_with('{') {
        return Err(format!(
            "expected an object like {{\"features\": [..]}} or a list of numbers, found {}",
            text.chars().take(30).collect::<String>()
        ));
    }
    let instance: Instance = serde_json::from_str(text).map_err(|e| format!("invalid instance ({e})"))?;
    let attribution = parse_configuration_raw(instance.configuration)?;
    match (instance.features, instance.data) {
        (Some(values), None) => dense_into(out, dim, values.into_iter())?,
        (None, Some(Data { features: Some(t) })) => {
            if t.keys.is_empty() && t.shape.len() <= 1 {
                if let Some(&n) = t.shape.first() {
                    if n != t.values.len() as u64 {
                        return Err(format!("data.features has shape {:?} but {} values", t.shape, t.values.len()));
                    }
                }
                dense_into(out, dim, t.values.into_iter())?
            } else {
                sparse_into(out, dim, &t.keys, &t.shape, t.values.into_iter())?
            }
        }
        (None, Some(Data { features: None })) => return Err("\"data\" has no \"features\" object".into()),
        (Some(_), Some(_)) => return Err("has both \"features\" and \"data\"; give one".into()),
        (None, None) => {
            return Err("has neither \"features\" nor \"data\"; expected {\"features\": [..]} or {\"data\": {\"features\": {\"values\": [..]}}}".into())
        }
    }
    Ok(attribution)
}

/// The number of features of one instance, in any of the shapes [`instance_into`] reads (for
/// learning `feature_dim` from the first record of a file).
pub(crate) fn instance_width(text: &str) -> Option<usize> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match &value {
        serde_json::Value::Array(a) => Some(a.len()),
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::Array(f)) = o.get("features") {
                return Some(f.len());
            }
            let tensor = o.get("data")?.get("features")?;
            match tensor.get("shape").and_then(|s| s.get(0)).and_then(|n| n.as_u64()) {
                Some(n) => Some(n as usize),
                None => tensor.get("values")?.as_array().map(Vec::len),
            }
        }
        _ => None,
    }
}

impl Decoder for JsonDecoder {
    fn decode(&self, body: &[u8], limits: &DecodeLimits<'_>) -> Result<Batch, WireError> {
        let bad = WireError::BadRequest;
        let text = std::str::from_utf8(body)
            .map_err(|e| bad(format!("request body is not UTF-8 (invalid byte at {})", e.valid_up_to())))?;
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(
                bad("request body is empty; expected JSON like {\"instances\": [{\"features\": [..]}]}".into()),
            );
        }
        let mut sink = RowSink::new(*limits);
        let instances: Vec<&RawValue> = if trimmed.starts_with('[') {
            serde_json::from_str(trimmed).map_err(|e| bad(format!("request body is not a JSON list of rows ({e})")))?
        } else if trimmed.starts_with('{') {
            let envelope: Envelope =
                serde_json::from_str(trimmed).map_err(|e| bad(format!("request body is not valid JSON ({e})")))?;
            sink.set_attribution_all(parse_configuration_raw(envelope.configuration).map_err(bad)?);
            envelope.instances.ok_or_else(|| {
                bad("JSON body has no \"instances\" list; expected {\"instances\": [{\"features\": [..]}, …]}".into())
            })?
        } else {
            return Err(bad("request body is not a JSON object or list".into()));
        };
        for (i, raw) in instances.iter().enumerate() {
            let name = || format!("instance {}", i + 1);
            sink.room(&name)?;
            decode_instance(raw.get(), &mut sink, limits.feature_dim).map_err(|e| bad(format!("{}: {e}", name())))?;
        }
        sink.finish("JSON body")
    }
}
