//! SageMaker training contract (not built yet).

pub fn run() -> anyhow::Result<()> {
    anyhow::bail!("SageMaker training is not implemented yet")
}
