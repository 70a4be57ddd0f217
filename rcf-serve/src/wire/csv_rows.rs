//! `text/csv`: one record per line, no header, comma-separated numbers; the first `label_size`
//! columns are labels. Blank lines between records are rejected (every input line must map to
//! exactly one output line); trailing blank lines are ignored.

use std::io::Read;

use super::features::finite;
use super::{Batch, DecodeLimits, Decoder, RowSink, WireError};

/// The CSV decoder.
pub struct CsvDecoder {
    /// Leading label columns to skip.
    pub label_size: usize,
}

/// One parsed CSV line: its 1-based line number, its label columns and its features.
pub struct CsvRow {
    /// Line number (1-based).
    pub line: u64,
    /// Values of the leading label columns.
    pub labels: Vec<f64>,
}

/// Streams CSV rows from `reader`, appending each row's features to `out` and handing the row to
/// `each`. Errors name the record's line (counting records; the CSV reader skips blank lines) and
/// column. Used by `/invocations` (after [`first_blank_line`]) and by training.
pub fn read_csv<R: Read>(
    reader: R,
    label_size: usize,
    dim: usize,
    out: &mut Vec<f32>,
    mut each: impl FnMut(&CsvRow, &mut Vec<f32>) -> Result<(), String>,
) -> Result<u64, String> {
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let mut expected_line = 1u64;
    let mut rows = 0u64;
    let mut labels = Vec::with_capacity(label_size);
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("line {expected_line}: malformed CSV ({e})")),
        }
        let line = expected_line;
        expected_line += 1;
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
                let hint = if line == 1 { " (CSV input must not have a header row)" } else { "" };
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
    fn decode(&self, body: &[u8], limits: &DecodeLimits) -> Result<Batch, WireError> {
        if body.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(WireError::BadRequest("request body is empty; expected CSV rows of numbers".into()));
        }
        if let Some(line) = first_blank_line(body) {
            return Err(WireError::BadRequest(format!("line {line} is empty; every line must hold one record")));
        }
        let mut sink = RowSink::new(*limits);
        let mut too_large = None;
        let mut values = std::mem::take(sink.values());
        let result = read_csv(body, self.label_size, limits.feature_dim, &mut values, |row, values| {
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
        read_csv(text.as_bytes(), 0, 2, &mut out, |_, _| Ok(()))
    }

    #[test]
    fn blank_lines_between_records_are_rejected_with_their_number() {
        assert_eq!(lines("1,2\n3,4\n"), Ok(2));
        assert_eq!(lines("1,2\r\n3,4\r\n\n"), Ok(2));
        assert_eq!(lines("1,2\n\n3,4"), Err("line 2 is empty; every line must hold one record".into()));
        assert_eq!(lines("\n1,2"), Err("line 1 is empty; every line must hold one record".into()));
        assert!(lines("1,2\n3,x").unwrap_err().starts_with("line 2, column 2"));
    }
}
