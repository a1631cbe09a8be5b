//! The PostgreSQL queue: claims, heartbeats, releases and outcomes handed to one batcher
//! per node ([`batcher`]), which commits the jobs waiting together in one transaction and
//! answers each only after that commit. The statements are [`operations`] (one job) and
//! [`claims`] (many claims of one campaign at once); `FOR UPDATE SKIP LOCKED` lets the
//! batches of several nodes on one database pass each other. `synchronous_commit` stays on.

mod batcher;
mod claims;
mod operations;
#[cfg(all(test, feature = "testing"))]
mod tests;

use super::contact::ClaimedContact;
use super::metrics::QueueMetrics;
use super::problems::LeaseProblem;
use super::requests::{OutcomeRecord, OwnedOutcome, RecordedOutcome};
use crate::{Millis, StoreError};
use claims::WantedLease;
use sqlx::AnyPool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The most batches in flight at once, each on its own connection.
const MAX_CONCURRENT_BATCHES: u32 = 4;

/// The handle requests use; the batcher stops when it is closed or dropped.
pub(crate) struct PostgresQueue {
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    stopped: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    metrics: Arc<QueueMetrics>,
}

enum Op {
    Claim {
        campaign_id: i64,
        wanted: WantedLease,
    },
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
    Extended(Millis),
    Released,
    Recorded(RecordedOutcome),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Done, LeaseProblem>>,
    /// When the request handed the job over.
    handed_over: Instant,
}

impl PostgresQueue {
    /// Starts the batcher on `pool`, running at most half of its `max_connections`
    /// batches at once (at least one, at most [`MAX_CONCURRENT_BATCHES`]), so that reads
    /// keep connections of their own.
    pub(crate) fn start(pool: AnyPool, max_connections: u32) -> Self {
        let (jobs, inbox) = mpsc::unbounded_channel();
        let metrics = Arc::new(QueueMetrics::default());
        let concurrent = (max_connections / 2).clamp(1, MAX_CONCURRENT_BATCHES);
        let task = tokio::spawn(batcher::run(
            pool,
            inbox,
            concurrent as usize,
            Arc::clone(&metrics),
        ));
        Self {
            jobs: Mutex::new(Some(jobs)),
            stopped: tokio::sync::Mutex::new(Some(task)),
            metrics,
        }
    }

    /// Writes the batcher's metrics in the Prometheus text format.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        self.metrics.render(out);
    }

    /// Lets the batcher finish the jobs it has and waits for it.
    pub(crate) async fn close(&self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        if let Some(task) = self.stopped.lock().await.take() {
            let _ = task.await;
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
            .and_then(|jobs| jobs.as_ref().map(|jobs| jobs.send(job).is_ok()));
        if sent != Some(true) {
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
        let wanted = WantedLease {
            caller_id,
            now,
            lease_ms,
        };
        match self
            .run(Op::Claim {
                campaign_id,
                wanted,
            })
            .await
        {
            Ok(Done::Claimed(claimed)) => Ok(claimed),
            Ok(_) => Err(mismatch()),
            Err(problem) => Err(problem.into_store_error()),
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
        "the queue's batcher has stopped".into(),
    ))
}

fn mismatch() -> StoreError {
    StoreError::Engine("the queue's batcher answered a different request".into())
}
