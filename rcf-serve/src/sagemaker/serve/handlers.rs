//! Route handlers. Each one is short: negotiate, read the body within the limit, then decode and
//! score on the blocking pool (scoring fans out over all cores through rayon).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use tokio::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rcf_core::{DiVector, InputError};

use super::budget::Held;
use super::conn::Guarded;
use super::limits::{Limits, BODY_RATE_GRACE};
use super::{ApiError, State};
use crate::wire::{self, media, DecodeLimits, WireError};

/// Header carrying SageMaker's custom attributes.
pub const CUSTOM_ATTRIBUTES: &str = "x-amzn-sagemaker-custom-attributes";

/// The application's routes.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/ping", get(ping).fallback(wrong_method))
        .route("/invocations", post(invocations).fallback(wrong_method))
        .route("/execution-parameters", get(execution_parameters).fallback(wrong_method))
        .fallback(not_found)
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn ping(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    match state.model.get() {
        Some(_) => StatusCode::OK.into_response(),
        None => ApiError::NotReady("the model is still loading".into()).into_response(),
    }
}

async fn execution_parameters(axum::extract::State(state): axum::extract::State<Arc<State>>) -> Response {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    // SageMaker requires MaxConcurrentTransforms × MaxPayloadInMB ≤ 100 and MaxPayloadInMB ≤ 100.
    let payload = state.limits.max_payload_mb.min(100);
    let concurrent = cores.min(100 / payload).max(1);
    let body = serde_json::json!({
        "MaxConcurrentTransforms": concurrent,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": payload,
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no route {} {}; routes: GET /ping, POST /invocations, GET /execution-parameters",
        request.method(),
        request.uri().path()
    ))
}

async fn wrong_method(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} is not allowed on {}", request.method(), request.uri().path()))
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => {
            v.to_str().map(Some).map_err(|_| ApiError::BadRequest(format!("header {name} is not visible ASCII")))
        }
    }
}

async fn invocations(axum::extract::State(state): axum::extract::State<Arc<State>>, request: Request) -> Response {
    match invoke(state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn invoke(state: Arc<State>, request: Request) -> Result<Response, ApiError> {
    let headers = request.headers();
    let content_type = header_text(headers, header::CONTENT_TYPE.as_str())?.ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!("missing Content-Type; supported: {}", media::SUPPORTED_CONTENT_TYPES))
    })?;
    let input = media::parse_content_type(content_type).map_err(ApiError::UnsupportedMediaType)?;
    let output =
        media::negotiate_accept(header_text(headers, header::ACCEPT.as_str())?).map_err(ApiError::NotAcceptable)?;
    let header_attribution = match header_text(headers, CUSTOM_ATTRIBUTES)? {
        Some(v) => wire::custom_attributes_want_attribution(v).map_err(ApiError::BadRequest)?,
        None => false,
    };
    let declared = header_text(headers, header::CONTENT_LENGTH.as_str())?.and_then(|v| v.parse::<u64>().ok());
    if state.model.get().is_none() {
        return Err(ApiError::NotReady("the model is still loading; retry when /ping answers 200".into()));
    }
    let (body, held) = read_body(request.into_body(), &state, declared).await?;
    let task_state = Arc::clone(&state);
    let (scored, held) = tokio::task::spawn_blocking(move || {
        let mut held = held;
        let scored = score(&task_state, input, &body, header_attribution, &mut held);
        (scored, held)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("scoring task failed: {e}")))?;
    let (scores, attributions) = scored?;
    let bytes = wire::encode::encode(output, &scores, &attributions);
    // The budget is given back once the response has been written (or abandoned).
    let body = Guarded::body(Body::from(bytes), held);
    Ok(([(header::CONTENT_TYPE, output.content_type())], body).into_response())
}

fn too_large(length: u64, limit: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "request body of {length} bytes exceeds the limit of {limit} bytes ({} MB; set SAGEMAKER_MAX_PAYLOAD_IN_MB to change it)",
        limit / (1024 * 1024)
    ))
}

/// When the body must have made more progress: the body timeout, or the instant its average rate
/// falls below the minimum (after the grace period), whichever comes first.
fn progress_deadline(start: Instant, received: u64, limits: &Limits) -> Instant {
    let whole = start + limits.body_timeout;
    if limits.min_body_rate == 0 {
        return whole;
    }
    let by_rate = Duration::from_secs_f64(received as f64 / limits.min_body_rate as f64).max(BODY_RATE_GRACE);
    whole.min(start + by_rate)
}

fn timed_out(start: Instant, received: u64, limits: &Limits) -> ApiError {
    let elapsed = start.elapsed();
    if elapsed >= limits.body_timeout {
        ApiError::Timeout(format!(
            "the request body did not arrive within {} s (RCF_SERVE_BODY_TIMEOUT_SECS); {received} bytes received",
            limits.body_timeout.as_secs()
        ))
    } else {
        ApiError::Timeout(format!(
            "the request body arrived at {:.0} bytes/s, below the minimum of {} bytes/s (RCF_SERVE_MIN_BODY_RATE); \
             {received} bytes in {:.1} s",
            received as f64 / elapsed.as_secs_f64().max(1e-3),
            limits.min_body_rate,
            elapsed.as_secs_f64()
        ))
    }
}

