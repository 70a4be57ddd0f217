//! Offline subcommands: train on files, score files, inspect models, run the thresholded detector
//! over a time series, and generate the example dataset.

pub mod detect;
pub mod gen_example;
pub mod inspect;
pub mod score;
pub mod table;
pub mod train;

use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};

use crate::storage::Input;

/// A progress bar on stderr when it is a terminal (hidden otherwise), and the input wrapped so
/// that reading advances it.
pub fn with_progress(input: Input, verb: &str) -> (Box<dyn Read + Send>, ProgressBar) {
    if !std::io::stderr().is_terminal() {
        return (input.reader, ProgressBar::hidden());
    }
    let bar = match input.len {
        Some(len) => ProgressBar::new(len).with_style(
            ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})")
                .expect("valid template")
                .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {prefix} {bytes} {msg}").expect("valid template")),
    };
    bar.set_prefix(format!("{verb} {}", input.name));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    (Box::new(bar.wrap_read(input.reader)), bar)
}

/// Set on the first SIGINT/SIGTERM so that work stops cleanly (outputs are not committed, an S3
/// multipart upload is aborted); a second signal exits at once.
pub fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))?;
        signal_hook::flag::register(signal, Arc::clone(&flag))?;
    }
    Ok(flag)
}

/// Fails if a stop was requested.
pub fn check_stop(flag: &AtomicBool) -> anyhow::Result<()> {
    if flag.load(Ordering::Relaxed) {
        bail!("interrupted by a signal; nothing was written");
    }
    Ok(())
}
