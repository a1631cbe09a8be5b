//! `barnstorm backup` and `barnstorm restore`: a SQLite database copied through SQLite's
//! online backup API into one self-contained file, consistent while the node serves, or a
//! PostgreSQL database through `pg_dump --format=custom` and `pg_restore`. Every backup is
//! checked before it is reported done, and a restore refuses a file it cannot vouch for, a
//! schema newer than this binary, or a database it would overwrite without `force`.

mod postgres;
mod sqlite;

use crate::{Backend, DatabaseUrl, Store, StoreError, StoreOptions, newest_schema_version};
use std::path::{Path, PathBuf};

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file or database would be overwritten and `force` was not given.
    #[error("{0} already exists; pass --force to replace it")]
    Exists(String),
    /// The PostgreSQL database to restore into already holds tables.
    #[error(
        "the database {url} is not empty ({tables} tables); restore into a new database (createdb) or pass --force to replace its contents"
    )]
    NotEmpty {
        /// The database, password masked.
        url: String,
        /// How many tables it holds.
        tables: i64,
    },
    /// The file is damaged, is not a backup, or holds no Barnstorm database.
    #[error("{path} is not a usable Barnstorm backup: {reason}")]
    BadBackup {
        /// The backup file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The database to back up is not a Barnstorm database.
    #[error("{0} is not a Barnstorm database (it has no migrations table); check --database-url")]
    NotBarnstorm(String),
    /// The backup was written by a newer Barnstorm.
    #[error(
        "{path} has schema version {found}, newer than this barnstorm knows ({known}); restore it with the release that wrote it"
    )]
    NewerSchema {
        /// The backup file.
        path: PathBuf,
        /// Its newest migration.
        found: i64,
        /// The newest migration this binary has.
        known: i64,
    },
    /// Another process has the SQLite database open.
    #[error("{0} is in use: stop `barnstorm serve` on it before restoring over it")]
    InUse(PathBuf),
    /// `pg_dump` or `pg_restore` is not installed.
    #[error(
        "{0} was not found on PATH; install the PostgreSQL client tools of your server's version (Debian: apt-get install postgresql-client)"
    )]
    MissingTool(&'static str),
    /// `pg_dump` or `pg_restore` failed.
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed {
        /// The program.
        tool: &'static str,
        /// How it exited.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// A file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The operating system's words.
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("{context}: {source}")]
    Sqlite {
        /// What was being done, naming the file.
        context: String,
        /// SQLite's words.
        source: rusqlite::Error,
    },
    /// Opening or migrating the restored database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a finished backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The file written.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The newest migration it holds.
    pub schema_version: i64,
}

/// What a finished restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The newest migration the backup held.
    pub backup_schema_version: i64,
    /// The newest migration of the restored database, after migrating it forward.
    pub schema_version: i64,
}

/// Writes a consistent backup of `url` to `file`, then checks it. Safe while nodes serve.
/// Refuses to replace an existing `file` unless `force`.
pub async fn backup(
    url: &DatabaseUrl,
    file: &Path,
    force: bool,
) -> Result<BackupReport, BackupError> {
    if file.exists() && !force {
        return Err(BackupError::Exists(file.display().to_string()));
    }
    let schema_version = match url {
        DatabaseUrl::Sqlite(path) => {
            let (path, file) = (path.clone(), file.to_owned());
            blocking(move || sqlite::backup(&path, &file)).await?
        }
        DatabaseUrl::Postgres(raw) => postgres::backup(url, raw, file).await?,
    };
    let bytes = std::fs::metadata(file)
        .map_err(|source| io(format!("reading {}", file.display()), source))?
        .len();
    Ok(BackupReport {
        file: file.to_owned(),
        bytes,
        schema_version,
    })
}

/// Restores `file` (written by [`backup`] on the same engine) into `url`, then applies
/// any newer migrations. Refuses to replace an existing SQLite file or a PostgreSQL
/// database that holds tables unless `force`.
pub async fn restore(
    file: &Path,
    url: &DatabaseUrl,
    force: bool,
) -> Result<RestoreReport, BackupError> {
    let engine = backup_engine(file)?;
    if engine != url.backend() {
        return Err(BackupError::BadBackup {
            path: file.to_owned(),
            reason: format!(
                "it is a {engine} backup and --database-url names a {} database",
                url.backend()
            ),
        });
    }
    let known = newest_schema_version(url.backend());
    let backup_schema_version = match url {
        DatabaseUrl::Sqlite(target) => {
            let (file, target) = (file.to_owned(), target.clone());
            blocking(move || sqlite::restore(&file, &target, known, force)).await?
        }
        DatabaseUrl::Postgres(raw) => postgres::restore(file, url, raw, known, force).await?,
    };
    let store = Store::connect(url, &StoreOptions::default()).await?;
    let migrated = store.migrate().await;
    let schema_version = match migrated {
        Ok(()) => store.schema_version().await,
        Err(e) => Err(e),
    };
    store.close().await;
    Ok(RestoreReport {
        backup_schema_version,
        schema_version: schema_version?,
    })
}

/// Which engine wrote a backup file, from its first bytes: SQLite's header or
/// `pg_dump`'s custom-format magic.
pub fn backup_engine(file: &Path) -> Result<Backend, BackupError> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let read = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|source| io(format!("reading {}", file.display()), source))?;
    match &head[..read] {
        h if h.starts_with(b"SQLite format 3\0") => Ok(Backend::Sqlite),
        h if h.starts_with(b"PGDMP") => Ok(Backend::Postgres),
        _ => Err(BackupError::BadBackup {
            path: file.to_owned(),
            reason: "it is neither a SQLite database nor a pg_dump custom-format archive".into(),
        }),
    }
}

fn io(context: String, source: std::io::Error) -> BackupError {
    BackupError::Io { context, source }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, BackupError> + Send + 'static,
) -> Result<T, BackupError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| io("the backup thread".into(), std::io::Error::other(e)))?
}
