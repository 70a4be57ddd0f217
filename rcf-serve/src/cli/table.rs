//! Tabular input for the offline CLI: CSV (header optional, detected) or JSON Lines, streamed in
//! batches of feature rows. Label and identifier columns are set aside (identifiers are carried
//! to the output); every other column is a feature. Errors name the source, line, column and
//! what was expected. A record is one line of bounded length (see `wire::lines`).

use std::io::{BufRead, BufReader, Read};

use anyhow::{anyhow, bail};
use clap::ValueEnum;

use crate::wire::csv_rows::{parse_number, CsvReader, CsvRecord};
use crate::wire::features::finite;
use crate::wire::json::{instance_into, instance_width};
use crate::wire::lines::{LineLimit, LineReader};

/// Rows read at a time when the caller does not say.
pub const DEFAULT_BATCH_ROWS: usize = 4096;
/// Most values (rows × values per row) one batch may hold, whatever the row width: bounds the
/// memory of a batch (64 MiB of features; scores and attributions grow with it).
pub const MAX_BATCH_VALUES: usize = 1 << 24;

/// Rows per batch for rows of `width` values: `wanted` (given by `flag`) when it fits in
/// [`MAX_BATCH_VALUES`], else an error naming the largest that fits; without `wanted`,
/// [`DEFAULT_BATCH_ROWS`] or fewer for very wide rows.
pub fn batch_rows(flag: &str, wanted: Option<usize>, width: usize) -> anyhow::Result<usize> {
    let most = (MAX_BATCH_VALUES / width.max(1)).max(1);
    match wanted {
        None => Ok(DEFAULT_BATCH_ROWS.min(most)),
        Some(n) if n <= most => Ok(n),
        Some(n) => bail!(
            "{flag} {n}: {n} rows of {width} values each is more than the {MAX_BATCH_VALUES} values one batch may hold; \
             use {flag} {most} or less"
        ),
    }
}

/// Input/output table formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values (a header row is optional and detected).
    Csv,
    /// One JSON record per line: `[..]`, `{"features": [..]}` or SageMaker's `{"data": …}` shapes.
    Jsonl,
}

impl Format {
    /// The format a file name suggests, if any.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
        if [".jsonl", ".ndjson", ".json", ".jsonlines"].iter().any(|e| lower.ends_with(e)) {
            Some(Format::Jsonl)
        } else if [".csv", ".txt"].iter().any(|e| lower.ends_with(e)) {
            Some(Format::Csv)
        } else {
            None
        }
    }
}

/// Which columns are not features: given by header name or 1-based column number.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// The label column (dropped from the features; scoring copies it to the output).
    pub label: Option<String>,
    /// Identifier columns (dropped from the features; copied to the output).
    pub ids: Vec<String>,
    /// Named columns that a CSV header lacks are ignored instead of rejected (used for the
    /// columns a model remembers from training).
    pub if_present: bool,
}

/// Where a row came from and what it carries besides its features.
#[derive(Debug, Clone, Default)]
pub struct RowMeta {
    /// 1-based line number in the input.
    pub line: u64,
    /// Identifier values, in `--id-column` order.
    pub ids: Vec<String>,
    /// The label value, when a label column was named.
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Feature,
    Id(usize),
    Label,
}

enum Kind {
    // Boxed: the CSV parser's tables are large.
    Csv {
        reader: Box<CsvReader<BufReader<Box<dyn Read + Send>>>>,
        roles: Vec<Role>,
        pending: Option<CsvRecord>,
        columns: usize,
        scratch: CsvRecord,
    },
    Jsonl {
        reader: LineReader<BufReader<Box<dyn Read + Send>>>,
        pending: Option<(u64, String)>,
    },
}

/// A streaming reader of feature rows.
pub struct TableReader {
    /// How the input is named in messages.
    pub source: String,
    /// Names of the feature columns (from the header, or `f1`, `f2`, … without one).
    pub feature_names: Vec<String>,
    /// Names of the identifier columns.
    pub id_names: Vec<String>,
    /// Name of the label column.
    pub label_name: Option<String>,
    /// True when the CSV input had a header row.
    pub has_header: bool,
    /// The detected or given format.
    pub format: Format,
    kind: Kind,
    rows: u64,
}

fn is_number(field: &[u8]) -> bool {
    parse_number(field).is_ok()
}

fn column_text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).trim().to_string()
}

