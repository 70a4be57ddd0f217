//! What one record is in line-oriented text — CSV and JSON Lines in the offline CLI, CSV in the
//! training channels and in `text/csv` requests: **one physical line**, ended by LF or CRLF (or
//! by the end of the input), of at most a set number of bytes. A carriage return anywhere else is
//! an error (old Mac line endings would merge lines into one record), and so, in CSV, is a quoted
//! field left open at the end of its line (it would swallow the next line). This keeps the promise
//! of one output line per input line. Lines are read through a bounded buffer, so an input
//! without newlines fails after the limit instead of being read into memory whole.

use std::fmt;
use std::io::{BufRead, Read};

/// Longest line accepted by default, in bytes (without its line ending): room for the largest
/// feature count a forest takes (65535) written with full float precision.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
/// Smallest and largest limits that can be configured.
pub const MAX_LINE_BYTES_RANGE: std::ops::RangeInclusive<usize> = 64..=(256 << 20);
/// Environment variable that sets the limit for the offline CLI and the training channels.
pub const MAX_LINE_BYTES_ENV: &str = "RCF_MAX_LINE_BYTES";

/// The longest line accepted, and how to change it (for the error message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineLimit {
    /// Bytes, without the line ending.
    pub max_bytes: usize,
    /// How a user can change it, shown in the error, e.g. `raise it with RCF_MAX_LINE_BYTES`.
    pub setting: &'static str,
}

impl LineLimit {
    /// The limit of the offline CLI and the training channels: [`MAX_LINE_BYTES_ENV`], else the default.
    pub fn from_env() -> Result<LineLimit, String> {
        let max_bytes = match std::env::var(MAX_LINE_BYTES_ENV) {
            Ok(text) => parse_max_line_bytes(&text).map_err(|e| format!("{MAX_LINE_BYTES_ENV}={text:?}: {e}"))?,
            Err(_) => DEFAULT_MAX_LINE_BYTES,
        };
        Ok(LineLimit { max_bytes, setting: "raise it with RCF_MAX_LINE_BYTES" })
    }
}

/// Parses a line limit in bytes, within [`MAX_LINE_BYTES_RANGE`].
pub fn parse_max_line_bytes(text: &str) -> Result<usize, String> {
    let (low, high) = (*MAX_LINE_BYTES_RANGE.start(), *MAX_LINE_BYTES_RANGE.end());
    match text.trim().parse::<usize>() {
        Ok(n) if MAX_LINE_BYTES_RANGE.contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number of bytes from {low} to {high}")),
    }
}

/// Why a line could not be read as a record.
#[derive(Debug)]
pub enum LineError {
    /// The line is longer than the limit.
    TooLong {
        /// 1-based line number.
        line: u64,
        /// The limit.
        limit: LineLimit,
    },
    /// A carriage return that does not end the line (CRLF).
    BareCr {
        /// 1-based line number.
        line: u64,
    },
    /// A CSV quoted field still open at the end of the line.
    OpenQuote {
        /// 1-based line number.
        line: u64,
    },
    /// Reading failed.
    Io {
        /// 1-based number of the line being read.
        line: u64,
        /// The cause.
        error: std::io::Error,
    },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong { line, limit } => write!(
                f,
                "line {line}: longer than {} bytes, the most one line (one record) may hold ({}); \
                 a record ends at a line feed",
                limit.max_bytes, limit.setting
            ),
            LineError::BareCr { line } => write!(
                f,
                "line {line}: a carriage return (CR) that is not part of a CRLF line ending; \
                 each record is one line ending in LF or CRLF (convert old Mac CR line endings)"
            ),
            LineError::OpenQuote { line } => write!(
                f,
                "line {line}: a quoted field is not closed on this line; each record is one line, \
                 so quoted fields may not hold line breaks"
            ),
            LineError::Io { line, error } => write!(f, "line {line}: cannot read ({error})"),
        }
    }
}

