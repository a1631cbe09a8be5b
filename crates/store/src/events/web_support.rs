//! Small reads and writes the event pages need beyond events and RSVPs: a group's event
//! approval policy, and adding someone as a caller of a campaign when they press "Start
//! calling" at a phonebank event. Deciding who may do either is the web layer's.

use crate::{Store, StoreError, now_millis};
use barnstorm_domain::event::EventApproval;
use sqlx::Row;

impl Store {
    /// Whether a group publishes events from supporters at once or after approval.
    /// `NotFound` when there is no such group.
    pub async fn group_event_approval(&self, group_id: i64) -> Result<EventApproval, StoreError> {
        let row = sqlx::query("SELECT event_approval FROM groups WHERE id = $1")
            .bind(group_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        let text: String = row.try_get("event_approval")?;
        text.parse()
            .map_err(|e: barnstorm_domain::event::UnknownChoice| {
                StoreError::from(sqlx::Error::Decode(e.into()))
            })
    }

    /// Sets a group's event approval policy, audited as `group.event_approval`.
    pub async fn set_group_event_approval(
        &self,
        group_id: i64,
        policy: EventApproval,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE groups SET event_approval = $1 WHERE id = $2")
            .bind(policy.as_str())
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "INSERT INTO audit_log (at, actor_user_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(now_millis())
        .bind(actor)
        .bind("group.event_approval")
        .bind(format!("group {group_id}"))
        .bind(policy.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes `user_id` a caller of a campaign (nothing changes if they already are).
    pub async fn add_campaign_caller(
        &self,
        campaign_id: i64,
        user_id: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO campaign_callers (campaign_id, user_id, joined_at) VALUES ($1, $2, $3)
             ON CONFLICT (campaign_id, user_id) DO NOTHING",
        )
        .bind(campaign_id)
        .bind(user_id)
        .bind(now_millis())
        .execute(self.writer())
        .await?;
        Ok(())
    }
}
