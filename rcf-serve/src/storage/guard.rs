//! Refuses an output that would overwrite something the same command reads: the same local file
//! (compared by device and inode, so symlinks, hard links and `..` detours are seen through; also
//! standard input or output redirected from or to it), a file inside a model directory that is
//! read, or the same S3 object (bucket and normalised key). Checked before anything is read or
//! written, so a mistyped command never replaces its own input with its results.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::bail;
use same_file::Handle;

use super::Location;
use rcf_core::artifact::{MANIFEST_FILE, MODEL_FILE};

/// Something a command reads: its flag (for messages) and where.
pub struct Source<'a> {
    /// The flag that named it, e.g. `--input`.
    pub flag: &'a str,
    /// Where it is read from.
    pub location: &'a Location,
    /// True for a model: a directory stands for the model files inside it, and `model.rcf` also
    /// reads the `manifest.json` beside it.
    pub model: bool,
}

impl<'a> Source<'a> {
    /// A data input.
    pub fn input(flag: &'a str, location: &'a Location) -> Self {
        Source { flag, location, model: false }
    }

    /// A model.
    pub fn model(flag: &'a str, location: &'a Location) -> Self {
        Source { flag, location, model: true }
    }

    /// The local files this source reads (empty for S3 and stdin).
    fn files(&self) -> Vec<PathBuf> {
        let Location::Local(path) = self.location else {
            return Vec::new();
        };
        if !self.model {
            return vec![path.clone()];
        }
        if path.is_dir() {
            return [MODEL_FILE, MANIFEST_FILE, "model.tar.gz"].iter().map(|f| path.join(f)).collect();
        }
        let mut files = vec![path.clone()];
        if path.file_name().is_some_and(|n| n == MODEL_FILE) || path.extension().is_some_and(|e| e == "rcf") {
            files.push(path.with_file_name(MANIFEST_FILE));
        }
        files
    }
}

/// A file's identity, read with stat(2) through links: nothing is opened, so a FIFO or device
/// named as an input or output is neither blocked on nor disturbed by the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

fn file_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| FileId { dev: m.dev(), ino: m.ino() })
}

fn handle_id(handle: &Handle) -> FileId {
    FileId { dev: handle.dev(), ino: handle.ino() }
}

/// Fails with a message naming both paths when writing `output` (given by `output_flag`) would
/// replace or truncate anything in `sources`.
pub fn refuse_overwrite(output_flag: &str, output: &Location, sources: &[Source]) -> anyhow::Result<()> {
    match output {
        Location::Local(path) => {
            if path.is_dir() || path.as_os_str().as_encoded_bytes().ends_with(b"/") {
                bail!("{output_flag} {}: is a directory; expected a file to write", path.display());
            }
            let out = file_id(path);
            for source in sources {
                for file in source.files() {
                    if same_place(path, out, &file) {
                        bail!(clash(output_flag, output, source, &file.display().to_string()));
                    }
                }
                if source.location == &Location::Std
                    && out.is_some()
                    && out == Handle::stdin().ok().as_ref().map(handle_id)
                {
                    bail!(clash(output_flag, output, source, "standard input (redirected from that file)"));
                }
            }
        }
        Location::S3(url) => {
            for source in sources {
                if let Location::S3(read) = source.location {
                    if read.same_object(url) {
                        bail!(clash(output_flag, output, source, &read.to_string()));
                    }
                }
            }
        }
        Location::Std => {
            let Ok(stdout) = Handle::stdout() else {
                return Ok(());
            };
            for source in sources {
                // Only regular files: a terminal or pipe given as an input path may well be the
                // same device as standard output without anything being overwritten.
                for file in source.files().into_iter().filter(|f| f.is_file()) {
                    if file_id(&file) == Some(handle_id(&stdout)) {
                        bail!(clash(output_flag, output, source, &file.display().to_string()));
                    }
                }
            }
        }
    }
    Ok(())
}

