//! Random cuts. A random cut of a box picks a dimension with probability proportional to its range
//! and a value uniform in it; insertion only ever needs such a cut *given that it separates* a new
//! point from a box, which is a value uniform over the gap between them.
//!
//! All arithmetic is in f64 and the chosen value is clamped into the f32 gap, so a cut always
//! separates and the dimension walk cannot run off the end (AWS issues #374, #398).

/// A cut: points with `point[dim] <= value` go left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cut {
    /// Cut dimension.
    pub dim: usize,
    /// Cut value.
    pub value: f32,
}

/// Draws a cut of the box spanned by `min`, `max` and `point` *conditioned on separating* `point`
/// from the box: uniform over the part of the enlarged box that lies outside the original box.
/// `factor` is uniform in [0, 1). Returns `None` when the point lies inside the box.
pub fn separating_cut(factor: f64, point: &[f32], min: &[f32], max: &[f32]) -> Option<Cut> {
    let outside = |i: usize| -> (f64, f64) {
        let (p, lo, hi) = (point[i] as f64, min[i] as f64, max[i] as f64);
        ((lo - p).max(0.0), (p - hi).max(0.0))
    };
    let total: f64 = (0..point.len())
        .map(|i| {
            let (b, a) = outside(i);
            b + a
        })
        .sum();
    if !(total > 0.0 && total.is_finite()) {
        return None;
    }
    let mut remaining = factor.clamp(0.0, 1.0) * total;
    let mut last = None;
    for i in 0..point.len() {
        let (below, above) = outside(i);
        let width = below + above;
        if width <= 0.0 {
            continue;
        }
        last = Some((i, remaining.min(width)));
        if remaining < width {
            break;
        }
        remaining -= width;
    }
    // Rounding can leave `remaining` past the last gap; the last dimension with a gap is used.
    let (dim, offset) = last?;
    let (p, lo, hi) = (point[dim], min[dim], max[dim]);
    let value = if p < lo {
        // The gap [p, lo): the point goes left, the box right.
        let v = (p as f64 + offset) as f32;
        v.max(p).min(lo.next_down())
    } else {
        // The gap [hi, p): the box goes left, the point right.
        let v = (hi as f64 + offset) as f32;
        v.max(hi).min(p.next_down())
    };
    Some(Cut { dim, value })
}

/// True when `cut` puts `point` on the other side from every point of the box `min`..`max`.
#[cfg(test)]
pub fn separates(cut: Cut, point: &[f32], min: &[f32], max: &[f32]) -> bool {
    let p = point[cut.dim];
    (p <= cut.value && cut.value < min[cut.dim]) || (max[cut.dim] <= cut.value && cut.value < p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separating_cuts_always_separate_even_between_adjacent_floats() {
        let a = 1.0f32;
        for (point, min, max) in
            [([a.next_up()], [a], [a]), ([a], [a.next_up()], [2.0]), ([f32::MAX], [f32::MIN], [0.0])]
        {
            for factor in [0.0, 0.3, 0.999_999, 1.0] {
                let cut = separating_cut(factor, &point, &min, &max).unwrap();
                assert!(separates(cut, &point, &min, &max), "{cut:?} {point:?} {min:?} {max:?}");
            }
        }
        assert!(separating_cut(0.5, &[1.0], &[0.0], &[2.0]).is_none());
    }

    #[test]
    fn separating_cut_is_uniform_over_the_gap() {
        // Gap of width 1 below the box on dimension 0 and width 3 above it on dimension 1.
        let (point, min, max) = ([0.0f32, 5.0], [1.0f32, 0.0], [2.0f32, 2.0]);
        let picks: Vec<Cut> =
            (0..1000).map(|i| separating_cut(i as f64 / 1000.0, &point, &min, &max).unwrap()).collect();
        let on_first = picks.iter().filter(|c| c.dim == 0).count();
        assert_eq!(on_first, 250);
        assert!(picks.iter().all(|&c| separates(c, &point, &min, &max)));
    }
}
