//! Property tests: every request parser, fed arbitrary or mutated input, returns a batch of the
//! right shape or an error — never a panic — and well-formed input decodes to what was encoded.

use proptest::prelude::*;

use super::media::{negotiate_accept, parse_content_type};
use super::proto::{Float64Tensor, Kind, Record, Value};
use super::recordio::write_records;
use super::{custom_attributes_want_attribution, decoder, DecodeLimits, InputFormat};

const FORMATS: [InputFormat; 5] = [
    InputFormat::Csv { label_size: 0 },
    InputFormat::Csv { label_size: 1 },
    InputFormat::Json,
    InputFormat::JsonLines,
    InputFormat::RecordIo,
];

fn limits(dim: usize) -> DecodeLimits<'static> {
    DecodeLimits::new(dim, 4096)
}

fn check_shape(format: InputFormat, body: &[u8], dim: usize) {
    if let Ok(batch) = decoder(format).decode(body, &limits(dim)) {
        assert_eq!(batch.values.len(), batch.rows * dim, "{format:?}");
        assert!(batch.rows > 0);
        assert!(batch.values.iter().all(|v| v.is_finite()));
        assert!(batch.attribution.is_empty() || batch.attribution.len() == batch.rows);
    }
}

fn record(values: &[f64]) -> Record {
    let mut r = Record::default();
    r.features.insert(
        "values".into(),
        Value {
            kind: Some(Kind::Float64Tensor(Float64Tensor { values: values.to_vec(), keys: vec![], shape: vec![] })),
        },
    );
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), dim in 1usize..6) {
        for format in FORMATS {
            check_shape(format, &body, dim);
        }
    }

    #[test]
    fn text_like_input_never_panics(body in "[0-9eE+\\-.,;:\\[\\]{}\" \\n\\rNaInfkeysvaluesshapedatafeatures]{0,300}", dim in 1usize..5) {
        for format in FORMATS {
            check_shape(format, body.as_bytes(), dim);
        }
    }

    #[test]
    fn mutated_recordio_never_panics(rows in proptest::collection::vec(proptest::collection::vec(-1e6f64..1e6, 3), 1..8),
                                     flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
                                     cut in any::<usize>()) {
        let mut body = write_records(&rows.iter().map(|r| record(r)).collect::<Vec<_>>());
        for (at, byte) in flips {
            let n = body.len();
            body[at % n] ^= byte;
        }
        let n = body.len();
        body.truncate(cut % (n + 1));
        check_shape(InputFormat::RecordIo, &body, 3);
    }

    #[test]
    fn well_formed_rows_round_trip_in_every_format(rows in proptest::collection::vec(proptest::collection::vec(-1e6f32..1e6, 2), 1..20)) {
        let csv = rows.iter().map(|r| format!("{},{}", r[0], r[1])).collect::<Vec<_>>().join("\n");
        let json = format!("{{\"instances\":[{}]}}", rows.iter().map(|r| format!("{{\"features\":[{},{}]}}", r[0], r[1])).collect::<Vec<_>>().join(","));
        let lines = rows.iter().map(|r| format!("[{},{}]", r[0], r[1])).collect::<Vec<_>>().join("\n");
        let rio = write_records(&rows.iter().map(|r| record(&[r[0] as f64, r[1] as f64])).collect::<Vec<_>>());
        let expected: Vec<f32> = rows.iter().flatten().copied().collect();
        for (format, body) in [(InputFormat::Csv { label_size: 0 }, csv.into_bytes()), (InputFormat::Json, json.into_bytes()),
                               (InputFormat::JsonLines, lines.into_bytes()), (InputFormat::RecordIo, rio)] {
            let batch = decoder(format).decode(&body, &limits(2)).unwrap();
            prop_assert_eq!(batch.rows, rows.len());
            prop_assert_eq!(&batch.values, &expected);
        }
    }

    #[test]
    fn header_parsers_never_panic(value in "\\PC{0,80}") {
        let _ = parse_content_type(&value);
        let _ = negotiate_accept(Some(&value));
        let _ = custom_attributes_want_attribution(&value);
    }
}

#[test]
fn decoded_value_limit_is_enforced_for_sparse_expansion() {
    let one = r#"{"data":{"features":{"keys":[0],"shape":[1000],"values":[1]}}}"#;
    let body = [one; 10].join("\n");
    let err = decoder(InputFormat::JsonLines).decode(body.as_bytes(), &DecodeLimits::new(1000, 4000));
    assert!(matches!(err, Err(super::WireError::TooLarge(m)) if m.contains("line 5")));
}

#[test]
fn sparse_growth_is_charged_before_it_is_allocated() {
    use std::cell::Cell;
    let one = r#"{"data":{"features":{"keys":[0],"shape":[1000],"values":[1]}}}"#;
    let body = [one; 10].join("\n");
    // A budget of 16 000 bytes holds 4 000 values: the fifth record must not be allocated.
    let left = Cell::new(16_000u64);
    let charged = Cell::new(0u64);
    let charge = |bytes: u64| {
        if bytes > left.get() {
            return Err(super::WireError::Busy(format!("{bytes} bytes do not fit")));
        }
        left.set(left.get() - bytes);
        charged.set(charged.get() + bytes);
        Ok(())
    };
    let limits = DecodeLimits { feature_dim: 1000, max_values: 1 << 20, charge: Some(&charge) };
    let err = decoder(InputFormat::JsonLines).decode(body.as_bytes(), &limits);
    assert!(matches!(err, Err(super::WireError::Busy(_))), "{err:?}");
    assert!(charged.get() <= 16_000);

    // With room for all ten records, every allocated value was charged first.
    let left = Cell::new(u64::MAX);
    let charged = Cell::new(0u64);
    let charge = |bytes: u64| {
        left.set(left.get() - bytes);
        charged.set(charged.get() + bytes);
        Ok(())
    };
    let limits = DecodeLimits { feature_dim: 1000, max_values: 1 << 20, charge: Some(&charge) };
    let batch = decoder(InputFormat::JsonLines).decode(body.as_bytes(), &limits).unwrap();
    assert_eq!(batch.rows, 10);
    assert_eq!(charged.get(), (batch.values.capacity() * 4) as u64);
}

#[test]
fn a_large_configuration_is_refused_by_its_size_before_it_is_parsed() {
    let zeros = vec!["0"; 100_000].join(",");
    let body = format!(r#"{{"configuration":[{zeros}],"instances":[[1,2]]}}"#);
    let err = decoder(InputFormat::Json).decode(body.as_bytes(), &DecodeLimits::new(2, 4096));
    assert!(matches!(&err, Err(super::WireError::BadRequest(m)) if m.contains("over the 4096 read")), "{err:?}");
    let body = format!(r#"{{"instances":[{{"features":[1,2],"configuration":[{zeros}]}}]}}"#);
    let err = decoder(InputFormat::Json).decode(body.as_bytes(), &DecodeLimits::new(2, 4096));
    assert!(matches!(&err, Err(super::WireError::BadRequest(m)) if m.contains("over the 4096 read")), "{err:?}");
    let small = r#"{"configuration":{"attribution":true},"instances":[[1,2]]}"#;
    assert!(decoder(InputFormat::Json).decode(small.as_bytes(), &DecodeLimits::new(2, 4096)).unwrap().attribution_all);
}
