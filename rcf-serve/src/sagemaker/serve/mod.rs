//! SageMaker's hosting contract: `GET /ping`, `POST /invocations`, `GET /execution-parameters`
//! on `0.0.0.0:${SAGEMAKER_BIND_TO_PORT:-8080}`. The socket is bound first so SageMaker's connection
//! check passes at once; `/ping` answers 200 only once the model is loaded. SIGTERM drains
//! in-flight requests (bounded) and exits.

mod budget;
mod conn;
mod error;
mod handlers;
pub mod limits;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context};
use rcf_core::Forest;

pub use error::ApiError;
pub use limits::Limits;

use super::model_io::load_model_dir;
use super::paths::SageMakerPaths;

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
    /// Every limit in force.
    pub limits: Limits,
    /// Bytes held by unfinished requests (bodies being read, responses being built).
    pub budget: budget::Budget,
}

/// `rcf serve`.
pub fn run(args: crate::ServeArgs) -> anyhow::Result<()> {
    let model_dir: PathBuf = args.model_dir.clone().unwrap_or_else(|| SageMakerPaths::from_env().model());
    let limits = Limits::from_env()?;
    let state = Arc::new(State { model: OnceLock::new(), budget: budget::Budget::new(limits.budget_bytes), limits });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| format!("binding {}:{}", args.host, args.port))?;
        let local = listener.local_addr().context("reading the bound address")?;
        eprintln!("rcf serve: listening on {local}");
        tracing::info!("limits: {:?}", state.limits);
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let app = handlers::router(Arc::clone(&state));
        let tracker = Arc::new(conn::Tracker::default());
        let server = {
            let tracker = Arc::clone(&tracker);
            let limits = state.limits.clone();
            tokio::spawn(async move { conn::serve(listener, app, &limits, tracker, shutdown_rx).await })
        };
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
            loaded.source,
            config.input_dims,
            config.num_trees,
            config.sample_size
        );
        if let Some(stats) = loaded.manifest.as_ref().and_then(|m| m.training.as_ref()) {
            tracing::info!(
                "training statistics: {} records, score mean {:.6}, std {:.6}",
                stats.records,
                stats.score_mean,
                stats.score_std
            );
        }
        let _ = state.model.set(Model { forest: loaded.forest });

        let _ = signals.await;
        server.await.map_err(|e| anyhow!("server task failed: {e}"))?;
        let deadline = tokio::time::Instant::now() + DRAIN;
        while tracker.len() > 0 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("drain time exceeded; exiting with {} connections open", tracker.len());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
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
