//! The `driftd` binary: parse → validate → build (binds every port) → run → drain.

mod bench;
mod cli;
mod components;
mod eval;
mod nab;
mod replay;
mod simulate;
mod simulate_scenario;
mod simulate_target;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command};
use components::Driftd;
use driftd_core::assembly::{self, Config};
use driftd_core::config::ConfigErrors;
use driftd_core::service::Service;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

/// jemalloc rather than glibc malloc: its background thread hands the pages of freed
/// memory back to the system over the following seconds (expired series shrink the
/// process; glibc keeps most of them).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The default config, embedded so `driftd` runs with no files at all.
const DEFAULT_CONFIG: &str = include_str!("../configs/default.yaml");

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(cli.config.as_deref()),
        Command::Validate { files } => validate(cli.config.iter().chain(&files)),
        Command::PrintConfig => print_config(cli.config.as_deref()),
        Command::DefaultConfig => {
            print!("{DEFAULT_CONFIG}");
            ExitCode::SUCCESS
        }
        Command::ConfigReference => match driftd_core::assembly::reference::<Driftd>() {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Command::Replay(args) => replay::main(cli.config.as_deref(), args),
        Command::Nab(args) => nab::main(cli.config.as_deref(), args),
        Command::Eval(args) => eval::main(cli.config.as_deref(), args),
        Command::Simulate(args) => match tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(simulate::run(args)))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("driftd simulate: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Bench(args) => match tokio::runtime::Runtime::new()
            .map_err(anyhow::Error::from)
            .and_then(|rt| rt.block_on(bench::run(args)))
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("driftd bench: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn load(path: Option<&Path>) -> Result<Config<Driftd>, ConfigErrors> {
    match path {
        Some(p) => assembly::load_file(p),
        None => assembly::load(DEFAULT_CONFIG, "<embedded default config>", &|k| std::env::var(k).ok()),
    }
}

fn validate<'a>(files: impl Iterator<Item = &'a PathBuf>) -> ExitCode {
    let mut ok = true;
    let mut any = false;
    for f in files {
        any = true;
        match assembly::load_file::<Driftd>(f) {
            Ok(_) => println!("{}: ok", f.display()),
            Err(e) => {
                ok = false;
                eprintln!("{e}");
            }
        }
    }
    if !any {
        eprintln!("driftd validate: name a config file (driftd validate FILE... or --config FILE)");
        return ExitCode::from(2);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_config(path: Option<&Path>) -> ExitCode {
    match load(path)
        .map_err(anyhow::Error::from)
        .and_then(|c| Ok(serde_yaml::to_string(&c)?))
    {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: Option<&Path>) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    init_logs(config.service.telemetry.logs.level.as_str());
    // Installed before anything records, so no early telemetry is lost.
    driftd_exporters::prometheus::install_recorder();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config<Driftd>) -> anyhow::Result<()> {
    let service = Service::build(&config).await.context("cannot start driftd")?;
    for l in service.listeners() {
        tracing::info!(
            "listening address={} protocol={} components={}",
            l.addr,
            l.protocol,
            l.components
        );
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        pipelines = config.service.pipelines.len(),
        "driftd is ready"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(on_signal(shutdown.clone()));
    Ok(service.run(shutdown).await?)
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("signal received");
    shutdown.cancel();
}

fn init_logs(level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
