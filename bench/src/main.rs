//! `dialtone-bench`: load generators that start a real dialtone server in this process,
//! drive it over HTTP with `dialtone-client`, and write their figures into
//! `bench/RESULTS.md`.

mod accounts;
mod argon;
mod machine;
mod results;
mod sms;
mod stats;

use clap::{Parser, Subcommand};

/// Benchmarks of a dialtone server run in this process.
#[derive(Parser)]
#[command(name = "dialtone-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Argon2 baseline, registrations per second, and password-login throughput and
    /// latency (closed and open loop).
    Accounts(accounts::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Accounts(args) => accounts::run(args).await,
    }
}