/// Resolves a column given by name (in `header`) or 1-based number.
fn resolve(spec: &str, flag: &str, header: Option<&[String]>, columns: usize, source: &str) -> anyhow::Result<usize> {
    if let Some(names) = header {
        if let Some(i) = names.iter().position(|n| n == spec) {
            return Ok(i);
        }
    }
    match spec.parse::<usize>() {
        Ok(n) if n >= 1 && n <= columns => Ok(n - 1),
        Ok(n) => bail!("{flag} {n}: {source} has {columns} columns; expected a column number from 1 to {columns}"),
        Err(_) => match header {
            Some(names) => bail!("{flag} {spec:?}: {source} has no such column; its header has: {}", names.join(", ")),
            None => bail!(
                "{flag} {spec:?} names a column, but {source} has no header row (its first line holds numbers); give a 1-based column number instead"
            ),
        },
    }
}

impl TableReader {
    /// Opens a table: detects the format (unless given), reads the header or first record, and
    /// works out the feature columns.
    pub fn open(
        reader: Box<dyn Read + Send>,
        source: &str,
        format: Option<Format>,
        columns: &Columns,
    ) -> anyhow::Result<TableReader> {
        let limit = LineLimit::from_env().map_err(|e| anyhow!(e))?;
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let format = match format.or_else(|| Format::from_name(source)) {
            Some(f) => f,
            None => {
                let head = reader.fill_buf().map_err(|e| anyhow!("{source}: cannot read ({e})"))?;
                match head.iter().find(|b| !b.is_ascii_whitespace()) {
                    Some(b'{') | Some(b'[') => Format::Jsonl,
                    _ => Format::Csv,
                }
            }
        };
        match format {
            Format::Csv => Self::open_csv(CsvReader::new(reader, limit), source, columns),
            Format::Jsonl => Self::open_jsonl(LineReader::new(reader, limit), source, columns),
        }
    }

    fn open_csv(
        mut csv: CsvReader<BufReader<Box<dyn Read + Send>>>,
        source: &str,
        spec: &Columns,
    ) -> anyhow::Result<TableReader> {
        let mut first = CsvRecord::default();
        match csv.read(&mut first) {
            Ok(true) => {}
            Ok(false) => bail!("{source}: the input is empty; expected CSV rows of numbers"),
            Err(e) => bail!("{source}: {e}"),
        }
        let fields: Vec<String> = first.iter().map(column_text).collect();
        let filtered;
        let spec = if spec.if_present {
            filtered = Columns {
                label: spec.label.clone().filter(|l| fields.contains(l)),
                ids: spec.ids.iter().filter(|i| fields.contains(i)).cloned().collect(),
                if_present: true,
            };
            &filtered
        } else {
            spec
        };
        let named: Vec<&String> = spec.label.iter().chain(&spec.ids).filter(|s| s.parse::<usize>().is_err()).collect();
        let has_header =
            (!named.is_empty() && named.iter().all(|n| fields.contains(n))) || !first.iter().any(is_number);
        let header = has_header.then_some(fields.as_slice());
        let columns = first.len();
        let mut roles = vec![Role::Feature; columns];
        let mut id_names = Vec::new();
        let mut label_name = None;
        let name_of = |i: usize| header.map_or_else(|| format!("column {}", i + 1), |h| h[i].clone());
        if let Some(label) = &spec.label {
            let i = resolve(label, "--label-column", header, columns, source)?;
            roles[i] = Role::Label;
            label_name = Some(name_of(i));
        }
        for (k, id) in spec.ids.iter().enumerate() {
            let i = resolve(id, "--id-column", header, columns, source)?;
            if roles[i] != Role::Feature {
                bail!("--id-column {id:?}: column {} is already used as a label or identifier", i + 1);
            }
            roles[i] = Role::Id(k);
            id_names.push(name_of(i));
        }
        let feature_cols: Vec<usize> = (0..columns).filter(|&i| roles[i] == Role::Feature).collect();
        if feature_cols.is_empty() {
            bail!("{source}: no feature columns left after removing the label and identifier columns");
        }
        let feature_names = feature_cols
            .iter()
            .enumerate()
            .map(|(k, &i)| if has_header { fields[i].clone() } else { format!("f{}", k + 1) })
            .collect();
        Ok(TableReader {
            source: source.to_string(),
            feature_names,
            id_names,
            label_name,
            has_header,
            format: Format::Csv,
            kind: Kind::Csv {
                reader: Box::new(csv),
                roles,
                pending: (!has_header).then_some(first),
                columns,
                scratch: CsvRecord::default(),
            },
            rows: 0,
        })
    }

