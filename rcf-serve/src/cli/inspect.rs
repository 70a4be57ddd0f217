//! `rcf inspect` (not built yet).

use clap::Args;

/// Flags of `rcf inspect`.
#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// Model: model.tar.gz or model.rcf, a path or s3:// URI.
    pub model: String,
}

pub fn run(_args: InspectArgs) -> anyhow::Result<()> {
    anyhow::bail!("inspect is not implemented yet")
}
