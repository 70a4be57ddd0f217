//! SageMaker's bring-your-own-container contracts: training (`rcf train`) and hosting (`rcf serve`).

pub mod model_io;
pub mod paths;
pub mod serve;
pub mod train;
