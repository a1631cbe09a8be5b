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
//! The SQL statements and the rules are the queue's own ([`super::sql`], [`super::rules`]);
//! this module only runs them: [`writer`] is the thread and its syncer, [`operations`] the
//! jobs, [`metrics`] their timings. Other writes (sign-ups, imports, settings) keep using the store's
//! writer pool of one connection. The thread takes that connection from the pool for the
//! length of each batch, so the two writers take turns in the pool's fair queue instead
//! of racing for SQLite's lock, where the busy writer would starve the other.

mod operations;
#[cfg(test)]
mod tests;
mod writer;

use super::contact::ClaimedContact;
use super::metrics::QueueMetrics;
use super::problems::LeaseProblem;
use super::requests::{ClaimAnswer, ClaimRequest, OutcomeRecord, OwnedOutcome, RecordedOutcome};
use crate::{Millis, StoreError};
use sqlx::AnyPool;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;
use tokio::sync::oneshot;
use writer::{Turns, writer_thread};

/// The handle requests use; the thread stops when it is closed or dropped.
pub(crate) struct SqliteQueue {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    stopped: tokio::sync::Mutex<Option<oneshot::Receiver<()>>>,
    metrics: Arc<QueueMetrics>,
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
        let metrics = Arc::new(QueueMetrics::with_flush());
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
