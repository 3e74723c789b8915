//! `gatehouse`: the whole product on one machine, and the admin commands that manage its data.

mod admin;
mod notify;
mod server;
mod store;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Hugging Face-style gated access to model, dataset and space repositories"
)]
pub struct Cli {
    /// Where the embedded store, blobs and outbox live.
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_DATA_DIR",
        default_value = "gatehouse-data"
    )]
    data_dir: PathBuf,
    #[command(flatten)]
    store: store::StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve every route on one address.
    Serve(server::ServeArgs),
    #[command(flatten)]
    Admin(admin::AdminCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => server::serve(&cli.data_dir, &cli.store, args).await,
        Command::Admin(command) => admin::run_from_cli(&cli.data_dir, &cli.store, command).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The default address: loopback only, so nothing is exposed by accident.
fn default_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
