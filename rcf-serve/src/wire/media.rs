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
pub const SUPPORTED_ACCEPTS: &str =
    "application/json, application/jsonlines, application/x-recordio-protobuf, text/csv";

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

/// Largest `label_size` accepted (`text/csv;label_size=N`): label columns are read into a buffer
/// of this many values per record, so the bound keeps an untrusted header from sizing memory.
pub const MAX_LABEL_SIZE: usize = 1000;
/// Most `;`-separated parameters read from one media type (the rest are ignored).
pub const MAX_MEDIA_PARAMS: usize = 16;

/// A parsed media type: the lower-cased essence (`type/subtype`) and its parameters
/// (names lower-cased, values unquoted), at most [`MAX_MEDIA_PARAMS`] of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType {
    /// `type/subtype`, lower case.
    pub essence: String,
    /// `(name, value)` pairs in order; parameters without `=` are skipped.
    pub params: Vec<(String, String)>,
}

impl MediaType {
    /// Splits `type/subtype; k=v; …`.
    pub fn parse(value: &str) -> MediaType {
        let mut parts = value.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let params = parts
            .take(MAX_MEDIA_PARAMS)
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                Some((k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
            })
            .collect();
        MediaType { essence, params }
    }

    /// The `label_size` parameter (`default` when absent), bounded by [`MAX_LABEL_SIZE`]. This is
    /// the one place a label size is read, for requests and for training channels alike.
    pub fn label_size(&self, default: usize) -> Result<usize, String> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.params {
            if k == "label_size" {
                if found.is_some() {
                    return Err("label_size is given more than once".into());
                }
                found = Some(v);
            }
        }
        let Some(v) = found else { return Ok(default.min(MAX_LABEL_SIZE)) };
        let mut shown: String = v.chars().take(40).collect();
        if shown.len() < v.len() {
            shown.push('…');
        }
        let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        match v.parse::<u64>() {
            Ok(n) if n <= MAX_LABEL_SIZE as u64 => Ok(n as usize),
            Ok(_) => Err(format!(
                "label_size {shown} is larger than the maximum of {MAX_LABEL_SIZE} label columns (MAX_LABEL_SIZE)"
            )),
            Err(_) if digits => Err(format!(
                "label_size {shown} is larger than the maximum of {MAX_LABEL_SIZE} label columns (MAX_LABEL_SIZE)"
            )),
            Err(_) => Err(format!("label_size must be a whole number from 0 to {MAX_LABEL_SIZE}, found {shown:?}")),
        }
    }
}

/// Character sets the decoders read: bodies are read as UTF-8 (of which ASCII is a part), so a body
/// declared in another charset is refused rather than misread.
const READABLE_CHARSETS: [&str; 3] = ["utf-8", "utf8", "us-ascii"];

/// The input format named by a `Content-Type` value.
pub fn parse_content_type(value: &str) -> Result<InputFormat, String> {
    let media = MediaType::parse(value);
    if let Some((_, charset)) = media.params.iter().find(|(k, _)| k == "charset") {
        if !READABLE_CHARSETS.contains(&charset.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "Content-Type {}: bodies are read as UTF-8; charset {} is not supported",
                shown(value),
                shown(charset)
            ));
        }
    }
    match media.essence.as_str() {
        "text/csv" => {
            let label_size = media.label_size(0).map_err(|e| format!("Content-Type {}: {e}", shown(value)))?;
            Ok(InputFormat::Csv { label_size })
        }
        "application/json" => Ok(InputFormat::Json),
        "application/jsonlines" | "application/jsonl" | "application/x-jsonlines" => Ok(InputFormat::JsonLines),
        "application/x-recordio-protobuf" => Ok(InputFormat::RecordIo),
        _ => Err(format!("unsupported Content-Type {}; supported: {SUPPORTED_CONTENT_TYPES}", shown(value))),
    }
}

