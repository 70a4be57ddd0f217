//! Hostile HTTP clients against `rcf serve`: absurd media parameters, slow heads and bodies,
//! absurd chunk sizes, connection floods, oversize responses, malformed requests. Each case checks
//! the specific answer (status, JSON error naming the limit), that the server did not panic, and
//! that it still answers `/ping` and scores afterwards. Loops are bounded in count and time.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

/// A server started under `prlimit --nofile=N` as well as the harness's `--as` cap.
fn start_with_nofile(model_dir: &std::path::Path, nofile: u32, envs: &[(&str, &str)]) -> Server {
    Server::start_limited(model_dir, &[format!("--nofile={nofile}")], envs)
}

/// Asserts the server is alive, did not panic, answers `/ping` and scores.
fn assert_healthy(server: &mut Server, what: &str) {
    assert!(server.child.try_wait().unwrap().is_none(), "{what}: the server exited");
    let (status, _, _) = server.get("/ping");
    assert_eq!(status, 200, "{what}: /ping afterwards");
    let (status, _, body) = server.invoke(&[("Content-Type", "text/csv")], b"1,2,3\n900,-900,900");
    assert_eq!(status, 200, "{what}: scoring afterwards: {}", String::from_utf8_lossy(&body));
    assert_eq!(scores_of(&body).len(), 2);
    // Responses keep their Content-Length (not chunked) on a keep-alive connection.
    let mut s = connect(server);
    s.write_all(format!("{}1,2,3", post_head("Content-Length: 5\r\n")).as_bytes()).unwrap();
    let raw = read_response(&mut s).unwrap_or_else(|| panic!("{what}: no raw answer"));
    assert_eq!(raw.status, 200, "{what}");
    assert!(raw.head.contains("content-length:") && !raw.head.contains("chunked"), "{what}: {}", raw.head);
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(!log.iter().any(|l| l.contains("panicked")), "{what}: panic in the log:\n{}", log.join("\n"));
}

fn error_message(body: &[u8]) -> String {
    json(body)["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {}", String::from_utf8_lossy(body)))
        .to_string()
}

/// The head of a CSV `POST /invocations` with `extra` header lines (each ending in CRLF).
fn post_head(extra: &str) -> String {
    format!("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n{extra}\r\n")
}

fn connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// A raw HTTP/1.1 response: status, lower-cased head, body (read by Content-Length, or to EOF).
struct Raw {
    status: u16,
    head: String,
    body: Vec<u8>,
}

fn read_response(stream: &mut TcpStream) -> Option<Raw> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
        .unwrap_or(usize::MAX);
    let mut body = bytes[head_end..].to_vec();
    while body.len() < length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some(Raw { status, head, body })
}

