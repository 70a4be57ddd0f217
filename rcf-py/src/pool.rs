//! Thread pools for `n_jobs`, built once per distinct thread count and reused.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::errors::Error;

/// Number of worker threads for scikit-learn's `n_jobs`: `None` or -1 means every core, a
/// positive k means k, and -k means all but k-1 cores (at least one).
pub fn threads_for(n_jobs: Option<i64>) -> Result<usize, Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    match n_jobs {
        None | Some(-1) => Ok(cores as usize),
        Some(0) => Err(Error::Value(
            "n_jobs must not be 0 (use None or -1 for every core)".into(),
        )),
        Some(k) if k > 0 => Ok(k as usize),
        Some(k) => Ok((cores + 1 + k).max(1) as usize),
    }
}

/// Runs `f` on a pool of `threads` workers (rayon's parallel iterators inside `f` use it).
pub fn install<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let pool = {
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match pools.get(&threads) {
            Some(pool) => Arc::clone(pool),
            None => {
                let pool = ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("rcf-worker-{i}"))
                    .build()
                    .map_err(|e| {
                        Error::Internal(format!("could not start {threads} worker threads: {e}"))
                    })?;
                let pool = Arc::new(pool);
                pools.insert(threads, Arc::clone(&pool));
                pool
            }
        }
    };
    Ok(pool.install(f))
}
