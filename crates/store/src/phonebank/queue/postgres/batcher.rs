//! Group commit on PostgreSQL: one task takes every job waiting on its channel as a batch
//! and runs it in one transaction on one connection, a few batches at once, so many
//! callers share one commit (one WAL flush) and one round trip per statement kind. Claims
//! for one campaign become one statement ([`super::claims`]). A job refused by its checks
//! fails before it writes and leaves the transaction usable; when one fails in the
//! database instead, the batch is rolled back and every job runs again alone, so the
//! failure stays its own. Answers go out only after the commit.

use super::super::metrics::QueueMetrics;
use super::super::problems::{LeaseProblem, copy_error};
use super::claims::{WantedLease, claim_many};
use super::operations::{extend, record_outcome, release};
use super::{Done, Job, Op};
use crate::StoreError;
use sqlx::{AnyConnection, AnyPool, Connection};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// The most jobs committed together: bounds a transaction's length and its binds.
const MAX_BATCH: usize = 256;

/// Takes batches from `inbox` until every sender is gone, running up to `concurrent` of
/// them at once on `pool`, then waits for those still running.
pub(super) async fn run(
    pool: AnyPool,
    mut inbox: mpsc::UnboundedReceiver<Job>,
    concurrent: usize,
    metrics: Arc<QueueMetrics>,
) {
    let slots = Arc::new(Semaphore::new(concurrent));
    let mut running = JoinSet::new();
    while let Some(first) = inbox.recv().await {
        // Waiting for a free slot first lets the jobs that arrive meanwhile join the batch.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH
            && let Ok(job) = inbox.try_recv()
        {
            batch.push(job);
        }
        let pool = pool.clone();
        let metrics = Arc::clone(&metrics);
        running.spawn(async move {
            run_batch(&pool, batch, &metrics).await;
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

/// Runs `batch` and answers every job.
pub(super) async fn run_batch(pool: &AnyPool, batch: Vec<Job>, metrics: &QueueMetrics) {
    let started = Instant::now();
    for job in &batch {
        metrics
            .wait
            .observe(started.duration_since(job.handed_over));
    }
    metrics.batches.fetch_add(1, Ordering::Relaxed);
    metrics
        .jobs
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    let (ops, replies): (Vec<Op>, Vec<_>) = batch.into_iter().map(|j| (j.op, j.reply)).unzip();
    let results = match run_together(pool, &ops, metrics).await {
        Together::Committed(results) => results,
        Together::Unavailable(err) => ops.iter().map(|_| Err(copy_error(&err).into())).collect(),
        Together::Failed(err) if ops.len() == 1 => vec![Err(err)],
        Together::Failed(err) => {
            tracing::warn!(error = %err, jobs = ops.len(), "a queue batch failed; running its jobs alone");
            let mut alone = Vec::with_capacity(ops.len());
            for op in &ops {
                alone.push(run_alone(pool, op, metrics).await);
            }
            alone
        }
    };
    for (reply, result) in replies.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}

/// How a batch's transaction ended.
enum Together {
    /// Committed, with each job's answer.
    Committed(Vec<Result<Done, LeaseProblem>>),
    /// Rolled back because a job failed in the database: the others may pass alone.
    Failed(LeaseProblem),
    /// No connection, or the commit failed: nothing is known to be written, and running
    /// the jobs again could not do better.
    Unavailable(StoreError),
}

async fn run_together(pool: &AnyPool, ops: &[Op], metrics: &QueueMetrics) -> Together {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return Together::Unavailable(e.into()),
    };
    let mut tx = match conn.begin().await {
        Ok(tx) => tx,
        Err(e) => return Together::Unavailable(e.into()),
    };
    let running = Instant::now();
    let ran = run_ops(&mut tx, ops).await;
    metrics.run.observe(running.elapsed());
    let results = match ran {
        Ok(results) => results,
        Err(err) => {
            let _ = tx.rollback().await;
            return Together::Failed(err);
        }
    };
    let committing = Instant::now();
    let committed = tx.commit().await;
    metrics.commit.observe(committing.elapsed());
    match committed {
        Ok(()) => Together::Committed(results),
        Err(e) => {
            let err = StoreError::from(e);
            tracing::error!(error = %err, jobs = ops.len(), "a queue batch could not commit");
            Together::Unavailable(err)
        }
    }
}

/// One job in a transaction of its own, after its batch failed.
async fn run_alone(pool: &AnyPool, op: &Op, metrics: &QueueMetrics) -> Result<Done, LeaseProblem> {
    match run_together(pool, std::slice::from_ref(op), metrics).await {
        Together::Committed(mut results) => results.pop().unwrap_or_else(|| Err(empty())),
        Together::Failed(err) => Err(err),
        Together::Unavailable(err) => Err(err.into()),
    }
}

fn empty() -> LeaseProblem {
    StoreError::Engine("a queue batch answered no job".into()).into()
}

/// Runs every job in the open transaction: heartbeats, releases and outcomes in the order
/// they came, then the claims, one statement per campaign. A refusal is that job's answer;
/// a failure in the database (the transaction is then unusable) is the batch's error.
async fn run_ops(
    conn: &mut AnyConnection,
    ops: &[Op],
) -> Result<Vec<Result<Done, LeaseProblem>>, LeaseProblem> {
    let mut results: Vec<Option<Result<Done, LeaseProblem>>> = Vec::with_capacity(ops.len());
    let mut claims: BTreeMap<i64, Vec<(usize, WantedLease)>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        let result = match op {
            Op::Claim {
                campaign_id,
                wanted,
            } => {
                claims.entry(*campaign_id).or_default().push((i, *wanted));
                results.push(None);
                continue;
            }
            Op::Heartbeat {
                lease_id,
                caller_id,
                now,
                lease_ms,
            } => extend(conn, *lease_id, *caller_id, *now, *lease_ms)
                .await
                .map(Done::Extended),
            Op::Release {
                lease_id,
                caller_id,
                now,
            } => release(conn, *lease_id, *caller_id, *now)
                .await
                .map(|()| Done::Released),
            Op::Outcome(outcome) => record_outcome(conn, &outcome.record())
                .await
                .map(Done::Recorded),
        };
        if let Err(LeaseProblem::Store(err)) = result {
            return Err(err.into());
        }
        results.push(Some(result));
    }
    for (campaign_id, group) in claims {
        let wanted: Vec<WantedLease> = group.iter().map(|(_, w)| *w).collect();
        let claimed = claim_many(conn, campaign_id, &wanted).await?;
        for ((i, _), claimed) in group.into_iter().zip(claimed) {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(Ok(Done::Claimed(claimed)));
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(empty())))
        .collect())
}
