//! Route handlers. Each one is short: negotiate, read the body within the limit, then decode and
//! score on the blocking pool (scoring fans out over all cores through rayon).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rcf_core::{DiVector, InputError};

use super::{ApiError, State};
use crate::wire::{self, media, DecodeLimits};

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
    let payload = state.max_payload_mb.min(100);
    let concurrent = cores.min(100 / payload).max(1);
    let body = serde_json::json!({
        "MaxConcurrentTransforms": concurrent,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": payload,
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound(format!("no route {} {}; routes: GET /ping, POST /invocations, GET /execution-parameters", request.method(), request.uri().path()))
}

async fn wrong_method(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} is not allowed on {}", request.method(), request.uri().path()))
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::BadRequest(format!("header {name} is not visible ASCII"))),
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
    let content_type = header_text(headers, header::CONTENT_TYPE.as_str())?
        .ok_or_else(|| ApiError::UnsupportedMediaType(format!("missing Content-Type; supported: {}", media::SUPPORTED_CONTENT_TYPES)))?;
    let input = media::parse_content_type(content_type).map_err(ApiError::UnsupportedMediaType)?;
    let output = media::negotiate_accept(header_text(headers, header::ACCEPT.as_str())?).map_err(ApiError::NotAcceptable)?;
    let header_attribution = match header_text(headers, CUSTOM_ATTRIBUTES)? {
        Some(v) => wire::custom_attributes_want_attribution(v).map_err(ApiError::BadRequest)?,
        None => false,
    };
    let limit = state.max_body_bytes;
    let declared = header_text(headers, header::CONTENT_LENGTH.as_str())?.and_then(|v| v.parse::<u64>().ok());
    if state.model.get().is_none() {
        return Err(ApiError::NotReady("the model is still loading; retry when /ping answers 200".into()));
    }
    let body = read_body(request.into_body(), limit, declared).await?;
    let task_state = Arc::clone(&state);
    let (scores, attributions) =
        tokio::task::spawn_blocking(move || score(&task_state, input, &body, header_attribution))
            .await
            .map_err(|e| ApiError::Internal(format!("scoring task failed: {e}")))??;
    let bytes = wire::encode::encode(output, &scores, &attributions);
    Ok(([(header::CONTENT_TYPE, output.content_type())], bytes).into_response())
}

fn too_large(length: u64, limit: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "request body of {length} bytes exceeds the limit of {limit} bytes ({} MB; set SAGEMAKER_MAX_PAYLOAD_IN_MB to change it)",
        limit / (1024 * 1024)
    ))
}

/// Reads the body up to `limit` bytes. An oversize body (declared or actual) is answered with 413
/// after discarding up to [`DRAIN_CAP`] bytes of it within [`DRAIN_TIME`], so that clients which
/// write the whole body before reading still see the 413 instead of a broken connection.
async fn read_body(mut body: Body, limit: usize, declared: Option<u64>) -> Result<Bytes, ApiError> {
    use http_body_util::BodyExt;
    let mut over = declared.is_some_and(|d| d > limit as u64);
    let mut buf = Vec::with_capacity(if over { 0 } else { declared.unwrap_or(0).min(limit as u64) as usize });
    let mut total = 0u64;
    let drain_until = tokio::time::Instant::now() + DRAIN_TIME;
    loop {
        let next = if over {
            match tokio::time::timeout_at(drain_until, body.frame()).await {
                Ok(next) => next,
                Err(_) => break,
            }
        } else {
            body.frame().await
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
                over = true;
                if total > DRAIN_CAP {
                    break;
                }
                continue;
            }
            buf.extend_from_slice(&data);
        }
    }
    if over {
        return Err(too_large(declared.unwrap_or(total).max(total), limit));
    }
    Ok(Bytes::from(buf))
}

/// Most bytes of an oversize body read and discarded before answering 413.
const DRAIN_CAP: u64 = 64 << 20;
/// Longest time spent discarding an oversize body.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

type Scored = (Vec<f64>, Vec<Option<DiVector>>);

fn score(state: &State, input: wire::InputFormat, body: &[u8], header_attribution: bool) -> Result<Scored, ApiError> {
    let model = state.model.get().ok_or_else(|| ApiError::NotReady("the model is not loaded".into()))?;
    let forest = &model.forest;
    let limits = DecodeLimits { feature_dim: forest.config().input_dims, max_values: state.max_values };
    let batch = wire::decoder(input).decode(body, &limits)?;
    let scores = forest.score_batch(&batch.values).map_err(input_error)?;
    let wanted: Vec<bool> = (0..batch.rows).map(|i| batch.wants_attribution(i, header_attribution)).collect();
    let mut attributions = Vec::new();
    if wanted.iter().any(|&w| w) {
        let dims = forest.config().input_dims;
        let all = forest.attribution_batch(&batch.values).map_err(input_error)?;
        attributions = all.into_iter().zip(&wanted).map(|(a, &w)| w.then(|| a.fold_shingle(dims))).collect();
    }
    Ok((scores, attributions))
}

fn input_error(e: InputError) -> ApiError {
    match e {
        InputError::InRow { row, source } => ApiError::BadRequest(format!("record {}: {source}", row + 1)),
        other => ApiError::BadRequest(other.to_string()),
    }
}
