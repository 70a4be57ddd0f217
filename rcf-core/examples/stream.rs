//! Streams a generated series of hourly egress bytes with daily and weekly seasonality and a few
//! injected exfiltration bursts, scores each hour before learning it, and prints the anomalies.
//!
//! `cargo run --release -p rcf-core --example stream`

use rcf_core::ForestBuilder;

/// Deterministic noise (SplitMix64), so the example prints the same thing every run.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hours = 24 * 7 * 12;
    let bursts = [24 * 7 * 5 + 3, 24 * 7 * 8 + 14, 24 * 7 * 11 + 2];
    let mut noise = Noise(2024);
    let series: Vec<f32> = (0..hours)
        .map(|h| {
            let daily = (2.0 * std::f64::consts::PI * (h % 24) as f64 / 24.0).sin();
            let weekday = if (h / 24) % 7 < 5 { 1.0 } else { 0.6 };
            let mut gb = 40.0 + 25.0 * daily * weekday + 4.0 * noise.next();
            if bursts.contains(&h) {
                gb += 90.0;
            }
            gb as f32
        })
        .collect();

    let mut forest = ForestBuilder::new(1).shingle_size(4).num_trees(100).sample_size(256).seed(7).build()?;
    let scores = forest.score_update_batch(&series)?;

    let warm = 24 * 7 * 2;
    let tail = &scores[warm..];
    let mean = tail.iter().sum::<f64>() / tail.len() as f64;
    let sd = (tail.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
    let threshold = mean + 3.0 * sd;
    println!("{hours} hours scored; mean score {mean:.3}, sd {sd:.3}, threshold (mean + 3 sd) {threshold:.3}");
    // A burst stays inside the 4-hour shingle for 4 hours, so consecutive flags are one event.
    println!("{:>6} {:>10} {:>8} {:>6}  injected", "hour", "egress_gb", "score", "hours");
    let mut h = warm;
    while h < hours {
        if scores[h] <= threshold {
            h += 1;
            continue;
        }
        let start = h;
        while h < hours && scores[h] > threshold {
            h += 1;
        }
        let peak = scores[start..h].iter().copied().fold(0.0, f64::max);
        let injected = if bursts.contains(&start) { "yes" } else { "no" };
        println!("{start:>6} {:>10.1} {peak:>8.3} {:>6}  {injected}", series[start], h - start);
    }
    Ok(())
}
