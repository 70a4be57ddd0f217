//! `rcf train --input …` (not built yet).

use clap::Args;

/// Flags of offline training.
#[derive(Args, Debug, Clone)]
pub struct OfflineTrainArgs {
    /// Training rows: a path, s3://bucket/key, or - for stdin (CSV or JSON Lines).
    #[arg(long)]
    pub input: Option<String>,
    /// Where to write model.tar.gz: a path or s3://bucket/key.
    #[arg(long)]
    pub output: Option<String>,
}

pub fn run(_args: OfflineTrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("offline training is not implemented yet")
}
