//! The `/opt/ml` tree. `RCF_SAGEMAKER_ROOT` replaces `/opt/ml` (for tests).

use std::path::PathBuf;

/// Environment variable that replaces `/opt/ml`.
pub const ROOT_ENV: &str = "RCF_SAGEMAKER_ROOT";

/// Paths of SageMaker's container file contract.
#[derive(Debug, Clone)]
pub struct SageMakerPaths {
    root: PathBuf,
}

impl SageMakerPaths {
    /// `/opt/ml`, or `$RCF_SAGEMAKER_ROOT` when set.
    pub fn from_env() -> Self {
        let root = std::env::var_os(ROOT_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
        SageMakerPaths { root: root.unwrap_or_else(|| PathBuf::from("/opt/ml")) }
    }

    /// `input/config/<name>`.
    pub fn config(&self, name: &str) -> PathBuf {
        self.root.join("input/config").join(name)
    }

    /// `input/data`: channel directories (File mode) and FIFOs (Pipe mode).
    pub fn data(&self) -> PathBuf {
        self.root.join("input/data")
    }

    /// `model`: what SageMaker tars into model.tar.gz, and where it unpacks it for hosting.
    pub fn model(&self) -> PathBuf {
        self.root.join("model")
    }

    /// `output/failure`: its text becomes the training job's FailureReason.
    pub fn failure(&self) -> PathBuf {
        self.root.join("output/failure")
    }
}
