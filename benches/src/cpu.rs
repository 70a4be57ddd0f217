//! CPU-time meters (`rcf-algorithm.md` §5.1): on a shared machine wall time is noisy, so the
//! headline figure is operations per CPU-second of the measuring thread ("cpu_adj").
//!
//! On this machine's kernel the schedstat file advances in scheduler ticks (4 ms), so the
//! schedstat meters suit spans of a second or more; per-operation figures use
//! [`thread_cpu_precise_ns`], which reads the same counter at nanosecond resolution.

use std::time::{Duration, Instant};

/// Nanoseconds the calling thread has spent on a CPU, at nanosecond resolution
/// (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`: the same scheduler run time that
/// `/proc/thread-self/schedstat` shows, but brought up to date on every call). Costs one system
/// call (a few hundred ns), so per-operation timing subtracts [`thread_clock_overhead_ns`].
#[inline]
pub fn thread_cpu_precise_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Median CPU time of an empty [`thread_cpu_precise_ns`] interval: what one timed section costs on
/// top of the work it times.
pub fn thread_clock_overhead_ns() -> u64 {
    let mut samples: Vec<u64> = (0..20_001)
        .map(|_| {
            let a = thread_cpu_precise_ns();
            thread_cpu_precise_ns().saturating_sub(a)
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Nanoseconds the calling thread has spent on a CPU (`/proc/thread-self/schedstat`, field 1).
/// Falls back to 0 where the file is missing (non-Linux), which callers report as unknown.
pub fn thread_cpu_ns() -> u64 {
    read_first_field("/proc/thread-self/schedstat")
}

/// On-CPU nanoseconds of every live thread of this process, by thread id.
pub fn process_threads_cpu_ns() -> Vec<(u64, u64)> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter_map(|e| {
            let tid = e.file_name().to_str()?.parse().ok()?;
            Some((tid, read_first_field(e.path().join("schedstat"))))
        })
        .collect()
}

fn read_first_field(path: impl AsRef<std::path::Path>) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .unwrap_or(0)
}

/// Wall time and CPU time of one measured span.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    /// Elapsed wall-clock time.
    pub wall: Duration,
    /// CPU time of the thread (or process) over the span.
    pub cpu: Duration,
}

impl Span {
    /// Share of one core the span got (1.0 = uncontended single thread).
    pub fn cpu_share(&self) -> f64 {
        self.cpu.as_secs_f64() / self.wall.as_secs_f64().max(1e-12)
    }
}

/// Runs `f` and measures it with the CPU time of all the process's threads. Time is counted per
/// thread id, so threads that start or end during the span (a dropped pool) do not skew the sum;
/// time a thread spends after its last look before exiting is lost.
pub fn measure_process<T>(f: impl FnOnce() -> T) -> (T, Span) {
    let before = process_threads_cpu_ns();
    let t0 = Instant::now();
    let out = f();
    let wall = t0.elapsed();
    let cpu: u64 = process_threads_cpu_ns()
        .into_iter()
        .map(|(tid, ns)| ns.saturating_sub(before.iter().find(|(t, _)| *t == tid).map_or(0, |b| b.1)))
        .sum();
    (out, Span { wall, cpu: Duration::from_nanos(cpu) })
}

/// Runs `f` and measures it with the thread's CPU clock.
pub fn measure_thread<T>(f: impl FnOnce() -> T) -> (T, Span) {
    let (c0, t0) = (thread_cpu_ns(), Instant::now());
    let out = f();
    let (wall, c1) = (t0.elapsed(), thread_cpu_ns());
    (out, Span { wall, cpu: Duration::from_nanos(c1.saturating_sub(c0)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_loop_uses_cpu_time() {
        let (_, span) = measure_thread(|| {
            let t = Instant::now();
            let mut x = 0u64;
            while t.elapsed() < Duration::from_millis(30) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            x
        });
        assert!(span.cpu > Duration::from_millis(1), "{span:?}");
        assert!(span.cpu <= span.wall + Duration::from_millis(5), "{span:?}");
    }

    #[test]
    fn the_precise_clock_advances_with_work() {
        let a = thread_cpu_precise_ns();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = std::hint::black_box(x ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        }
        let b = thread_cpu_precise_ns();
        assert!(b > a, "{a} {b} {x}");
        assert!(thread_clock_overhead_ns() < 100_000);
    }
}