/// True when `output` (with its handle, if it exists) is the file `file`: the same device and
/// inode when both exist, else the same name in the same directory (a model file that does not
/// exist yet would still change what the model directory holds).
fn same_place(output: &Path, out: Option<FileId>, file: &Path) -> bool {
    match (out, file_id(file)) {
        (Some(a), Some(b)) => a == b,
        (None, None) => {
            let dir = |p: &Path| file_id(p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")));
            output.file_name() == file.file_name() && dir(output).is_some() && dir(output) == dir(file)
        }
        _ => false,
    }
}

fn clash(output_flag: &str, output: &Location, source: &Source, what: &str) -> String {
    let shown =
        if *output == Location::Std { "- (standard output, redirected to it)".to_string() } else { output.to_string() };
    let source_text = source.location.to_string();
    let via = if what == source_text { String::new() } else { format!(" ({what})") };
    format!(
        "{output_flag} {shown} is the same file as {} {source_text}{via}; writing it would destroy what is being read. \
         Choose another output path",
        source.flag
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_path_ending_in_a_slash_is_refused_as_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "1\n").unwrap();
        let output = Location::Local(PathBuf::from(format!("{}/", input.display())));
        let err = refuse_overwrite("--output", &output, &[Source::input("--input", &Location::Local(input))]);
        assert!(err.unwrap_err().to_string().contains("is a directory; expected a file to write"));
    }

    #[test]
    fn a_fifo_input_is_compared_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("in.fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        let input = Location::Local(fifo);
        let output = Location::Local(dir.path().join("out.csv"));
        // Opening a FIFO that has no writer blocks: the check must answer at once all the same.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(refuse_overwrite("--output", &output, &[Source::input("--input", &input)]).is_ok());
        });
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)), Ok(true));
    }

    fn loc(text: &str) -> Location {
        Location::parse(text).unwrap()
    }

    #[test]
    fn the_same_s3_object_is_refused_after_normalising_the_key() {
        let input = loc("s3://bucket/dir/data.csv");
        for same in ["s3://bucket/dir/data.csv", "s3://bucket//dir//data.csv", "s3://BUCKET/dir/data.csv"] {
            let e = refuse_overwrite("--output", &loc(same), &[Source::input("--input", &input)]);
            let text = format!("{:#}", e.expect_err(same));
            assert!(text.contains("is the same file as --input s3://bucket/dir/data.csv"), "{text}");
        }
        for other in [
            "s3://bucket/dir/data.csv.out",
            "s3://bucket/dir/./data.csv",
            "s3://other/dir/data.csv",
            "s3://bucket/Dir/data.csv",
        ] {
            refuse_overwrite("--output", &loc(other), &[Source::input("--input", &input)]).expect(other);
        }
        let model = loc("s3://models/m.tar.gz");
        let e = refuse_overwrite("--output", &loc("s3://models/m.tar.gz"), &[Source::model("--model", &model)])
            .unwrap_err();
        assert!(format!("{e:#}").contains("--model s3://models/m.tar.gz"), "{e:#}");
    }

    #[test]
    fn local_files_are_compared_through_links_and_model_directories() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.csv");
        std::fs::write(&data, "1,2\n").unwrap();
        let input = Location::Local(data.clone());
        let sources = [Source::input("--input", &input)];
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&data, &link).unwrap();
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&data, &hard).unwrap();
        let detour = dir.path().join("sub/../data.csv");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for out in [&data, &link, &hard, &detour] {
            let e = refuse_overwrite("--output", &Location::Local(out.clone()), &sources).expect_err("same file");
            assert!(format!("{e:#}").contains("is the same file as --input"), "{e:#}");
        }
        refuse_overwrite("--output", &Location::Local(dir.path().join("new.csv")), &sources).unwrap();

        let model_dir = dir.path().join("model");
        std::fs::create_dir(&model_dir).unwrap();
        std::fs::write(model_dir.join(MODEL_FILE), b"x").unwrap();
        std::fs::write(model_dir.join(MANIFEST_FILE), b"{}").unwrap();
        let model = Location::Local(model_dir.clone());
        for name in [MODEL_FILE, MANIFEST_FILE, "model.tar.gz"] {
            let out = Location::Local(model_dir.join(name));
            let e = refuse_overwrite("--output", &out, &[Source::model("--model", &model)]).expect_err(name);
            assert!(format!("{e:#}").contains(&format!("--model {}", model_dir.display())), "{e:#}");
        }
        let rcf = Location::Local(model_dir.join(MODEL_FILE));
        let out = Location::Local(model_dir.join(MANIFEST_FILE));
        assert!(
            refuse_overwrite("--output", &out, &[Source::model("--model", &rcf)]).is_err(),
            "manifest beside model.rcf"
        );
        let e = refuse_overwrite("--output", &Location::Local(dir.path().to_path_buf()), &sources).unwrap_err();
        assert!(format!("{e:#}").contains("is a directory"), "{e:#}");
    }
}
