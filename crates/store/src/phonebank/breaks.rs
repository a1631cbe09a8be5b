//! Callers' breaks: a caller who takes a break is marked on the campaign until they resume
//! or claim a contact again, so the dashboard's "callers online" leaves them out. It only
//! records when a break began; giving back the held contact is the queue's job.

use crate::{Millis, Store, StoreError};

/// Callers of campaign `$1` who are not on a break: no break recorded, or a claim since.
/// `recent.caller_id` names the caller being counted.
pub(super) const NOT_ON_BREAK: &str = "NOT EXISTS (
         SELECT 1 FROM campaign_callers cc WHERE cc.campaign_id = $1 AND cc.user_id = recent.caller_id
           AND cc.on_break_since IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM leases b WHERE b.campaign_id = $1 AND b.caller_id = recent.caller_id
                             AND b.claimed_at > cc.on_break_since))";

impl Store {
    /// Marks `user_id` as on a break from a campaign since `now`.
    pub async fn start_break(
        &self,
        campaign_id: i64,
        user_id: i64,
        now: Millis,
    ) -> Result<(), StoreError> {
        // Organisers and group callers may call without a row of their own yet.
        sqlx::query(
            "INSERT INTO campaign_callers (campaign_id, user_id, joined_at, on_break_since) VALUES ($1, $2, $3, $3)
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET on_break_since = excluded.on_break_since",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Ends `user_id`'s break from a campaign, if they were on one.
    pub async fn end_break(&self, campaign_id: i64, user_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE campaign_callers SET on_break_since = NULL
             WHERE campaign_id = $1 AND user_id = $2 AND on_break_since IS NOT NULL",
        )
        .bind(campaign_id)
        .bind(user_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
