//! Barnstorm's persistence port: one [`Store`] over SQLite (the embedded default) or
//! PostgreSQL (several nodes at scale).
//!
//! Queries are written once in the SQL both engines share (`$1` binds, `RETURNING`,
//! `ON CONFLICT`) and run through sqlx's `Any` driver using only portable column types
//! (64-bit integers, text, reals); SQL that must differ per engine is chosen by [`Backend`].
//! Each engine has its own migrations. Nothing here knows about HTTP or templates.

mod audit;
pub mod backup;
mod binds;
mod connect;
mod error;
pub mod events;
pub mod geocode;
mod groups;
mod invites;
pub mod metrics;
mod notify;
mod outbox;
pub mod phonebank;
mod privacy;
mod rate_limits;
pub mod retention;
mod secrets;
mod sessions;
pub mod subject;
mod two_factor;
mod users;
pub mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

pub use audit::{
    About, AuditAction, AuditEntry, AuditFilter, AuditPage, PersonIds, UnknownAuditAction,
};
pub use connect::{Backend, DatabaseUrl, DatabaseUrlError};
pub use error::StoreError;
pub use geocode::{GeocodeError, Place, outcode_centroid};
pub use groups::{Group, GroupKind, Member, Role, slugify};
pub use invites::{Invite, InviteState, NewInvite};
pub use notify::{CAMPAIGN_EVENTS_CHANNEL, MAX_PAYLOAD_BYTES, Notification, NotificationListener};
pub use outbox::{MailAttachment, NewMail, OutboxMail};
pub use privacy::PrivacyNotice;
pub use rate_limits::RateCount;
pub use secrets::{hash_secret, new_secret};
pub use sessions::{ApiTokenInfo, Session, SignInLink};
pub use two_factor::{PasskeyInfo, SecondStep, TotpAuthenticator, TwoFactorGate, TwoFactorStatus};
pub use users::{User, canonical_email};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, Transaction};
use std::sync::Arc;
use std::time::Duration;

/// Milliseconds since the Unix epoch, the unit every stored time uses.
pub type Millis = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A handle on the database; cheap to clone and shared by every request.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    /// Where the database is, for connections outside the pools (the event listener).
    url: DatabaseUrl,
    /// The only connections that write. On SQLite this pool holds exactly one connection,
    /// so writers queue in the pool instead of failing with `SQLITE_BUSY`.
    writer: AnyPool,
    /// Connections for reads; on PostgreSQL the same pool as `writer`.
    reader: AnyPool,
    /// This node's in-memory index of discoverable events (a cache of the events table).
    event_index: Arc<events::EventIndex>,
    /// The queue that commits claims and outcomes in batches (a thread on SQLite, a
    /// task on PostgreSQL).
    queue: phonebank::Queue,
}

/// Tunables for opening a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections in the pool (PostgreSQL) or read connections (SQLite).
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The migrations this binary carries for `backend`, oldest first.
pub(crate) fn migrator(backend: Backend) -> sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
        Backend::Postgres => sqlx::migrate!("migrations/postgres"),
    }
}

/// The newest schema version (migration number) this binary knows for `backend`: a
/// database or backup with a newer one was written by a newer Barnstorm.
pub fn newest_schema_version(backend: Backend) -> i64 {
    migrator(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

impl Store {
    /// Opens the database named by `url` (creating a SQLite file if needed). It does not
    /// apply migrations: call [`Store::migrate`].
    pub async fn connect(url: &DatabaseUrl, options: &StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (writer, reader) = connect::open_pools(url, options).await?;
        let queue = phonebank::Queue::start(url, &writer, options.max_connections).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                backend: url.backend(),
                url: url.clone(),
                writer,
                reader,
                event_index: Arc::new(events::EventIndex::new()),
                queue,
            }),
        })
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrator(self.inner.backend).run(&self.inner.writer).await?;
        self.hash_legacy_invite_codes().await?;
        Ok(())
    }

    /// The newest migration this database has applied (0 when none has run).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.inner.reader)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.inner.reader).await?;
        Ok(())
    }

    /// Writes the store's own metrics (the queue's timings) in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        self.inner.queue.render_metrics(out);
    }

    /// Closes every connection; further use fails.
    pub async fn close(&self) {
        self.inner.queue.close().await;
        self.inner.writer.close().await;
        self.inner.reader.close().await;
    }

    /// The writing pool. A write outside a transaction must be read to its end
    /// (`execute` or `fetch_all`, never `fetch_one`/`fetch_optional`): SQLite commits when
    /// the statement finishes, and a failed commit (a full disk) is only reported then.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.inner.writer
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.inner.reader
    }

    /// The queue that runs claims, heartbeats, releases and outcomes.
    pub(crate) fn queue(&self) -> &phonebank::Queue {
        &self.inner.queue
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so a read followed by a write can never fail half-way with
    /// `SQLITE_BUSY`.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let tx = match self.inner.backend {
            Backend::Sqlite => self.begin_immediate().await?,
            Backend::Postgres => self.inner.writer.begin().await?,
        };
        Ok(tx)
    }
}

impl Store {
    /// `BEGIN IMMEDIATE` on the SQLite writer. A COMMIT that failed (disk full, I/O
    /// error) can leave sqlx counting a transaction SQLite already rolled back, and every
    /// later BEGIN on that connection fails: such a connection is closed so the pool opens
    /// a fresh one. Other writers can poison the fresh one too while the disk stays full,
    /// so this tries three times and then reports the database as unavailable.
    async fn begin_immediate(&self) -> Result<Transaction<'static, Any>, StoreError> {
        for _ in 0..3 {
            match self.inner.writer.begin_with("BEGIN IMMEDIATE").await {
                Err(sqlx::Error::InvalidSavePointStatement) => {
                    tracing::warn!("reopening the SQLite writer after a failed commit");
                    let stuck = self.inner.writer.acquire().await?;
                    stuck.close().await?;
                }
                other => return Ok(other?),
            }
        }
        Err(StoreError::Unavailable(
            "the SQLite writer keeps failing to commit (is the disk full?)".into(),
        ))
    }
}

pub(crate) fn pool_options(max: u32, options: &StoreOptions) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(options.acquire_timeout)
}
