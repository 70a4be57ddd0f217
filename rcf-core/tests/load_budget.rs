//! Loading never allocates beyond its budget: the peak heap of a load (counted by this test's
//! allocator) stays within the budget for hostile files, and a model within the budget loads.
//! One test in this binary, so no other test's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bincode::Options;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rcf_core::artifact::load_within;
use rcf_core::{ForestBuilder, LoadLimits};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `f`, above what was allocated before it.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(before))
}

fn model_file(version: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = b"RCFMODEL".to_vec();
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[test]
fn loads_stay_within_the_budget() {
    const BUDGET: u64 = 16 << 20;
    let limits = LoadLimits::new(BUDGET);
    let codec = bincode::DefaultOptions::new().with_little_endian().with_varint_encoding();

    // Configurations of every size, then arbitrary bytes (often claiming huge lengths).
    let strategy =
        (1usize..=4096, 1usize..=10_000, 1usize..=16_384, 0u8..3, proptest::collection::vec(any::<u8>(), 0..512));
    let mut runner = TestRunner::new(Config { cases: 200, ..Config::default() });
    runner
        .run(&strategy, |(dims, trees, samples, tag, rest)| {
            let config = ForestBuilder::new(dims).num_trees(trees).sample_size(samples).seed(1).config().unwrap();
            let mut payload = vec![tag];
            payload.extend(codec.serialize(&config).unwrap());
            payload.extend(rest);
            let file = model_file(if tag == 1 { 4 } else { 3 }, &payload);
            let (result, peak) = peak_of(|| load_within(&file, &limits));
            prop_assert!(result.is_err());
            prop_assert!(peak as u64 <= BUDGET, "peak {peak} bytes for {dims} × {trees} × {samples}");
            Ok(())
        })
        .unwrap();

    // A real compact model just within the budget regrows within it; a smaller budget refuses it.
    let mut forest = ForestBuilder::new(8).num_trees(40).sample_size(512).seed(2).build().unwrap();
    for t in 0..4000 {
        let x = t as f32;
        forest.update(&[x.sin(), x.cos(), x % 5.0, x % 3.0, 1.0, 2.0, (x * 0.3).sin(), x % 11.0]).unwrap();
    }
    let bytes = forest.to_compact_bytes();
    let declared = forest.config().estimated_memory_bytes() + bytes.len() as u64;
    let (loaded, peak) = peak_of(|| load_within(&bytes, &LoadLimits::new(declared)));
    let loaded = loaded.unwrap().model.into_forest().unwrap();
    assert!(peak as u64 <= declared, "regrowing took {peak} bytes, declared {declared}");
    assert!(loaded.heap_bytes() as u64 <= declared);
    assert!(load_within(&bytes, &LoadLimits::new(declared - 1)).is_err());
    let exact = forest.to_bytes();
    let declared = forest.config().estimated_memory_bytes() + exact.len() as u64;
    let (loaded, peak) = peak_of(|| load_within(&exact, &LoadLimits::new(declared)));
    assert!(loaded.is_ok());
    assert!(peak as u64 <= declared, "decoding took {peak} bytes, declared {declared}");
}
