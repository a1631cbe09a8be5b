//! Throw-away databases for tests: a SQLite file in a temporary folder, or a fresh schema
//! in the PostgreSQL named by `BARNSTORM_TEST_POSTGRES_URL`. Only compiled with the
//! `testing` feature; never used by the server.

use crate::{DatabaseUrl, Store, StoreOptions};
use sqlx::Connection;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "BARNSTORM_TEST_POSTGRES_URL";
/// When set to 1, a missing PostgreSQL is a test failure instead of a skip.
pub const REQUIRE_ALL_VAR: &str = "BARNSTORM_REQUIRE_ALL_SUITES";

/// A migrated, empty database that is removed by [`TestDatabase::drop_database`].
pub struct TestDatabase {
    /// The store on it.
    pub store: Store,
    /// How to reach it (for tests that start a server or a second node).
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(std::path::PathBuf),
    Schema { admin_url: String, schema: String },
    Database { admin_url: String, name: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    format!(
        "{}_{}_{}",
        crate::now_millis() / 1000,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDatabase {
    /// A new SQLite database in its own temporary folder.
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("barnstorm-test-{}", unique_suffix()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        let url = DatabaseUrl::Sqlite(dir.join("test.db"));
        let store = open(&url).await;
        Self {
            store,
            url,
            cleanup: Cleanup::Folder(dir),
        }
    }

    /// A new schema in the test PostgreSQL, or `None` (with a loud note) when none is
    /// configured. Panics instead when `BARNSTORM_REQUIRE_ALL_SUITES=1`.
    pub async fn postgres() -> Option<Self> {
        let (admin_url, mut admin) = admin_connection().await?;
        let schema = format!("bt_{}", unique_suffix());
        sweep_stale(&mut admin, StaleKind::Schema).await;
        if let Err(e) = sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
        {
            panic!("cannot create schema {schema}: {e}");
        }
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = DatabaseUrl::Postgres(format!(
            "{admin_url}{separator}options=-c%20search_path%3D{schema}"
        ));
        let store = open(&url).await;
        Some(Self {
            store,
            url,
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }

    /// Closes the store and removes the database.
    pub async fn drop_database(self) {
        self.store.close().await;
        self.cleanup.run().await;
    }
}

/// A database no migration has touched, for tests of what `barnstorm` does to a whole
/// database (restoring a backup, upgrading an old schema): a SQLite path in a temporary
/// folder, or a database of its own on the test PostgreSQL server.
pub struct ScratchDatabase {
    /// How to reach it.
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

impl ScratchDatabase {
    /// A SQLite path in a new temporary folder; the file does not exist yet.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("barnstorm-test-{}", unique_suffix()));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        Self {
            url: DatabaseUrl::Sqlite(dir.join("scratch.db")),
            cleanup: Cleanup::Folder(dir),
        }
    }

    /// A new, empty database on the test PostgreSQL server, or `None` (with a loud note)
    /// when none is configured; panics when `BARNSTORM_REQUIRE_ALL_SUITES=1`.
    pub async fn postgres() -> Option<Self> {
        let (admin_url, mut admin) = admin_connection().await?;
        sweep_stale(&mut admin, StaleKind::Database).await;
        let name = format!("bt_{}", unique_suffix());
        if let Err(e) = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
        {
            panic!("cannot create database {name}: {e}");
        }
        let mut url = match url::Url::parse(&admin_url) {
            Ok(url) => url,
            Err(e) => panic!("{POSTGRES_URL_VAR} is not a URL: {e}"),
        };
        url.set_path(&name);
        Some(Self {
            url: DatabaseUrl::Postgres(url.to_string()),
            cleanup: Cleanup::Database { admin_url, name },
        })
    }

    /// The URL as `--database-url` takes it.
    pub fn url_text(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// Applies this backend's migrations up to and including `version`, as a release
    /// that had only those would have, and returns a pool on the database to fill it.
    pub async fn migrate_to(&self, version: i64) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let raw = match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        };
        let pool = match sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&raw)
            .await
        {
            Ok(pool) => pool,
            Err(e) => panic!("cannot open {}: {e}", self.url),
        };
        let mut early = crate::migrator(self.url.backend());
        early.migrations = early
            .migrations
            .iter()
            .filter(|m| m.version <= version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        if let Err(e) = early.run(&pool).await {
            panic!(
                "cannot apply migrations up to {version} to {}: {e}",
                self.url
            );
        }
        pool
    }

    /// Removes the database.
    pub async fn drop_database(self) {
        self.cleanup.run().await;
    }
}

impl Cleanup {
    async fn run(&self) {
        match self {
            Cleanup::Folder(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { admin_url, schema } => {
                if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&mut admin)
                        .await;
                }
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            }
        }
    }
}

async fn open(url: &DatabaseUrl) -> Store {
    let options = StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    };
    let store = match Store::connect(url, &options).await {
        Ok(store) => store,
        Err(e) => panic!("cannot open the test database {url}: {e}"),
    };
    if let Err(e) = store.migrate().await {
        panic!("cannot migrate the test database {url}: {e}");
    }
    store
}

/// The test PostgreSQL's URL and a connection to it, or `None` (with a loud note) when
/// none is configured; panics when `BARNSTORM_REQUIRE_ALL_SUITES=1`.
async fn admin_connection() -> Option<(String, sqlx::PgConnection)> {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        if std::env::var(REQUIRE_ALL_VAR).is_ok_and(|v| v == "1") {
            panic!(
                "{POSTGRES_URL_VAR} is not set but {REQUIRE_ALL_VAR}=1: the PostgreSQL suite must run"
            );
        }
        eprintln!("SKIPPED on PostgreSQL: set {POSTGRES_URL_VAR} to run this test there too");
        return None;
    };
    match sqlx::PgConnection::connect(&admin_url).await {
        Ok(conn) => Some((admin_url, conn)),
        Err(e) => panic!("cannot reach the test PostgreSQL at {admin_url}: {e}"),
    }
}

/// What a test run leaves behind on PostgreSQL.
#[derive(Clone, Copy)]
enum StaleKind {
    Schema,
    Database,
}

/// Schemas and databases of test runs that died before cleaning up are dropped after an
/// hour.
async fn sweep_stale(admin: &mut sqlx::PgConnection, kind: StaleKind) {
    let cutoff = crate::now_millis() / 1000 - 3600;
    let list = match kind {
        StaleKind::Schema => "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'bt\\_%'",
        StaleKind::Database => "SELECT datname::text FROM pg_database WHERE datname LIKE 'bt\\_%'",
    };
    let Ok(names) = sqlx::query_scalar::<_, String>(list)
        .fetch_all(&mut *admin)
        .await
    else {
        return;
    };
    for name in names {
        let started = name.split('_').nth(1).and_then(|s| s.parse::<i64>().ok());
        if started.is_some_and(|s| s < cutoff) {
            let drop = match kind {
                StaleKind::Schema => format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
                StaleKind::Database => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            };
            let _ = sqlx::query(&drop).execute(&mut *admin).await;
        }
    }
}

/// Runs an async test body on SQLite and on PostgreSQL: `both_backends!(name, body_fn);`
/// makes `name::sqlite` and `name::postgres`, each calling `body_fn(store).await` on a
/// fresh database.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::testing::TestDatabase::sqlite().await;
                super::$body(db.store.clone()).await;
                db.drop_database().await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = $crate::testing::TestDatabase::postgres().await else { return };
                super::$body(db.store.clone()).await;
                db.drop_database().await;
            }
        }
    )+};
}
