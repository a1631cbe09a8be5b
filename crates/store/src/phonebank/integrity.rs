//! Queries that prove, after the fact, what the queue promised: no contact held by two
//! live leases at once, no contact handed out before the time its last outcome set (or
//! after it was finished), and what call attempts exist. Read-only; used by the checker.

use crate::{Millis, Store, StoreError};
use sqlx::Row;

/// Two leases on one contact that were live at the same time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeaseOverlap {
    /// The contact.
    pub contact_id: i64,
    /// The earlier lease.
    pub earlier_lease: i64,
    /// The lease claimed while the earlier one was live.
    pub later_lease: i64,
}

/// A claim made before its contact was due again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EarlyClaim {
    /// The contact.
    pub contact_id: i64,
    /// The offending lease.
    pub lease_id: i64,
    /// When it was claimed.
    pub claimed_at: Millis,
    /// When the contact was due (none: it was finished).
    pub due_at: Option<Millis>,
}

/// The moment a lease ended: the earliest of its expiry, release and outcome.
const LEASE_END: &str = "CASE WHEN released_at IS NOT NULL AND released_at <
        (CASE WHEN outcome_at IS NOT NULL AND outcome_at < expires_at THEN outcome_at ELSE expires_at END)
     THEN released_at
     ELSE (CASE WHEN outcome_at IS NOT NULL AND outcome_at < expires_at THEN outcome_at ELSE expires_at END) END";

impl Store {
    /// Pairs of leases on the same contact whose live periods overlap.
    pub async fn lease_overlaps(&self, campaign_id: i64) -> Result<Vec<LeaseOverlap>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT contact_id, id, prev_id FROM (
                 SELECT contact_id, id, claimed_at,
                     LAG(id) OVER (PARTITION BY contact_id ORDER BY claimed_at, id) AS prev_id,
                     LAG({LEASE_END}) OVER (PARTITION BY contact_id ORDER BY claimed_at, id) AS prev_end
                 FROM leases WHERE campaign_id = $1
             ) t
             WHERE prev_end IS NOT NULL AND claimed_at < prev_end
             ORDER BY contact_id, id"
        ))
        .bind(campaign_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LeaseOverlap {
                    contact_id: row.try_get("contact_id")?,
                    earlier_lease: row.try_get("prev_id")?,
                    later_lease: row.try_get("id")?,
                })
            })
            .collect()
    }

    /// Leases claimed before the time the contact's previous outcome made it due, or after
    /// an outcome finished it.
    pub async fn early_claims(&self, campaign_id: i64) -> Result<Vec<EarlyClaim>, StoreError> {
        // One pass over each contact's timeline of attempts and claims: the running
        // maximum attempt id at a claim is the attempt that came last before it.
        let rows = sqlx::query(
            "SELECT x.contact_id, x.lease_id, x.claimed_at, a.next_available_at FROM (
                 SELECT t.contact_id, t.lease_id, t.at AS claimed_at,
                     MAX(t.attempt_id) OVER (PARTITION BY t.contact_id ORDER BY t.at, t.kind, t.seq
                                             ROWS UNBOUNDED PRECEDING) AS last_attempt
                 FROM (
                     SELECT contact_id, NULL AS lease_id, created_at AS at, 0 AS kind, id AS seq, id AS attempt_id
                     FROM call_attempts WHERE campaign_id = $1
                     UNION ALL
                     SELECT contact_id, id, claimed_at, 1, id, NULL FROM leases WHERE campaign_id = $1
                 ) t
             ) x
             JOIN call_attempts a ON a.id = x.last_attempt
             WHERE x.lease_id IS NOT NULL AND a.lease_id <> x.lease_id
               AND (a.next_available_at IS NULL OR x.claimed_at < a.next_available_at)
             ORDER BY x.lease_id",
        )
        .bind(campaign_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EarlyClaim {
                    contact_id: row.try_get("contact_id")?,
                    lease_id: row.try_get("lease_id")?,
                    claimed_at: row.try_get("claimed_at")?,
                    due_at: row.try_get("next_available_at")?,
                })
            })
            .collect()
    }

    /// When every lease of the campaign was claimed, in order.
    pub async fn claim_times(&self, campaign_id: i64) -> Result<Vec<Millis>, StoreError> {
        let rows =
            sqlx::query("SELECT claimed_at FROM leases WHERE campaign_id = $1 ORDER BY claimed_at")
                .bind(campaign_id)
                .fetch_all(self.reader())
                .await?;
        rows.iter().map(|r| Ok(r.try_get("claimed_at")?)).collect()
    }
}
