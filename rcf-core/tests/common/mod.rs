//! Test streams shared by the integration tests.
#![allow(dead_code)]

/// SplitMix64, the generator of the reference stream (rcf-algorithm.md §5.1).
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal by Box–Muller.
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(f64::MIN_POSITIVE);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Period of the injected spikes: every channel jumps by +15 at t ≡ 2500 (mod 5000).
pub const SPIKE_PERIOD: usize = 5000;
pub const SPIKE_OFFSET: usize = 2500;

pub fn is_spike(t: usize) -> bool {
    t % SPIKE_PERIOD == SPIKE_OFFSET
}

/// The reference stream: channel c is 10·sin(2πt/(60+7c) + 0.5c) + N(0,1), spikes of +15.
pub fn reference_stream(points: usize, channels: usize) -> Vec<Vec<f32>> {
    let mut rng = SplitMix64(12345);
    (0..points)
        .map(|t| {
            (0..channels)
                .map(|c| {
                    let period = 60.0 + 7.0 * c as f64;
                    let mut v =
                        10.0 * (2.0 * std::f64::consts::PI * t as f64 / period + 0.5 * c as f64).sin() + rng.normal();
                    if is_spike(t) {
                        v += 15.0;
                    }
                    v as f32
                })
                .collect()
        })
        .collect()
}

/// A taxi-demand-like series: half-hourly counts with daily and weekly seasonality, noise, and a
/// few holiday dips and surges at the returned indices.
pub fn taxi_like(points: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut rng = SplitMix64(seed);
    let events = vec![points / 4, points / 2, 3 * points / 4];
    let series = (0..points)
        .map(|t| {
            let day = 2.0 * std::f64::consts::PI * t as f64 / 48.0;
            let week = 2.0 * std::f64::consts::PI * t as f64 / 336.0;
            let mut v = 15000.0 + 7000.0 * day.sin() + 2500.0 * week.sin() + 400.0 * rng.normal();
            if events.iter().any(|&e| t >= e && t < e + 6) {
                v *= 0.35;
            }
            vec![v as f32]
        })
        .collect();
    (series, events)
}

/// A machine-temperature-like series: a slow random walk around 85 °C with sharp failures.
pub fn machine_temperature_like(points: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
    let mut rng = SplitMix64(seed);
    let events = vec![points / 3, 2 * points / 3];
    let mut level = 85.0f64;
    let series = (0..points)
        .map(|t| {
            level += 0.05 * rng.normal() - 0.002 * (level - 85.0);
            let mut v = level + 0.8 * rng.normal();
            if events.iter().any(|&e| t >= e && t < e + 4) {
                v -= 30.0;
            }
            vec![v as f32]
        })
        .collect();
    (series, events)
}

/// Spearman rank correlation.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0;
        for k in i..=j {
            out[idx[k]] = rank;
        }
        i = j + 1;
    }
    out
}

pub fn mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for x in v {
        sum += x;
        n += 1;
    }
    sum / n as f64
}