/// Reads the body up to the body limit, within the body timeout and at the minimum rate, taking
/// the bytes it keeps from the server's budget first. An oversize body (declared or actual) is
/// answered with 413 after discarding up to [`DRAIN_CAP`] bytes of it within [`DRAIN_TIME`], so
/// that clients which write the whole body before reading still see the 413.
async fn read_body(mut body: Body, state: &State, declared: Option<u64>) -> Result<(Bytes, Held), ApiError> {
    let limits = &state.limits;
    let limit = limits.max_body_bytes;
    let start = Instant::now();
    let mut over = declared.is_some_and(|d| d > limit as u64);
    let mut drain_until = start + DRAIN_TIME;
    let mut held = Held::default();
    let mut buf = Vec::new();
    if let Some(length) = declared.filter(|_| !over) {
        state.budget.take(&mut held, length)?;
        buf.reserve_exact(length as usize);
    }
    let mut total = 0u64;
    loop {
        let deadline = if over { drain_until } else { progress_deadline(start, total, limits) };
        let next = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(next) => next,
            Err(_) if over => break,
            Err(_) => return Err(timed_out(start, total, limits)),
        };
        let Some(frame) = next else { break };
        let frame = match frame {
            Ok(f) => f,
            Err(_) if over => break,
            Err(e) => return Err(ApiError::BadRequest(format!("could not read the request body: {e}"))),
        };
        if let Ok(data) = frame.into_data() {
            total += data.len() as u64;
            if over || total > limit as u64 {
                if !over {
                    over = true;
                    drain_until = Instant::now() + DRAIN_TIME;
                    buf = Vec::new();
                }
                if total > DRAIN_CAP {
                    break;
                }
                continue;
            }
            if buf.len() + data.len() > buf.capacity() {
                let want = (buf.capacity() * 2).max(buf.len() + data.len()).max(64 << 10).min(limit);
                state.budget.take(&mut held, (want - buf.capacity()) as u64)?;
                buf.reserve_exact(want - buf.len());
            }
            buf.extend_from_slice(&data);
        }
    }
    if over {
        return Err(too_large(declared.unwrap_or(total).max(total), limit));
    }
    Ok((Bytes::from(buf), held))
}

/// Most bytes of an oversize body read and discarded before answering 413.
const DRAIN_CAP: u64 = 64 << 20;
/// Longest time spent discarding an oversize body.
const DRAIN_TIME: Duration = Duration::from_secs(10);

type Scored = (Vec<f64>, Vec<Option<DiVector>>);

/// Decodes and scores on the blocking pool. The response size is bounded (and taken from the
/// budget) from the record count and the model's dimensions before anything is scored.
fn score(
    state: &State,
    input: wire::InputFormat,
    body: &[u8],
    header_attribution: bool,
    held: &mut Held,
) -> Result<Scored, ApiError> {
    let model = state.model.get().ok_or_else(|| ApiError::NotReady("the model is not loaded".into()))?;
    let forest = &model.forest;
    // Sparse records grow the decoded values as they are read: each growth is taken from the budget
    // first, so concurrent small bodies that expand cannot together hold more than the budget.
    let charged_from = held.bytes();
    let growing = RefCell::new(&mut *held);
    let charge = |bytes: u64| {
        state.budget.take(&mut growing.borrow_mut(), bytes).map_err(|e| WireError::Busy(e.message().into()))
    };
    let limits = DecodeLimits {
        feature_dim: forest.config().input_dims,
        max_values: state.limits.max_values,
        charge: Some(&charge),
    };
    let batch = wire::decoder(input).decode(body, &limits)?;
    // Formats that were not charged as they grew (dense rows, bounded by the body) are charged now.
    let charged = held.bytes() - charged_from;
    let decoded_bytes = (batch.values.capacity() * std::mem::size_of::<f32>()) as u64;
    state.budget.take(held, decoded_bytes.saturating_sub(charged))?;
    let wanted: Vec<bool> = (0..batch.rows).map(|i| batch.wants_attribution(i, header_attribution)).collect();
    let attributed = wanted.iter().filter(|&&w| w).count();
    let dims = forest.config().dimensions();
    // With shingling, rows are consecutive stream inputs: attribution is computed for all of them.
    let shingled = forest.config().shingle_size > 1;
    let computed_rows = if shingled && attributed > 0 { batch.rows } else { attributed };
    let bound = wire::encode::response_bound(batch.rows, computed_rows, dims);
    if bound > state.limits.max_response_bytes {
        return Err(ApiError::TooLarge(format!(
            "the response would take up to {bound} bytes ({} records, {attributed} with attribution over {dims} \
             dimensions{}), over the response limit of {} bytes (RCF_SERVE_MAX_RESPONSE_MB={}); send fewer records per \
             request or ask for attribution on fewer records",
            batch.rows,
            if computed_rows > attributed { ", computed for every record of a shingled model" } else { "" },
            state.limits.max_response_bytes,
            state.limits.max_response_bytes >> 20
        )));
    }
    state.budget.take(held, bound)?;
    let scores = forest.score_batch(&batch.values).map_err(input_error)?;
    let mut attributions = Vec::new();
    if attributed > 0 {
        let input_dims = forest.config().input_dims;
        if shingled {
            let all = forest.attribution_batch(&batch.values).map_err(input_error)?;
            attributions = all.into_iter().zip(&wanted).map(|(a, &w)| w.then(|| a.fold_shingle(input_dims))).collect();
        } else {
            let mut selected = Vec::with_capacity(attributed * input_dims);
            for (row, _) in batch.values.chunks_exact(input_dims).zip(&wanted).filter(|(_, &w)| w) {
                selected.extend_from_slice(row);
            }
            let mut computed = forest.attribution_batch(&selected).map_err(input_error)?.into_iter();
            attributions = wanted.iter().map(|&w| if w { computed.next() } else { None }).collect();
        }
    }
    Ok((scores, attributions))
}

fn input_error(e: InputError) -> ApiError {
    match e {
        InputError::InRow { row, source } => ApiError::BadRequest(format!("record {}: {source}", row + 1)),
        other => ApiError::BadRequest(other.to_string()),
    }
}
