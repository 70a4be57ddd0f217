//! The random number generator used throughout: xoshiro256++, one stream per tree.

use rand::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator type (serializable, so a saved model resumes its random stream exactly).
pub type TreeRng = Xoshiro256PlusPlus;

/// A uniform draw in [0, 1) with 53 random bits.
#[inline]
pub fn uniform(rng: &mut TreeRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The generator of tree `index` under forest seed `seed`: independent of how many threads run.
pub fn tree_rng(seed: u64, index: usize) -> TreeRng {
    let mut mixer = rand_xoshiro::SplitMix64::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    TreeRng::seed_from_u64(mixer.next_u64())
}
