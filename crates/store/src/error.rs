//! The one error type of the store. Callers match on `NotFound` and `Conflict`; anything
//! else is an outage or a defect, logged by the caller and never shown to end users.

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
    /// The database cannot be reached or opened.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
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
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(err.to_string()),
            other => Self::Database(other),
        }
    }
}
