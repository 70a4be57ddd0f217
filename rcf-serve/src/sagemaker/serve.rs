//! SageMaker hosting contract (not built yet).

pub fn run(_args: crate::ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("serving is not implemented yet")
}
