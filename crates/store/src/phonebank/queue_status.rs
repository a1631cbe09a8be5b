//! The read side of the queue: counts by state for "why is there nobody to call?", a
//! caller's skips (for throttling), pace and bar (suspended or removed), the lease a caller already holds (to resume after a
//! reload) and the attempts recorded. Never writes.

use super::pace::{CallerBar, RecentClaims};
use super::queue::{ClaimRequest, ClaimedContact, Contact, contact_columns_of};
use crate::{Millis, Store, StoreError};
use sqlx::Row;
use std::sync::LazyLock;

/// A caller's standing on a campaign (`$1` caller, `$2` campaign, `$3` now, `$4` the start
/// of the skip window, `$5` and `$6` the start and limit of the minute's pace, `$7` and
/// `$8` those of the hour's): the lease they hold, their recent skips, whether they are
/// suspended or removed, and their newest claims (at most the limit of each window, from
/// the index of leases by caller, campaign and time). (`+campaign_id` keeps SQLite on the
/// caller's index of unrecorded leases for the skips: a campaign's recent leases are
/// many, one caller's unrecorded ones few.)
pub(super) const CALLER_STANDING: &str = "SELECT
       (SELECT id FROM leases
         WHERE caller_id = $1 AND campaign_id = $2 AND released_at IS NULL
           AND outcome_at IS NULL AND expires_at > $3
         ORDER BY id DESC LIMIT 1) AS held_lease,
       (SELECT COUNT(*) FROM leases
         WHERE caller_id = $1 AND claimed_at >= $4 AND +campaign_id = $2
           AND outcome_at IS NULL AND (released_at IS NOT NULL OR expires_at <= $3)) AS skips,
       (SELECT CASE WHEN cc.removed_at IS NOT NULL THEN 2 WHEN cc.suspended_at IS NOT NULL THEN 1 ELSE 0 END
          FROM campaign_callers cc WHERE cc.campaign_id = $2 AND cc.user_id = $1) AS barred,
       last_minute.claims AS minute_claims, last_minute.oldest AS minute_oldest,
       last_hour.claims AS hour_claims, last_hour.oldest AS hour_oldest
     FROM
       (SELECT COUNT(*) AS claims, MIN(claimed_at) AS oldest FROM (
          SELECT claimed_at FROM leases WHERE caller_id = $1 AND campaign_id = $2 AND claimed_at > $5
          ORDER BY claimed_at DESC LIMIT $6) newest) last_minute,
       (SELECT COUNT(*) AS claims, MIN(claimed_at) AS oldest FROM (
          SELECT claimed_at FROM leases WHERE caller_id = $1 AND campaign_id = $2 AND claimed_at > $7
          ORDER BY claimed_at DESC LIMIT $8) newest) last_hour";

/// The contact held under a live lease (`$1` lease, `$2` caller, `$3` now), if the lease
/// is still the contact's own.
pub(super) static HELD_CONTACT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT l.id AS lease_id, l.expires_at, {cols} FROM leases l JOIN contacts c ON c.id = l.contact_id
         WHERE l.id = $1 AND l.caller_id = $2 AND l.expires_at > $3 AND l.released_at IS NULL
           AND l.outcome_at IS NULL AND c.lease_id = l.id",
        cols = contact_columns_of("c")
    )
});

/// How a campaign's list stands, for "why is there nobody to call?".
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueCounts {
    /// Contacts on the list.
    pub total: i64,
    /// Claimable now (calling hours aside).
    pub ready: i64,
    /// Held by a caller right now.
    pub leased: i64,
    /// Waiting for a retry cooldown to end.
    pub cooling_down: i64,
    /// Waiting for a callback time.
    pub callbacks_scheduled: i64,
    /// Finished: reached a conclusion or ran out of attempts.
    pub finished: i64,
    /// On a do-not-call or TPS list.
    pub suppressed: i64,
    /// Contacts called at least once.
    pub called: i64,
    /// The earliest time a waiting (cooling down or callback) contact becomes claimable.
    pub next_available_at: Option<Millis>,
    /// The earliest booked callback among `callbacks_scheduled`.
    pub next_callback_at: Option<Millis>,
    /// The earliest end of a cooldown among `cooling_down`.
    pub next_cooldown_end: Option<Millis>,
}

/// A caller's recent leases on a campaign, summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallerStanding {
    /// The lease they hold now, if any.
    pub held_lease: Option<i64>,
    /// Contacts released or let lapse without an outcome in the window.
    pub skips: i64,
    /// Suspended or removed, if either.
    pub barred: Option<CallerBar>,
    /// Their newest claims of the last minute, at most the minute's limit.
    pub last_minute: RecentClaims,
    /// Their newest claims of the last hour, at most the hour's limit.
    pub last_hour: RecentClaims,
}

