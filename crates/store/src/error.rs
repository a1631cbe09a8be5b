//! The one error type of the store. Callers match on `NotFound`, `Conflict` and
//! `Invalid`; anything else is an outage or a defect, logged by the caller and never shown
//! to end users.

use crate::DatabaseUrl;

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write (a duplicate email, slug, …).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The request breaks a rule the store enforces itself (an event that ends before it
    /// starts); the text says which, in words fit to show the person who made it.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The database cannot be reached or opened.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// Any other error from the SQLite queue writer's own connection.
    #[error("database error: {0}")]
    Engine(String),
}

impl StoreError {
    pub(crate) fn unavailable(url: &DatabaseUrl, err: sqlx::Error) -> Self {
        Self::Unavailable(format!("cannot open {url}: {err}"))
    }

    /// True when retrying later may succeed (the database is down or overloaded).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                Self::Conflict(db.constraint().unwrap_or(db.message()).to_owned())
            }
            // The server is shutting down or restarting (class 57: operator intervention),
            // the connection broke (class 08), or it is out of connections or memory
            // (class 53): the same request may succeed in a moment.
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|code| ["57", "08", "53"].iter().any(|c| code.starts_with(c))) =>
            {
                Self::Unavailable(err.to_string())
            }
            sqlx::Error::Database(ref db) if sqlite_outage(db.as_ref()) => {
                Self::Unavailable(err.to_string())
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(err.to_string()),
            other => Self::Database(other),
        }
    }
}

/// SQLite errors that mean the disk, not the request, is at fault: the disk is full
/// (`SQLITE_FULL`), an I/O error (`SQLITE_IOERR_*`), the file cannot be opened
/// (`SQLITE_CANTOPEN`), or the file became read-only underneath us (the extended
/// `SQLITE_READONLY_*` codes; plain `SQLITE_READONLY` is a write on a read connection,
/// a defect, and stays an error).
fn sqlite_outage(db: &dyn sqlx::error::DatabaseError) -> bool {
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_none() {
        return false;
    }
    db.code()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(is_sqlite_outage)
}

/// Whether a SQLite extended result code is one of [`sqlite_outage`]'s.
pub(crate) fn is_sqlite_outage(code: i32) -> bool {
    matches!(code & 0xff, 13 | 10 | 14) || (code & 0xff == 8 && code != 8)
}