impl std::error::Error for LineError {}

/// Reads lines under the record rules above, skipping blank ones.
pub struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    limit: LineLimit,
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines from `reader`, refusing any longer than `limit`.
    pub fn new(reader: R, limit: LineLimit) -> Self {
        LineReader { reader, buf: Vec::new(), line: 0, limit }
    }

    /// The next line that is not blank (empty or ASCII whitespace only): its 1-based number and
    /// its bytes without the line ending; `None` at the end of the input. At most the limit plus
    /// two bytes are buffered, whatever the input.
    pub fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, LineError> {
        loop {
            self.buf.clear();
            let line = self.line + 1;
            let cap = self.limit.max_bytes as u64 + 2;
            let n = (&mut self.reader)
                .take(cap)
                .read_until(b'\n', &mut self.buf)
                .map_err(|error| LineError::Io { line, error })?;
            if n == 0 {
                return Ok(None);
            }
            self.line = line;
            let mut text = self.buf.as_slice();
            match text.strip_suffix(b"\n") {
                Some(t) => text = t.strip_suffix(b"\r").unwrap_or(t),
                None if n as u64 == cap => return Err(LineError::TooLong { line, limit: self.limit }),
                None => {}
            }
            if text.len() > self.limit.max_bytes {
                return Err(LineError::TooLong { line, limit: self.limit });
            }
            if memchr::memchr(b'\r', text).is_some() {
                return Err(LineError::BareCr { line });
            }
            if !text.iter().all(u8::is_ascii_whitespace) {
                let len = text.len();
                return Ok(Some((line, &self.buf[..len])));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8], max: usize) -> Result<Vec<(u64, String)>, String> {
        let mut r = LineReader::new(text, LineLimit { max_bytes: max, setting: "--max-line-bytes" });
        let mut out = Vec::new();
        while let Some((n, l)) = r.next_line().map_err(|e| e.to_string())? {
            out.push((n, String::from_utf8_lossy(l).into_owned()));
        }
        Ok(out)
    }

    #[test]
    fn lines_end_in_lf_or_crlf_and_blank_ones_are_skipped() {
        let lines = read_all(b"a\r\n\r\n  \nb\nc", 8).unwrap();
        assert_eq!(lines, [(1, "a".to_string()), (4, "b".to_string()), (5, "c".to_string())]);
    }

    #[test]
    fn a_bare_cr_is_an_error_naming_its_line() {
        let e = read_all(b"1,2\n3,4\r5,6\n", 64).unwrap_err();
        assert!(e.starts_with("line 2: a carriage return (CR) that is not part of a CRLF line ending"), "{e}");
        assert!(read_all(b"1,2\r", 64).unwrap_err().starts_with("line 1: a carriage return"));
    }

    #[test]
    fn a_long_line_fails_at_the_limit_naming_line_and_limit() {
        assert_eq!(read_all(b"12345678\r\n12345678", 8).unwrap().len(), 2);
        for text in [&b"ok\n123456789\n"[..], b"ok\n123456789", b"ok\n123456789\r\n"] {
            let e = read_all(text, 8).unwrap_err();
            assert!(e.starts_with("line 2: longer than 8 bytes") && e.contains("--max-line-bytes"), "{e}");
        }
        // Endless input without a newline: stops after the limit.
        let mut endless = LineReader::new(
            std::io::BufReader::new(std::io::repeat(b'7')),
            LineLimit { max_bytes: 1000, setting: "x" },
        );
        assert!(matches!(endless.next_line(), Err(LineError::TooLong { line: 1, .. })));
        assert!(endless.buf.capacity() < 1 << 16);
    }

    #[test]
    fn the_limit_parses_within_its_range() {
        assert_eq!(parse_max_line_bytes("4096"), Ok(4096));
        assert!(parse_max_line_bytes("10").unwrap_err().contains("from 64 to 268435456"));
        assert!(parse_max_line_bytes("lots").is_err());
    }
}
