//! Suspending, lifting and removing a campaign's callers, and counting the claims a
//! caller had refused by the pace limit (the engine suspends a caller who keeps hitting
//! it). Suspending or removing a caller gives back the contact they hold in the same
//! transaction, and every suspension, lift and removal is audited with it. The claim and
//! lease checks read the bar from `campaign_callers` ([`super::pace::CallerBar`]); this
//! module only writes it.

use crate::audit::{AuditAction, audit_campaign_in};
use crate::{Millis, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// A caller of a campaign as organisers see them in its callers list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRow {
    /// The account.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// When they joined (or were first seen calling).
    pub joined_at: Millis,
    /// When they were flagged, if they are.
    pub flagged_at: Option<Millis>,
    /// Why they were flagged.
    pub flag_reason: Option<String>,
    /// When they were suspended, if they are.
    pub suspended_at: Option<Millis>,
    /// Why they were suspended.
    pub suspended_reason: Option<String>,
    /// The organiser who suspended them (`None` with `suspended_at` set: automatically,
    /// or by an account deleted since).
    pub suspended_by: Option<i64>,
    /// That organiser's name.
    pub suspended_by_name: Option<String>,
    /// Calls they have recorded on the campaign.
    pub calls_made: i64,
    /// When they were removed, if they were.
    pub removed_at: Option<Millis>,
}

impl CallerRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            joined_at: row.try_get("joined_at")?,
            flagged_at: row.try_get("flagged_at")?,
            flag_reason: row.try_get("flag_reason")?,
            suspended_at: row.try_get("suspended_at")?,
            suspended_reason: row.try_get("suspended_reason")?,
            suspended_by: row.try_get("suspended_by")?,
            suspended_by_name: row.try_get("suspended_by_name")?,
            calls_made: row.try_get("calls_made")?,
            removed_at: row.try_get("removed_at")?,
        })
    }
}

/// The claims refused by the pace limit in the caller's current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceRefusals {
    /// Refusals counted since `since`.
    pub count: i64,
    /// When the window began (the first refusal counted).
    pub since: Millis,
}

/// Makes sure the caller has a row (`$1` campaign, `$2` user, `$3` now): organisers and
/// group callers may call without having joined by invite.
const ENSURE_CALLER_ROW: &str =
    "INSERT INTO campaign_callers (campaign_id, user_id, joined_at) VALUES ($1, $2, $3)
     ON CONFLICT (campaign_id, user_id) DO NOTHING";

/// Gives back the contacts the caller holds on the campaign (`$1` caller, `$2` campaign,
/// `$3` now): first the contacts, then the leases that held them.
const RELEASE_HELD_CONTACTS: &str =
    "UPDATE contacts SET lease_id = NULL, available_at = $3 WHERE lease_id IN (
       SELECT id FROM leases WHERE caller_id = $1 AND campaign_id = $2
         AND released_at IS NULL AND outcome_at IS NULL)";
const RELEASE_HELD_LEASES: &str = "UPDATE leases SET released_at = $3
     WHERE caller_id = $1 AND campaign_id = $2 AND released_at IS NULL AND outcome_at IS NULL";

