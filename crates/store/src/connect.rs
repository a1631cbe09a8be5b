//! Parsing database URLs and opening connection pools with the settings each engine needs
//! for durability: SQLite in WAL mode with full fsync and foreign keys, one writer.
//! Owns no queries.

use crate::{StoreError, StoreOptions, pool_options};
use sqlx::AnyPool;
use sqlx::Executor;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a local file: one node.
    Sqlite,
    /// PostgreSQL: any number of nodes.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// A parsed `--database-url`: `sqlite:PATH`, a bare file path, or `postgres://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

/// Why a database URL was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    /// The URL was empty.
    #[error("the database URL is empty; use sqlite:PATH or postgres://USER@HOST/DB")]
    Empty,
    /// A scheme other than sqlite or postgres.
    #[error("unsupported database URL scheme '{0}': use sqlite:PATH or postgres://USER@HOST/DB")]
    UnsupportedScheme(String),
    /// A `sqlite:` URL with no path.
    #[error("the SQLite URL '{0}' names no file; use sqlite:PATH, for example sqlite:barnstorm.db")]
    MissingPath(String),
    /// A `postgres://` URL that does not parse.
    #[error("the PostgreSQL URL is malformed: {0}")]
    MalformedPostgres(String),
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|e| DatabaseUrlError::MalformedPostgres(e.to_string()))?;
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(DatabaseUrlError::MissingPath(raw.to_owned()));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        match raw.split_once("://") {
            Some((scheme, _)) => Err(DatabaseUrlError::UnsupportedScheme(scheme.to_owned())),
            None => Ok(Self::Sqlite(PathBuf::from(raw))),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    write!(f, "{parsed}")
                }
                Err(_) => f.write_str("postgres://(unparsable)"),
            },
        }
    }
}

impl DatabaseUrl {
    /// The engine this URL names.
    pub fn backend(&self) -> crate::Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

pub(crate) const SQLITE_PRAGMAS: [&str; 5] = [
    // `synchronous = FULL` fsyncs the WAL on every commit: an acknowledged write survives a
    // power cut, not only a crash of the process.
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA temp_store = MEMORY",
    // Freed pages and deleted cells are zeroed, so an erased person does not linger in the
    // file (see docs/data-protection.md).
    "PRAGMA secure_delete = ON",
];

pub(crate) async fn open_pools(
    url: &DatabaseUrl,
    options: &StoreOptions,
) -> Result<(AnyPool, AnyPool), StoreError> {
    match url {
        DatabaseUrl::Postgres(raw) => {
            probe(url, raw, &[]).await?;
            let pool = pool_options(options.max_connections, options)
                .connect(raw)
                .await
                .map_err(|e| StoreError::unavailable(url, e))?;
            Ok((pool.clone(), pool))
        }
        DatabaseUrl::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                {
                    return Err(StoreError::Unavailable(format!(
                        "cannot open SQLite database {}: the folder {} does not exist",
                        path.display(),
                        dir.display()
                    )));
                }
            }
            // SQLite says only "unable to open database file" on a read-only filesystem
            // or a file this user may not write; the operating system says which.
            if path.exists()
                && let Err(e) = std::fs::OpenOptions::new().append(true).open(path)
            {
                return Err(StoreError::Unavailable(format!(
                    "cannot open SQLite database {} for writing: {e}",
                    path.display()
                )));
            }
            let conn_url = format!("sqlite://{}?mode=rwc", path.display());
            probe(
                url,
                &conn_url,
                &[
                    "PRAGMA journal_mode = WAL",
                    "SELECT COUNT(*) FROM sqlite_master",
                ],
            )
            .await?;
            // A local file does not drop connections: skip the ping sqlx sends before
            // handing out each connection (a thread round trip per query).
            let writer = pool_options(1, options)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        for pragma in SQLITE_PRAGMAS {
                            conn.execute(pragma).await?;
                        }
                        Ok(())
                    })
                })
                .connect(&conn_url)
                .await
                .map_err(|e| StoreError::unavailable(url, e))?;
            // Open the writer first so the file exists and is in WAL mode before readers attach.
            writer
                .acquire()
                .await
                .map_err(|e| StoreError::unavailable(url, e))?;
            let reader = pool_options(options.max_connections.max(2), options)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        for pragma in SQLITE_PRAGMAS {
                            conn.execute(pragma).await?;
                        }
                        conn.execute("PRAGMA query_only = ON").await?;
                        Ok(())
                    })
                })
                .connect(&conn_url)
                .await
                .map_err(|e| StoreError::unavailable(url, e))?;
            Ok((writer, reader))
        }
    }
}

/// Opens one connection and runs `checks`, so a bad database fails at once with the
/// engine's own words ("attempt to write a readonly database", "connection refused")
/// instead of a pool time-out.
async fn probe(url: &DatabaseUrl, conn_url: &str, checks: &[&str]) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(conn_url)
        .await
        .map_err(|e| StoreError::unavailable(url, e))?;
    for check in checks {
        conn.execute(*check)
            .await
            .map_err(|e| StoreError::unavailable(url, e))?;
    }
    conn.close()
        .await
        .map_err(|e| StoreError::unavailable(url, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_url_forms_operators_type() {
        assert_eq!(
            "sqlite:barnstorm.db".parse(),
            Ok(DatabaseUrl::Sqlite("barnstorm.db".into()))
        );
        assert_eq!(
            "sqlite:///var/lib/b.db".parse(),
            Ok(DatabaseUrl::Sqlite("/var/lib/b.db".into()))
        );
        assert_eq!(
            "data/b.db".parse(),
            Ok(DatabaseUrl::Sqlite("data/b.db".into()))
        );
        assert_eq!(
            "postgres://postgres@127.0.0.1/test".parse(),
            Ok(DatabaseUrl::Postgres(
                "postgres://postgres@127.0.0.1/test".into()
            ))
        );
    }

    #[test]
    fn rejects_unknown_schemes_and_empty_paths_with_a_hint() {
        let err = "mysql://root@localhost/b"
            .parse::<DatabaseUrl>()
            .unwrap_err();
        assert!(err.to_string().contains("'mysql'"), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
        assert_eq!(
            "sqlite:".parse::<DatabaseUrl>(),
            Err(DatabaseUrlError::MissingPath("sqlite:".into()))
        );
        assert_eq!("  ".parse::<DatabaseUrl>(), Err(DatabaseUrlError::Empty));
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_fails_at_once_and_says_so() {
        let dir = std::env::temp_dir().join(format!("barnstorm-garbage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("garbage.db");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let started = std::time::Instant::now();
        let err =
            crate::Store::connect(&DatabaseUrl::Sqlite(path), &crate::StoreOptions::default())
                .await
                .err()
                .unwrap();
        assert!(err.to_string().contains("not a database"), "{err}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "no pool time-out"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn display_hides_the_password() {
        let url: DatabaseUrl = "postgres://app:secret@db.example.org/barnstorm"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.to_string(),
            "postgres://app:***@db.example.org/barnstorm"
        );
    }
}
