//! Validation of points handed in by callers.

use crate::error::InputError;

/// Checks that `point` has `expected` values, all finite.
pub fn check_point(point: &[f32], expected: usize) -> Result<(), InputError> {
    if point.len() != expected {
        return Err(InputError::WrongLength { expected, found: point.len() });
    }
    match point.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(InputError::NonFinite { index, value: point[index] }),
        None => Ok(()),
    }
}

/// Checks a row-major batch of `row_len`-value rows; errors name the row.
pub fn check_batch(rows: &[f32], row_len: usize) -> Result<usize, InputError> {
    if row_len == 0 || !rows.len().is_multiple_of(row_len) {
        return Err(InputError::RaggedBatch { len: rows.len(), row_len });
    }
    for (i, row) in rows.chunks_exact(row_len).enumerate() {
        check_point(row, row_len).map_err(|e| e.in_row(i))?;
    }
    Ok(rows.len() / row_len)
}