    fn open_jsonl(
        mut reader: LineReader<BufReader<Box<dyn Read + Send>>>,
        source: &str,
        spec: &Columns,
    ) -> anyhow::Result<TableReader> {
        for s in spec.label.iter().chain(&spec.ids) {
            if s.parse::<usize>().is_ok() {
                bail!("column {s:?}: JSON Lines records name their fields; give the key, not a column number");
            }
        }
        let Some((line_no, first)) = next_json_line(&mut reader, source)? else {
            bail!("{source}: the input is empty; expected one JSON record per line");
        };
        let dim = instance_width(&first).ok_or_else(|| {
            anyhow!("{source}: line {line_no}: expected a JSON record like [1.5, 2] or {{\"features\": [1.5, 2]}}, found {}", preview(&first))
        })?;
        if dim == 0 {
            bail!("{source}: line {line_no}: the record has no features");
        }
        Ok(TableReader {
            source: source.to_string(),
            feature_names: (1..=dim).map(|k| format!("f{k}")).collect(),
            id_names: spec.ids.clone(),
            label_name: spec.label.clone(),
            has_header: false,
            format: Format::Jsonl,
            kind: Kind::Jsonl { reader, pending: Some((line_no, first)) },
            rows: 0,
        })
    }

    /// Features per row.
    pub fn dim(&self) -> usize {
        self.feature_names.len()
    }

    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Reads up to `max_rows` rows (fewer when that many would exceed [`MAX_BATCH_VALUES`]),
    /// appending their features to `values` and (when `metas` is given) their line, identifiers
    /// and label. Returns the number of rows read (0 at the end).
    pub fn read_batch(
        &mut self,
        max_rows: usize,
        values: &mut Vec<f32>,
        mut metas: Option<&mut Vec<RowMeta>>,
    ) -> anyhow::Result<usize> {
        let dim = self.dim();
        let max_rows = max_rows.min((MAX_BATCH_VALUES / dim.max(1)).max(1));
        let want_meta = metas.is_some();
        let mut n = 0;
        while n < max_rows {
            let meta = match &mut self.kind {
                Kind::Csv { reader, roles, pending, columns, scratch } => {
                    match pending.take() {
                        Some(r) => *scratch = r,
                        None => match reader.read(scratch) {
                            Ok(true) => {}
                            Ok(false) => break,
                            Err(e) => bail!("{}: {e}", self.source),
                        },
                    }
                    let record = &*scratch;
                    let line = record.line();
                    if record.len() != *columns {
                        bail!(
                            "{}: line {line}: expected {columns} columns (like the {}), found {}",
                            self.source,
                            if self.has_header { "header" } else { "first line" },
                            record.len()
                        );
                    }
                    let mut meta = RowMeta { line, ids: Vec::new(), label: None };
                    if want_meta {
                        meta.ids = vec![String::new(); self.id_names.len()];
                    }
                    let start = values.len();
                    let mut feature = 0;
                    for (i, field) in record.iter().enumerate() {
                        match roles[i] {
                            Role::Feature => {
                                let name = &self.feature_names[feature];
                                feature += 1;
                                let number = parse_number(field).map_err(|text| {
                                    values.truncate(start);
                                    let found = if text.is_empty() {
                                        "an empty field".to_string()
                                    } else {
                                        format!("{text:?}")
                                    };
                                    anyhow!(
                                        "{}: line {line}, column {} ({name}): expected a number, found {found}",
                                        self.source,
                                        i + 1
                                    )
                                })?;
                                let value = finite(number).ok_or_else(|| {
                                    values.truncate(start);
                                    anyhow!(
                                        "{}: line {line}, column {} ({name}): expected a finite number within float32 range, found {:?}",
                                        self.source,
                                        i + 1,
                                        column_text(field)
                                    )
                                })?;
                                values.push(value);
                            }
                            Role::Id(k) if want_meta => meta.ids[k] = column_text(field),
                            Role::Label if want_meta => meta.label = Some(column_text(field)),
                            _ => {}
                        }
                    }
                    meta
                }
                Kind::Jsonl { reader, pending } => {
                    let (line_no, text) = match pending.take() {
                        Some(p) => p,
                        None => match next_json_line(reader, &self.source)? {
                            Some(p) => p,
                            None => break,
                        },
                    };
                    instance_into(&text, values, dim).map_err(|e| anyhow!("{}: line {line_no}: {e}", self.source))?;
                    let mut meta = RowMeta { line: line_no, ids: Vec::new(), label: None };
                    if want_meta && (!self.id_names.is_empty() || self.label_name.is_some()) {
                        let object: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                        let field = |key: &str| match object.get(key) {
                            None | Some(serde_json::Value::Null) => String::new(),
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                        };
                        meta.ids = self.id_names.iter().map(|k| field(k)).collect();
                        meta.label = self.label_name.as_deref().map(field);
                    }
                    meta
                }
            };
            if let Some(m) = metas.as_deref_mut() {
                m.push(meta);
            }
            n += 1;
            self.rows += 1;
        }
        Ok(n)
    }
}

