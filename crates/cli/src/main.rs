//! The `barnstorm` binary: reads configuration from flags and `BARNSTORM_*` variables,
//! and wires the store, the mail worker and the web app together for each subcommand.
//! Errors end here: printed as one clear line with a non-zero exit code.

mod backup;
mod bench;
mod bench_events;
mod check;
mod demo;
mod demo_campaign;
mod demo_events;
mod import;
mod person;
mod serve;
mod telephony;
mod user;

use anyhow::Context;
use barnstorm_store::{DatabaseUrl, Store, StoreOptions};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Barnstorm: volunteer hubs, events and a distributed phonebank for mass campaigns.
#[derive(Parser, Debug)]
#[command(
    name = "barnstorm",
    version,
    propagate_version = true,
    after_help = "Examples:\n  barnstorm serve --demo\n  barnstorm serve --database-url postgres://postgres@127.0.0.1/barnstorm --listen 0.0.0.0:8080"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the web server (pages, JSON API, mail delivery).
    #[command(
        after_help = "Example:\n  barnstorm serve --listen 127.0.0.1:8080 --database-url sqlite:barnstorm.db --demo"
    )]
    Serve(serve::ServeArgs),
    /// Apply database migrations and exit.
    #[command(
        after_help = "Example:\n  barnstorm migrate --database-url postgres://postgres@127.0.0.1/barnstorm"
    )]
    Migrate(DatabaseArgs),
    /// Write a consistent, checked backup of the database to FILE; safe while nodes serve.
    #[command(
        after_help = "Examples:\n  barnstorm backup /var/backups/barnstorm-2026-12-04.db --database-url sqlite:/var/lib/barnstorm/barnstorm.db\n  barnstorm backup /var/backups/barnstorm.dump --database-url postgres://barnstorm@127.0.0.1/barnstorm"
    )]
    Backup(backup::BackupArgs),
    /// Restore a backup written by `barnstorm backup`, then apply newer migrations.
    #[command(
        after_help = "Example:\n  barnstorm restore /var/backups/barnstorm-2026-12-04.db --database-url sqlite:/var/lib/barnstorm/barnstorm.db --force"
    )]
    Restore(backup::RestoreArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Load demo data: a national group with regions and branches, organisers and hosts.
    #[command(after_help = "Example:\n  barnstorm demo --database-url sqlite:demo.db")]
    Demo(DatabaseArgs),
    /// Prove from the database that a campaign's calls kept every guarantee.
    #[command(
        after_help = "Example:\n  barnstorm check --campaign 1 --acks report.json --database-url sqlite:barnstorm.db"
    )]
    Check(check::CheckArgs),
    /// Load-test running nodes with simulated callers.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Import contact lists into call campaigns, numbers onto the TPS list, and postcode locations.
    #[command(
        subcommand,
        after_help = "Examples:\n  barnstorm import contacts --campaign 3 list.csv --map 'Mobile=phone'\n  barnstorm import tps tps-numbers.txt\n  barnstorm import postcodes ONSPD_FEB_2025_UK.csv"
    )]
    Import(import::ImportCommand),
    /// Answer a person's subject-access or erasure request.
    #[command(subcommand)]
    Person(person::PersonCommand),
}

/// Where the database is.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct DatabaseArgs {
    /// `sqlite:PATH` (the default, a file in the current folder) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "BARNSTORM_DATABASE_URL",
        default_value = "sqlite:barnstorm.db"
    )]
    pub database_url: String,
}

impl DatabaseArgs {
    /// Opens the database and brings its schema up to date.
    pub(crate) async fn open(&self, options: &StoreOptions) -> anyhow::Result<Store> {
        let url: DatabaseUrl = self
            .database_url
            .parse()
            .context("--database-url / BARNSTORM_DATABASE_URL")?;
        let store = Store::connect(&url, options).await?;
        store
            .migrate()
            .await
            .with_context(|| format!("applying migrations to {url}"))?;
        Ok(store)
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BARNSTORM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            init_logging(args.log_format == serve::LogFormat::Json);
            serve::run(args).await
        }
        Command::Migrate(db) => {
            db.open(&StoreOptions::default()).await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Backup(args) => backup::backup(args).await,
        Command::Restore(args) => backup::restore(args).await,
        Command::User(command) => user::run(command).await,
        Command::Import(command) => import::run(command).await,
        Command::Person(command) => person::run(command).await,
        Command::Check(args) => check::run(args).await,
        Command::Bench(command) => {
            init_logging(false);
            bench::run(command).await
        }
        Command::Demo(db) => {
            let store = db.open(&StoreOptions::default()).await?;
            let base_url = std::env::var("BARNSTORM_BASE_URL")
                .unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
            demo::load(&store, &base_url).await?.print();
            Ok(())
        }
    }
}

/// mimalloc keeps per-thread heaps: under load glibc's allocator spent a tenth of the
/// server's time in its own bookkeeping.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    barnstorm_web::install_tls_provider();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
