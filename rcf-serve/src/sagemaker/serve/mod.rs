//! SageMaker's hosting contract: `GET /ping`, `POST /invocations`, `GET /execution-parameters`
//! on `0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080}`. The socket is bound first so SageMaker's connection
//! check passes at once; `/ping` answers 200 only once the model is loaded. SIGTERM drains
//! in-flight requests (bounded) and exits.

mod error;
mod handlers;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context};
use rcf_core::Forest;

pub use error::ApiError;

use super::model_io::load_model_dir;
use super::paths::SageMakerPaths;

/// Default request body limit (SageMaker real-time endpoints: 6 MB).
pub const DEFAULT_MAX_PAYLOAD_MB: u64 = 6;
/// Largest configurable limit (asynchronous inference: 1 GB).
pub const MAX_PAYLOAD_MB: u64 = 1024;
/// Time allowed for in-flight requests after SIGTERM (SageMaker kills after 30 s).
const DRAIN: Duration = Duration::from_secs(25);

/// A loaded model.
pub struct Model {
    /// The forest; never mutated while serving.
    pub forest: Forest,
}

/// Server-wide state.
pub struct State {
    /// Set once the model is loaded.
    pub model: OnceLock<Model>,
    /// Body limit in bytes.
    pub max_body_bytes: usize,
    /// Body limit in MB as configured (for `/execution-parameters`).
    pub max_payload_mb: u64,
    /// Most decoded values per request.
    pub max_values: usize,
}

/// Reads `SAGEMAKER_MAX_PAYLOAD_IN_MB` (default 6, at most 1024).
pub fn payload_limit_mb() -> anyhow::Result<u64> {
    match std::env::var("SAGEMAKER_MAX_PAYLOAD_IN_MB") {
        Err(_) => Ok(DEFAULT_MAX_PAYLOAD_MB),
        Ok(v) if v.trim().is_empty() => Ok(DEFAULT_MAX_PAYLOAD_MB),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(mb) if (1..=MAX_PAYLOAD_MB).contains(&mb) => Ok(mb),
            _ => Err(anyhow!("SAGEMAKER_MAX_PAYLOAD_IN_MB must be a whole number from 1 to {MAX_PAYLOAD_MB}, found {v:?}")),
        },
    }
}

/// `rcf serve`.
pub fn run(args: crate::ServeArgs) -> anyhow::Result<()> {
    let model_dir: PathBuf = args.model_dir.clone().unwrap_or_else(|| SageMakerPaths::from_env().model());
    let max_payload_mb = payload_limit_mb()?;
    let max_body_bytes = (max_payload_mb * 1024 * 1024) as usize;
    let state = Arc::new(State {
        model: OnceLock::new(),
        max_body_bytes,
        max_payload_mb,
        // Sparse records expand to feature_dim values each; bound what one request may decode to.
        max_values: (64usize << 20).max(max_body_bytes / 2),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("binding {}:{}", args.host, args.port))?;
        let local = listener.local_addr().context("reading the bound address")?;
        eprintln!("rcf serve: listening on {local}");
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let app = handlers::router(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let mut rx = shutdown_rx;
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
        });
        let signals = tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("SIGTERM received: draining in-flight requests (at most {} s)", DRAIN.as_secs());
            let _ = shutdown_tx.send(true);
        });

        let dir = model_dir.clone();
        let loaded = tokio::task::spawn_blocking(move || load_model_dir(&dir))
            .await
            .map_err(|e| anyhow!("model loader failed: {e}"))?
            .with_context(|| format!("loading the model from {}", model_dir.display()))?;
        let config = loaded.forest.config().clone();
        tracing::info!(
            "model loaded from {}: feature_dim={} num_trees={} num_samples_per_tree={}",
            loaded.source, config.input_dims, config.num_trees, config.sample_size
        );
        if let Some(stats) = loaded.manifest.as_ref().and_then(|m| m.training.as_ref()) {
            tracing::info!(
                "training statistics: {} records, score mean {:.6}, std {:.6}",
                stats.records, stats.score_mean, stats.score_std
            );
        }
        let _ = state.model.set(Model { forest: loaded.forest });

        let mut server = server;
        tokio::select! {
            result = &mut server => {
                result.map_err(|e| anyhow!("server task failed: {e}"))?.context("serving")?;
            }
            _ = async {
                let _ = signals.await;
                tokio::time::sleep(DRAIN).await;
            } => {
                tracing::warn!("drain time exceeded; exiting with requests still in flight");
            }
        }
        tracing::info!("stopped");
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
