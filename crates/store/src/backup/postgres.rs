//! PostgreSQL backups the documented way: `pg_dump --format=custom` (a consistent
//! snapshot under one repeatable-read transaction, safe while nodes serve) and
//! `pg_restore --single-transaction` (all or nothing). The password travels in
//! `PGPASSWORD`, never on a command line other users can read.

use super::{BackupError, io};
use crate::DatabaseUrl;
use sqlx::Connection;
use std::path::Path;
use std::process::Stdio;

/// Dumps the database at `raw` into `file` and returns its schema version.
pub(super) async fn backup(url: &DatabaseUrl, raw: &str, file: &Path) -> Result<i64, BackupError> {
    let mut conn = connect(url, raw).await?;
    let has_migrations: bool =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut conn)
            .await
            .map_err(crate::StoreError::from)?;
    let _ = conn.close().await;
    if !has_migrations {
        return Err(BackupError::NotBarnstorm(url.to_string()));
    }
    let (target, password) = libpq_target(raw);
    let mut partial = file.as_os_str().to_owned();
    partial.push(format!(".partial-{}", std::process::id()));
    let partial = std::path::PathBuf::from(partial);
    let dumped = async {
        let mut args = vec!["--format=custom".to_owned(), "--no-password".to_owned()];
        args.push(format!("--file={}", partial.display()));
        args.push(format!("--dbname={target}"));
        run("pg_dump", &args, password.as_deref()).await?;
        let version = archived_schema_version(&partial).await?;
        std::fs::rename(&partial, file).map_err(|source| {
            io(
                format!("renaming {} to {}", partial.display(), file.display()),
                source,
            )
        })?;
        Ok(version)
    }
    .await;
    if dumped.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    dumped
}

/// Loads the archive `file` into the database at `raw` and returns the schema version
/// it held.
pub(super) async fn restore(
    file: &Path,
    url: &DatabaseUrl,
    raw: &str,
    known: i64,
    force: bool,
) -> Result<i64, BackupError> {
    let found = archived_schema_version(file).await?;
    if found > known {
        return Err(BackupError::NewerSchema {
            path: file.to_owned(),
            found,
            known,
        });
    }
    let mut conn = connect(url, raw).await?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(crate::StoreError::from)?;
    let _ = conn.close().await;
    if tables > 0 && !force {
        return Err(BackupError::NotEmpty {
            url: url.to_string(),
            tables,
        });
    }
    let (target, password) = libpq_target(raw);
    let mut args: Vec<String> = [
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--no-password",
    ]
    .map(str::to_owned)
    .to_vec();
    if tables > 0 {
        args.extend(["--clean".to_owned(), "--if-exists".to_owned()]);
    }
    args.push(format!("--dbname={target}"));
    args.push(file.display().to_string());
    run("pg_restore", &args, password.as_deref()).await?;
    Ok(found)
}

/// The newest migration recorded in a `pg_dump` archive, read from the archive's own
/// copy of the migrations table; an archive `pg_restore` cannot read is no backup.
async fn archived_schema_version(file: &Path) -> Result<i64, BackupError> {
    let bad = |reason: String| BackupError::BadBackup {
        path: file.to_owned(),
        reason,
    };
    let args = [
        "--data-only".to_owned(),
        "--table=_sqlx_migrations".to_owned(),
        "--file=-".to_owned(),
        file.display().to_string(),
    ];
    let dump = run("pg_restore", &args, None)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8_lossy(&dump);
    let mut rows = text
        .lines()
        .skip_while(|l| !l.starts_with("COPY "))
        .skip(1)
        .take_while(|l| *l != "\\.");
    let mut newest = None::<i64>;
    for row in rows.by_ref() {
        let mut fields = row.split('\t');
        let version = fields.next().and_then(|v| v.parse::<i64>().ok());
        let success = fields.nth(2);
        match (version, success) {
            (Some(version), Some("t")) => newest = Some(newest.map_or(version, |n| n.max(version))),
            (Some(version), Some(_)) => {
                return Err(bad(format!("migration {version} had failed in it")));
            }
            _ => return Err(bad(format!("unreadable migrations row '{row}'"))),
        }
    }
    newest.ok_or_else(|| bad("it holds no Barnstorm migrations table".into()))
}

async fn connect(url: &DatabaseUrl, raw: &str) -> Result<sqlx::PgConnection, BackupError> {
    sqlx::PgConnection::connect(raw)
        .await
        .map_err(|e| BackupError::Store(crate::StoreError::unavailable(url, e)))
}

/// The URL as libpq takes it, without its password, and the password apart.
fn libpq_target(raw: &str) -> (String, Option<String>) {
    let Ok(mut parsed) = url::Url::parse(raw) else {
        return (raw.to_owned(), None);
    };
    let password = parsed.password().map(percent_decode);
    let _ = parsed.set_password(None);
    (parsed.to_string(), password)
}

/// `%40` back to `@`: the URL keeps the password percent-encoded, libpq wants it plain.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a PostgreSQL client tool and returns what it wrote on standard output.
async fn run(
    tool: &'static str,
    args: &[String],
    password: Option<&str>,
) -> Result<Vec<u8>, BackupError> {
    let mut command = tokio::process::Command::new(tool);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = match command.output().await {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(BackupError::MissingTool(tool));
        }
        Err(source) => return Err(io(format!("running {tool}"), source)),
    };
    if !output.status.success() {
        return Err(BackupError::ToolFailed {
            tool,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (target, password) =
            libpq_target("postgres://ada:s%40c+ret@db.example.org:5432/barnstorm");
        assert_eq!(target, "postgres://ada@db.example.org:5432/barnstorm");
        assert_eq!(password.as_deref(), Some("s@c+ret"));
        let (target, password) = libpq_target("postgres://postgres@127.0.0.1/test");
        assert_eq!(target, "postgres://postgres@127.0.0.1/test");
        assert_eq!(password, None);
    }
}
