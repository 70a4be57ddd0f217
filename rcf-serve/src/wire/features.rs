//! Turning decoded values (dense or sparse) into checked `f32` feature rows.

/// Appends a dense row; it must have exactly `dim` finite values.
pub fn dense_into<I>(out: &mut Vec<f32>, dim: usize, values: I) -> Result<(), String>
where
    I: ExactSizeIterator<Item = f64>,
{
    if values.len() != dim {
        return Err(format!("expected {dim} features (feature_dim), found {}", values.len()));
    }
    let start = out.len();
    for (i, v) in values.enumerate() {
        match finite(v) {
            Some(x) => out.push(x),
            None => {
                out.truncate(start);
                return Err(format!("feature {i} is {v}; only finite numbers within float32 range are accepted"));
            }
        }
    }
    Ok(())
}

/// Appends a sparse row of `dim` values: zeros except at `keys`. `shape` must be `[dim]`.
pub fn sparse_into<I>(out: &mut Vec<f32>, dim: usize, keys: &[u64], shape: &[u64], values: I) -> Result<(), String>
where
    I: ExactSizeIterator<Item = f64>,
{
    if shape.len() != 1 || shape[0] != dim as u64 {
        return Err(format!("sparse tensor must have shape [{dim}] (feature_dim), found {shape:?}"));
    }
    if keys.len() != values.len() {
        return Err(format!("sparse tensor has {} keys but {} values", keys.len(), values.len()));
    }
    let start = out.len();
    out.resize(start + dim, 0.0);
    let mut seen = vec![false; dim];
    for (&key, v) in keys.iter().zip(values) {
        let fail = |msg: String, out: &mut Vec<f32>| {
            out.truncate(start);
            Err(msg)
        };
        let k = key as usize;
        if key >= dim as u64 {
            return fail(format!("sparse key {key} is out of range for feature_dim {dim}"), out);
        }
        if seen[k] {
            return fail(format!("sparse key {key} appears more than once"), out);
        }
        seen[k] = true;
        match finite(v) {
            Some(x) => out[start + k] = x,
            None => return fail(format!("value at sparse key {key} is {v}; only finite numbers are accepted"), out),
        }
    }
    Ok(())
}

/// `v` as a finite `f32`, if it is one.
pub fn finite(v: f64) -> Option<f32> {
    let x = v as f32;
    x.is_finite().then_some(x)
}
