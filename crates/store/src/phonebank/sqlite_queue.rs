//! The SQLite queue writer: claims, heartbeats, releases and outcomes on SQLite run on one
//! thread that owns its own connection and commits them in batches (group commit).
//!
//! SQLite lets one transaction write at a time, and each commit waits for an fsync. The
//! general writer pool pays a thread hand-off for every statement as well; at thousands of
//! calls a second those round trips, not SQLite, set the limit. Here every request sends
//! one job over a channel; the thread takes all jobs waiting, runs them one after another
//! inside a single `BEGIN IMMEDIATE` transaction (a job that fails leaves no trace and the
//! others stand), and commits once. Under light load a batch holds one job, so nothing
//! waits for company.
//!
//! A job is answered only once its batch is on disk. The commit itself does not wait for
//! the disk (`synchronous = NORMAL` on this connection): a second thread, the syncer,
//! flushes the write-ahead log with one `fdatasync` for every batch committed since its
//! last flush, then answers their jobs, while the writer already runs the next batch. The
//! log is written in order, so a flush makes every earlier batch durable too, and a batch
//! that a power cut loses was never acknowledged.
//!
//! The SQL statements and the rules are the queue's own ([`super::queue`]); this module
//! only runs them. Other writes (sign-ups, imports, settings) keep using the store's
//! writer pool of one connection. The thread takes that connection from the pool for the
//! length of each batch, so the two writers take turns in the pool's fair queue instead
//! of racing for SQLite's lock, where the busy writer would starve the other.

use super::pace::{CallerBar, HOUR_MS, RECENT_DO_NOT_CALLS, RecentClaims};
use super::queue::{
    ADD_DO_NOT_CALL, ASKED_NOT_TO_BE_CALLED, CLOSE_LEASE, ClaimAnswer, ClaimRequest,
    ClaimedContact, Contact, EARLIER_ATTEMPT, EXTEND_CONTACT, EXTEND_LEASE, INSERT_ATTEMPT,
    INSERT_LEASE, LEASE_CONTACT, LeaseProblem, LeaseRow, OUTCOME_CONTACT, OutcomeRecord,
    PICK_CONTACT, RELEASE_CONTACT, RELEASE_LEASE, RecordedOutcome, SELECT_LEASE, SETTLE_CONTACT,
    SUPPRESS_PHONE, Settlement,
};
use super::queue_status::{CALLER_STANDING, CallerStanding, HELD_CONTACT};
use crate::metrics::{self, Histogram};
use crate::{Millis, StoreError};
use barnstorm_domain::outcome::{Outcome, OutcomeEffect};
use barnstorm_domain::queue_policy::RetryPolicy;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use sqlx::AnyPool;
use std::fmt::Write;
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;
use tokio::sync::oneshot;

/// The most jobs committed together: bounds how long the write lock is held at once.
const MAX_BATCH: usize = 512;

/// The handle requests use; the thread stops when it is closed or dropped.
pub(crate) struct SqliteQueue {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    stopped: tokio::sync::Mutex<Option<oneshot::Receiver<()>>>,
    metrics: Arc<QueueMetrics>,
}

/// Where the queue's time goes, for `/metrics`.
#[derive(Default)]
struct QueueMetrics {
    /// From a request handing over its job to the job's answer, on disk.
    job: Histogram,
    /// From a job being handed over to its batch starting (the writer free and its turn
    /// at the store's writer pool taken).
    wait: Histogram,
    /// Per batch: running its jobs, committing (with any checkpoint), flushing the log
    /// (once for every batch committed since the last flush).
    run: Histogram,
    commit: Histogram,
    flush: Histogram,
    batches: AtomicU64,
    jobs: AtomicU64,
}

/// A histogram's name, help text, and series (labels and values).
type HistogramFamily<'a> = (&'a str, &'a str, &'a [(&'a str, &'a Histogram)]);

