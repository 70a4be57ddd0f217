//! Where the offline CLI reads and writes: local paths, `s3://bucket/key` objects, and `-` for
//! stdin/stdout. Reads stream (bounded memory); writes become visible only when committed —
//! a temporary file renamed into place locally, a single PUT or a completed multipart upload on S3.

pub mod guard;
pub mod local;
pub mod s3;

use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{bail, Context};

/// A place to read from or write to, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local file.
    Local(PathBuf),
    /// An S3 object.
    S3(s3::S3Url),
    /// `-`: standard input or output.
    Std,
}

impl Location {
    /// Parses a command-line argument: `s3://bucket/key`, `-`, or a path.
    pub fn parse(text: &str) -> anyhow::Result<Location> {
        if text == "-" {
            return Ok(Location::Std);
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            return Ok(Location::S3(
                s3::S3Url::parse(rest).with_context(|| format!("{text:?} is not a valid S3 URI"))?,
            ));
        }
        if text.contains("://") {
            bail!("{text:?}: unsupported URI scheme; expected a local path, s3://bucket/key, or - (stdin/stdout)");
        }
        if text.is_empty() {
            bail!("an empty path was given; expected a local path, s3://bucket/key, or -");
        }
        Ok(Location::Local(PathBuf::from(text)))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::S3(u) => write!(f, "{u}"),
            Location::Std => f.write_str("<stdin/stdout>"),
        }
    }
}

/// An opened input: a streaming reader and, when known, its size in bytes.
pub struct Input {
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
    /// Total size, when known (for progress bars).
    pub len: Option<u64>,
    /// How to name it in messages (`file.csv`, `s3://b/k`, `stdin`).
    pub name: String,
}

/// Opens `location` for streaming reads.
pub fn open(location: &Location) -> anyhow::Result<Input> {
    match location {
        Location::Local(path) => {
            let file = std::fs::File::open(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => anyhow::anyhow!("{}: no such file", path.display()),
                _ => anyhow::anyhow!("{}: cannot open ({e})", path.display()),
            })?;
            let meta = file.metadata().ok();
            if meta.as_ref().is_some_and(|m| m.is_dir()) {
                bail!("{}: is a directory; expected a file", path.display());
            }
            Ok(Input { reader: Box::new(file), len: meta.map(|m| m.len()), name: path.display().to_string() })
        }
        Location::S3(url) => s3::open(url),
        Location::Std => Ok(Input { reader: Box::new(std::io::stdin()), len: None, name: "stdin".into() }),
    }
}

/// Reads all of `location`, refusing more than `limit` bytes.
pub fn read_all(location: &Location, limit: u64) -> anyhow::Result<Vec<u8>> {
    let input = open(location)?;
    if let Some(len) = input.len.filter(|&l| l > limit) {
        bail!("{}: {len} bytes is larger than the {limit} bytes accepted", input.name);
    }
    let mut bytes = Vec::with_capacity(input.len.unwrap_or(0) as usize);
    input.reader.take(limit + 1).read_to_end(&mut bytes).with_context(|| format!("reading {}", input.name))?;
    if bytes.len() as u64 > limit {
        bail!("{}: larger than the {limit} bytes accepted", input.name);
    }
    Ok(bytes)
}

/// An output being written. Nothing is visible at the destination until [`Output::commit`];
/// dropping it uncommitted discards what was written (temporary file removed, multipart upload aborted).
pub trait Output: Write + Send {
    /// Makes the written bytes visible under the destination's name.
    fn commit(self: Box<Self>) -> anyhow::Result<()>;
}

/// Starts writing `location`.
pub fn create(location: &Location) -> anyhow::Result<Box<dyn Output>> {
    Ok(match location {
        Location::Local(path) if local::DeviceFile::is_device(path) => Box::new(local::DeviceFile::open(path)?),
        Location::Local(path) => Box::new(local::AtomicFile::create(path)?),
        Location::S3(url) => Box::new(s3::S3Writer::create(url)?),
        Location::Std => Box::new(local::Stdout(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()))),
    })
}

/// Writes `bytes` to `location` atomically.
pub fn write_all(location: &Location, bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = create(location)?;
    out.write_all(bytes).with_context(|| format!("writing {location}"))?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_with_clear_errors() {
        assert_eq!(Location::parse("-").unwrap(), Location::Std);
        assert_eq!(Location::parse("a/b.csv").unwrap(), Location::Local("a/b.csv".into()));
        let s3 = Location::parse("s3://bucket/dir/model.tar.gz").unwrap();
        assert_eq!(s3.to_string(), "s3://bucket/dir/model.tar.gz");
        let e = format!("{:#}", Location::parse("s3://bucket").unwrap_err());
        assert!(e.contains("expected s3://bucket/key"), "{e}");
        let e = format!("{:#}", Location::parse("gs://b/k").unwrap_err());
        assert!(e.contains("unsupported URI scheme"), "{e}");
    }
}