impl Store {
    /// Counts the list by queue state at `now`.
    pub async fn queue_counts(
        &self,
        campaign_id: i64,
        now: Millis,
    ) -> Result<QueueCounts, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS total,
                 COALESCE(SUM(CASE WHEN state = 0 AND available_at <= $2 THEN 1 ELSE 0 END), 0) AS ready,
                 COALESCE(SUM(CASE WHEN state = 0 AND available_at > $2 AND lease_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS leased,
                 COALESCE(SUM(CASE WHEN state = 0 AND available_at > $2 AND lease_id IS NULL AND priority <> 0 THEN 1 ELSE 0 END), 0) AS cooling,
                 COALESCE(SUM(CASE WHEN state = 0 AND available_at > $2 AND lease_id IS NULL AND priority = 0 THEN 1 ELSE 0 END), 0) AS callbacks,
                 COALESCE(SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END), 0) AS finished,
                 COALESCE(SUM(CASE WHEN state = 2 THEN 1 ELSE 0 END), 0) AS suppressed,
                 COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) AS called,
                 MIN(CASE WHEN state = 0 AND available_at > $2 AND lease_id IS NULL THEN available_at END) AS next_at,
                 MIN(CASE WHEN state = 0 AND available_at > $2 AND lease_id IS NULL AND priority = 0 THEN available_at END) AS next_callback,
                 MIN(CASE WHEN state = 0 AND available_at > $2 AND lease_id IS NULL AND priority <> 0 THEN available_at END) AS next_cooldown
             FROM contacts WHERE campaign_id = $1",
        )
        .bind(campaign_id)
        .bind(now)
        .fetch_one(self.reader())
        .await?;
        Ok(QueueCounts {
            total: row.try_get("total")?,
            ready: row.try_get("ready")?,
            leased: row.try_get("leased")?,
            cooling_down: row.try_get("cooling")?,
            callbacks_scheduled: row.try_get("callbacks")?,
            finished: row.try_get("finished")?,
            suppressed: row.try_get("suppressed")?,
            called: row.try_get("called")?,
            next_available_at: row.try_get("next_at")?,
            next_callback_at: row.try_get("next_callback")?,
            next_cooldown_end: row.try_get("next_cooldown")?,
        })
    }

    /// The first contact of a campaign's list, if it has one: the sample the campaign
    /// editor previews the script with.
    pub async fn first_contact(&self, campaign_id: i64) -> Result<Option<Contact>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM contacts WHERE campaign_id = $1 ORDER BY id LIMIT 1",
            contact_columns_of("contacts")
        ))
        .bind(campaign_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(Contact::from_row).transpose()?)
    }

    /// Calls recorded on a contact so far.
    pub async fn contact_attempts(&self, contact_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT attempts FROM contacts WHERE id = $1")
            .bind(contact_id)
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("attempts")?)
    }

    /// The ids of every call attempt recorded on a campaign, ascending (for checks that
    /// reconcile what callers were told against what is stored).
    pub async fn attempt_ids(&self, campaign_id: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM call_attempts WHERE campaign_id = $1 ORDER BY id")
            .bind(campaign_id)
            .fetch_all(self.reader())
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Where the caller of `request` stands on its campaign at its time, in one query: the
    /// lease they hold (to resume it after a reload), how many contacts they skipped
    /// (released or let lapse without an outcome) since `skips_since`, whether they are
    /// suspended or removed, and their newest claims against the pace limits.
    pub async fn caller_standing(
        &self,
        request: &ClaimRequest,
    ) -> Result<CallerStanding, StoreError> {
        let windows = request.pace_windows();
        let row = sqlx::query(CALLER_STANDING)
            .bind(request.caller_id)
            .bind(request.campaign_id)
            .bind(request.now)
            .bind(request.skips_since)
            .bind(windows[0])
            .bind(windows[1])
            .bind(windows[2])
            .bind(windows[3])
            .fetch_one(self.reader())
            .await?;
        Ok(CallerStanding {
            held_lease: row.try_get("held_lease")?,
            skips: row.try_get("skips")?,
            barred: CallerBar::from_code(row.try_get("barred")?),
            last_minute: RecentClaims {
                count: row.try_get("minute_claims")?,
                oldest: row.try_get("minute_oldest")?,
            },
            last_hour: RecentClaims {
                count: row.try_get("hour_claims")?,
                oldest: row.try_get("hour_oldest")?,
            },
        })
    }

    /// The contact held under a live lease, if the lease is still the contact's own.
    pub async fn held_contact(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
    ) -> Result<Option<ClaimedContact>, StoreError> {
        let row = sqlx::query(&HELD_CONTACT)
            .bind(lease_id)
            .bind(caller_id)
            .bind(now)
            .fetch_optional(self.reader())
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ClaimedContact {
            lease_id: row.try_get("lease_id")?,
            expires_at: row.try_get("expires_at")?,
            contact: Contact::from_row(&row)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::CALLER_STANDING;
    use crate::testing::TestDatabase;

    /// On PostgreSQL too, a claim reads the caller's standing only from the partial
    /// indexes of leases without an outcome and the caller's newest leases on the
    /// campaign (the pace index), never from every lease the caller had. (The
    /// planner is told to avoid sequential scans, as it would on a table this small; the
    /// test asks whether the indexes fit the query.)
    #[tokio::test]
    async fn postgres_reads_the_callers_standing_from_unrecorded_leases() {
        let Some(db) = TestDatabase::postgres().await else {
            return;
        };
        let mut tx = db.store.reader().begin().await.unwrap();
        sqlx::query("SET LOCAL enable_seqscan = off")
            .execute(&mut *tx)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {CALLER_STANDING}"))
            .bind(1_i64)
            .bind(1_i64)
            .bind(0_i64)
            .bind(0_i64)
            .bind(0_i64)
            .bind(6_i64)
            .bind(0_i64)
            .bind(120_i64)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        drop(tx);
        let scans: Vec<&String> = plan
            .iter()
            .filter(|step| step.contains(" on leases"))
            .collect();
        assert_eq!(scans.len(), 4, "{plan:#?}");
        for scan in scans {
            assert!(
                scan.contains("using leases_open")
                    || scan.contains("using leases_unrecorded")
                    || scan.contains("using leases_pace"),
                "a lease read outside the indexes of open and unrecorded leases and the pace index: {plan:#?}"
            );
        }
        db.drop_database().await;
    }
}