impl QueueMetrics {
    fn render(&self, out: &mut String) {
        let histograms: [HistogramFamily<'_>; 3] = [
            (
                "barnstorm_queue_job_seconds",
                "Time from a claim, heartbeat, release or outcome reaching the SQLite queue writer to its durable answer.",
                &[("", &self.job)],
            ),
            (
                "barnstorm_queue_wait_seconds",
                "Time a job waited for its batch to start.",
                &[("", &self.wait)],
            ),
            (
                "barnstorm_queue_stage_seconds",
                "Time the queue writer spent per batch running jobs, committing, and flushing the write-ahead log.",
                &[
                    ("stage=\"run\"", &self.run),
                    ("stage=\"commit\"", &self.commit),
                    ("stage=\"flush\"", &self.flush),
                ],
            ),
        ];
        for (name, help, series) in histograms {
            metrics::header(out, name, "histogram", help);
            for (labels, histogram) in series {
                histogram.render(out, name, labels);
            }
        }
        for (name, help, counter) in [
            (
                "barnstorm_queue_batches_total",
                "Batches the queue writer ran.",
                &self.batches,
            ),
            (
                "barnstorm_queue_jobs_total",
                "Jobs in those batches.",
                &self.jobs,
            ),
        ] {
            metrics::header(out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
    }
}

/// An outcome to record, owned so it can cross to the writer thread.
struct OwnedOutcome {
    lease_id: i64,
    caller_id: i64,
    idempotency_key: String,
    outcome: Outcome,
    answers_json: String,
    notes: String,
    callback_at: Option<Millis>,
    retry: RetryPolicy,
    campaign_id: i64,
    group_id: i64,
    do_not_call_per_hour: i64,
    now: Millis,
}

impl OwnedOutcome {
    fn new(record: &OutcomeRecord<'_>) -> Self {
        Self {
            lease_id: record.lease_id,
            caller_id: record.caller_id,
            idempotency_key: record.idempotency_key.to_owned(),
            outcome: record.outcome.clone(),
            answers_json: record.answers_json.to_owned(),
            notes: record.notes.to_owned(),
            callback_at: record.callback_at,
            retry: *record.retry,
            campaign_id: record.campaign_id,
            group_id: record.group_id,
            do_not_call_per_hour: record.do_not_call_per_hour,
            now: record.now,
        }
    }

    fn record(&self) -> OutcomeRecord<'_> {
        OutcomeRecord {
            lease_id: self.lease_id,
            caller_id: self.caller_id,
            idempotency_key: &self.idempotency_key,
            outcome: &self.outcome,
            answers_json: &self.answers_json,
            notes: &self.notes,
            callback_at: self.callback_at,
            retry: &self.retry,
            campaign_id: self.campaign_id,
            group_id: self.group_id,
            do_not_call_per_hour: self.do_not_call_per_hour,
            now: self.now,
        }
    }
}

enum Op {
    Claim {
        campaign_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    },
    ClaimForCaller(ClaimRequest),
    Heartbeat {
        lease_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    },
    Release {
        lease_id: i64,
        caller_id: i64,
        now: Millis,
    },
    Outcome(Box<OwnedOutcome>),
}

enum Done {
    Claimed(Option<ClaimedContact>),
    Answered(ClaimAnswer),
    Extended(Millis),
    Released,
    Recorded(RecordedOutcome),
}

/// Where a job's answer goes.
type Reply = oneshot::Sender<Result<Done, LeaseProblem>>;

struct Job {
    op: Op,
    reply: Reply,
    /// When the request handed the job to the writer.
    handed_over: Instant,
}

impl SqliteQueue {
    /// Opens a connection to the database at `path` on a new thread, which takes turns
    /// with the store's `writer` pool.
    pub(crate) async fn start(path: &Path, writer: AnyPool) -> Result<Self, StoreError> {
        let (jobs, inbox) = mpsc::channel();
        let (opened, open_result) = oneshot::channel();
        let (stopped_tx, stopped) = oneshot::channel();
        let path = path.to_path_buf();
        let runtime = tokio::runtime::Handle::current();
        let metrics = Arc::new(QueueMetrics::default());
        let thread_metrics = Arc::clone(&metrics);
        std::thread::Builder::new()
            .name("sqlite-queue".into())
            .spawn(move || {
                let _in_runtime = runtime.enter();
                let turns = Turns { runtime, writer };
                writer_thread(&path, &turns, &inbox, &thread_metrics, opened, stopped_tx);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the queue writer: {e}")))?;
        open_result.await.map_err(|_| {
            StoreError::Unavailable("the queue writer stopped while opening".into())
        })??;
        Ok(Self {
            jobs: Mutex::new(Some(jobs)),
            stopped: tokio::sync::Mutex::new(Some(stopped)),
            metrics,
        })
    }

    /// Writes the queue's metrics in the Prometheus text format.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        self.metrics.render(out);
    }

    /// Lets the thread finish the jobs it has and waits for it to close its connection.
    pub(crate) async fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(stopped) = self.stopped.lock().await.take() {
            let _ = stopped.await;
        }
    }