async fn release_held(
    tx: &mut Transaction<'static, Any>,
    campaign_id: i64,
    user_id: i64,
    now: Millis,
) -> Result<(), StoreError> {
    for sql in [RELEASE_HELD_CONTACTS, RELEASE_HELD_LEASES] {
        sqlx::query(sql)
            .bind(user_id)
            .bind(campaign_id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Counts one claim of `user_id` refused by the pace limit at `now`, in a window
    /// that starts afresh once its first refusal is older than `window_ms`; returns the
    /// count in the window.
    pub async fn count_pace_refusal(
        &self,
        campaign_id: i64,
        user_id: i64,
        now: Millis,
        window_ms: Millis,
    ) -> Result<PaceRefusals, StoreError> {
        let row = sqlx::query(
            "INSERT INTO campaign_callers (campaign_id, user_id, joined_at, pace_refusals, pace_refused_since)
             VALUES ($1, $2, $3, 1, $3)
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET
               pace_refusals = CASE WHEN campaign_callers.pace_refused_since IS NULL
                   OR campaign_callers.pace_refused_since <= $4 THEN 1 ELSE campaign_callers.pace_refusals + 1 END,
               pace_refused_since = CASE WHEN campaign_callers.pace_refused_since IS NULL
                   OR campaign_callers.pace_refused_since <= $4 THEN $3 ELSE campaign_callers.pace_refused_since END
             RETURNING pace_refusals, pace_refused_since",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(now)
        .bind(now - window_ms)
        .fetch_one(self.writer())
        .await?;
        Ok(PaceRefusals {
            count: row.try_get("pace_refusals")?,
            since: row.try_get("pace_refused_since")?,
        })
    }

    /// Suspends `user_id` from calling the campaign and gives back the contact they
    /// hold, audited as done by `actor` (`None`: automatically). An automatic suspension
    /// also flags the caller for the dashboard. True when they were not suspended yet.
    pub async fn suspend_caller(
        &self,
        campaign_id: i64,
        user_id: i64,
        actor: Option<i64>,
        reason: &str,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(ENSURE_CALLER_ROW)
            .bind(campaign_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let flag = if actor.is_none() { 1_i64 } else { 0 };
        let done = sqlx::query(
            "UPDATE campaign_callers SET suspended_at = $3, suspended_reason = $4, suspended_by = $6,
                 flagged_at = CASE WHEN $5 = 1 THEN COALESCE(flagged_at, $3) ELSE flagged_at END,
                 flag_reason = CASE WHEN $5 = 1 THEN COALESCE(flag_reason, $4) ELSE flag_reason END
             WHERE campaign_id = $1 AND user_id = $2 AND suspended_at IS NULL AND removed_at IS NULL",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(now)
        .bind(reason)
        .bind(flag)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        release_held(&mut tx, campaign_id, user_id, now).await?;
        let how = if actor.is_none() {
            "automatically"
        } else {
            "by an organiser"
        };
        let detail = format!("user {user_id} suspended {how}: {reason}");
        let about = (campaign_id, Some(user_id));
        audit_campaign_in(&mut tx, actor, AuditAction::CallerSuspend, about, &detail).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Lifts a caller's suspension (and the flag and the count of pace refusals with it),
    /// audited as done by `actor`. True when they were suspended.
    pub async fn lift_caller_suspension(
        &self,
        campaign_id: i64,
        user_id: i64,
        actor: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE campaign_callers SET suspended_at = NULL, suspended_reason = NULL, suspended_by = NULL, flagged_at = NULL,
                 flag_reason = NULL, pace_refusals = 0, pace_refused_since = NULL
             WHERE campaign_id = $1 AND user_id = $2 AND suspended_at IS NOT NULL AND removed_at IS NULL",
        )
        .bind(campaign_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        let detail = format!("user {user_id} may call again");
        let about = (campaign_id, Some(user_id));
        audit_campaign_in(
            &mut tx,
            Some(actor),
            AuditAction::CallerUnsuspend,
            about,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes `user_id` from the campaign's callers for good (an invite link does not
    /// bring them back) and gives back the contact they hold, audited as done by
    /// `actor`. True when they were not removed yet.
    pub async fn remove_campaign_caller(
        &self,
        campaign_id: i64,
        user_id: i64,
        actor: i64,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(ENSURE_CALLER_ROW)
            .bind(campaign_id)
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "UPDATE campaign_callers SET removed_at = $3
             WHERE campaign_id = $1 AND user_id = $2 AND removed_at IS NULL",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        release_held(&mut tx, campaign_id, user_id, now).await?;
        let detail = format!("user {user_id} removed");
        let about = (campaign_id, Some(user_id));
        audit_campaign_in(
            &mut tx,
            Some(actor),
            AuditAction::CallerRemove,
            about,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A campaign's callers (joined by invite, or members who claimed a contact; flagged,
    /// suspended or removed), by name, with who suspended them and how many calls each
    /// has recorded.
    pub async fn campaign_callers(&self, campaign_id: i64) -> Result<Vec<CallerRow>, StoreError> {
        let rows = sqlx::query(
            "WITH people AS (
                 SELECT user_id, joined_at FROM campaign_callers WHERE campaign_id = $1
                 UNION ALL
                 SELECT caller_id AS user_id, MIN(claimed_at) AS joined_at FROM leases
                 WHERE campaign_id = $1
                   AND caller_id NOT IN (SELECT user_id FROM campaign_callers WHERE campaign_id = $1)
                 GROUP BY caller_id)
             SELECT p.user_id, u.name, u.email, p.joined_at, c.flagged_at, c.flag_reason, c.suspended_at,
                 c.suspended_reason, c.removed_at, c.suspended_by, s.name AS suspended_by_name,
                 (SELECT COUNT(*) FROM call_attempts a
                  WHERE a.campaign_id = $1 AND a.caller_id = p.user_id) AS calls_made
             FROM people p JOIN users u ON u.id = p.user_id
             LEFT JOIN campaign_callers c ON c.campaign_id = $1 AND c.user_id = p.user_id
             LEFT JOIN users s ON s.id = c.suspended_by
             ORDER BY u.name, p.user_id",
        )
        .bind(campaign_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(CallerRow::from_row)
            .collect::<Result<_, _>>()?)
    }
}
