//! Random cuts: a dimension chosen with probability proportional to its range, a value uniform in it.
//!
//! All arithmetic is in f64 and the chosen value is clamped into `[low, high)` of the f32 box, so a cut
//! always lies inside the box and the dimension walk cannot run off the end (AWS issues #374, #398).

/// A cut: points with `point[dim] <= value` go left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cut {
    /// Cut dimension.
    pub dim: usize,
    /// Cut value.
    pub value: f32,
}

/// Draws a cut of the box spanned by `min`, `max` and `point`, from a uniform `factor` in [0, 1).
/// Returns `None` when that box has no extent (every range is zero).
pub fn random_cut(factor: f64, point: &[f32], min: &[f32], max: &[f32]) -> Option<Cut> {
    let range = |i: usize| -> (f64, f64) {
        let low = min[i].min(point[i]) as f64;
        let high = max[i].max(point[i]) as f64;
        (low, high)
    };
    let total: f64 = (0..point.len()).map(|i| { let (l, h) = range(i); h - l }).sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let mut remaining = factor.clamp(0.0, 1.0) * total;
    let mut chosen = None;
    for i in 0..point.len() {
        let (low, high) = range(i);
        let width = high - low;
        if width <= 0.0 {
            continue;
        }
        chosen = Some((i, low, high, remaining));
        if remaining < width {
            break;
        }
        remaining -= width;
    }
    // Rounding can leave `remaining` ≥ the last width; the last positive dimension is then used.
    let (dim, low, high, offset) = chosen?;
    let low32 = low as f32;
    let high32 = high as f32;
    let mut value = (low + offset.min(high - low)) as f32;
    if value < low32 {
        value = low32;
    }
    if value >= high32 {
        value = high32.next_down();
    }
    Some(Cut { dim, value })
}

/// True when `cut` puts `point` on the other side from every point of the box `min`..`max`.
#[inline]
pub fn separates(cut: Cut, point: &[f32], min: &[f32], max: &[f32]) -> bool {
    let p = point[cut.dim];
    (p <= cut.value && cut.value < min[cut.dim]) || (max[cut.dim] <= cut.value && cut.value < p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_lies_inside_box_at_factor_extremes() {
        let point = [1.0f32, 2.0];
        let (min, max) = ([0.0f32, 2.0], [0.5f32, 2.0]);
        for factor in [0.0, 0.5, 1.0 - f64::EPSILON, 1.0] {
            let cut = random_cut(factor, &point, &min, &max).unwrap();
            assert_eq!(cut.dim, 0);
            assert!(cut.value >= 0.0 && cut.value < 1.0, "{cut:?}");
        }
    }

    #[test]
    fn adjacent_floats_still_get_a_separating_cut() {
        let a = 1.0f32;
        let b = a.next_up();
        let cut = random_cut(0.999_999, &[b], &[a], &[a]).unwrap();
        assert_eq!(cut.value, a);
        assert!(separates(cut, &[b], &[a], &[a]));
    }

    #[test]
    fn zero_extent_gives_no_cut() {
        assert!(random_cut(0.3, &[1.0, 1.0], &[1.0, 1.0], &[1.0, 1.0]).is_none());
    }

    #[test]
    fn extreme_ranges_do_not_overflow() {
        let cut = random_cut(0.75, &[f32::MAX, 0.0], &[f32::MIN, 0.0], &[f32::MIN, 0.0]).unwrap();
        assert_eq!(cut.dim, 0);
        assert!(cut.value < f32::MAX);
    }
}
