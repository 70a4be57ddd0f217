//! Media types: which decoder a `Content-Type` selects and which encoder an `Accept` header picks.

/// A request body format (`Content-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// `text/csv`: one record per line; the first `label_size` columns are skipped.
    Csv {
        /// Leading label columns to skip (`text/csv;label_size=N`, default 0).
        label_size: usize,
    },
    /// `application/json`: `{"instances": […]}` or a bare list of rows.
    Json,
    /// `application/jsonlines`: one record per line.
    JsonLines,
    /// `application/x-recordio-protobuf`: framed `aialgs.data.Record` messages.
    RecordIo,
}

/// A response body format (`Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `{"scores":[{"score":…},…]}` (the default).
    Json,
    /// One `{"score":…}` per line.
    JsonLines,
    /// One Record per input, score as a Float32Tensor under label key `score`.
    RecordIo,
    /// One score per line.
    Csv,
}

/// Content types accepted on `/invocations`, for error messages.
pub const SUPPORTED_CONTENT_TYPES: &str =
    "text/csv, application/json, application/jsonlines, application/x-recordio-protobuf";
/// Accept types answered by `/invocations`, for error messages.
pub const SUPPORTED_ACCEPTS: &str = "application/json, application/jsonlines, application/x-recordio-protobuf, text/csv";

impl OutputFormat {
    /// The exact `Content-Type` of responses in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Json => "application/json",
            OutputFormat::JsonLines => "application/jsonlines",
            OutputFormat::RecordIo => "application/x-recordio-protobuf",
            OutputFormat::Csv => "text/csv",
        }
    }
}

/// Splits `type/subtype; k=v; …` into the lower-cased essence and its parameters.
fn split_media(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
        })
        .collect();
    (essence, params)
}

/// The input format named by a `Content-Type` value.
pub fn parse_content_type(value: &str) -> Result<InputFormat, String> {
    let (essence, params) = split_media(value);
    match essence.as_str() {
        "text/csv" => {
            let mut label_size = 0;
            for (k, v) in &params {
                if k == "label_size" {
                    label_size = v.parse::<usize>().map_err(|_| {
                        format!("Content-Type {value:?}: label_size must be a whole number ≥ 0, found {v:?}")
                    })?;
                }
            }
            Ok(InputFormat::Csv { label_size })
        }
        "application/json" => Ok(InputFormat::Json),
        "application/jsonlines" | "application/jsonl" | "application/x-jsonlines" => Ok(InputFormat::JsonLines),
        "application/x-recordio-protobuf" => Ok(InputFormat::RecordIo),
        _ => Err(format!("unsupported Content-Type {value:?}; supported: {SUPPORTED_CONTENT_TYPES}")),
    }
}

fn output_for(essence: &str) -> Option<OutputFormat> {
    match essence {
        "application/json" | "*/*" | "application/*" => Some(OutputFormat::Json),
        "application/jsonlines" | "application/jsonl" | "application/x-jsonlines" => Some(OutputFormat::JsonLines),
        "application/x-recordio-protobuf" => Some(OutputFormat::RecordIo),
        "text/csv" | "text/*" => Some(OutputFormat::Csv),
        _ => None,
    }
}

/// Picks the response format for an `Accept` header: missing or empty means JSON; otherwise the
/// supported type with the highest quality (ties: the first listed). `q=0` excludes a type.
pub fn negotiate_accept(value: Option<&str>) -> Result<OutputFormat, String> {
    let value = match value.map(str::trim) {
        None | Some("") => return Ok(OutputFormat::Json),
        Some(v) => v,
    };
    let mut best: Option<(f32, OutputFormat)> = None;
    for item in value.split(',') {
        let (essence, params) = split_media(item);
        let q = params.iter().find(|(k, _)| k == "q").and_then(|(_, v)| v.parse::<f32>().ok()).unwrap_or(1.0);
        if let Some(format) = output_for(&essence) {
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, format));
            }
        }
    }
    best.map(|(_, f)| f).ok_or_else(|| format!("cannot answer Accept {value:?}; supported: {SUPPORTED_ACCEPTS}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_are_case_insensitive_and_keep_label_size() {
        assert_eq!(parse_content_type("Text/CSV; label_size=0"), Ok(InputFormat::Csv { label_size: 0 }));
        assert_eq!(parse_content_type("text/csv;label_size=2;charset=utf-8"), Ok(InputFormat::Csv { label_size: 2 }));
        assert_eq!(parse_content_type("application/json; charset=utf-8"), Ok(InputFormat::Json));
        assert!(parse_content_type("text/plain").unwrap_err().contains("text/plain"));
        assert!(parse_content_type("text/csv;label_size=x").unwrap_err().contains("label_size"));
    }

    #[test]
    fn accept_defaults_to_json_and_honours_quality() {
        assert_eq!(negotiate_accept(None), Ok(OutputFormat::Json));
        assert_eq!(negotiate_accept(Some("*/*")), Ok(OutputFormat::Json));
        assert_eq!(negotiate_accept(Some("text/csv;q=0.5, application/jsonlines")), Ok(OutputFormat::JsonLines));
        assert_eq!(negotiate_accept(Some("image/png, text/csv")), Ok(OutputFormat::Csv));
        assert!(negotiate_accept(Some("image/png")).unwrap_err().contains("image/png"));
    }
}
