//! Every limit of `rcf serve`: a named default, the environment variable that changes it, and
//! validation at startup (a bad value stops the server with a message naming the variable).

use std::time::Duration;

use anyhow::{anyhow, bail};

/// Default request body limit (SageMaker real-time endpoints: 6 MB).
pub const DEFAULT_MAX_PAYLOAD_MB: u64 = 6;
/// Largest configurable body limit (asynchronous inference: 1 GB).
pub const MAX_PAYLOAD_MB: u64 = 1024;
/// Default response limit, as a multiple of the body limit (capped at [`DEFAULT_MAX_RESPONSE_CAP_MB`]).
pub const DEFAULT_RESPONSE_FACTOR: u64 = 16;
/// Cap of the default response limit.
pub const DEFAULT_MAX_RESPONSE_CAP_MB: u64 = 2048;
/// Default floor of the budget for bytes held by unfinished requests (bodies being read plus
/// responses being built); the default is at least the body limit plus the response limit.
pub const DEFAULT_BODY_BUDGET_MB: u64 = 128;
/// Default time for a connection to deliver a complete request head, counted from accept or from
/// the end of the previous response (so it is also the idle keep-alive timeout).
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// Default time for a request body to arrive completely.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 60;
/// Default minimum average body rate in bytes/s, enforced after [`BODY_RATE_GRACE`].
pub const DEFAULT_MIN_BODY_RATE: u64 = 16 * 1024;
/// Time a body may arrive slower than the minimum rate (connection setup, first bytes).
pub const BODY_RATE_GRACE: Duration = Duration::from_secs(5);
/// Default time for a response to be written to the client once it is ready.
pub const DEFAULT_RESPONSE_TIMEOUT_SECS: u64 = 60;
/// Default largest request head (request line plus headers) in bytes.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 32 * 1024;
/// File descriptors kept free for everything but client connections (model files, stdio,
/// the runtime's own descriptors, one accepted-then-refused connection).
pub const RESERVED_FDS: u64 = 64;
/// Cap of the default connection limit (each idle connection holds a few tens of KB).
pub const DEFAULT_MAX_CONNECTIONS_CAP: u64 = 4096;
/// Fewest connections the server can run with.
pub const MIN_CONNECTIONS: u64 = 8;

/// The limits in force, read once at startup.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Body limit in MB as configured (for `/execution-parameters`).
    pub max_payload_mb: u64,
    /// Body limit in bytes.
    pub max_body_bytes: usize,
    /// Most decoded values per request (sparse records expand to feature_dim).
    pub max_values: usize,
    /// Largest response, estimated from records × features before scoring.
    pub max_response_bytes: u64,
    /// Bytes all unfinished requests may hold together.
    pub budget_bytes: u64,
    /// Time to receive a request head (and idle keep-alive time).
    pub header_timeout: Duration,
    /// Time to receive a whole body.
    pub body_timeout: Duration,
    /// Minimum average body rate after [`BODY_RATE_GRACE`], bytes/s (0: off).
    pub min_body_rate: u64,
    /// Time to write a ready response.
    pub response_timeout: Duration,
    /// Largest request head in bytes.
    pub max_header_bytes: usize,
    /// Most open client connections.
    pub max_connections: usize,
}

fn env_u64(name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) if v.trim().is_empty() => Ok(default),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(anyhow!("{name} must be a whole number from {} to {}, found {v:?}", range.start(), range.end())),
        },
    }
}

/// The soft RLIMIT_NOFILE of this process, if it can be read.
fn open_file_limit() -> Option<u64> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).ok().map(|(soft, _)| soft)
}

impl Limits {
    /// Reads every limit from the environment.
    pub fn from_env() -> anyhow::Result<Limits> {
        const MB: u64 = 1024 * 1024;
        let max_payload_mb = env_u64("SAGEMAKER_MAX_PAYLOAD_IN_MB", DEFAULT_MAX_PAYLOAD_MB, 1..=MAX_PAYLOAD_MB)?;
        let max_body_bytes = max_payload_mb * MB;
        let default_response = (max_payload_mb * DEFAULT_RESPONSE_FACTOR).min(DEFAULT_MAX_RESPONSE_CAP_MB);
        let response_mb = env_u64("RCF_SERVE_MAX_RESPONSE_MB", default_response, 1..=16 * 1024)?;
        let default_budget = DEFAULT_BODY_BUDGET_MB.max(max_payload_mb + response_mb);
        let budget_mb = env_u64("RCF_SERVE_BODY_BUDGET_MB", default_budget, 1..=64 * 1024)?;
        if budget_mb < max_payload_mb {
            bail!(
                "RCF_SERVE_BODY_BUDGET_MB ({budget_mb}) must be at least SAGEMAKER_MAX_PAYLOAD_IN_MB ({max_payload_mb})"
            );
        }
        let nofile = open_file_limit();
        let usable = nofile.map_or(DEFAULT_MAX_CONNECTIONS_CAP, |n| n.saturating_sub(RESERVED_FDS));
        let default_connections = usable.clamp(MIN_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_CAP);
        let max_connections = env_u64("RCF_SERVE_MAX_CONNECTIONS", default_connections, MIN_CONNECTIONS..=1 << 20)?;
        if let Some(n) = nofile {
            if max_connections > usable {
                tracing::warn!(
                    "RCF_SERVE_MAX_CONNECTIONS={max_connections} leaves fewer than {RESERVED_FDS} of the {n} file \
                     descriptors (RLIMIT_NOFILE) free; accept errors will be answered by closing idle connections"
                );
            }
        }
        Ok(Limits {
            max_payload_mb,
            max_body_bytes: max_body_bytes as usize,
            max_values: (64usize << 20).max(max_body_bytes as usize / 2),
            max_response_bytes: response_mb * MB,
            budget_bytes: budget_mb * MB,
            header_timeout: Duration::from_secs(env_u64(
                "RCF_SERVE_HEADER_TIMEOUT_SECS",
                DEFAULT_HEADER_TIMEOUT_SECS,
                1..=3600,
            )?),
            body_timeout: Duration::from_secs(env_u64(
                "RCF_SERVE_BODY_TIMEOUT_SECS",
                DEFAULT_BODY_TIMEOUT_SECS,
                1..=3600,
            )?),
            min_body_rate: env_u64("RCF_SERVE_MIN_BODY_RATE", DEFAULT_MIN_BODY_RATE, 0..=1 << 30)?,
            response_timeout: Duration::from_secs(env_u64(
                "RCF_SERVE_RESPONSE_TIMEOUT_SECS",
                DEFAULT_RESPONSE_TIMEOUT_SECS,
                1..=3600,
            )?),
            max_header_bytes: env_u64("RCF_SERVE_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES as u64, 1024..=1 << 20)?
                as usize,
            max_connections: max_connections as usize,
        })
    }
}
