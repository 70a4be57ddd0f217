//! `rcf serve` on a free loopback port with a model trained by `rcf train`: every input × output
//! format, golden response shapes, attribution opt-in, limits, the bad-input catalogue, and drain.

mod common;

use std::time::{Duration, Instant};

use common::*;

const ROWS: [[f64; 3]; 3] = [[1.5, 6.0, 4.0], [900.0, -900.0, 900.0], [2.5, 3.0, 7.5]];

fn rows_csv() -> String {
    ROWS.iter().map(|r| format!("{},{},{}", r[0], r[1], r[2])).collect::<Vec<_>>().join("\n")
}

fn rows_json() -> String {
    format!(
        r#"{{"instances":[{{"features":[{},{},{}]}},{{"data":{{"features":{{"values":[{},{},{}]}}}}}},{{"data":{{"features":{{"keys":[0,1,2],"shape":[3],"values":[{},{},{}]}}}}}}]}}"#,
        ROWS[0][0], ROWS[0][1], ROWS[0][2], ROWS[1][0], ROWS[1][1], ROWS[1][2], ROWS[2][0], ROWS[2][1], ROWS[2][2]
    )
}

fn rows_jsonlines() -> String {
    format!(
        "{{\"features\":[{},{},{}]}}\n[{},{},{}]\n{{\"data\":{{\"features\":{{\"values\":[{},{},{}]}}}}}}\n",
        ROWS[0][0], ROWS[0][1], ROWS[0][2], ROWS[1][0], ROWS[1][1], ROWS[1][2], ROWS[2][0], ROWS[2][1], ROWS[2][2]
    )
}

fn rows_recordio() -> Vec<u8> {
    let sparse = proto::Value {
        kind: Some(proto::Kind::Float32Tensor(proto::Float32Tensor {
            values: vec![ROWS[2][0] as f32, ROWS[2][1] as f32, ROWS[2][2] as f32],
            keys: vec![0, 1, 2],
            shape: vec![3],
        })),
    };
    recordio(&[record_with(dense64(&ROWS[0]), None), record_with(dense64(&ROWS[1]), None), record_with(sparse, None)])
}

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("text/csv", rows_csv().into_bytes()),
        ("application/json", rows_json().into_bytes()),
        ("application/jsonlines", rows_jsonlines().into_bytes()),
        ("application/x-recordio-protobuf", rows_recordio()),
    ]
}

/// Scores from a response in any format.
fn parse_scores(accept: &str, body: &[u8]) -> Vec<f64> {
    match accept {
        "application/json" => scores_of(body),
        "application/jsonlines" => {
            let text = std::str::from_utf8(body).unwrap();
            assert!(!text.ends_with('\n') && !text.contains(",\n"), "JSON Lines without commas or trailing newline");
            text.lines().map(|l| json(l.as_bytes())["score"].as_f64().unwrap()).collect()
        }
        "text/csv" => std::str::from_utf8(body).unwrap().lines().map(|l| l.parse().unwrap()).collect(),
        "application/x-recordio-protobuf" => read_recordio(body)
            .iter()
            .map(|r| {
                assert!(r.features.is_empty());
                match &r.label["score"].kind {
                    Some(proto::Kind::Float32Tensor(t)) => {
                        assert_eq!(t.values.len(), 1);
                        t.values[0] as f64
                    }
                    other => panic!("score is not a Float32Tensor: {other:?}"),
                }
            })
            .collect(),
        _ => unreachable!(),
    }
}

#[test]
fn every_input_format_with_every_output_format_gives_the_same_scores() {
    let ml = trained_tree(2000);
    let server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let (status, _, body) = server.invoke(&[("Content-Type", "text/csv")], rows_csv().as_bytes());
    assert_eq!(status, 200);
    let reference = scores_of(&body);
    assert_eq!(reference.len(), 3);
    assert!(
        reference[1] > 2.0 * reference[0] && reference[1] > 2.0 * reference[2],
        "the outlier scores highest: {reference:?}"
    );
    for (content_type, body) in bodies() {
        for accept in ["application/json", "application/jsonlines", "text/csv", "application/x-recordio-protobuf"] {
            let (status, ct, out) = server.invoke(&[("Content-Type", content_type), ("Accept", accept)], &body);
            assert_eq!(status, 200, "{content_type} → {accept}: {}", String::from_utf8_lossy(&out));
            assert_eq!(ct, accept, "response Content-Type is exact");
            let got = parse_scores(accept, &out);
            assert_eq!(got.len(), 3, "{content_type} → {accept}");
            for (g, r) in got.iter().zip(&reference) {
                let tolerance = if accept == "application/x-recordio-protobuf" { 1e-6 * r.abs().max(1.0) } else { 0.0 };
                assert!((g - r).abs() <= tolerance, "{content_type} → {accept}: {got:?} vs {reference:?}");
            }
        }
    }
}