/// True once the server has closed `stream` (EOF or reset) within `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
                return false
            }
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn absurd_media_parameters_get_415_naming_the_limit() {
    let ml = trained_tree(500);
    let mut server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let long_digits = format!("text/csv;label_size={}", "9".repeat(2000));
    let many_params = format!("text/csv;{}label_size=99999999999", "a=b;".repeat(2000));
    let cases: Vec<(String, &str)> = vec![
        ("text/csv;label_size=10000000000".into(), "MAX_LABEL_SIZE"),
        ("text/csv;label_size=18446744073709551615".into(), "MAX_LABEL_SIZE"),
        ("text/csv;label_size=18446744073709551616".into(), "MAX_LABEL_SIZE"),
        ("text/csv;label_size=1001".into(), "maximum of 1000 label columns"),
        (long_digits, "MAX_LABEL_SIZE"),
        ("text/csv;label_size=-1".into(), "whole number from 0 to 1000"),
        ("text/csv;label_size=1e3".into(), "whole number from 0 to 1000"),
        ("text/csv;label_size=".into(), "whole number from 0 to 1000"),
        ("text/csv;label_size=1;label_size=0".into(), "more than once"),
    ];
    for (ct, needle) in &cases {
        let (status, content_type, body) = server.invoke(&[("Content-Type", ct)], b"1,2,3,4,5,6");
        assert_eq!((status, content_type.as_str()), (415, "application/json"), "{ct:.80}");
        let message = error_message(&body);
        assert!(message.contains(needle) && message.len() < 1000, "{ct:.80}: {message}");
    }
    // Parameters past the first 16 are ignored: the huge label_size at the end is never read.
    let (status, _, body) = server.invoke(&[("Content-Type", &many_params)], b"1,2,3");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // The largest label_size is accepted and works.
    let row: String = (0..1003).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let (status, _, body) = server.invoke(&[("Content-Type", "text/csv;label_size=1000")], row.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // Absurd Accept values are answered, not crashed on.
    let accept = format!("{}text/csv;q=NaN, application/json;q=1e999", "x/y;q=0.5,".repeat(500));
    let (status, _, _) = server.invoke(&[("Content-Type", "text/csv"), ("Accept", &accept)], b"1,2,3");
    assert_eq!(status, 200);
    assert_healthy(&mut server, "media parameters");
}

#[test]
fn a_training_channel_with_a_huge_label_size_fails_with_a_failure_file() {
    for label_size in ["10000000000", "18446744073709551615"] {
        let ml = MlTree::new();
        ml.config("hyperparameters.json", r#"{"feature_dim":"3","num_trees":"50","num_samples_per_tree":"64"}"#)
            .config(
                "inputdataconfig.json",
                &format!(
                    r#"{{"train":{{"ContentType":"text/csv;label_size={label_size}","TrainingInputMode":"File"}}}}"#
                ),
            )
            .data("train", "part-0.csv", b"1,2,3,4\n5,6,7,8\n");
        let out = ml.train();
        assert_eq!(out.status.code(), Some(1), "exit code (no abort): {:?}", out.status);
        let failure = ml.failure().expect("a failure file");
        assert!(failure.contains("MAX_LABEL_SIZE") && failure.contains("channel train"), "{failure}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}

#[test]
fn slow_heads_are_cut_at_the_header_timeout() {
    let ml = trained_tree(300);
    let mut server = Server::start(&ml.model_dir(), &[("RCF_SERVE_HEADER_TIMEOUT_SECS", "2")]);
    server.wait_ready();
    // One byte every 200 ms: never a complete head.
    let mut slow = connect(&server);
    let start = Instant::now();
    let head = post_head(&format!("X-Pad: {}\r\n", "a".repeat(40)));
    let head = head.as_bytes();
    let mut cut = false;
    for &byte in head.iter() {
        if slow.write_all(&[byte]).is_err() {
            cut = true;
            break;
        }
        if closed_within(&mut slow, Duration::from_millis(200)) {
            cut = true;
            break;
        }
        if start.elapsed() > Duration::from_secs(8) {
            break;
        }
    }
    let elapsed = start.elapsed();
    assert!(cut, "a slow head was not cut within {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5), "cut after {elapsed:?}");
    // An idle keep-alive connection is closed after the same time.
    let mut idle = connect(&server);
    idle.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut idle).expect("ping answer").status, 200);
    let start = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(6)), "idle keep-alive connection still open");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_healthy(&mut server, "slow head");
}

fn slow_body(server: &Server, body_bytes: usize) -> (Raw, Duration) {
    let mut s = connect(server);
    let start = Instant::now();
    write!(s, "{}1,2", post_head(&format!("Content-Length: {body_bytes}\r\n"))).unwrap();
    // A byte every 250 ms, until the server answers (bounded by 40 bytes = 10 s).
    s.set_read_timeout(Some(Duration::from_millis(250))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..40 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {
                if s.write_all(b"3").is_err() {
                    break;
                }
            }
        }
    }
    let elapsed = start.elapsed();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    got.extend_from_slice(&rest);
    let text = String::from_utf8_lossy(&got).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response after {elapsed:?}: {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (Raw { status, head: head.to_ascii_lowercase(), body: body.as_bytes().to_vec() }, elapsed)
}

#[test]
fn slow_bodies_are_cut_by_the_minimum_rate_and_the_body_timeout() {
    let ml = trained_tree(300);
    // Minimum rate (default 16 KiB/s after a 5 s grace period).
    let mut server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let (raw, elapsed) = slow_body(&server, 100_000);
    assert_eq!(raw.status, 408, "{}", raw.head);
    assert!(raw.head.contains("connection: close") && raw.head.contains("application/json"), "{}", raw.head);
    assert!(error_message(&raw.body).contains("RCF_SERVE_MIN_BODY_RATE"), "{}", String::from_utf8_lossy(&raw.body));
    assert!(elapsed >= Duration::from_millis(4500) && elapsed < Duration::from_secs(8), "cut after {elapsed:?}");
    assert_healthy(&mut server, "slow body (rate)");
    drop(server);
    // Whole-body timeout, with the rate check off.
    let mut server =
        Server::start(&ml.model_dir(), &[("RCF_SERVE_BODY_TIMEOUT_SECS", "2"), ("RCF_SERVE_MIN_BODY_RATE", "0")]);
    server.wait_ready();
    let (raw, elapsed) = slow_body(&server, 100_000);
    assert_eq!(raw.status, 408);
    assert!(error_message(&raw.body).contains("RCF_SERVE_BODY_TIMEOUT_SECS"), "{}", String::from_utf8_lossy(&raw.body));
    assert!(elapsed >= Duration::from_millis(1500) && elapsed < Duration::from_secs(5), "cut after {elapsed:?}");
    assert_healthy(&mut server, "slow body (timeout)");
}

#[test]
fn absurd_chunk_sizes_are_answered_not_waited_on() {
    let ml = trained_tree(300);
    let mut server = Server::start(&ml.model_dir(), &[("RCF_SERVE_BODY_TIMEOUT_SECS", "3")]);
    server.wait_ready();
    for (size, statuses) in
        [("7FFFFFFFFFFFFFFF", &[408, 413][..]), ("FFFFFFFFFFFFFFFFFFFF", &[400][..]), ("10000000", &[408, 413][..])]
    {
        let mut s = connect(&server);
        let start = Instant::now();
        write!(s, "{}{size}\r\n1,2,3\n", post_head("Transfer-Encoding: chunked\r\n")).unwrap();
        let raw = read_response(&mut s).unwrap_or_else(|| panic!("chunk size {size}: no response"));
        assert!(
            statuses.contains(&raw.status),
            "chunk size {size}: {} {}",
            raw.status,
            String::from_utf8_lossy(&raw.body)
        );
        assert!(!error_message(&raw.body).is_empty());
        assert!(start.elapsed() < Duration::from_secs(15), "chunk size {size}: answered after {:?}", start.elapsed());
    }
    assert_healthy(&mut server, "absurd chunk sizes");
}

#[test]
fn a_connection_flood_past_the_limit_keeps_ping_answering() {
    let ml = trained_tree(300);
    // RLIMIT_NOFILE 256: the default limit is 256 - 64 = 192 connections.
    let mut server = start_with_nofile(&ml.model_dir(), 256, &[]);
    server.wait_ready();
    let mut idle = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect(("127.0.0.1", server.port)) {
            Ok(s) => idle.push(s),
            Err(e) => panic!("connect {} failed: {e}", idle.len()),
        }
    }
    for round in 0..5 {
        let start = Instant::now();
        let mut s = connect(&server);
        s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let raw = read_response(&mut s).unwrap_or_else(|| panic!("round {round}: /ping got no answer"));
        assert_eq!(raw.status, 200, "round {round}");
        assert!(start.elapsed() < Duration::from_secs(2), "round {round}: /ping took {:?}", start.elapsed());
    }
    // The oldest idle connections were closed to make room.
    assert!(closed_within(&mut idle[0], Duration::from_secs(2)), "the oldest idle connection is still open");
    drop(idle);
    assert_healthy(&mut server, "connection flood");
    drop(server);

    // With every connection busy, a new one gets a JSON 503 naming the limit; once the slow bodies
    // are cut, service resumes.
    let mut server = start_with_nofile(&ml.model_dir(), 256, &[("RCF_SERVE_MAX_CONNECTIONS", "8")]);
    server.wait_ready();
    let mut busy = Vec::new();
    for _ in 0..8 {
        let mut s = connect(&server);
        s.write_all(format!("{}1,2", post_head("Content-Length: 1000\r\n")).as_bytes()).unwrap();
        busy.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut s = connect(&server);
    let _ = s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    let raw = read_response(&mut s).expect("an answer past the limit");
    assert_eq!(raw.status, 503);
    assert!(error_message(&raw.body).contains("RCF_SERVE_MAX_CONNECTIONS"));
    for s in &mut busy {
        let raw = read_response(s).expect("the slow body is answered");
        assert_eq!(raw.status, 408);
    }
    assert_healthy(&mut server, "all connections busy");
}

#[test]
fn the_budget_for_unfinished_bodies_refuses_with_503() {
    let ml = trained_tree(300);
    let mut server = Server::start(&ml.model_dir(), &[("RCF_SERVE_BODY_BUDGET_MB", "8")]);
    server.wait_ready();
    // One unfinished 5 MB body holds its bytes; a second one does not fit in 8 MB.
    let mut first = connect(&server);
    first.write_all(format!("{}1,2", post_head("Content-Length: 5000000\r\n")).as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut second = connect(&server);
    second.write_all(format!("{}1,2", post_head("Content-Length: 5000000\r\n")).as_bytes()).unwrap();
    let raw = read_response(&mut second).expect("an answer");
    assert_eq!(raw.status, 503);
    assert!(raw.head.contains("retry-after"));
    assert!(error_message(&raw.body).contains("RCF_SERVE_BODY_BUDGET_MB"), "{}", String::from_utf8_lossy(&raw.body));
    drop(first);
    std::thread::sleep(Duration::from_millis(300));
    assert_healthy(&mut server, "budget");
}

#[test]
fn oversize_attribution_responses_get_413_before_scoring() {
    let ml = trained_tree(500);
    let mut server = Server::start(&ml.model_dir(), &[("RCF_SERVE_MAX_RESPONSE_MB", "1")]);
    server.wait_ready();
    let body = "1.5,6,4\n".repeat(10_000);
    let (status, _, out) = server.invoke(&[("Content-Type", "text/csv")], body.as_bytes());
    assert_eq!(status, 200, "without attribution the response fits");
    assert_eq!(scores_of(&out).len(), 10_000);
    let wants = [("Content-Type", "text/csv"), ("X-Amzn-SageMaker-Custom-Attributes", "attribution=true")];
    let (status, ct, out) = server.invoke(&wants, body.as_bytes());
    assert_eq!((status, ct.as_str()), (413, "application/json"));
    let message = error_message(&out);
    assert!(message.contains("RCF_SERVE_MAX_RESPONSE_MB") && message.contains("10000 records"), "{message}");
    // Attribution on a few records fits.
    let (status, _, _) = server.invoke(&wants, "1.5,6,4\n".repeat(100).as_bytes());
    assert_eq!(status, 200);
    assert_healthy(&mut server, "attribution bound");
}

#[test]
fn malformed_heads_get_hyper_s_documented_answers() {
    let ml = trained_tree(300);
    let mut server = Server::start(&ml.model_dir(), &[]);
    server.wait_ready();
    let huge_header = format!("GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(40 * 1024));
    let many_headers =
        format!("GET /ping HTTP/1.1\r\n{}\r\n", (0..150).map(|i| format!("X-H{i}: v\r\n")).collect::<String>());
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("garbage request line", b"HELLO\r\n\r\n".to_vec(), 400),
        ("bad method", b"G\x01T /ping HTTP/1.1\r\n\r\n".to_vec(), 400),
        ("bad version", b"GET /ping HTTP/9.9\r\n\r\n".to_vec(), 400),
        ("40 KB header", huge_header.into_bytes(), 431),
        ("150 headers", many_headers.into_bytes(), 431),
        ("binary", vec![0u8, 0xff, 0xfe, 0x13, b'\r', b'\n', b'\r', b'\n'], 400),
    ];
    for (name, bytes, status) in cases {
        let mut s = connect(&server);
        let _ = s.write_all(&bytes);
        let raw = read_response(&mut s).unwrap_or_else(|| panic!("{name}: no answer"));
        assert_eq!(raw.status, status, "{name}");
        assert!(raw.body.is_empty() && raw.head.contains("content-length: 0"), "{name}: {}", raw.head);
        assert!(closed_within(&mut s, Duration::from_secs(2)), "{name}: connection left open");
    }
    assert_healthy(&mut server, "malformed heads");
}
