//! The calling queue. A claim picks the first claimable contact of a campaign (due
//! callbacks first, then never-called, then retries, oldest first) and leases it to one
//! caller, so a contact never has two live leases; the leases table is also the audit log
//! of which caller was shown which contact, when. Outcomes are idempotent per caller and
//! key, and acknowledged only once committed.
//!
//! Laid out by backend: [`requests`] and [`contact`] are what callers send and get,
//! [`rules`] maps the store's rows onto `barnstorm_domain::queue_policy` (lease checks,
//! settlement, renewal), [`sql`] holds the statements both engines run, [`postgres`] runs
//! them in batches over sqlx and [`sqlite`] in batches on its own writer thread, both
//! timed by [`metrics`]. This file picks the backend.

mod contact;
mod metrics;
mod postgres;
mod problems;
mod requests;
mod rules;
mod sql;
mod sqlite;
mod steps;

pub use contact::{ClaimedContact, Contact};
pub use problems::LeaseProblem;
pub use requests::{ClaimAnswer, ClaimRequest, OutcomeRecord, RecordedOutcome};

pub(crate) use contact::{CONTACT_COLUMNS, contact_columns_of};
pub(crate) use rules::{LeaseRow, QUEUED, SUPPRESSED, Settlement};
pub(crate) use sql::{ASKED_NOT_TO_BE_CALLED, SELECT_LEASE};
pub(crate) use steps::{
    DoNotCallSource, check_do_not_call_limit, settle_contact, suppress_in_group,
};

use crate::{DatabaseUrl, Millis, Store, StoreError};
use barnstorm_domain::queue_policy::renewal_due;
use postgres::PostgresQueue;
use sqlite::SqliteQueue;
use sqlx::AnyPool;

/// The node's queue: the writer thread on SQLite, the batcher on PostgreSQL.
pub(crate) enum Queue {
    /// One thread with its own connection.
    Sqlite(SqliteQueue),
    /// A task taking batches to the pool.
    Postgres(PostgresQueue),
}

impl Queue {
    /// Starts the queue for the database at `url`, writing through `writer` (whose size
    /// on PostgreSQL is `max_connections`).
    pub(crate) async fn start(
        url: &DatabaseUrl,
        writer: &AnyPool,
        max_connections: u32,
    ) -> Result<Self, StoreError> {
        Ok(match url {
            DatabaseUrl::Sqlite(path) => {
                Self::Sqlite(SqliteQueue::start(path, writer.clone()).await?)
            }
            DatabaseUrl::Postgres(_) => {
                Self::Postgres(PostgresQueue::start(writer.clone(), max_connections))
            }
        })
    }

    /// Writes the queue's timings in the Prometheus text format.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        match self {
            Self::Sqlite(queue) => queue.render_metrics(out),
            Self::Postgres(queue) => queue.render_metrics(out),
        }
    }

    /// Finishes the jobs handed over and stops.
    pub(crate) async fn close(&self) {
        match self {
            Self::Sqlite(queue) => queue.close().await,
            Self::Postgres(queue) => queue.close().await,
        }
    }
}

impl Store {
    /// A caller's claim: the contact they already hold if they hold one; otherwise, unless
    /// they skipped too often or calling hours are closed, the next claimable contact.
    /// On SQLite it is one job of the queue writer; on PostgreSQL a read of the caller's
    /// standing from the pool and then [`Store::claim_next_contact`] on the batcher.
    pub async fn claim_for_caller(
        &self,
        request: &ClaimRequest,
    ) -> Result<ClaimAnswer, StoreError> {
        if let Queue::Sqlite(queue) = self.queue() {
            return queue.claim_for_caller(*request).await;
        }
        let standing = self.caller_standing(request).await?;
        if let Some(bar) = standing.barred {
            return Ok(ClaimAnswer::Barred(bar));
        }
        if let Some(lease_id) = standing.held_lease
            && let Some(mut held) = self
                .held_contact(lease_id, request.caller_id, request.now)
                .await?
        {
            if !request.renews(held.expires_at) {
                return Ok(ClaimAnswer::Held(held));
            }
            // The lease may lapse between the read and the renewal; then the caller
            // claims afresh below.
            if let Ok(expires_at) = self
                .extend_lease(lease_id, request.caller_id, request.now, request.lease_ms)
                .await
            {
                held.expires_at = expires_at;
                return Ok(ClaimAnswer::Held(held));
            }
        }
        if let Some(refused) = request.refusal(&standing) {
            return Ok(refused);
        }
        let claimed = self
            .claim_next_contact(
                request.campaign_id,
                request.caller_id,
                request.now,
                request.lease_ms,
            )
            .await?;
        Ok(claimed.map_or(ClaimAnswer::Nothing, ClaimAnswer::Claimed))
    }

    /// Leases the next claimable contact of `campaign_id` to `caller_id` until
    /// `now + lease_ms`; `None` when nothing is claimable.
    pub async fn claim_next_contact(
        &self,
        campaign_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<ClaimedContact>, StoreError> {
        match self.queue() {
            Queue::Sqlite(queue) => queue.claim(campaign_id, caller_id, now, lease_ms).await,
            Queue::Postgres(queue) => queue.claim(campaign_id, caller_id, now, lease_ms).await,
        }
    }

    /// Keeps a live lease alive: extends it to `now + lease_ms` once less than half of a
    /// lease remains, and returns when it now expires.
    pub async fn heartbeat_lease(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Millis, LeaseProblem> {
        // Most heartbeats find plenty of lease left: answer those from a read, and write
        // only once less than half the lease remains.
        let current = sqlx::query(&SELECT_LEASE)
            .bind(lease_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(LeaseProblem::NotFound)?;
        let current = LeaseRow::from_row(&current)?.owned_by(caller_id)?;
        let open = current.released_at.is_none() && current.outcome_at.is_none();
        if open && !renewal_due(current.expires_at, now, lease_ms) {
            return Ok(current.expires_at);
        }
        self.extend_lease(lease_id, caller_id, now, lease_ms).await
    }

    /// Extends a live lease of `caller_id` to `now + lease_ms`, on the node's queue.
    async fn extend_lease(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Millis, LeaseProblem> {
        match self.queue() {
            Queue::Sqlite(queue) => queue.heartbeat(lease_id, caller_id, now, lease_ms).await,
            Queue::Postgres(queue) => queue.heartbeat(lease_id, caller_id, now, lease_ms).await,
        }
    }

    /// Gives a contact back without an outcome (a skip or a break): it is claimable again
    /// at once, and its attempts do not change.
    pub async fn release_lease(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
    ) -> Result<(), LeaseProblem> {
        match self.queue() {
            Queue::Sqlite(queue) => queue.release(lease_id, caller_id, now).await,
            Queue::Postgres(queue) => queue.release(lease_id, caller_id, now).await,
        }
    }

    /// Records the outcome of a call made under a lease. A lease that lapsed still takes
    /// its outcome as long as nobody else has claimed the contact since.
    pub async fn record_outcome(
        &self,
        record: &OutcomeRecord<'_>,
    ) -> Result<RecordedOutcome, LeaseProblem> {
        match self.queue() {
            Queue::Sqlite(queue) => queue.record_outcome(record).await,
            Queue::Postgres(queue) => queue.record_outcome(record).await,
        }
    }
}
