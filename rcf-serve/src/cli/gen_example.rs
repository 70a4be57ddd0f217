//! `rcf gen-example` (hidden): the README's example dataset — hourly egress bytes of six VPCs with
//! daily and weekly seasonality, nightly backup and batch jobs, noise,
//! and a few injected exfiltration bursts (listed in `bursts.csv` as the ground truth).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::storage::local::AtomicFile;
use crate::storage::Output;

/// Flags of `rcf gen-example`.
#[derive(Args, Debug, Clone)]
pub struct GenExampleArgs {
    /// Directory to write egress.csv and bursts.csv into.
    #[arg(long)]
    pub output: PathBuf,
    /// Weeks of hourly data.
    #[arg(long, default_value_t = 8)]
    pub weeks: u64,
    /// Exact number of hourly rows (overrides --weeks; for benchmarks).
    #[arg(long)]
    pub rows: Option<u64>,
    /// Seed of the noise.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// 2024-03-04 00:00:00 UTC, a Monday.
const START: i64 = 1_709_510_400;

const VPCS: [&str; 6] = ["vpc-prod-web", "vpc-prod-api", "vpc-prod-db", "vpc-analytics", "vpc-batch", "vpc-dev"];

/// An injected exfiltration burst: first hour (from the start), length in hours, VPC, extra bytes per hour.
struct Burst {
    hour: u64,
    hours: u64,
    vpc: usize,
    extra: f64,
}

/// Bursts in the last three weeks, at hours where that VPC is normally quiet.
fn bursts(total_hours: u64) -> Vec<Burst> {
    let day = |d: u64, h: u64| d * 24 + h;
    let planned = [
        Burst { hour: day(37, 3), hours: 3, vpc: 2, extra: 5.0e9 }, // prod-db, Tuesday 03:00–05:59
        Burst { hour: day(44, 14), hours: 1, vpc: 5, extra: 3.0e9 }, // dev, Tuesday 14:00
        Burst { hour: day(54, 22), hours: 2, vpc: 3, extra: 4.0e9 }, // analytics, Friday 22:00–23:59
    ];
    planned.into_iter().filter(|b| b.hour + b.hours <= total_hours).collect()
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD HH:MM:SS` of epoch seconds.
pub fn format_timestamp(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60)
}

/// Expected bytes of `vpc` at `hour` of day and `weekday` (0 = Monday).
fn expected(vpc: usize, hour: u64, weekday: u64) -> f64 {
    let h = hour as f64;
    let weekend = weekday >= 5;
    // Business-hours curve peaking mid-afternoon, never below a night floor.
    let business = 0.3 + 0.7 * (-((h - 15.0) / 4.0).powi(2)).exp();
    match vpc {
        0 => 4.0e9 * business * if weekend { 0.6 } else { 1.0 },
        1 => 2.5e9 * (0.5 + 0.5 * business) * if weekend { 0.7 } else { 1.0 },
        2 => 6.0e8 * if (1..=2).contains(&hour) { 4.0 } else { 1.0 }, // nightly backup
        3 => 1.2e9 * if weekend { 0.25 } else { business },
        4 => 8.0e8 * if hour < 5 { 3.0 } else { 0.6 },
        _ => 1.5e8 * if weekend || !(9..18).contains(&hour) { 0.15 } else { 1.0 },
    }
}

pub fn run(args: GenExampleArgs) -> anyhow::Result<()> {
    let hours = args.rows.unwrap_or(args.weeks * 7 * 24);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(args.seed);
    let bursts = bursts(hours);
    std::fs::create_dir_all(&args.output).with_context(|| format!("creating {}", args.output.display()))?;
    let mut out = AtomicFile::create(&args.output.join("egress.csv"))?;
    writeln!(out, "timestamp,{}", VPCS.join(","))?;
    let mut line = String::with_capacity(128);
    for t in 0..hours {
        let (hour, weekday) = (t % 24, (t / 24) % 7);
        line.clear();
        line.push_str(&format_timestamp(START + t as i64 * 3600));
        for vpc in 0..VPCS.len() {
            // Log-normal noise (σ ≈ 8 %) from a Box–Muller normal.
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            let normal = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            let mut bytes = expected(vpc, hour, weekday) * (0.08 * normal).exp();
            for b in &bursts {
                if b.vpc == vpc && (b.hour..b.hour + b.hours).contains(&t) {
                    bytes += b.extra * (1.0 + 0.1 * rng.random::<f64>());
                }
            }
            line.push(',');
            line.push_str(&(bytes.round() as u64).to_string());
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Box::new(out).commit()?;
    let mut truth = AtomicFile::create(&args.output.join("bursts.csv"))?;
    writeln!(truth, "start,hours,vpc,extra_bytes_per_hour")?;
    for b in &bursts {
        writeln!(truth, "{},{},{},{}", format_timestamp(START + b.hour as i64 * 3600), b.hours, VPCS[b.vpc], b.extra)?;
    }
    Box::new(truth).commit()?;
    eprintln!(
        "rcf: wrote {hours} hourly rows of {} VPCs and {} injected bursts to {}",
        VPCS.len(),
        bursts.len(),
        args.output.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_through_the_detector_parser() {
        for t in [0, START, START + 12_345 * 3600, 4_102_444_800] {
            assert_eq!(crate::cli::detect::parse_timestamp(&format_timestamp(t)), Some(t));
        }
        assert_eq!(format_timestamp(START), "2024-03-04 00:00:00");
    }
}
