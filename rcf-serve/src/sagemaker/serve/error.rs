//! Every error response, mapped to its status code in one place. Bodies are
//! `{"error":{"code":"…","message":"…"}}` with Content-Type `application/json`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::wire::WireError;

/// An error answer of the hosting contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the body could not be decoded or does not fit the model.
    BadRequest(String),
    /// 404: no such route.
    NotFound(String),
    /// 405: wrong method on a known route.
    MethodNotAllowed(String),
    /// 406: no supported type in Accept.
    NotAcceptable(String),
    /// 408: the body did not arrive within the body timeout or at the minimum rate.
    Timeout(String),
    /// 413: body, decoded data or response larger than allowed.
    TooLarge(String),
    /// 415: unsupported or missing Content-Type.
    UnsupportedMediaType(String),
    /// 500: a bug; the message says what failed.
    Internal(String),
    /// 503: the model is not loaded yet.
    NotReady(String),
    /// 503: the server's budget for unfinished requests is spent; retry later.
    Busy(String),
}

impl ApiError {
    /// Status code and stable error code.
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::NotAcceptable(_) => (StatusCode::NOT_ACCEPTABLE, "not_acceptable"),
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "model_not_ready"),
            ApiError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "server_busy"),
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::MethodNotAllowed(m)
            | ApiError::NotAcceptable(m)
            | ApiError::Timeout(m)
            | ApiError::TooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Internal(m)
            | ApiError::NotReady(m)
            | ApiError::Busy(m) => m,
        }
    }
}

impl From<WireError> for ApiError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::BadRequest(m) => ApiError::BadRequest(m),
            WireError::TooLarge(m) => ApiError::TooLarge(m),
            WireError::Busy(m) => ApiError::Busy(m),
        }
    }
}

/// Longest error message sent or logged, in bytes: messages may quote what the client sent (a
/// decoder's "found …"), and a quote must not turn a small request into a large answer or log line.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// `message`, cut at a character boundary to at most [`MAX_MESSAGE_BYTES`] with the cut marked.
fn bounded(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.into();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all; cut)", &message[..end], message.len()).into()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        let message = bounded(self.message());
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), "{message}");
        } else {
            tracing::info!(status = status.as_u16(), "{message}");
        }
        let body = json!({ "error": { "code": code, "message": message } }).to_string();
        let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        // The body of a timed-out or refused request is left unread: the connection cannot be reused.
        if matches!(self, ApiError::Timeout(_) | ApiError::Busy(_)) {
            let headers = response.headers_mut();
            headers.insert(header::CONNECTION, header::HeaderValue::from_static("close"));
            if matches!(self, ApiError::Busy(_)) {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("short"), "short");
        let long = format!("found {}", "é".repeat(4000));
        let cut = bounded(&long);
        assert!(cut.len() < MAX_MESSAGE_BYTES + 64, "{}", cut.len());
        assert!(cut.ends_with(&format!("({} bytes in all; cut)", long.len())));
    }
}
