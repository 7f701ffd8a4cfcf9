//! `dialtone`: one binary. `dialtone serve` runs the server; every other command is a
//! client of the public HTTP API (no side door into the database), keeping its token in
//! the user's configuration directory.

mod cli;
mod contacts_cmd;
mod prompt;
mod session_file;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: under message load the server allocates and frees
/// small buffers on every thread, and glibc's allocator took about a sixth of its CPU
/// (bench/RESULTS.md, "the allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Messaging and community whose identity is the phone number.
#[derive(Parser)]
#[command(name = "dialtone", version, about)]
struct Args {
    /// The server to talk to (client commands). Default: the server of the saved login,
    /// else http://127.0.0.1:8080.
    #[arg(long, global = true, env = "DIALTONE_SERVER")]
    server: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (zero configuration: SQLite and the SMS outbox in ./dialtone-data).
    Serve {
        /// A TOML configuration file.
        #[arg(long, env = "DIALTONE_CONFIG")]
        config: Option<PathBuf>,
        /// Directory of the database, key and SMS outbox.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address and port to listen on.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Print the example configuration file (every setting at its default).
    Config,
    /// Register (or log in) with an SMS code; then set a password.
    Register(cli::PhoneArgs),
    /// Log in with phone number and password.
    Login {
        #[command(flatten)]
        phone: cli::PhoneArgs,
        /// Read the password from standard input even when it is a terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the devices logged in to your account, or revoke one.
    Devices {
        #[command(subcommand)]
        action: Option<cli::DevicesAction>,
    },
    /// Show your account.
    Account,
    /// Log this device out.
    Logout,
    /// Your address book: import contacts from files.
    Contacts {
        #[command(subcommand)]
        action: contacts_cmd::ContactsAction,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Serve {
            config,
            data_dir,
            listen,
        } => {
            init_logging();
            let mut config = dialtone_server::Config::load(config.as_deref())?;
            if let Some(dir) = data_dir {
                config.data_dir = dir;
            }
            if let Some(addr) = listen {
                config.listen = addr;
            }
            dialtone_server::run_until_signal(config).await?;
            Ok(())
        }
        Command::Config => {
            print!("{}", dialtone_server::Config::example_toml()?);
            Ok(())
        }
        Command::Register(phone) => cli::register(args.server, phone).await,
        Command::Login {
            phone,
            password_stdin,
        } => cli::login(args.server, phone, password_stdin).await,
        Command::Devices { action } => cli::devices(args.server, action).await,
        Command::Account => cli::account(args.server).await,
        Command::Logout => cli::logout(args.server).await,
        Command::Contacts { action } => contacts_cmd::run(args.server, action).await,
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
}
