//! Local files: atomic whole-file writes and a streaming writer that only becomes visible under
//! its final name when committed (temporary file in the same directory, fsync, rename, fsync dir).
//!
//! The temporary file is created by `tempfile`: exclusively (`O_CREAT | O_EXCL`, so a symlink or
//! file planted at its name is never followed or reused) under an unpredictable name,
//! `.{file name}.rcf-partial-` and random characters, beside the destination. It is removed on
//! any error and whenever the writer is dropped uncommitted; only a process killed outright
//! (SIGKILL, power loss) leaves one behind, and the [`PARTIAL_MARK`] in its name says it is an
//! unfinished output that is safe to delete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tempfile::NamedTempFile;

use super::Output;

/// Marks unfinished outputs: `.{file name}` + this + random characters.
pub const PARTIAL_MARK: &str = ".rcf-partial-";

/// The directory of `path` (`.` for a bare file name), created if missing.
fn parent_dir(path: &Path) -> anyhow::Result<PathBuf> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating directory {}", dir.display()))?;
    Ok(dir)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename,
/// then fsync of the directory. A crash leaves either the old file or the new one, never half.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if DeviceFile::is_device(path) {
        let mut device = DeviceFile::open(path)?;
        device.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
        return Box::new(device).commit();
    }
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).with_context(|| format!("writing {}", file.tmp.display()))?;
    Box::new(file).commit()
}

/// A file being written under a temporary name; [`Output::commit`] renames it into place,
/// dropping it uncommitted deletes it (`NamedTempFile` removes itself).
pub struct AtomicFile {
    path: PathBuf,
    dir: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<NamedTempFile>>,
}

impl AtomicFile {
    /// Starts writing `path` (its directory is created if missing).
    pub fn create(path: &Path) -> anyhow::Result<AtomicFile> {
        let dir = parent_dir(path)?;
        let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        // The permissions of a plain `File::create` (0666 less the umask), not tempfile's 0600.
        let file = tempfile::Builder::new()
            .prefix(&format!(".{name}{PARTIAL_MARK}"))
            .rand_bytes(10)
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(&dir)
            .with_context(|| format!("creating a temporary file for {} in {}", path.display(), dir.display()))?;
        let tmp = file.path().to_path_buf();
        Ok(AtomicFile { path: path.to_path_buf(), dir, tmp, file: Some(BufWriter::with_capacity(1 << 20, file)) })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.as_mut().expect("written after commit").write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.file.as_mut().expect("written after commit").write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl Output for AtomicFile {
    fn commit(mut self: Box<Self>) -> anyhow::Result<()> {
        let writer = self.file.take().expect("committed once");
        let file = writer
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", self.tmp.display()))?;
        file.as_file().sync_all().with_context(|| format!("syncing {}", self.tmp.display()))?;
        // rename(2) over the destination: a symlink there is replaced, never followed. On failure
        // the temporary file is removed as the error's file handle drops.
        file.persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("renaming {} to {}", self.tmp.display(), self.path.display()))?;
        sync_dir(&self.dir);
        Ok(())
    }
}

/// A destination that is not a regular file (a character device such as `/dev/null`, a FIFO, a
/// socket): written in place, since renaming a file over it would replace the device node.
pub struct DeviceFile {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl DeviceFile {
    /// Opens `path` for writing without creating, truncating or replacing it.
    pub fn open(path: &Path) -> anyhow::Result<DeviceFile> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {} for writing", path.display()))?;
        Ok(DeviceFile { path: path.to_path_buf(), writer: BufWriter::with_capacity(1 << 16, file) })
    }

    /// True when `path` exists (through links) and is neither a regular file nor a directory.
    pub fn is_device(path: &Path) -> bool {
        std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
    }
}

impl Write for DeviceFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

impl Output for DeviceFile {
    fn commit(mut self: Box<Self>) -> anyhow::Result<()> {
        self.writer.flush().with_context(|| format!("writing {}", self.path.display()))
    }
}

/// Standard output; committing flushes it.
pub struct Stdout(pub BufWriter<std::io::Stdout>);

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Output for Stdout {
    fn commit(mut self: Box<Self>) -> anyhow::Result<()> {
        self.0.flush().context("writing to standard output")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        assert!(std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo").success());
    }

    #[test]
    fn a_fifo_destination_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out.fifo");
        mkfifo(&fifo);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_atomic(&fifo, b"1.5\n").unwrap();
        assert_eq!(reader.join().unwrap(), "1.5\n");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced by a file");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left beside it");
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"partial").unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"whole").unwrap();
        Box::new(f).commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_temporary_file_is_clearly_named_and_a_symlinked_destination_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"keep").unwrap();
        let path = dir.path().join("out.csv");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        let tmp = f.tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(tmp.starts_with(".out.csv.rcf-partial-") && tmp.len() > ".out.csv.rcf-partial-".len() + 8, "{tmp}");
        f.write_all(b"new").unwrap();
        Box::new(f).commit().unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(!std::fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain), "same permissions as File::create");
    }
}
