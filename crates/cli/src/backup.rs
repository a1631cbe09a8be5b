//! `barnstorm backup FILE` and `barnstorm restore FILE`: flags and what they print. The
//! copying, checking and refusing live in `barnstorm_store::backup`.

use crate::DatabaseArgs;
use anyhow::Context;
use barnstorm_store::DatabaseUrl;
use barnstorm_store::backup::{self, BackupReport};
use std::path::PathBuf;

/// Options of `barnstorm backup`.
#[derive(clap::Args, Debug)]
pub(crate) struct BackupArgs {
    /// The backup file to write: a SQLite database file, or a `pg_dump` custom-format
    /// archive for PostgreSQL. Written beside itself and renamed into place once checked.
    file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// Options of `barnstorm restore`.
#[derive(clap::Args, Debug)]
pub(crate) struct RestoreArgs {
    /// A file written by `barnstorm backup` on the same engine.
    file: PathBuf,
    /// Replace an existing SQLite file, or the contents of a PostgreSQL database that
    /// already holds tables. Stop every node on the database first.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn database_url(database: &DatabaseArgs) -> anyhow::Result<DatabaseUrl> {
    database
        .database_url
        .parse()
        .context("--database-url / BARNSTORM_DATABASE_URL")
}

pub(crate) async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let url = database_url(&args.database)?;
    let BackupReport {
        file,
        bytes,
        schema_version,
    } = backup::backup(&url, &args.file, args.force)
        .await
        .with_context(|| format!("backing up {url} to {}", args.file.display()))?;
    println!(
        "Backed up {url} to {} ({bytes} bytes, schema version {schema_version}); the copy passed its integrity check.",
        file.display()
    );
    Ok(())
}

pub(crate) async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let url = database_url(&args.database)?;
    let report = backup::restore(&args.file, &url, args.force)
        .await
        .with_context(|| format!("restoring {} into {url}", args.file.display()))?;
    println!(
        "Restored {} into {url} (schema version {}{}).",
        args.file.display(),
        report.backup_schema_version,
        if report.schema_version == report.backup_schema_version {
            String::new()
        } else {
            format!(", migrated to {}", report.schema_version)
        }
    );
    Ok(())
}
