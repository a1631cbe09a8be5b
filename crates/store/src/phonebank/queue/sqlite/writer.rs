//! The writer thread and its syncer: takes every job waiting, runs them in one
//! `BEGIN IMMEDIATE` transaction (again under a savepoint each when one fails after
//! writing), commits once, and hands the answers to the syncer, which answers them after
//! one `fdatasync` of the write-ahead log. The jobs themselves are [`super::operations`].

use super::super::metrics::QueueMetrics;
use super::super::problems::{LeaseProblem, copy_error};
use super::operations::{run_op, store_error};
use super::{Done, Job, Op, Reply};
use crate::StoreError;
use rusqlite::{Connection, OpenFlags};
use sqlx::AnyPool;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::time::Instant;
use tokio::sync::oneshot;

/// The most jobs committed together: bounds how long the write lock is held at once.
pub(super) const MAX_BATCH: usize = 512;

/// The store's writer pool, held by the thread while it writes.
pub(super) struct Turns {
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) writer: AnyPool,
}

impl Turns {
    /// Waits in the writer pool's queue and holds its connection until dropped.
    fn take(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        Ok(self.runtime.block_on(self.writer.acquire())?)
    }
}

pub(super) fn writer_thread(
    path: &Path,
    turns: &Turns,
    inbox: &mpsc::Receiver<Job>,
    metrics: &Arc<QueueMetrics>,
    opened: oneshot::Sender<Result<(), StoreError>>,
    stopped: oneshot::Sender<()>,
) {
    let (committed, to_sync) = mpsc::channel();
    let started = open(path).and_then(|conn| {
        let wal = open_wal(&conn, path)?;
        let syncer_metrics = Arc::clone(metrics);
        let syncer = std::thread::Builder::new()
            .name("sqlite-sync".into())
            .spawn(move || syncer_thread(&wal, &to_sync, &syncer_metrics))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the queue's syncer: {e}"))
            })?;
        Ok((conn, syncer))
    });
    let (mut conn, syncer) = match started {
        Ok(started) => {
            let _ = opened.send(Ok(()));
            started
        }
        Err(e) => {
            let _ = opened.send(Err(e));
            return;
        }
    };
    while let Ok(first) = inbox.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH
            && let Ok(job) = inbox.try_recv()
        {
            batch.push(job);
        }
        run_batch(&mut conn, turns, batch, &committed, metrics);
    }
    drop(conn);
    drop(committed);
    let _ = syncer.join();
    let _ = stopped.send(());
}

/// A committed batch whose jobs wait for the log to reach the disk.
pub(super) type Committed = Vec<(Reply, Result<Done, LeaseProblem>)>;

/// The write-ahead log, opened once: a flush must not need a new file descriptor, which a
/// node short of them (thousands of connections) might not get.
pub(super) fn open_wal(conn: &Connection, path: &Path) -> Result<File, StoreError> {
    // Reading the schema makes SQLite open (and if need be create) the log first.
    conn.query_row("PRAGMA schema_version", [], |_| Ok(()))
        .map_err(store_error)?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    OpenOptions::new().write(true).open(&wal).map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot open {} for the queue's syncer: {e}",
            Path::new(&wal).display()
        ))
    })
}

/// Flushes the write-ahead log for every batch committed since the last flush, then
/// answers their jobs (or fails them all when the flush fails).
pub(super) fn syncer_thread(
    wal: &File,
    committed: &mpsc::Receiver<Committed>,
    metrics: &QueueMetrics,
) {
    while let Ok(first) = committed.recv() {
        let mut batches = vec![first];
        while let Ok(batch) = committed.try_recv() {
            batches.push(batch);
        }
        let flushing = Instant::now();
        let flushed = wal.sync_data();
        metrics.flush.observe(flushing.elapsed());
        match flushed {
            Ok(()) => {
                for (reply, result) in batches.into_iter().flatten() {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                let err = StoreError::Unavailable(format!(
                    "cannot flush the write-ahead log to disk: {e}"
                ));
                tracing::error!(error = %err, "the queue's writes may not be durable");
                fail_replies(batches.into_iter().flatten().map(|(reply, _)| reply), &err);
            }
        }
    }
}

pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| {
        StoreError::Unavailable(format!(
            "cannot open {} for the queue writer: {e}",
            path.display()
        ))
    })?;
    conn.set_prepared_statement_cache_capacity(32);
    for pragma in crate::connect::SQLITE_PRAGMAS {
        conn.execute_batch(pragma).map_err(store_error)?;
    }
    // The syncer flushes the log before any job is answered (see the module's comment).
    conn.execute_batch("PRAGMA synchronous = NORMAL")
        .map_err(store_error)?;
    Ok(conn)
}

