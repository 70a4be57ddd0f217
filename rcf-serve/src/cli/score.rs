//! `rcf score` (not built yet).

use clap::Args;

/// Flags of `rcf score`.
#[derive(Args, Debug, Clone)]
pub struct ScoreArgs {
    /// Model: model.tar.gz or model.rcf, a path or s3:// URI.
    #[arg(long)]
    pub model: String,
}

pub fn run(_args: ScoreArgs) -> anyhow::Result<()> {
    anyhow::bail!("scoring is not implemented yet")
}
