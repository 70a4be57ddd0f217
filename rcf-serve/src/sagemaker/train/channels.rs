//! Training channels: `inputdataconfig.json`, File/FastFile directories and Pipe-mode FIFOs, and
//! streaming rows out of CSV or recordIO-protobuf data.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;

use crate::wire::csv_rows::read_csv;
use crate::wire::lines::LineLimit;
use crate::wire::media::MediaType;
use crate::wire::recordio::{record_features, record_label, FrameReader};

/// One channel's entry in inputdataconfig.json.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChannelConfig {
    /// Content type; absent when the SDK's `record_set` made the channel (then recordIO).
    pub content_type: Option<String>,
    /// `File`, `FastFile` or `Pipe`.
    pub training_input_mode: Option<String>,
    /// `ShardedByS3Key` or `FullyReplicated`.
    pub s3_distribution_type: Option<String>,
    /// `None` or `RecordIO`.
    pub record_wrapper_type: Option<String>,
}

/// Parses inputdataconfig.json.
pub fn parse_input_config(json: &str) -> Result<BTreeMap<String, ChannelConfig>, String> {
    serde_json::from_str(json).map_err(|e| format!("inputdataconfig.json is not a map of channel configurations ({e})"))
}

/// How a channel's data is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelFormat {
    /// `text/csv;label_size=N`.
    Csv {
        /// Leading label columns.
        label_size: usize,
    },
    /// `application/x-recordio-protobuf` (also when no content type is given).
    RecordIo,
}

/// A channel ready to read.
#[derive(Debug, Clone)]
pub struct Channel {
    /// `train` or `test`.
    pub name: String,
    /// Encoding.
    pub format: ChannelFormat,
    /// Files (File/FastFile mode) or the epoch-0 FIFO (Pipe mode), in reading order.
    pub sources: Vec<PathBuf>,
    /// True in Pipe mode.
    pub pipe: bool,
}

impl Channel {
    /// Resolves channel `name` under `data_dir`. `default_label_size` applies to CSV without
    /// `label_size` (0 for train, 1 for test).
    pub fn open(
        name: &str,
        config: &ChannelConfig,
        data_dir: &Path,
        default_label_size: usize,
    ) -> Result<Channel, String> {
        let format = match config.content_type.as_deref().map(str::trim) {
            None | Some("") => ChannelFormat::RecordIo,
            Some(ct) => {
                let media = MediaType::parse(ct);
                match media.essence.as_str() {
                    "text/csv" => ChannelFormat::Csv {
                        label_size: media
                            .label_size(default_label_size)
                            .map_err(|e| format!("channel {name}: ContentType {ct:?}: {e}"))?,
                    },
                    "application/x-recordio-protobuf" => ChannelFormat::RecordIo,
                    _ => {
                        return Err(format!(
                            "channel {name}: unsupported ContentType {ct:?}; RCF reads text/csv;label_size=N or application/x-recordio-protobuf"
                        ))
                    }
                }
            }
        };
        if config.record_wrapper_type.as_deref().is_some_and(|w| w.eq_ignore_ascii_case("RecordIO"))
            && format != ChannelFormat::RecordIo
        {
            return Err(format!(
                "channel {name}: RecordWrapperType RecordIO is only supported with application/x-recordio-protobuf data"
            ));
        }
        let mode = config.training_input_mode.as_deref().unwrap_or("File");
        let (sources, pipe) = match mode {
            "Pipe" => (vec![data_dir.join(format!("{name}_0"))], true),
            "File" | "FastFile" => {
                (list_files(&data_dir.join(name)).map_err(|e| format!("channel {name}: {e}"))?, false)
            }
            other => {
                return Err(format!("channel {name}: unsupported TrainingInputMode {other:?} (File, FastFile or Pipe)"))
            }
        };
        if pipe && !sources[0].exists() {
            return Err(format!("channel {name}: Pipe mode but {} does not exist", sources[0].display()));
        }
        Ok(Channel { name: name.to_string(), format, sources, pipe })
    }

    /// Streams every row: `each(features, label)`; `label` is the first label column (CSV) or
    /// label tensor value (recordIO) when `labeled`. Returns the number of rows. Errors name the
    /// channel, the file and the line or record. Stops with an error once `stop` is set.
    pub fn read_rows(
        &self,
        dim: usize,
        labeled: bool,
        stop: &AtomicBool,
        mut each: impl FnMut(&[f32], Option<f64>) -> Result<(), String>,
    ) -> Result<u64, String> {
        let mut total = 0u64;
        let mut buf: Vec<f32> = Vec::with_capacity(dim);
        // CSV records are single lines of bounded length (see `wire::lines`).
        let line_limit = LineLimit::from_env()?;
        for path in &self.sources {
            let shown =
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let at = |e: String| format!("channel {}, file {shown}: {e}", self.name);
            let file = File::open(path).map_err(|e| at(format!("cannot open ({e})")))?;
            let reader = BufReader::with_capacity(1 << 20, file);
            match self.format {
                ChannelFormat::Csv { label_size } => {
                    if labeled && label_size == 0 {
                        return Err(format!(
                            "channel {}: labels are required; use ContentType text/csv;label_size=1 with the label in the first column",
                            self.name
                        ));
                    }
                    let rows = read_csv(reader, line_limit, label_size, dim, &mut buf, |row, buf| {
                        if stop.load(Ordering::Relaxed) {
                            return Err("training stopped by SIGTERM".into());
                        }
                        let label = if labeled {
                            Some(check_label(row.labels[0]).map_err(|e| format!("line {}: {e}", row.line))?)
                        } else {
                            None
                        };
                        each(buf, label).map_err(|e| format!("line {}: {e}", row.line))?;
                        buf.clear();
                        Ok(())
                    })
                    .map_err(at)?;
                    total += rows;
                }
                ChannelFormat::RecordIo => {
                    let mut frames = FrameReader::new(reader);
                    let mut index = 0u64;
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return Err(at("training stopped by SIGTERM".into()));
                        }
                        let record = match frames.next_record() {
                            Ok(Some(r)) => r,
                            Ok(None) => break,
                            Err(e) => return Err(at(format!("record {}: {e}", index + 1))),
                        };
                        index += 1;
                        buf.clear();
                        let row = |e: String| at(format!("record {index}: {e}"));
                        record_features(&record, dim, &mut buf).map_err(row)?;
                        let label = if labeled {
                            Some(record_label(&record).and_then(check_label).map_err(row)?)
                        } else {
                            None
                        };
                        each(&buf, label).map_err(row)?;
                    }
                    total += index;
                }
            }
        }
        Ok(total)
    }
}

fn check_label(value: f64) -> Result<f64, String> {
    if value == 0.0 || value == 1.0 {
        Ok(value)
    } else {
        Err(format!("label {value} must be 0 (normal) or 1 (anomaly)"))
    }
}

/// Most directories walked in one channel (bounds the walk, e.g. against symlink loops).
const MAX_DIRECTORIES: usize = 100_000;

/// Every regular file under `dir`, recursively, skipping dotfiles, in sorted order.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.is_dir() {
        return Err(format!("data directory {} does not exist", dir.display()));
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    let mut visited = 0usize;
    while let Some(d) = pending.pop() {
        visited += 1;
        if visited > MAX_DIRECTORIES {
            return Err(format!("more than {MAX_DIRECTORIES} directories under {} (a symlink loop?)", dir.display()));
        }
        let entries = std::fs::read_dir(&d).map_err(|e| format!("cannot list {} ({e})", d.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {} ({e})", d.display()))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let kind = std::fs::metadata(&path).map_err(|e| format!("cannot stat {} ({e})", path.display()))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