/// Runs `batch` in one transaction and passes its answers to the syncer once it is
/// committed (or answers every job with the error that stopped the commit).
pub(super) fn run_batch(
    conn: &mut Connection,
    turns: &Turns,
    batch: Vec<Job>,
    committed: &mpsc::Sender<Committed>,
    metrics: &QueueMetrics,
) {
    let turn = match turns.take() {
        Ok(turn) => turn,
        Err(err) => return fail_all(batch, &err),
    };
    let running = Instant::now();
    for job in &batch {
        metrics
            .wait
            .observe(running.duration_since(job.handed_over));
    }
    metrics.batches.fetch_add(1, Ordering::Relaxed);
    metrics
        .jobs
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    let ran = run_in_transaction(conn, &batch);
    metrics.run.observe(running.elapsed());
    let results = match ran {
        Ok(results) => results,
        Err(err) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return fail_all(batch, &err);
        }
    };
    let committing = Instant::now();
    let commit = conn.execute_batch("COMMIT");
    metrics.commit.observe(committing.elapsed());
    if let Err(e) = commit {
        let err = store_error(e);
        tracing::error!(error = %err, jobs = batch.len(), "the queue writer could not commit");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return fail_all(batch, &err);
    }
    drop(turn);
    let answers = batch
        .into_iter()
        .map(|job| job.reply)
        .zip(results)
        .collect();
    if let Err(mpsc::SendError(answers)) = committed.send(answers) {
        let err = StoreError::Unavailable("the queue's syncer has stopped".into());
        fail_replies(answers.into_iter().map(|(reply, _)| reply), &err);
    }
}

pub(super) fn fail_all(batch: Vec<Job>, err: &StoreError) {
    fail_replies(batch.into_iter().map(|job| job.reply), err);
}

/// Answers each of `replies` with `err`.
pub(super) fn fail_replies(replies: impl IntoIterator<Item = Reply>, err: &StoreError) {
    for reply in replies {
        let _ = reply.send(Err(copy_error(err).into()));
    }
}

/// Begins a transaction and runs the jobs in it, leaving it open for the commit.
///
/// The common path runs the jobs one after another with nothing around them: a job
/// refused by its checks (an expired lease, someone else's lease) fails before it writes.
/// Only when a job fails after writing, which takes a defect or a failing disk, is the
/// batch rolled back and run again with each job under its own savepoint, so that the
/// others still stand. A savepoint around every job would copy every page each job
/// touches.
pub(super) fn run_in_transaction(
    conn: &Connection,
    batch: &[Job],
) -> Result<Vec<Result<Done, LeaseProblem>>, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE").map_err(store_error)?;
    if let Some(results) = run_unguarded(conn, batch)? {
        return Ok(results);
    }
    conn.execute_batch("ROLLBACK; BEGIN IMMEDIATE")
        .map_err(store_error)?;
    batch
        .iter()
        .map(|job| run_isolated(conn, &job.op))
        .collect()
}

/// Runs every job as it is; `None` when one failed after writing part of its work.
pub(super) fn run_unguarded(
    conn: &Connection,
    batch: &[Job],
) -> Result<Option<Vec<Result<Done, LeaseProblem>>>, StoreError> {
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let changes = conn.total_changes();
        let result = run_op(conn, &job.op);
        still_in_transaction(conn, &result)?;
        if result.is_err() && conn.total_changes() != changes {
            return Ok(None);
        }
        results.push(result);
    }
    Ok(Some(results))
}

/// Runs one job under a savepoint, so that if it fails nothing it wrote stays; the outer
/// error is a savepoint that could not be rolled back, which fails the whole batch.
pub(super) fn run_isolated(
    conn: &Connection,
    op: &Op,
) -> Result<Result<Done, LeaseProblem>, StoreError> {
    conn.execute_batch("SAVEPOINT job").map_err(store_error)?;
    let result = run_op(conn, op);
    still_in_transaction(conn, &result)?;
    if result.is_err() {
        conn.execute_batch("ROLLBACK TO job").map_err(store_error)?;
    }
    conn.execute_batch("RELEASE job").map_err(store_error)?;
    Ok(result)
}

/// SQLite ends the transaction itself on a full disk or an I/O error; then nothing the
/// batch wrote stays, and the batch fails with that error.
pub(super) fn still_in_transaction(
    conn: &Connection,
    result: &Result<Done, LeaseProblem>,
) -> Result<(), StoreError> {
    if !conn.is_autocommit() {
        return Ok(());
    }
    Err(match result {
        Err(LeaseProblem::Store(err)) => copy_error(err),
        _ => StoreError::Unavailable("the queue writer's transaction was rolled back".into()),
    })
}
