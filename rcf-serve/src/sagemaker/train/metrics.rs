//! Test-channel metrics as the built-in computes them: a record is called anomalous when its score
//! is above mean + 3σ of the test scores (σ: population standard deviation, ddof = 0).

/// Metrics over the test channel.
#[derive(Debug, Clone, PartialEq)]
pub struct TestMetrics {
    /// Records scored.
    pub records: usize,
    /// Mean test score.
    pub mean: f64,
    /// Population standard deviation of the test scores.
    pub std: f64,
    /// mean + 3σ.
    pub threshold: f64,
    /// Fraction labelled correctly.
    pub accuracy: f64,
    /// Precision, recall, F1 for the anomaly class (label 1).
    pub positive: Prf,
    /// Precision, recall, F1 for the normal class (label 0).
    pub negative: Prf,
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    /// tp / (tp + fp), 0 when nothing was predicted in the class.
    pub precision: f64,
    /// tp / (tp + fn), 0 when the class is absent.
    pub recall: f64,
    /// Harmonic mean of precision and recall, 0 when both are 0.
    pub f1: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn prf(tp: usize, fp: usize, fneg: usize) -> Prf {
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fneg);
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    Prf { precision, recall, f1 }
}

/// Mean and population standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Labels each score by the 3σ rule and compares with `anomalous` (the true labels).
pub fn evaluate(scores: &[f64], anomalous: &[bool]) -> TestMetrics {
    let (mean, std) = mean_std(scores);
    let threshold = mean + 3.0 * std;
    let (mut tp, mut fp, mut tn, mut fneg) = (0, 0, 0, 0);
    for (&s, &truth) in scores.iter().zip(anomalous) {
        match (s > threshold, truth) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fneg += 1,
        }
    }
    TestMetrics {
        records: scores.len(),
        mean,
        std,
        threshold,
        accuracy: ratio(tp + tn, scores.len()),
        positive: prf(tp, fp, fneg),
        negative: prf(tn, fneg, fp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_sigma_rule_and_both_classes() {
        let mut scores = vec![1.0; 99];
        scores.push(100.0);
        let mut labels = vec![false; 100];
        labels[99] = true;
        labels[0] = true; // a missed anomaly
        let m = evaluate(&scores, &labels);
        assert!(m.threshold > 1.0 && m.threshold < 100.0);
        assert_eq!(m.accuracy, 0.99);
        assert_eq!(m.positive.precision, 1.0);
        assert_eq!(m.positive.recall, 0.5);
        assert!((m.positive.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.negative.recall, 1.0);
        assert!((m.negative.precision - 98.0 / 99.0).abs() < 1e-12);
    }
}
