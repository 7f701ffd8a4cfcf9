//! `dialtone-bench`: load generators that start a real dialtone server in this process,
//! drive it over HTTP with `dialtone-client`, and write their figures into
//! `bench/RESULTS.md`.

/// The allocator of the `dialtone` binary: the servers these benchmarks start in this
/// process then allocate as a deployed one does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts;
mod argon;
mod callsetup;
mod catchup;
mod community;
mod discovery;
mod fanout;
mod idle;
mod import;
mod machine;
mod messages;
mod results;
mod search;
mod serverproc;
mod setup;
mod sfu;
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
    /// One-to-one call set-up on loopback: `call_start` to ring, to `call_accepted`, to
    /// media flowing both ways between two str0m peers.
    CallSetup(callsetup::Args),
    /// Catch-up: a device away while messages piled up connects once; time to `ready`, to
    /// the first message and to `caught_up`, messages/s, and a check of order and loss.
    Catchup(catchup::Args),
    /// The community (issue 14): the feed of a viewer with 500 contacts × 200 posts,
    /// publishing to 5,000 followers, and requests/s of the public blog page on one core.
    Community(community::Args),
    /// Discovery of an address book against a large directory of accounts: server time of
    /// `PUT /v1/contacts` and `GET /v1/contacts`.
    Discovery(discovery::Args),
    /// Presence fan-out: one change seen by many connected watchers, time until the last
    /// one has it.
    Fanout(fanout::Args),
    /// Server memory per idle authenticated connection, with every connection held at
    /// once on one server process (the client sockets spread over generator processes).
    Idle(idle::Args),
    /// One generator of `idle`: holds a socket per token until its standard input closes.
    #[command(hide = true)]
    IdleChild(idle::ChildArgs),
    /// Parsing and normalising a large address book from vCard, CSV and xlsx: time and
    /// peak memory.
    Import(import::Args),
    /// End-to-end message delivery between many WebSocket clients, against a server run
    /// as a child process: idle-connection memory, throughput, latency at a fixed rate,
    /// group fan-out.
    Messages(messages::Args),
    /// Search in conversations (issue 20): indexing rate, search latency over a large
    /// history of one user, and sends while the indexer works.
    Search(search::Args),
    /// The SFU (group calls): rooms of str0m participants sending video at a set bit rate;
    /// packets forwarded per second, SFU CPU per packet, added latency, loss.
    Sfu(sfu::Args),
    /// One import in this process, reporting its peak memory (used by `import`).
    #[command(hide = true)]
    ImportChild(import::ChildArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server's logs, only when asked for (`RUST_LOG=warn`): they cost time.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    match cli.command {
        Command::Accounts(args) => accounts::run(args).await,
        Command::CallSetup(args) => callsetup::run(args).await,
        Command::Catchup(args) => catchup::run(args).await,
        Command::Community(args) => community::run(args).await,
        Command::Discovery(args) => discovery::run(args).await,
        Command::Fanout(args) => fanout::run(args).await,
        Command::Idle(args) => idle::run(args).await,
        Command::IdleChild(args) => idle::child_main(args).await,
        Command::Import(args) => import::run(args).await,
        Command::ImportChild(args) => import::child_main(args),
        Command::Messages(args) => messages::run(args).await,
        Command::Search(args) => search::run(args).await,
        Command::Sfu(args) => sfu::run(args).await,
    }
}
