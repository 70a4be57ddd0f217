//! Thread pools for `n_jobs`: at most one worker per core, and at most [`MAX_POOLS`] pools kept
//! for reuse, so neither a huge `n_jobs` nor many distinct ones can pile up threads.

use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::errors::Error;

/// Pools kept for reuse, one per thread count, least recently used dropped first (its threads
/// exit once the calls still running on it return).
pub const MAX_POOLS: usize = 4;

/// Cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Number of worker threads for scikit-learn's `n_jobs`: `None` or -1 means every core, a
/// positive k means k but never more than the cores, and -k means all but k-1 cores (at least one).
pub fn threads_for(n_jobs: Option<i64>) -> Result<usize, Error> {
    let cores = cores() as i64;
    match n_jobs {
        None | Some(-1) => Ok(cores as usize),
        Some(0) => Err(Error::Value("n_jobs must not be 0 (use None or -1 for every core)".into())),
        Some(k) if k > 0 => Ok(k.min(cores) as usize),
        Some(k) => Ok(cores.saturating_add(1).saturating_add(k).max(1) as usize),
    }
}

/// The pools kept, most recently used last.
static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());

/// Runs `f` on a pool of `threads` workers (rayon's parallel iterators inside `f` use it).
pub fn install<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
    let threads = threads.clamp(1, cores());
    let pool = {
        let mut pools = POOLS.lock().unwrap_or_else(|p| p.into_inner());
        match pools.iter().position(|(n, _)| *n == threads) {
            Some(i) => {
                let entry = pools.remove(i);
                let pool = Arc::clone(&entry.1);
                pools.push(entry);
                pool
            }
            None => {
                let pool = ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("rcf-worker-{i}"))
                    .build()
                    .map_err(|e| Error::Internal(format!("could not start {threads} worker threads: {e}")))?;
                let pool = Arc::new(pool);
                if pools.len() >= MAX_POOLS {
                    pools.remove(0);
                }
                pools.push((threads, Arc::clone(&pool)));
                pool
            }
        }
    };
    Ok(pool.install(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_jobs_never_asks_for_more_threads_than_cores() {
        let n = cores();
        assert_eq!(threads_for(Some(1_000_000)).unwrap(), n);
        assert_eq!(threads_for(Some(i64::MAX)).unwrap(), n);
        assert_eq!(threads_for(Some(i64::MIN)).unwrap(), 1);
        assert_eq!(threads_for(None).unwrap(), n);
        assert!(threads_for(Some(0)).is_err());
    }

    #[test]
    fn the_pool_cache_stays_bounded() {
        for threads in [1, 2, 3, 4, 5, 6, 1, 2] {
            install(threads, || ()).unwrap();
        }
        assert!(POOLS.lock().unwrap().len() <= MAX_POOLS);
    }
}
