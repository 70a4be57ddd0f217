//! `text/csv`: one record per line (see [`super::lines`]: LF or CRLF endings, no bare CR, quoted
//! fields closed on their own line, at most a set number of bytes), no header, comma-separated
//! numbers; the first `label_size` columns are labels. The same record rules apply to the
//! training channels and to the offline CLI's CSV input. In requests, blank lines between records
//! are rejected (every input line must map to exactly one output line); trailing blank lines are
//! ignored.

use std::io::BufRead;

use csv_core::ReadRecordResult;

use super::features::finite;
use super::lines::{LineError, LineLimit, LineReader, DEFAULT_MAX_LINE_BYTES};
use super::{Batch, DecodeLimits, Decoder, RowSink, WireError};

/// The line limit of `text/csv` requests (whose size the payload limit bounds anyway).
pub const REQUEST_LINE_LIMIT: LineLimit =
    LineLimit { max_bytes: DEFAULT_MAX_LINE_BYTES, setting: "the fixed limit of text/csv requests" };

/// The CSV decoder.
pub struct CsvDecoder {
    /// Leading label columns to skip.
    pub label_size: usize,
}

/// One CSV record: the fields of one line.
#[derive(Debug, Clone, Default)]
pub struct CsvRecord {
    line: u64,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl CsvRecord {
    /// The 1-based line number of the record.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The fields, unquoted.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.ends.iter().scan(0, |start, &end| {
            let field = &self.data[*start..end];
            *start = end;
            Some(field)
        })
    }
}

/// Reads CSV records, one per non-blank line, with RFC 4180 quoting (`"a,b"`, `""` for a quote)
/// confined to the line. Memory is bounded by the line limit.
pub struct CsvReader<R> {
    lines: LineReader<R>,
    parser: csv_core::Reader,
}

impl<R: BufRead> CsvReader<R> {
    /// Reads records from `reader`.
    pub fn new(reader: R, limit: LineLimit) -> Self {
        CsvReader { lines: LineReader::new(reader, limit), parser: csv_core::Reader::new() }
    }

    /// Reads the next record into `record`; false at the end of the input.
    pub fn read(&mut self, record: &mut CsvRecord) -> Result<bool, LineError> {
        let Some((line, text)) = self.lines.next_line()? else { return Ok(false) };
        record.line = line;
        if !parse_line(&mut self.parser, text, record) {
            return Err(LineError::OpenQuote { line });
        }
        Ok(true)
    }
}

/// Splits one line (without its ending) into `record`'s fields. False when a quoted field is
/// still open at the end of the line. The parser is left at the start of a record when true.
fn parse_line(parser: &mut csv_core::Reader, text: &[u8], record: &mut CsvRecord) -> bool {
    record.data.clear();
    record.data.resize(text.len().max(16), 0);
    record.ends.clear();
    record.ends.resize(memchr::memchr_iter(b',', text).count() + 1, 0);
    let (mut nout, mut nend) = (0, 0);
    for mut input in [text, &b"\n"[..]] {
        loop {
            let (result, nin, o, e) = parser.read_record(input, &mut record.data[nout..], &mut record.ends[nend..]);
            input = &input[nin..];
            nout += o;
            nend += e;
            match result {
                ReadRecordResult::InputEmpty => break,
                ReadRecordResult::OutputFull => record.data.resize(record.data.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => record.ends.resize(record.ends.len() * 2, 0),
                ReadRecordResult::Record | ReadRecordResult::End => {
                    record.data.truncate(nout);
                    record.ends.truncate(nend);
                    return true;
                }
            }
        }
    }
    false
}

/// One parsed CSV line: its 1-based line number, its label columns and its features.
pub struct CsvRow {
    /// Line number (1-based).
    pub line: u64,
    /// Values of the leading label columns.
    pub labels: Vec<f64>,
}

/// Streams CSV rows from `reader`, appending each row's features to `out` and handing the row to
/// `each`. Errors name the record's line and column. Blank lines are skipped. Used by
/// `/invocations` (after [`first_blank_line`]) and by training.
pub fn read_csv<R: BufRead>(
    reader: R,
    limit: LineLimit,
    label_size: usize,
    dim: usize,
    out: &mut Vec<f32>,
    mut each: impl FnMut(&CsvRow, &mut Vec<f32>) -> Result<(), String>,
) -> Result<u64, String> {
    let mut csv = CsvReader::new(reader, limit);
    let mut record = CsvRecord::default();
    let mut rows = 0u64;
    let mut labels = Vec::with_capacity(label_size);
    let mut first = true;
    while csv.read(&mut record).map_err(|e| e.to_string())? {
        let line = record.line();
        let fields = record.len();
        if fields != label_size + dim {
            let found = fields.saturating_sub(label_size);
            return Err(if label_size > 0 {
                format!("line {line}: expected {label_size} label column(s) then {dim} features (feature_dim), found {fields} columns")
            } else {
                format!("line {line}: expected {dim} features (feature_dim), found {found}")
            });
        }
        labels.clear();
        let start = out.len();
        for (column, field) in record.iter().enumerate() {
            let value = parse_number(field).map_err(|text| {
                out.truncate(start);
                let hint = if first { " (CSV input must not have a header row)" } else { "" };
                format!("line {line}, column {}: {text:?} is not a number{hint}", column + 1)
            })?;
            if column < label_size {
                labels.push(value);
                continue;
            }
            match finite(value) {
                Some(v) => out.push(v),
                None => {
                    out.truncate(start);
                    return Err(format!(
                        "line {line}, column {}: {value} is not a finite number within float32 range",
                        column + 1
                    ));
                }
            }
        }
        first = false;
        rows += 1;
        each(&CsvRow { line, labels: labels.clone() }, out)?;
    }
    Ok(rows)
}

/// Parses one CSV field as a number; the error is the field text as shown in messages (≤ 40 chars).
pub fn parse_number(field: &[u8]) -> Result<f64, String> {
    let text = std::str::from_utf8(field).map_err(|_| String::from_utf8_lossy(field).into_owned())?;
    let trimmed = text.trim();
    trimmed.parse::<f64>().map_err(|_| {
        let mut shown: String = trimmed.chars().take(40).collect();
        if trimmed.chars().count() > 40 {
            shown.push('…');
        }
        shown
    })
}

/// The 1-based number of the first blank line that has a record after it.
pub fn first_blank_line(body: &[u8]) -> Option<usize> {
    let mut blank = None;
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        let empty = line.iter().all(|b| b.is_ascii_whitespace());
        match (empty, blank) {
            (true, None) => blank = Some(i + 1),
            (false, Some(n)) => return Some(n),
            _ => {}
        }
    }
    None
}

