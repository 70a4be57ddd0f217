//! The reference stream of `rcf-algorithm.md` §5.1, identical in every harness and language:
//! SplitMix64 with Box–Muller noise, seed 12345; channel `c` is `10·sin(2πt/(60+7c) + 0.5c) + N(0,1)`;
//! every channel jumps by +15 at `t ≡ 2500 (mod 5000)` (20 spikes in 100k points).

/// Seed of the reference stream.
pub const SEED: u64 = 12345;
/// Period of the injected spikes.
pub const SPIKE_PERIOD: usize = 5000;
/// Offset of the spikes within each period.
pub const SPIKE_OFFSET: usize = 2500;
/// Height of a spike on every channel.
pub const SPIKE_HEIGHT: f64 = 15.0;

/// SplitMix64 (Steele, Lea, Flood 2014).
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (one draw per pair of uniforms).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// True at the injected spikes.
pub fn is_spike(t: usize) -> bool {
    t % SPIKE_PERIOD == SPIKE_OFFSET
}

/// The reference stream: `points` rows of `channels` values each, row-major in one vector.
pub fn reference_stream(points: usize, channels: usize) -> Vec<f32> {
    let mut rng = SplitMix64(SEED);
    let mut out = Vec::with_capacity(points * channels);
    for t in 0..points {
        for c in 0..channels {
            let period = 60.0 + 7.0 * c as f64;
            let phase = 2.0 * std::f64::consts::PI * t as f64 / period + 0.5 * c as f64;
            let mut v = 10.0 * phase.sin() + rng.normal();
            if is_spike(t) {
                v += SPIKE_HEIGHT;
            }
            out.push(v as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_lift_every_channel_by_fifteen() {
        let s = reference_stream(2600, 3);
        let row = |t: usize| &s[t * 3..t * 3 + 3];
        // Mean |value| of a sine of amplitude 10 plus N(0,1) stays well below 25.
        assert!(row(2500).iter().any(|&v| v > 15.0));
        assert!(row(2499).iter().all(|&v| v.abs() < 15.0));
    }

    #[test]
    fn the_stream_is_deterministic() {
        assert_eq!(reference_stream(100, 5), reference_stream(100, 5));
    }

    #[test]
    fn noise_is_standard_normal() {
        let mut rng = SplitMix64(SEED);
        let xs: Vec<f64> = (0..200_000).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.01 && (var - 1.0).abs() < 0.02, "mean {mean} var {var}");
    }
}
