//! SageMaker's bring-your-own-container contracts: training and hosting.

pub mod serve;
pub mod train;
