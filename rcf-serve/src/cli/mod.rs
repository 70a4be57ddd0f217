//! Offline subcommands: train on files, score files, inspect models.

pub mod inspect;
pub mod score;
pub mod train;
