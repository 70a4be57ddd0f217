//! Shared helpers for the benchmarks and the side-by-side comparison with krcflib (AWS's Rust RCF):
//! the reference stream of `rcf-algorithm.md` §5.1, a CPU-time meter, and one adapter trait over
//! both implementations so every harness drives them through identical code.

pub mod cpu;
pub mod criterion_cpu;
pub mod models;
pub mod stream;