#[test]
fn golden_shapes_of_the_default_responses() {
    let ml = trained_tree(2000);
    let server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let (status, ct, body) = server.invoke(&[("Content-Type", "text/csv")], b"1.5,6,4\n2.5,3,7.5");
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let text = String::from_utf8(body).unwrap();
    let v = json(text.as_bytes());
    assert_eq!(v.as_object().unwrap().len(), 1);
    for entry in v["scores"].as_array().unwrap() {
        assert_eq!(entry.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["score"]);
    }
    assert!(text.starts_with("{\"scores\":[{\"score\":") && text.ends_with("}]}"), "{text}");
    // A bare list of lists (the SDK's JSONSerializer on an ndarray) and Accept */* also work.
    let (status, ct, body) =
        server.invoke(&[("Content-Type", "application/json"), ("Accept", "*/*")], b"[[1.5,6,4],[2.5,3,7.5]]");
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(scores_of(&body), scores_of(text.as_bytes()));
    // CSV with label_size=0 and charset parameters, upper case.
    let (status, _, body2) =
        server.invoke(&[("Content-Type", "TEXT/CSV; label_size=0; charset=utf-8")], b"1.5,6,4\n2.5,3,7.5\n");
    assert_eq!(status, 200);
    assert_eq!(scores_of(&body2), scores_of(text.as_bytes()));
}

#[test]
fn ping_execution_parameters_and_model_tar_gz() {
    let ml = trained_tree(500);
    // Serve from a model.tar.gz packed like SageMaker would deliver it unpacked — here left packed.
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("-czf")
        .arg(dir.path().join("model.tar.gz"))
        .arg("-C")
        .arg(ml.model_dir())
        .args(["model.rcf", "manifest.json"])
        .status()
        .unwrap();
    assert!(status.success());
    let server = Server::start(dir.path(), &[("SAGEMAKER_MAX_PAYLOAD_IN_MB", "20")]);
    server.wait_ready();
    let (status, _, body) = server.get("/ping");
    assert_eq!((status, body.len()), (200, 0));
    let (status, ct, body) = server.get("/execution-parameters");
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let v = json(&body);
    assert_eq!(v["BatchStrategy"], "MULTI_RECORD");
    assert_eq!(v["MaxPayloadInMB"], 20);
    let concurrent = v["MaxConcurrentTransforms"].as_u64().unwrap();
    assert!(concurrent >= 1 && concurrent * 20 <= 100);
    let (status, _, _) = server.invoke(&[("Content-Type", "text/csv")], b"1,2,3");
    assert_eq!(status, 200);
}

#[test]
fn missing_model_fails_startup_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bounded(
        std::process::Command::new(BIN)
            .args(["serve", "--host", "127.0.0.1", "--port", "0", "--model-dir"])
            .arg(dir.path()),
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no model in") && err.contains("model.rcf"), "{err}");
}

