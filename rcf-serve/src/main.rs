//! `rcf`: one binary for SageMaker training (`rcf train` with no flags), SageMaker hosting
//! (`rcf serve`), and offline use (`rcf train --input …`, `rcf score`, `rcf inspect`, `rcf detect`).

mod cli;
mod sagemaker;
mod storage;
mod training;
mod wire;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rcf", version, about = "Random Cut Forest anomaly detection: train, score, serve")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model. Without --input, follows SageMaker's training contract (/opt/ml/...).
    Train(TrainArgs),
    /// Serve a model over HTTP with SageMaker's hosting contract (/ping, /invocations).
    Serve(ServeArgs),
    /// Score rows from a file, s3:// object or stdin with a trained model.
    Score(cli::score::ScoreArgs),
    /// Print a model's configuration, sizes and training statistics as JSON.
    Inspect(cli::inspect::InspectArgs),
    /// Run the thresholded streaming detector over a time series (grades, thresholds, expected values).
    Detect(cli::detect::DetectArgs),
    /// Write the example dataset (hourly egress bytes per VPC with injected exfiltration bursts).
    #[command(hide = true)]
    GenExample(cli::gen_example::GenExampleArgs),
}

/// Arguments of `rcf train`; with no `--input` the SageMaker contract applies and flags are unused.
#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    #[command(flatten)]
    pub offline: cli::train::OfflineTrainArgs,
}

/// Arguments of `rcf serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Directory holding the model (model.rcf + manifest.json, or model.tar.gz).
    /// Default: /opt/ml/model, or $RCF_SAGEMAKER_ROOT/model.
    #[arg(long)]
    pub model_dir: Option<std::path::PathBuf>,
    /// Port to listen on (SageMaker sets SAGEMAKER_BIND_TO_PORT).
    #[arg(long, env = "SAGEMAKER_BIND_TO_PORT", default_value_t = 8080)]
    pub port: u16,
    /// Address to bind.
    #[arg(long, default_value = "0.0.0.0")]
    pub host: String,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) if args.offline.input.is_none() && args.offline.output.is_some() => Err(anyhow::anyhow!(
            "rcf train --output needs --input (a path, s3://bucket/key or -); without both, rcf train follows SageMaker's training contract"
        )),
        Command::Train(args) if args.offline.input.is_none() => sagemaker::train::run(),
        Command::Train(args) => cli::train::run(args.offline),
        Command::Serve(args) => sagemaker::serve::run(args),
        Command::Score(args) => cli::score::run(args),
        Command::Inspect(args) => cli::inspect::run(args),
        Command::Detect(args) => cli::detect::run(args),
        Command::GenExample(args) => cli::gen_example::run(args),
    };
    if let Err(error) = result {
        eprintln!("rcf: error: {error:#}");
        std::process::exit(1);
    }
}
