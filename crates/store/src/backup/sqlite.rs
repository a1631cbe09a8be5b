//! SQLite backups through the online backup API on a connection of its own: the whole
//! database is copied in one step under one read transaction, so the copy is a consistent
//! snapshot while the node keeps writing (WAL readers do not block the writer). Files are
//! written beside their destination and renamed into place only once checked.

use super::{BackupError, io};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Copies the database at `source` into `file` and returns the schema version it holds.
pub(super) fn backup(source: &Path, file: &Path) -> Result<i64, BackupError> {
    if !source.is_file() {
        return Err(BackupError::NotBarnstorm(format!(
            "sqlite:{} (there is no such file)",
            source.display()
        )));
    }
    let from = open(source, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    if !has_migrations_table(&from, source)? {
        return Err(BackupError::NotBarnstorm(format!(
            "sqlite:{}",
            source.display()
        )));
    }
    write_checked_copy(&from, source, file)
}

/// Puts the backup `file` in place of `target` and returns the schema version it holds.
pub(super) fn restore(
    file: &Path,
    target: &Path,
    known: i64,
    force: bool,
) -> Result<i64, BackupError> {
    if !file.is_file() {
        return Err(io(
            format!("reading {}", file.display()),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let from = open(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let found = verify(&from, file)?;
    if found > known {
        return Err(BackupError::NewerSchema {
            path: file.to_owned(),
            found,
            known,
        });
    }
    if target.exists() {
        if !force {
            return Err(BackupError::Exists(format!("sqlite:{}", target.display())));
        }
        fold_write_ahead_log(target)?;
    }
    // A -wal file left beside a missing or replaced database would be replayed into the
    // restored one.
    for suffix in ["-wal", "-shm"] {
        let side = sidecar(target, suffix);
        if side.exists() {
            std::fs::remove_file(&side)
                .map_err(|source| io(format!("removing {}", side.display()), source))?;
        }
    }
    write_checked_copy(&from, file, target)
}

/// Copies `from` into a temporary file beside `file`, checks the copy, and renames it
/// over `file`; the temporary file is removed on failure.
fn write_checked_copy(
    from: &Connection,
    from_path: &Path,
    file: &Path,
) -> Result<i64, BackupError> {
    let partial = sidecar(file, &format!(".partial-{}", std::process::id()));
    let result = copy_into(from, from_path, &partial).and_then(|version| {
        sync_file(&partial)?;
        std::fs::rename(&partial, file).map_err(|source| {
            io(
                format!("renaming {} to {}", partial.display(), file.display()),
                source,
            )
        })?;
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            // The rename is durable only once the folder is on disk too.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|source| io(format!("syncing {}", dir.display()), source))?;
        }
        Ok(version)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn copy_into(from: &Connection, from_path: &Path, partial: &Path) -> Result<i64, BackupError> {
    if partial.exists() {
        std::fs::remove_file(partial)
            .map_err(|source| io(format!("removing {}", partial.display()), source))?;
    }
    let mut to = open(
        partial,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    )?;
    {
        let copy =
            Backup::new(from, &mut to).map_err(|e| sqlite(from_path, "starting the copy of", e))?;
        // -1: every page in one step, under one read transaction: a consistent snapshot
        // (copying in slices would restart whenever the node writes in between). In WAL
        // mode that read transaction does not hold up the node's writer.
        let mut waits = 0;
        loop {
            match copy.step(-1).map_err(|e| sqlite(from_path, "copying", e))? {
                StepResult::Done => break,
                StepResult::More => {}
                _ if waits < 600 => {
                    waits += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => {
                    return Err(sqlite(
                        from_path,
                        "copying (locked for a minute)",
                        rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            None,
                        ),
                    ));
                }
            }
        }
    }
    // The copy inherits WAL mode from a live database; a backup is one file on its own.
    to.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
        .map_err(|e| sqlite(partial, "leaving WAL mode in", e))?;
    let version = verify(&to, partial)?;
    to.close().map_err(|(_, e)| sqlite(partial, "closing", e))?;
    Ok(version)
}

/// Runs SQLite's integrity check and reads the newest migration: a file that fails either
/// is no backup.
fn verify(conn: &Connection, path: &Path) -> Result<i64, BackupError> {
    let bad = |reason: String| BackupError::BadBackup {
        path: path.to_owned(),
        reason,
    };
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| {
            s.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(|e| bad(format!("SQLite cannot read it ({e})")))?;
    if problems != ["ok"] {
        let shown: Vec<_> = problems.iter().take(5).map(String::as_str).collect();
        return Err(bad(format!(
            "SQLite's integrity check failed: {}",
            shown.join("; ")
        )));
    }
    if !has_migrations_table(conn, path)? {
        return Err(bad(
            "it holds no Barnstorm database (no migrations table)".into()
        ));
    }
    let failed: Option<i64> = conn
        .query_row(
            "SELECT MIN(version) FROM _sqlx_migrations WHERE NOT success",
            [],
            |row| row.get(0),
        )
        .map_err(|e| sqlite(path, "reading the migrations of", e))?;
    if let Some(version) = failed {
        return Err(bad(format!("migration {version} had failed in it")));
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations",
        [],
        |row| row.get(0),
    )
    .map_err(|e| sqlite(path, "reading the schema version of", e))
}

/// Checkpoints `target`'s write-ahead log into it and leaves WAL mode, which SQLite
/// allows only when no other connection has the file open: a running node is found here.
fn fold_write_ahead_log(target: &Path) -> Result<(), BackupError> {
    let conn = open(target, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(Duration::from_secs(2))
        .map_err(|e| sqlite(target, "opening", e))?;
    let mode: String = match conn.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0)) {
        Ok(mode) => mode,
        Err(rusqlite::Error::SqliteFailure(failure, _))
            if matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            return Err(BackupError::InUse(target.to_owned()));
        }
        Err(e) => return Err(sqlite(target, "leaving WAL mode in", e)),
    };
    if !mode.eq_ignore_ascii_case("delete") {
        return Err(BackupError::InUse(target.to_owned()));
    }
    conn.close().map_err(|(_, e)| sqlite(target, "closing", e))
}

fn has_migrations_table(conn: &Connection, path: &Path) -> Result<bool, BackupError> {
    conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| sqlite(path, "reading", e))
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| sqlite(path, "opening", e))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| sqlite(path, "opening", e))?;
    Ok(conn)
}

fn sync_file(path: &Path) -> Result<(), BackupError> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|source| io(format!("syncing {}", path.display()), source))
}

/// `path` with `suffix` appended to its file name (`barnstorm.db-wal`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn sqlite(path: &Path, doing: &str, source: rusqlite::Error) -> BackupError {
    BackupError::Sqlite {
        context: format!("{doing} {}", path.display()),
        source,
    }
}
