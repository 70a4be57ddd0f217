//! The model artifact: `model.tar.gz` holding one file, `model.rcf` (rcf-core's model format).
//! SageMaker unpacks it into /opt/ml/model; the Python package writes the same layout.

/// Name of the model file inside `model.tar.gz` and in /opt/ml/model.
pub const MODEL_FILE_NAME: &str = "model.rcf";