/// A header value quoted for an error message, cut to 200 characters.
fn shown(value: &str) -> String {
    if value.chars().count() <= 200 {
        format!("{value:?}")
    } else {
        format!("{:?}…", value.chars().take(200).collect::<String>())
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
        let media = MediaType::parse(item);
        let q = media.params.iter().find(|(k, _)| k == "q").and_then(|(_, v)| v.parse::<f32>().ok()).unwrap_or(1.0);
        if let Some(format) = output_for(&media.essence) {
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, format));
            }
        }
    }
    best.map(|(_, f)| f).ok_or_else(|| format!("cannot answer Accept {}; supported: {SUPPORTED_ACCEPTS}", shown(value)))
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
        assert!(parse_content_type("text/csv; charset=UTF-16").unwrap_err().contains("charset \"UTF-16\" is not"));
        assert_eq!(parse_content_type("text/csv; charset=US-ASCII"), Ok(InputFormat::Csv { label_size: 0 }));
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

    #[test]
    fn label_size_is_bounded_and_named_in_errors() {
        let big = parse_content_type("text/csv;label_size=10000000000").unwrap_err();
        assert!(big.contains("MAX_LABEL_SIZE") && big.contains("1000"), "{big}");
        let huge = parse_content_type("text/csv;label_size=18446744073709551615").unwrap_err();
        assert!(huge.contains("MAX_LABEL_SIZE"), "{huge}");
        let longer = parse_content_type(&format!("text/csv;label_size={}", "9".repeat(500))).unwrap_err();
        assert!(longer.contains("MAX_LABEL_SIZE") && longer.len() < 600, "{longer}");
        assert!(parse_content_type("text/csv;label_size=-1").unwrap_err().contains("whole number"));
        assert!(parse_content_type("text/csv;label_size=1;label_size=0").unwrap_err().contains("more than once"));
        assert_eq!(parse_content_type("text/csv;label_size=1000"), Ok(InputFormat::Csv { label_size: 1000 }));
        assert!(parse_content_type("text/csv;label_size=1001").is_err());
        assert_eq!(MediaType::parse("text/csv").label_size(1), Ok(1));
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    fn essence() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("text/csv".to_string()),
            Just("TEXT/CSV".to_string()),
            Just("application/json".to_string()),
            Just("application/x-recordio-protobuf".to_string()),
            Just("*/*".to_string()),
            "[ -~]{0,30}",
        ]
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            (0u64..=u64::MAX).prop_map(|n| n.to_string()),
            (0usize..2000).prop_map(|n| n.to_string()),
            "[0-9]{15,80}",
            "-?[0-9.eE+x_]{0,12}",
            Just("NaN".to_string()),
            Just("inf".to_string()),
        ]
    }

    fn param() -> impl Strategy<Value = String> {
        prop_oneof![
            number().prop_map(|n| format!("label_size={n}")),
            number().prop_map(|n| format!(" Label_Size = \"{n}\" ")),
            number().prop_map(|n| format!("q={n}")),
            Just("charset=utf-8".to_string()),
            "[ -~]{0,40}",
        ]
    }

    fn media_type() -> impl Strategy<Value = String> {
        (essence(), prop::collection::vec(param(), 0..40)).prop_map(|(e, ps)| {
            let mut s = e;
            for p in ps {
                s.push(';');
                s.push_str(&p);
            }
            s
        })
    }

    proptest! {
        #[test]
        fn content_type_parsing_never_panics_and_bounds_label_size(value in media_type()) {
            match parse_content_type(&value) {
                Ok(InputFormat::Csv { label_size }) => prop_assert!(label_size <= MAX_LABEL_SIZE),
                Ok(_) => {}
                Err(e) => prop_assert!(e.len() <= 600, "error message of {} bytes", e.len()),
            }
            let media = MediaType::parse(&value);
            prop_assert!(media.params.len() <= MAX_MEDIA_PARAMS);
            if let Ok(n) = media.label_size(usize::MAX) {
                prop_assert!(n <= MAX_LABEL_SIZE);
            }
        }

        #[test]
        fn accept_negotiation_never_panics(items in prop::collection::vec(media_type(), 0..8)) {
            let value = items.join(",");
            if let Err(e) = negotiate_accept(Some(&value)) {
                prop_assert!(e.len() <= 600, "error message of {} bytes", e.len());
            }
        }
    }
}