#[test]
fn attribution_is_opt_in_and_leaves_default_bytes_unchanged() {
    let ml = trained_tree(2000);
    let server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let plain = server.invoke(&[("Content-Type", "text/csv")], rows_csv().as_bytes()).2;
    let with_false = server
        .invoke(
            &[("Content-Type", "text/csv"), ("X-Amzn-SageMaker-Custom-Attributes", "attribution=false")],
            rows_csv().as_bytes(),
        )
        .2;
    assert_eq!(plain, with_false);

    let (status, _, body) = server.invoke(
        &[("Content-Type", "text/csv"), ("X-Amzn-SageMaker-Custom-Attributes", "trace=1,attribution=true")],
        rows_csv().as_bytes(),
    );
    assert_eq!(status, 200);
    let v = json(&body);
    let plain_scores = scores_of(&plain);
    for (i, entry) in v["scores"].as_array().unwrap().iter().enumerate() {
        assert_eq!(entry["score"].as_f64().unwrap(), plain_scores[i]);
        let high: Vec<f64> =
            entry["attribution"]["high"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        let low: Vec<f64> =
            entry["attribution"]["low"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!((high.len(), low.len()), (3, 3));
        let total: f64 = high.iter().chain(&low).sum();
        assert!((total - plain_scores[i]).abs() < 1e-6 * plain_scores[i].max(1.0), "attribution sums to the score");
    }

    // Per-instance configuration in JSON: only that instance gets attribution.
    let body =
        br#"{"instances":[{"features":[1.5,6,4]},{"features":[900,-900,900],"configuration":{"attribution":true}}]}"#;
    let v = json(&server.invoke(&[("Content-Type", "application/json")], body).2);
    assert!(v["scores"][0].get("attribution").is_none());
    assert!(v["scores"][1]["attribution"]["high"].is_array());

    // recordIO: the record's configuration field; attribution comes back as extra labels.
    let mut record = record_with(dense64(&ROWS[1]), None);
    record.configuration = Some("{\"attribution\": true}".into());
    let out = server
        .invoke(
            &[("Content-Type", "application/x-recordio-protobuf"), ("Accept", "application/x-recordio-protobuf")],
            &recordio(&[record]),
        )
        .2;
    let records = read_recordio(&out);
    assert!(records[0].label.contains_key("attribution_high") && records[0].label.contains_key("attribution_low"));
}

#[test]
fn body_limit_follows_sagemaker_max_payload_in_mb() {
    let ml = trained_tree(500);
    let server = Server::start(&ml.model_dir(), &[("SAGEMAKER_MAX_PAYLOAD_IN_MB", "1")]);
    server.wait_ready();
    let row = "1.5,6,4\n";
    let big = row.repeat((1 << 20) / row.len() + 10);
    let (status, _, body) = server.invoke(&[("Content-Type", "text/csv")], big.as_bytes());
    assert_eq!(status, 413);
    assert!(json(&body)["error"]["message"].as_str().unwrap().contains("SAGEMAKER_MAX_PAYLOAD_IN_MB"));
    let small = row.repeat((1 << 20) / row.len() - 10);
    let (status, _, body) = server.invoke(&[("Content-Type", "text/csv")], small.as_bytes());
    assert_eq!(status, 200);
    assert_eq!(scores_of(&body).len(), (1 << 20) / row.len() - 10, "one score per input line");
}

#[test]
fn invalid_payload_limit_is_refused_at_startup() {
    let ml = trained_tree(200);
    let out = run_bounded(
        std::process::Command::new(BIN)
            .args(["serve", "--host", "127.0.0.1", "--port", "0", "--model-dir"])
            .arg(ml.model_dir())
            .env("SAGEMAKER_MAX_PAYLOAD_IN_MB", "5000"),
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SAGEMAKER_MAX_PAYLOAD_IN_MB"));
}

#[test]
fn sigterm_stops_the_server_promptly() {
    let ml = trained_tree(200);
    let mut server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    server.terminate();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "clean exit after SIGTERM: {status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "server still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Case {
    name: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    needle: &'static str,
}

fn case(name: &'static str, ct: &str, body: impl Into<Vec<u8>>, status: u16, needle: &'static str) -> Case {
    Case { name, headers: vec![("Content-Type", ct.to_string())], body: body.into(), status, needle }
}

fn frame(magic: u32, word: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = magic.to_le_bytes().to_vec();
    v.extend_from_slice(&word.to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn catalogue() -> Vec<Case> {
    let good = record_with(dense64(&[1.0, 2.0, 3.0]), None);
    let good_frame = recordio(std::slice::from_ref(&good));
    let mut no_values = proto::Record::default();
    no_values.features.insert("other".into(), dense64(&[1.0, 2.0, 3.0]));
    let bytes_value = record_with(
        proto::Value {
            kind: Some(proto::Kind::Bytes(proto::Bytes { value: vec![b"abc".to_vec()], content_type: None })),
        },
        None,
    );
    let mut bad_config = good.clone();
    bad_config.configuration = Some("{\"verbose\":1}".into());
    let ten_mb_line = format!("{}\n", vec!["1.0"; 2_700_000].join(","));
    let seven_mb = "1.5,6,4\n".repeat(7 * 1024 * 1024 / 8 + 1);
    let csv = "text/csv";
    let js = "application/json";
    let jl = "application/jsonlines";
    let rio = "application/x-recordio-protobuf";
    let mut cases = vec![
        case("csv empty body", csv, "", 400, "empty"),
        case("csv whitespace body", csv, "  \n\n", 400, "empty"),
        case("csv too few features", csv, "1,2", 400, "line 1: expected 3 features (feature_dim), found 2"),
        case("csv too many features on line 3", csv, "1,2,3\n4,5,6\n7,8,9,10", 400, "line 3: expected 3 features"),
        case("csv text in a number field", csv, "1,abc,3", 400, "line 1, column 2: \"abc\" is not a number"),
        case("csv header row", csv, "a,b,c\n1,2,3", 400, "must not have a header row"),
        case("csv NaN", csv, "1,NaN,3", 400, "not a finite number"),
        case("csv infinity", csv, "1,2,inf", 400, "not a finite number"),
        case("csv beyond float32", csv, "1,2,1e39", 400, "within float32 range"),
        case("csv blank line between records", csv, "1,2,3\n\n4,5,6", 400, "line 2 is empty"),
        case("csv empty field", csv, "1,,3", 400, "line 1, column 2"),
        case("csv 10 MB line", csv, ten_mb_line, 413, "exceeds the limit"),
        case("csv bad label_size", "text/csv;label_size=x", "1,2,3", 415, "label_size"),
        case("json empty body", js, "", 400, "empty"),
        case("json truncated", js, "{\"instances\": [", 400, "not valid JSON"),
        case("json without instances", js, "{\"rows\": [[1,2,3]]}", 400, "no \"instances\""),
        case("json instances not a list", js, "{\"instances\": 5}", 400, "not valid JSON"),
        case(
            "json wrong dimension count",
            js,
            r#"{"instances":[{"features":[1,2,3]},{"features":[1,2]}]}"#,
            400,
            "instance 2: expected 3 features",
        ),
        case(
            "json string feature",
            js,
            r#"{"instances":[{"features":[1,"x",3]}]}"#,
            400,
            "instance 1: invalid instance",
        ),
        case(
            "json neither features nor data",
            js,
            r#"{"instances":[{"values":[1,2,3]}]}"#,
            400,
            "neither \"features\" nor \"data\"",
        ),
        case(
            "json sparse key out of range",
            js,
            r#"{"instances":[{"data":{"features":{"keys":[7],"shape":[3],"values":[1]}}}]}"#,
            400,
            "sparse key 7 is out of range",
        ),
        case(
            "json sparse wrong shape",
            js,
            r#"{"instances":[{"data":{"features":{"keys":[0],"shape":[2000],"values":[1]}}}]}"#,
            400,
            "shape [3]",
        ),
        case(
            "json sparse duplicate key",
            js,
            r#"{"instances":[{"data":{"features":{"keys":[1,1],"shape":[3],"values":[1,2]}}}]}"#,
            400,
            "more than once",
        ),
        case(
            "json sparse keys/values mismatch",
            js,
            r#"{"instances":[{"data":{"features":{"keys":[0,1],"shape":[3],"values":[1]}}}]}"#,
            400,
            "2 keys but 1 values",
        ),
        case("json scalar body", js, "42", 400, "not a JSON object or list"),
        case("json NaN literal", js, r#"{"instances":[{"features":[1,NaN,3]}]}"#, 400, "not valid JSON"),
        case("json bare list wrong dims", js, "[[1,2]]", 400, "instance 1: expected 3 features"),
        case(
            "json unknown configuration key",
            js,
            r#"{"configuration":{"verbose":true},"instances":[[1,2,3]]}"#,
            400,
            "unknown key \"verbose\"",
        ),
        case("json empty instances", js, r#"{"instances":[]}"#, 400, "holds no records"),
        case("jsonlines blank line", jl, "[1,2,3]\n\n[1,2,3]", 400, "line 2 is empty"),
        case("jsonlines bad second line", jl, "[1,2,3]\n{\"features\":[1,2]}", 400, "line 2: expected 3 features"),
        case("jsonlines not UTF-8", jl, vec![b'[', 0xff, 0xfe, b']'], 400, "not UTF-8"),
        case(
            "recordio truncated payload",
            rio,
            good_frame[..good_frame.len() - 6].to_vec(),
            400,
            "truncated recordIO frame",
        ),
        case("recordio truncated header", rio, vec![0x0a, 0x23, 0xd7], 400, "truncated recordIO frame header"),
        case("recordio bad magic", rio, frame(0xDEAD_BEEF, 4, b"abcd"), 400, "bad recordIO magic 0xDEADBEEF"),
        case(
            "recordio garbage payload",
            rio,
            frame(0xCED7_230A, 4, &[0xff, 0xff, 0xff, 0xff]),
            400,
            "not an aialgs.data.Record",
        ),
        case("recordio continuation flag", rio, frame(0xCED7_230A, (1 << 29) | 4, b"abcd"), 400, "continuation flag"),
        case("recordio no values key", rio, recordio(&[no_values]), 400, "no feature tensor under key \"values\""),
        case(
            "recordio wrong dims in record 2",
            rio,
            recordio(&[good.clone(), record_with(dense64(&[1.0]), None)]),
            400,
            "record 2: expected 3 features",
        ),
        case("recordio bytes features", rio, recordio(&[bytes_value]), 400, "Bytes value"),
        case("recordio bad configuration", rio, recordio(&[bad_config]), 400, "unknown key \"verbose\""),
        case(
            "recordio NaN",
            rio,
            recordio(&[record_with(dense64(&[1.0, f64::NAN, 3.0]), None)]),
            400,
            "feature 1 is NaN",
        ),
        case("oversize body", csv, seven_mb, 413, "exceeds the limit of 6291456 bytes"),
        case("unknown content type", "text/plain", "1,2,3", 415, "unsupported Content-Type \"text/plain\""),
        case("unsupported accept", csv, "1,2,3", 406, "cannot answer Accept \"image/png\""),
        case("bad custom attribute", csv, "1,2,3", 400, "attribution must be true or false"),
    ];
    let n = cases.len();
    cases[n - 2].headers.push(("Accept", "image/png".into()));
    cases[n - 1].headers.push(("X-Amzn-SageMaker-Custom-Attributes", "attribution=maybe".into()));
    cases
}

#[test]
fn bad_input_catalogue_gets_status_and_message_and_the_server_stays_healthy() {
    let ml = trained_tree(1000);
    let server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let (_, _, reference) = server.invoke(&[("Content-Type", "text/csv")], b"1,2,3\n900,-900,900");
    let cases = catalogue();
    assert!(cases.len() >= 30, "at least 30 cases, have {}", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, ct, body) = server.invoke(&headers, &c.body);
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(String::from))
            .unwrap_or_else(|| {
                format!("<no JSON error body: {}>", String::from_utf8_lossy(&body[..body.len().min(200)]))
            });
        if status != c.status || ct != "application/json" || !message.contains(c.needle) {
            failures.push(format!(
                "{}: got {status} {ct} {message:?}; want {} containing {:?}",
                c.name, c.status, c.needle
            ));
        }
        // The server still answers correctly after every bad request.
        let (ps, _, _) = server.get("/ping");
        let (ok, _, again) = server.invoke(&[("Content-Type", "text/csv")], b"1,2,3\n900,-900,900");
        if ps != 200 || ok != 200 || again != reference {
            failures.push(format!("{}: server unhealthy afterwards", c.name));
        }
    }
    // Routing errors, also JSON.
    for (method, path, status) in [("GET", "/invocations", 405), ("POST", "/ping", 405), ("GET", "/nope", 404)] {
        let (s, ct, body) = server.request(method, path);
        if s != status || ct != "application/json" || json(&body)["error"]["message"].as_str().is_none() {
            failures.push(format!("{method} {path}: got {s} {ct}"));
        }
    }
    // Missing Content-Type entirely.
    let (s, _, body) = server.invoke(&[], b"1,2,3");
    if s != 415 || !String::from_utf8_lossy(&body).contains("missing Content-Type") {
        failures.push(format!("missing Content-Type: got {s}"));
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len() + 4, failures.join("\n"));
}

#[test]
fn chunked_oversize_body_without_content_length_is_413() {
    let ml = trained_tree(200);
    let server = Server::start(&ml.model_dir(), &[("SAGEMAKER_MAX_PAYLOAD_IN_MB", "1")]);
    server.wait_ready();
    let body = "1,2,3\n".repeat(400_000);
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let resp = agent
        .post(&server.url("/invocations"))
        .set("Content-Type", "text/csv")
        .send(std::io::Cursor::new(body.into_bytes()));
    let (status, _, body) = response(resp);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert_eq!(server.get("/ping").0, 200);
}