    async fn run(&self, op: Op) -> Result<Done, LeaseProblem> {
        let (reply, answer) = oneshot::channel();
        let handed_over = Instant::now();
        let job = Job {
            op,
            reply,
            handed_over,
        };
        let sent = self
            .jobs
            .lock()
            .ok()
            .and_then(|jobs| jobs.as_ref().map(|jobs| jobs.send(job)));
        if !matches!(sent, Some(Ok(()))) {
            return Err(closed());
        }
        let answer = answer.await;
        self.metrics.job.observe(handed_over.elapsed());
        answer.map_err(|_| closed())?
    }

    pub(crate) async fn claim(
        &self,
        campaign_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<ClaimedContact>, StoreError> {
        let op = Op::Claim {
            campaign_id,
            caller_id,
            now,
            lease_ms,
        };
        match self.run(op).await {
            Ok(Done::Claimed(claimed)) => Ok(claimed),
            Ok(_) => Err(mismatch()),
            Err(LeaseProblem::Store(e)) => Err(e),
            Err(other) => Err(StoreError::Engine(other.to_string())),
        }
    }

    pub(crate) async fn claim_for_caller(
        &self,
        request: ClaimRequest,
    ) -> Result<ClaimAnswer, StoreError> {
        match self.run(Op::ClaimForCaller(request)).await {
            Ok(Done::Answered(answer)) => Ok(answer),
            Ok(_) => Err(mismatch()),
            Err(LeaseProblem::Store(e)) => Err(e),
            Err(other) => Err(StoreError::Engine(other.to_string())),
        }
    }

    pub(crate) async fn heartbeat(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Millis, LeaseProblem> {
        let op = Op::Heartbeat {
            lease_id,
            caller_id,
            now,
            lease_ms,
        };
        match self.run(op).await? {
            Done::Extended(expires_at) => Ok(expires_at),
            _ => Err(mismatch().into()),
        }
    }

    pub(crate) async fn release(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
    ) -> Result<(), LeaseProblem> {
        let op = Op::Release {
            lease_id,
            caller_id,
            now,
        };
        match self.run(op).await? {
            Done::Released => Ok(()),
            _ => Err(mismatch().into()),
        }
    }

    pub(crate) async fn record_outcome(
        &self,
        record: &OutcomeRecord<'_>,
    ) -> Result<RecordedOutcome, LeaseProblem> {
        let op = Op::Outcome(Box::new(OwnedOutcome::new(record)));
        match self.run(op).await? {
            Done::Recorded(recorded) => Ok(recorded),
            _ => Err(mismatch().into()),
        }
    }
}

fn closed() -> LeaseProblem {
    LeaseProblem::Store(StoreError::Unavailable(
        "the queue writer has stopped".into(),
    ))
}

fn mismatch() -> StoreError {
    StoreError::Engine("the queue writer answered a different request".into())
}

/// The store's writer pool, held by the thread while it writes.
struct Turns {
    runtime: tokio::runtime::Handle,
    writer: AnyPool,
}

impl Turns {
    /// Waits in the writer pool's queue and holds its connection until dropped.
    fn take(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        Ok(self.runtime.block_on(self.writer.acquire())?)
    }
}

fn writer_thread(
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
type Committed = Vec<(Reply, Result<Done, LeaseProblem>)>;

/// The write-ahead log, opened once: a flush must not need a new file descriptor, which a
/// node short of them (thousands of connections) might not get.
fn open_wal(conn: &Connection, path: &Path) -> Result<File, StoreError> {
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
fn syncer_thread(wal: &File, committed: &mpsc::Receiver<Committed>, metrics: &QueueMetrics) {
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

fn open(path: &Path) -> Result<Connection, StoreError> {
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
fn run_batch(
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

fn fail_all(batch: Vec<Job>, err: &StoreError) {
    fail_replies(batch.into_iter().map(|job| job.reply), err);
}

/// Answers each of `replies` with `err`.
fn fail_replies(replies: impl IntoIterator<Item = Reply>, err: &StoreError) {
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
fn run_in_transaction(
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
fn run_unguarded(
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
fn run_isolated(conn: &Connection, op: &Op) -> Result<Result<Done, LeaseProblem>, StoreError> {
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
fn still_in_transaction(
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

fn run_op(conn: &Connection, op: &Op) -> Result<Done, LeaseProblem> {
    match op {
        Op::Claim {
            campaign_id,
            caller_id,
            now,
            lease_ms,
        } => claim(conn, *campaign_id, *caller_id, *now, *lease_ms).map(Done::Claimed),
        Op::ClaimForCaller(request) => claim_for_caller(conn, request).map(Done::Answered),
        Op::Heartbeat {
            lease_id,
            caller_id,
            now,
            lease_ms,
        } => {
            let lease = lease_row(conn, *lease_id, *caller_id)?;
            lease.check_heartbeat(*now)?;
            let expires_at = now + lease_ms;
            extend(conn, *lease_id, lease.contact_id, expires_at)?;
            Ok(Done::Extended(expires_at))
        }
        Op::Release {
            lease_id,
            caller_id,
            now,
        } => {
            let lease = lease_row(conn, *lease_id, *caller_id)?;
            if lease.check_release()? {
                conn.prepare_cached(RELEASE_LEASE)?
                    .execute(params![now, lease_id])?;
                conn.prepare_cached(RELEASE_CONTACT)?.execute(params![
                    now,
                    lease.contact_id,
                    lease_id
                ])?;
            }
            Ok(Done::Released)
        }
        Op::Outcome(outcome) => record_outcome(conn, &outcome.record()).map(Done::Recorded),
    }
}

/// Extends lease `lease_id` of `contact_id` to `expires_at`.
fn extend(
    conn: &Connection,
    lease_id: i64,
    contact_id: i64,
    expires_at: Millis,
) -> Result<(), LeaseProblem> {
    conn.prepare_cached(EXTEND_LEASE)?
        .execute(params![expires_at, lease_id])?;
    conn.prepare_cached(EXTEND_CONTACT)?
        .execute(params![expires_at, contact_id, lease_id])?;
    Ok(())
}

/// [`crate::Store::claim_for_caller`] inside the writer's transaction: the caller's
/// standing, the contact they hold, and the claim read and write one consistent state.
fn claim_for_caller(
    conn: &Connection,
    request: &ClaimRequest,
) -> Result<ClaimAnswer, LeaseProblem> {
    let [minute_since, minute_limit, hour_since, hour_limit] = request.pace_windows();
    let standing = conn.prepare_cached(CALLER_STANDING)?.query_row(
        params![
            request.caller_id,
            request.campaign_id,
            request.now,
            request.skips_since,
            minute_since,
            minute_limit,
            hour_since,
            hour_limit,
        ],
        |row| {
            Ok(CallerStanding {
                held_lease: row.get("held_lease")?,
                skips: row.get("skips")?,
                barred: CallerBar::from_code(row.get("barred")?),
                last_minute: RecentClaims {
                    count: row.get("minute_claims")?,
                    oldest: row.get("minute_oldest")?,
                },
                last_hour: RecentClaims {
                    count: row.get("hour_claims")?,
                    oldest: row.get("hour_oldest")?,
                },
            })
        },
    )?;
    if let Some(bar) = standing.barred {
        return Ok(ClaimAnswer::Barred(bar));
    }
    if let Some(lease_id) = standing.held_lease {
        let held = conn
            .prepare_cached(&HELD_CONTACT)?
            .query_row(params![lease_id, request.caller_id, request.now], |row| {
                let contact = match contact_from_row(row)? {
                    Ok(contact) => contact,
                    Err(unreadable) => return Ok(Err(unreadable)),
                };
                Ok(Ok(ClaimedContact {
                    lease_id: row.get("lease_id")?,
                    expires_at: row.get("expires_at")?,
                    contact,
                }))
            })
            .optional()?;
        if let Some(held) = held {
            let mut held = held?;
            if request.renews(held.expires_at) {
                held.expires_at = request.now + request.lease_ms;
                extend(conn, held.lease_id, held.contact.id, held.expires_at)?;
            }
            return Ok(ClaimAnswer::Held(held));
        }
    }
    if let Some(refused) = request.refusal(&standing) {
        return Ok(refused);
    }
    let claimed = claim(
        conn,
        request.campaign_id,
        request.caller_id,
        request.now,
        request.lease_ms,
    )?;
    Ok(claimed.map_or(ClaimAnswer::Nothing, ClaimAnswer::Claimed))
}

fn claim(
    conn: &Connection,
    campaign_id: i64,
    caller_id: i64,
    now: Millis,
    lease_ms: Millis,
) -> Result<Option<ClaimedContact>, LeaseProblem> {
    let picked: Option<i64> = conn
        .prepare_cached(PICK_CONTACT)?
        .query_row(params![campaign_id, now], |row| row.get(0))
        .optional()?;
    let Some(contact_id) = picked else {
        return Ok(None);
    };
    let expires_at = now + lease_ms;
    let lease_id: i64 = conn.prepare_cached(INSERT_LEASE)?.query_row(
        params![contact_id, campaign_id, caller_id, now, expires_at],
        |row| row.get(0),
    )?;
    let contact = conn
        .prepare_cached(&LEASE_CONTACT)?
        .query_row(params![lease_id, expires_at, contact_id], contact_from_row)??;
    Ok(Some(ClaimedContact {
        lease_id,
        expires_at,
        contact,
    }))
}

fn record_outcome(
    conn: &Connection,
    record: &OutcomeRecord<'_>,
) -> Result<RecordedOutcome, LeaseProblem> {
    let earlier = conn
        .prepare_cached(EARLIER_ATTEMPT)?
        .query_row(params![record.caller_id, record.idempotency_key], |row| {
            Ok((
                row.get::<_, i64>("id")?,
                row.get::<_, i64>("lease_id")?,
                row.get::<_, i64>("contact_id")?,
                row.get::<_, String>("outcome")?,
            ))
        })
        .optional()?;
    if let Some((attempt_id, lease_id, contact_id, outcome)) = earlier {
        if lease_id != record.lease_id {
            return Err(LeaseProblem::KeyReused);
        }
        return Ok(RecordedOutcome {
            attempt_id,
            contact_id,
            outcome,
            replayed: true,
        });
    }
    let lease = lease_row(conn, record.lease_id, record.caller_id)?;
    lease.check_outcome_for(record)?;
    if record.outcome.effect == OutcomeEffect::DoNotCall {
        let recent = conn.prepare_cached(RECENT_DO_NOT_CALLS)?.query_row(
            params![
                record.caller_id,
                record.campaign_id,
                record.now - HOUR_MS,
                record.do_not_call_per_hour
            ],
            |row| {
                Ok(RecentClaims {
                    count: row.get("n")?,
                    oldest: row.get("oldest")?,
                })
            },
        )?;
        if let Some(retry_at) = recent.limited_until(record.do_not_call_per_hour, HOUR_MS) {
            return Err(LeaseProblem::DoNotCallLimited { retry_at });
        }
    }
    let (holder, attempts, state, phone) =
        conn.prepare_cached(OUTCOME_CONTACT)?
            .query_row(params![lease.contact_id], |row| {
                Ok((
                    row.get::<_, Option<i64>>("lease_id")?,
                    row.get::<_, i64>("attempts")?,
                    row.get::<_, i64>("state")?,
                    row.get::<_, String>("phone")?,
                ))
            })?;
    if holder != Some(record.lease_id) {
        return Err(LeaseProblem::Expired);
    }
    let settled = Settlement::plan(record, state, attempts)?;
    let attempt_id: i64 = conn.prepare_cached(INSERT_ATTEMPT)?.query_row(
        params![
            lease.campaign_id,
            lease.contact_id,
            record.lease_id,
            record.caller_id,
            record.outcome.key,
            i64::from(record.outcome.counts_as_conversation),
            record.answers_json,
            record.notes,
            settled.callback_at,
            settled.next_available_at(),
            record.idempotency_key,
            record.now,
            i64::from(record.outcome.effect == OutcomeEffect::DoNotCall),
        ],
        |row| row.get(0),
    )?;
    conn.prepare_cached(CLOSE_LEASE)?
        .execute(params![record.now, record.lease_id])?;
    conn.prepare_cached(SETTLE_CONTACT)?.execute(params![
        settled.state,
        settled.priority,
        settled.available_at,
        settled.attempts,
        settled.callback_at,
        record.outcome.key,
        record.now,
        lease.contact_id,
    ])?;
    if record.outcome.effect == OutcomeEffect::DoNotCall {
        conn.prepare_cached(ADD_DO_NOT_CALL)?.execute(params![
            record.group_id,
            phone,
            ASKED_NOT_TO_BE_CALLED,
            record.now,
            lease.campaign_id,
            record.caller_id
        ])?;
        conn.prepare_cached(SUPPRESS_PHONE)?
            .execute(params![phone, record.group_id])?;
    }
    Ok(RecordedOutcome {
        attempt_id,
        contact_id: lease.contact_id,
        outcome: record.outcome.key.clone(),
        replayed: false,
    })
}

fn lease_row(conn: &Connection, lease_id: i64, caller_id: i64) -> Result<LeaseRow, LeaseProblem> {
    conn.prepare_cached(&SELECT_LEASE)?
        .query_row(params![lease_id], |row| {
            Ok(LeaseRow {
                contact_id: row.get("contact_id")?,
                campaign_id: row.get("campaign_id")?,
                caller_id: row.get("caller_id")?,
                expires_at: row.get("expires_at")?,
                released_at: row.get("released_at")?,
                outcome_at: row.get("outcome_at")?,
                barred: CallerBar::from_code(row.get("barred")?),
            })
        })
        .optional()?
        .ok_or(LeaseProblem::NotFound)?
        .owned_by(caller_id)
}

/// Reads a contact (the columns of [`super::queue::CONTACT_COLUMNS`]); a bad `extra` is the inner error.
fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Contact, LeaseProblem>> {
    let extra: String = row.get("extra")?;
    let extra = match serde_json::from_str(&extra) {
        Ok(extra) => extra,
        Err(e) => {
            return Ok(Err(StoreError::Engine(format!(
                "contact {} has unreadable extra fields: {e}",
                row.get::<_, i64>("id")?
            ))
            .into()));
        }
    };
    Ok(Ok(Contact {
        id: row.get("id")?,
        campaign_id: row.get("campaign_id")?,
        phone: row.get("phone")?,
        other_phone: row.get("other_phone")?,
        first_name: row.get("first_name")?,
        last_name: row.get("last_name")?,
        email: row.get("email")?,
        postcode: row.get("postcode")?,
        extra,
        attempts: row.get("attempts")?,
        last_outcome: row.get("last_outcome")?,
        callback_at: row.get("callback_at")?,
    }))
}

impl From<rusqlite::Error> for LeaseProblem {
    fn from(err: rusqlite::Error) -> Self {
        Self::Store(store_error(err))
    }
}

/// Classifies a SQLite error the way the store's pools do: a full disk, an I/O error, a
/// file that became read-only or a lock held too long is an outage; a unique constraint
/// is a conflict; anything else is a defect.
fn store_error(err: rusqlite::Error) -> StoreError {
    let rusqlite::Error::SqliteFailure(failure, message) = &err else {
        return StoreError::Engine(err.to_string());
    };
    let code = failure.extended_code;
    let text = match message {
        Some(message) => format!("(code: {code}) {message}"),
        None => format!("(code: {code}) {failure}"),
    };
    let primary = code & 0xff;
    if crate::error::is_sqlite_outage(code) || matches!(primary, 5 | 6) {
        StoreError::Unavailable(text)
    } else if matches!(code, 1555 | 2067) {
        StoreError::Conflict(text)
    } else {
        StoreError::Engine(text)
    }
}

/// The same error again, for every job of a batch that failed as a whole.
fn copy_error(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(text) => StoreError::Unavailable(text.clone()),
        other => StoreError::Engine(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// An empty database in memory with every migration applied and foreign keys on.
    fn migrated() -> Result<Connection, Box<dyn std::error::Error>> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        let mut migrations: Vec<_> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))?
                .collect::<Result<Vec<_>, _>>()?;
        migrations.sort_by_key(std::fs::DirEntry::path);
        for migration in migrations {
            conn.execute_batch(&std::fs::read_to_string(migration.path())?)?;
        }
        Ok(conn)
    }

    fn job(op: Op) -> Job {
        Job {
            op,
            reply: oneshot::channel().0,
            handed_over: Instant::now(),
        }
    }

    /// Runs `ops` as one batch and commits it.
    fn commit(
        conn: &Connection,
        ops: Vec<Op>,
    ) -> Result<Vec<Result<Done, LeaseProblem>>, Box<dyn std::error::Error>> {
        let batch: Vec<Job> = ops.into_iter().map(job).collect();
        let results = run_in_transaction(conn, &batch)?;
        conn.execute_batch("COMMIT")?;
        Ok(results)
    }

    /// A job that fails after writing part of its work (here the contact update at the
    /// end of an outcome is refused) leaves nothing behind, and the jobs committed in the
    /// same batch still stand.
    #[test]
    fn a_job_that_fails_halfway_leaves_nothing_and_its_batch_stands() -> TestResult {
        let conn = migrated()?;
        conn.execute_batch(
            "INSERT INTO users (id, email, name, created_at) VALUES (7, 'ann@example.org', 'Ann', 0);
             INSERT INTO groups (id, slug, name, kind, created_at) VALUES (1, 'leeds', 'Leeds', 'branch', 0);
             INSERT INTO call_campaigns (id, group_id, name, outcomes, calling_hours, created_at, updated_at)
                 VALUES (1, 1, 'Spring', '[]', '{}', 0, 0);
             INSERT INTO contacts (id, campaign_id, phone, created_at)
                 VALUES (1, 1, '+442079460001', 0), (2, 1, '+442079460002', 0), (3, 1, '+442079460003', 0);",
        )?;
        let claim = || Op::Claim {
            campaign_id: 1,
            caller_id: 7,
            now: 1_000,
            lease_ms: 60_000,
        };
        let mut leases = Vec::new();
        for claimed in commit(&conn, vec![claim(), claim(), claim()])? {
            let Ok(Done::Claimed(Some(claimed))) = claimed else {
                return Err("a claim found nobody".into());
            };
            leases.push((claimed.lease_id, claimed.contact.id));
        }
        conn.execute_batch(
            "CREATE TRIGGER refuse_contact_two BEFORE UPDATE OF last_outcome ON contacts
             WHEN NEW.id = 2 BEGIN SELECT RAISE(ABORT, 'contact two is refused'); END;",
        )?;
        let spoke = Outcome {
            key: "spoke".into(),
            label: "Spoke".into(),
            effect: OutcomeEffect::Completed,
            counts_as_conversation: true,
            requires: Vec::new(),
        };
        let outcomes = leases
            .iter()
            .map(|&(lease_id, _)| {
                Op::Outcome(Box::new(OwnedOutcome {
                    lease_id,
                    caller_id: 7,
                    idempotency_key: format!("call-{lease_id}"),
                    outcome: spoke.clone(),
                    answers_json: "{}".into(),
                    notes: String::new(),
                    callback_at: None,
                    retry: RetryPolicy::default(),
                    campaign_id: 1,
                    group_id: 1,
                    do_not_call_per_hour: 10,
                    now: 2_000,
                }))
            })
            .collect();
        let results = commit(&conn, outcomes)?;
        let recorded: Vec<bool> = results.iter().map(Result::is_ok).collect();
        let refused = leases
            .iter()
            .zip(&recorded)
            .find(|(_, ok)| !**ok)
            .map(|((_, contact_id), _)| *contact_id);
        assert_eq!(
            refused,
            Some(2),
            "only contact two's outcome fails: {recorded:?}"
        );
        let stored: Vec<i64> = conn
            .prepare("SELECT contact_id FROM call_attempts ORDER BY contact_id")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        assert_eq!(stored, [1, 3], "the refused outcome left no attempt");
        let open: i64 = conn.query_row(
            "SELECT COUNT(*) FROM leases WHERE outcome_at IS NULL",
            [],
            |row| row.get(0),
        )?;
        assert_eq!(open, 1, "the refused outcome's lease is still open");
        Ok(())
    }

    /// A claim reads the caller's standing from the two small indexes of leases without
    /// an outcome, the caller's newest leases on the campaign (the pace index, at most
    /// the limit of them) and the caller's row, never from every lease the caller or the
    /// campaign ever had.
    #[test]
    fn the_callers_standing_reads_only_small_index_ranges() -> TestResult {
        let conn = migrated()?;
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {CALLER_STANDING}"))?
            .query_map(params![1, 1, 0, 0, 0, 6, 0, 120], |row| {
                row.get::<_, String>(3)
            })?
            .collect::<Result<_, _>>()?;
        let searches: Vec<&String> = plan
            .iter()
            .filter(|step| step.starts_with("SEARCH") || step.starts_with("SCAN leases"))
            .collect();
        assert_eq!(searches.len(), 5, "{plan:?}");
        let uses = |index: &str| searches.iter().filter(|s| s.contains(index)).count();
        assert_eq!(uses("USING INDEX leases_open"), 1, "{plan:?}");
        assert_eq!(uses("USING INDEX leases_unrecorded"), 1, "{plan:?}");
        // The pace: the caller's newest leases on the campaign, from the pace index.
        assert_eq!(uses("USING COVERING INDEX leases_pace"), 2, "{plan:?}");
        assert_eq!(
            uses("SEARCH cc USING INDEX sqlite_autoindex_campaign_callers_1"),
            1,
            "{plan:?}"
        );
        Ok(())
    }

    /// SQLite numbers `$N` parameters in the order they first appear, and the writer binds
    /// by position: every shared statement must name `$1`, `$2`, … in that order.
    #[test]
    fn shared_statements_number_their_parameters_in_order() -> TestResult {
        let conn = migrated()?;
        for sql in [
            CALLER_STANDING,
            HELD_CONTACT.as_str(),
            PICK_CONTACT,
            INSERT_LEASE,
            LEASE_CONTACT.as_str(),
            SELECT_LEASE.as_str(),
            RECENT_DO_NOT_CALLS,
            EXTEND_LEASE,
            EXTEND_CONTACT,
            RELEASE_LEASE,
            RELEASE_CONTACT,
            EARLIER_ATTEMPT,
            OUTCOME_CONTACT,
            INSERT_ATTEMPT,
            CLOSE_LEASE,
            SETTLE_CONTACT,
            ADD_DO_NOT_CALL,
            SUPPRESS_PHONE,
        ] {
            let stmt = conn.prepare(sql)?;
            for i in 1..=stmt.parameter_count() {
                assert_eq!(
                    stmt.parameter_name(i),
                    Some(format!("${i}").as_str()),
                    "in {sql}"
                );
            }
        }
        Ok(())
    }
}
