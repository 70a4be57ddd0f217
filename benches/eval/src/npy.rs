//! Minimal `.npy` (NumPy format 1.0–3.0) reading of 2-D float matrices and writing of f64 vectors.

use std::fs;
use std::io::Write;
use std::path::Path;

/// A row-major matrix of f32 values.
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f32>,
}

fn header_value<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let at = header.find(&format!("'{key}'")).ok_or_else(|| format!("npy header has no '{key}': {header}"))?;
    let rest = &header[at + key.len() + 2..];
    let colon = rest.find(':').ok_or("malformed npy header")?;
    Ok(rest[colon + 1..].trim_start())
}

/// Reads a 1-D or 2-D little-endian `<f4`/`<f8` C-ordered array (a 1-D array is one column).
pub fn read_matrix(path: &Path) -> Result<Matrix, String> {
    let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{}: not an .npy file", path.display()));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!("unsupported npy version {v}")),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).map_err(|e| e.to_string())?;
    let descr = header_value(header, "descr")?;
    let width = if descr.starts_with("'<f4'") {
        4
    } else if descr.starts_with("'<f8'") {
        8
    } else {
        return Err(format!("unsupported dtype {descr} (need <f4 or <f8)"));
    };
    if header_value(header, "fortran_order")?.starts_with("True") {
        return Err("Fortran-ordered arrays are not supported".into());
    }
    let shape = header_value(header, "shape")?;
    let inner = &shape[1..shape.find(')').ok_or("malformed shape")?];
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [n] => (*n, 1),
        [n, d] => (*n, *d),
        _ => return Err(format!("need a 1-D or 2-D array, got shape {dims:?}")),
    };
    let data = &bytes[start + header_len..];
    if data.len() < rows * cols * width {
        return Err("npy data shorter than its shape".into());
    }
    let values = if width == 4 {
        data.chunks_exact(4).take(rows * cols).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
    } else {
        data.chunks_exact(8)
            .take(rows * cols)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    Ok(Matrix { rows, cols, values })
}

/// Writes a 1-D `<f8` array.
pub fn write_vector(path: &Path, values: &[f64]) -> Result<(), String> {
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}", values.len());
    // pad so that the data starts on a 64-byte boundary, header ends with '\n'
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut f = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(&out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        header.push_str(&" ".repeat((64 - (10 + header.len() + 1) % 64) % 64));
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reads_f4_and_f8_matrices() {
        let dir = std::env::temp_dir().join(format!("rcf-eval-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f4: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = dir.join("a.npy");
        std::fs::write(&p, npy_bytes("<f4", "(3, 2)", &f4)).unwrap();
        let m = read_matrix(&p).unwrap();
        assert_eq!((m.rows, m.cols), (3, 2));
        assert_eq!(m.values, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let f8: Vec<u8> = [0.5f64, -1.5].iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&p, npy_bytes("<f8", "(2,)", &f8)).unwrap();
        let m = read_matrix(&p).unwrap();
        assert_eq!((m.rows, m.cols, m.values.clone()), (2, 1, vec![0.5, -1.5]));
        std::fs::write(&p, npy_bytes("<i8", "(2,)", &f8)).unwrap();
        assert!(read_matrix(&p).is_err());
        let out = dir.join("s.npy");
        write_vector(&out, &[0.25, 2.0, -3.0]).unwrap();
        let back = read_matrix(&out).unwrap();
        assert_eq!((back.rows, back.cols, back.values), (3, 1, vec![0.25, 2.0, -3.0]));
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!((bytes.len() - 3 * 8) % 64, 0, "data starts on a 64-byte boundary");
        std::fs::remove_dir_all(&dir).ok();
    }
}