impl Decoder for CsvDecoder {
    fn decode(&self, body: &[u8], limits: &DecodeLimits<'_>) -> Result<Batch, WireError> {
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(WireError::BadRequest("request body is empty; expected CSV rows of numbers".into()));
        }
        if let Some(line) = first_blank_line(body) {
            return Err(WireError::BadRequest(format!("line {line} is empty; every line must hold one record")));
        }
        let mut sink = RowSink::new(*limits);
        let mut too_large = None;
        let mut values = std::mem::take(sink.values());
        let (label_size, dim) = (self.label_size, limits.feature_dim);
        let result = read_csv(body, REQUEST_LINE_LIMIT, label_size, dim, &mut values, |row, values| {
            if values.len() > limits.max_values {
                too_large = Some(format!(
                    "line {}: the request decodes to more than {} values; send fewer records per request",
                    row.line, limits.max_values
                ));
                return Err(String::new());
            }
            Ok(())
        });
        if let Some(message) = too_large {
            return Err(WireError::TooLarge(message));
        }
        let rows = result.map_err(WireError::BadRequest)?;
        *sink.values() = values;
        for _ in 0..rows {
            sink.finish_row(false);
        }
        sink.finish("CSV body")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Result<u64, String> {
        if let Some(line) = first_blank_line(text.as_bytes()) {
            return Err(format!("line {line} is empty; every line must hold one record"));
        }
        let mut out = Vec::new();
        read_csv(text.as_bytes(), REQUEST_LINE_LIMIT, 0, 2, &mut out, |_, _| Ok(()))
    }

    #[test]
    fn blank_lines_between_records_are_rejected_with_their_number() {
        assert_eq!(lines("1,2\n3,4\n"), Ok(2));
        assert_eq!(lines("1,2\r\n3,4\r\n\n"), Ok(2));
        assert_eq!(lines("1,2\n\n3,4"), Err("line 2 is empty; every line must hold one record".into()));
        assert_eq!(lines("\n1,2"), Err("line 1 is empty; every line must hold one record".into()));
        assert!(lines("1,2\n3,x").unwrap_err().starts_with("line 2, column 2"));
    }

    fn decode(body: &str) -> Result<Batch, WireError> {
        let limits = DecodeLimits::new(2, 1 << 20);
        CsvDecoder { label_size: 0 }.decode(body.as_bytes(), &limits)
    }

    fn bad_request(body: &str) -> String {
        match decode(body) {
            Err(WireError::BadRequest(m)) => m,
            other => panic!("expected a bad request for {body:?}, got {:?}", other.map(|b| b.rows)),
        }
    }

    #[test]
    fn quoting_stays_within_a_line() {
        assert_eq!(lines("\"1\",\"2\"\n3,\" 4\"\n"), Ok(2));
        let e = lines("1,2\n\"3\n\",4\n").unwrap_err();
        assert!(e.starts_with("line 2: a quoted field is not closed on this line"), "{e}");
        assert!(lines("1,\"2\r\n3\",4\n").unwrap_err().starts_with("line 1: a quoted field is not closed"));
    }

    #[test]
    fn a_bare_cr_is_rejected_naming_its_line() {
        let e = lines("1,2\n3,4\r5,6\n").unwrap_err();
        assert!(e.starts_with("line 2: a carriage return (CR) that is not part of a CRLF line ending"), "{e}");
        assert_eq!(lines("1,2\r\n3,4\r\n"), Ok(2));
    }

    #[test]
    fn the_request_decoder_keeps_one_record_per_line() {
        assert_eq!(decode("1,2\r\n3,4\n").map(|b| b.rows).ok(), Some(2));
        assert!(bad_request("1,2\r3,4\n").starts_with("line 1: a carriage return"));
        assert!(bad_request("1,\"2\n3\",4\n").starts_with("line 1: a quoted field is not closed"));
        let long = format!("1,{}\n", "2".repeat(DEFAULT_MAX_LINE_BYTES));
        let e = bad_request(&long);
        assert!(e.starts_with(&format!("line 1: longer than {DEFAULT_MAX_LINE_BYTES} bytes")), "{e}");
    }

    #[test]
    fn records_keep_unquoted_fields() {
        let mut r = CsvReader::new(&b"a,\"b,c\",\"d\"\"e\"\n\n,x,\n"[..], REQUEST_LINE_LIMIT);
        let mut rec = CsvRecord::default();
        assert!(r.read(&mut rec).unwrap());
        assert_eq!(rec.iter().collect::<Vec<_>>(), [&b"a"[..], b"b,c", b"d\"e"]);
        assert!(r.read(&mut rec).unwrap());
        assert_eq!((rec.line(), rec.iter().collect::<Vec<_>>()), (3, vec![&b""[..], b"x", b""]));
        assert!(!r.read(&mut rec).unwrap());
    }
}