/// The next non-blank line of JSON Lines input, as text.
fn next_json_line<R: BufRead>(reader: &mut LineReader<R>, source: &str) -> anyhow::Result<Option<(u64, String)>> {
    let Some((line, bytes)) = reader.next_line().map_err(|e| anyhow!("{source}: {e}"))? else { return Ok(None) };
    let text = std::str::from_utf8(bytes).map_err(|e| anyhow!("{source}: line {line}: not valid UTF-8 ({e})"))?;
    Ok(Some((line, text.trim().to_string())))
}

fn preview(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        shown.push('…');
    }
    format!("{shown:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &str, columns: Columns) -> anyhow::Result<TableReader> {
        TableReader::open(Box::new(std::io::Cursor::new(text.as_bytes().to_vec())), "in.csv", None, &columns)
    }

    fn all(reader: &mut TableReader) -> anyhow::Result<(Vec<f32>, Vec<RowMeta>)> {
        let (mut v, mut m) = (Vec::new(), Vec::new());
        while reader.read_batch(2, &mut v, Some(&mut m))? > 0 {}
        Ok((v, m))
    }

    #[test]
    fn a_header_is_detected_and_label_and_id_columns_are_set_aside() {
        let columns = Columns { label: Some("y".into()), ids: vec!["ts".into()], if_present: false };
        let mut r = open("ts,a,y,b\n2024-01-01,1,0,2\n2024-01-02,3,1,4\n", columns).unwrap();
        assert!(r.has_header);
        assert_eq!(r.feature_names, ["a", "b"]);
        let (v, m) = all(&mut r).unwrap();
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0]);
        assert_eq!((m[1].line, m[1].ids[0].as_str(), m[1].label.as_deref()), (3, "2024-01-02", Some("1")));
    }

    #[test]
    fn no_header_means_every_line_is_data() {
        let mut r = open("1,2\n3,4\n", Columns { label: Some("1".into()), ..Columns::default() }).unwrap();
        assert!(!r.has_header);
        assert_eq!(r.feature_names, ["f1"]);
        assert_eq!(all(&mut r).unwrap().0, [2.0, 4.0]);
    }

    #[test]
    fn errors_name_line_column_and_what_was_found() {
        let mut r = open("a,b\n1,2\n3,x\n", Columns::default()).unwrap();
        let e = all(&mut r).unwrap_err().to_string();
        assert_eq!(e, "in.csv: line 3, column 2 (b): expected a number, found \"x\"");
        let mut r = open("1,2\n3\n", Columns::default()).unwrap();
        assert_eq!(
            all(&mut r).unwrap_err().to_string(),
            "in.csv: line 2: expected 2 columns (like the first line), found 1"
        );
        let e = open("1,2\n", Columns { label: Some("y".into()), ..Columns::default() }).err().unwrap().to_string();
        assert!(e.contains("has no header row"), "{e}");
        let e =
            open("a,b\n1,2\n", Columns { label: Some("y".into()), ..Columns::default() }).err().unwrap().to_string();
        assert!(e.contains("its header has: a, b"), "{e}");
    }

    #[test]
    fn json_lines_are_detected_and_read_in_any_instance_shape() {
        let text = "{\"features\":[1,2],\"id\":\"a\"}\n\n[3,4]\n{\"data\":{\"features\":{\"values\":[5,6]}}}\n";
        let mut r = TableReader::open(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "stdin",
            None,
            &Columns { ids: vec!["id".into()], ..Columns::default() },
        )
        .unwrap();
        assert_eq!(r.format, Format::Jsonl);
        let (v, m) = all(&mut r).unwrap();
        assert_eq!(v, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!((m[0].ids[0].as_str(), m[2].line), ("a", 4));
        let mut r = TableReader::open(
            Box::new(std::io::Cursor::new(b"[1,2]\n[1]\n".to_vec())),
            "x.jsonl",
            None,
            &Columns::default(),
        )
        .unwrap();
        let e = all(&mut r).unwrap_err().to_string();
        assert_eq!(e, "x.jsonl: line 2: expected 2 features (feature_dim), found 1");
    }

    #[test]
    fn batches_are_bounded_by_values_not_just_rows() {
        assert_eq!(batch_rows("--batch-size", None, 3).unwrap(), DEFAULT_BATCH_ROWS);
        assert_eq!(batch_rows("--batch-size", None, 65535).unwrap(), MAX_BATCH_VALUES / 65535);
        assert_eq!(batch_rows("--batch-size", Some(1_000_000), 3).unwrap(), 1_000_000);
        let e = batch_rows("--batch-size", Some(1_000_000), 100).unwrap_err().to_string();
        assert!(e.contains("more than the 16777216 values one batch may hold; use --batch-size 167772 or less"), "{e}");
    }
}
