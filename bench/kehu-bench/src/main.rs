//! `kehu-bench`: the driver behind `bench/run` (see docs/BENCHMARKS.md and
//! shared/design/PERFORMANCE.md), plus the load clients it starts as pinned
//! child processes. Benchmarks are not tests: nothing here runs in CI.

mod load;
mod stats;
mod suite;
mod tools;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kehu-bench",
    about = "Kehu benchmark harness (driver and load clients)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

// Parsed once per process: the size of the suite's arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Run the suite against an already seeded database (bench/run does the rest).
    Suite(suite::SuiteArgs),
    /// T4 load: N concurrent writers (one per token), create + update, closed loop.
    Writers {
        #[arg(long)]
        base: String,
        /// JSON file: the writers' credentials, one writer each.
        #[arg(long)]
        creds_file: PathBuf,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        #[arg(long, default_value_t = 1)]
        salt: u64,
    },
    /// T10 load: creates at a fixed rate (open loop) until the stop file exists.
    Paced {
        #[arg(long)]
        base: String,
        /// JSON file: one credential.
        #[arg(long)]
        cred_file: PathBuf,
        #[arg(long, default_value_t = 50.0)]
        rate: f64,
        #[arg(long)]
        stop_file: PathBuf,
        #[arg(long, default_value_t = 900.0)]
        max_seconds: f64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        salt: u64,
    },
    /// Latency client used only when oha is not installed: open-loop GETs.
    OpenLoop {
        #[arg(long)]
        urls_file: PathBuf,
        /// `Name: value`, repeatable.
        #[arg(long)]
        header: Vec<String>,
        #[arg(long)]
        rate: f64,
        #[arg(long)]
        seconds: f64,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Suite(args) => suite::run(args),
        Cmd::Writers {
            base,
            creds_file,
            seconds,
            salt,
        } => {
            let creds = serde_json::from_slice(&std::fs::read(creds_file)?)?;
            runtime()?.block_on(load::writers(base, creds, seconds, salt))
        }
        Cmd::Paced {
            base,
            cred_file,
            rate,
            stop_file,
            max_seconds,
            out,
            salt,
        } => runtime()?.block_on(load::paced(
            base,
            serde_json::from_slice(&std::fs::read(cred_file)?)?,
            rate,
            stop_file,
            max_seconds,
            out,
            salt,
        )),
        Cmd::OpenLoop {
            urls_file,
            header,
            rate,
            seconds,
        } => {
            let urls = std::fs::read_to_string(urls_file)?
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            runtime()?.block_on(load::open_loop_get(urls, header, rate, seconds))
        }
    }
}

/// The load clients run pinned to one CPU: one worker thread is enough.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?)
}
