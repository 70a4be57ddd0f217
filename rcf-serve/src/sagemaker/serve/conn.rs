//! The accept loop: hyper's HTTP/1 connection builder serving the axum router (`axum::serve` has
//! no connection limit), plus what hyper leaves to the caller:
//! - a connection limit: past it, the new connection is accepted and the connection that has
//!   waited longest without a request in flight (idle keep-alive, or still sending its head) is
//!   closed, so `/ping` always gets through; with every connection busy the new one gets a 503;
//! - back-off on accept errors (EMFILE and friends), closing an idle connection to free a descriptor;
//! - a response write timeout (a client that does not read its response is cut);
//! - graceful drain on shutdown.
//!
//! Header read timeout, idle keep-alive timeout and head size are hyper's own settings.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tower::Service;

use super::limits::Limits;

/// Shortest pause after a resource error from accept.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest pause after repeated resource errors from accept.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How often the response write timeout is checked.
const REAP_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a request head since the instant (accept, or the end of the previous response).
    Waiting(Instant),
    /// A handler is running.
    Handling,
    /// The response is being written since the instant.
    Responding(Instant),
}

/// One open connection, as the tracker sees it.
struct Conn {
    phase: Mutex<Phase>,
    close: Notify,
}

impl Conn {
    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner()) = phase;
    }

    fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The open connections.
#[derive(Default)]
pub struct Tracker {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of open connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn add(&self) -> (u64, Arc<Conn>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn { phase: Mutex::new(Phase::Waiting(Instant::now())), close: Notify::new() });
        self.lock().insert(id, Arc::clone(&conn));
        (id, conn)
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Closes the connection that has waited longest without a request in flight; false if
    /// every connection is busy.
    fn evict_idlest(&self) -> bool {
        let mut conns = self.lock();
        let idlest = conns
            .iter()
            .filter_map(|(id, c)| match c.phase() {
                Phase::Waiting(since) => Some((since, *id)),
                _ => None,
            })
            .min();
        match idlest.and_then(|(_, id)| conns.remove(&id)) {
            Some(conn) => {
                conn.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// Closes connections whose response has been written for longer than `limit`.
    fn reap_slow_readers(&self, limit: Duration) {
        let now = Instant::now();
        let mut conns = self.lock();
        conns.retain(|_, c| match c.phase() {
            Phase::Responding(since) if now.duration_since(since) > limit => {
                c.close.notify_one();
                false
            }
            _ => true,
        });
    }
}

/// Marks a request in flight on its connection from the handler's start until the response body
/// is dropped (written or abandoned).
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.set(Phase::Waiting(Instant::now()));
    }
}

/// A response body that keeps `guard` alive until the body is dropped (written or abandoned),
/// passing everything else through, size hint included (so `Content-Length` is kept).
pub struct Guarded<G> {
    body: Body,
    _guard: G,
}

impl<G: Unpin + Send + 'static> Guarded<G> {
    /// `body` holding `guard`.
    pub fn body(body: Body, guard: G) -> Body {
        Body::new(Guarded { body, _guard: guard })
    }
}

impl<G: Unpin> hyper::body::Body for Guarded<G> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// True for accept errors caused by exhausted resources (retrying at once would spin).
fn is_resource_error(e: &std::io::Error) -> bool {
    use nix::errno::Errno;
    matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)
    )
}

/// The answer to a connection past the limit when no connection can be closed instead.
fn refusal(max: usize) -> Vec<u8> {
    let body = serde_json::json!({"error": {"code": "too_many_connections", "message": format!(
        "the server has {max} open connections, all with a request in flight (RCF_SERVE_MAX_CONNECTIONS); retry later"
    )}})
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Accepts and serves connections until `shutdown` turns true, then stops accepting and tells
/// every connection to finish its request in flight and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    tracker: Arc<Tracker>,
    shutdown: watch::Receiver<bool>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(64 * 1024))
        .keep_alive(true);
    let builder = Arc::new(builder);
    let reaper = {
        let tracker = Arc::clone(&tracker);
        let limit = limits.response_timeout;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(REAP_EVERY).await;
                tracker.reap_slow_readers(limit);
            }
        })
    };
    let max = limits.max_connections;
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut last_warning: Option<Instant> = None;
    let mut stop = shutdown.clone();
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                stream
            }
            Err(e) if is_resource_error(&e) => {
                if last_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!("accept failed ({e}); closing an idle connection and backing off");
                    last_warning = Some(Instant::now());
                }
                tracker.evict_idlest();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
            Err(e) => {
                tracing::debug!("accept failed: {e}");
                continue;
            }
        };
        if tracker.len() >= max && !tracker.evict_idlest() {
            let _ = stream.try_write(&refusal(max));
            continue;
        }
        let _ = stream.set_nodelay(true);
        let (id, conn) = tracker.add();
        tokio::spawn(serve_connection(
            stream,
            id,
            conn,
            Arc::clone(&builder),
            router.clone(),
            Arc::clone(&tracker),
            shutdown.clone(),
        ));
    }
    reaper.abort();
}

async fn serve_connection(
    stream: TcpStream,
    id: u64,
    conn: Arc<Conn>,
    builder: Arc<http1::Builder>,
    router: Router,
    tracker: Arc<Tracker>,
    mut shutdown: watch::Receiver<bool>,
) {
    let this = Arc::clone(&conn);
    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
        this.set(Phase::Handling);
        let in_flight = InFlight(Arc::clone(&this));
        let mut router = router.clone();
        async move {
            let response = match router.call(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            in_flight.0.set(Phase::Responding(Instant::now()));
            Ok::<_, Infallible>(response.map(move |body| Guarded::body(body, in_flight)))
        }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut draining = *shutdown.borrow();
    if draining {
        connection.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            _ = connection.as_mut() => break,
            _ = conn.close.notified() => break,
            _ = shutdown.wait_for(|s| *s), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    tracker.remove(id);
}
