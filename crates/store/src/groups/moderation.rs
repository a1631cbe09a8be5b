//! How a group treats events from its people: the approval policy (publish at once, or
//! organisers approve first) and trusted hosts, whose events skip approval in the group
//! and every group below it. Deciding an event's first status from these is the web
//! layer's; this module stores and reads them.

use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Store, StoreError};
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
        audit_about_in(
            &mut tx,
            actor,
            AuditAction::GroupEventApproval,
            About::group(group_id),
            &format!("group {group_id}"),
            policy.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `user_id` is a trusted host of `group_id` or of any group above it.
    pub async fn is_trusted_host(&self, user_id: i64, group_id: i64) -> Result<bool, StoreError> {
        let rows = sqlx::query(
            "WITH RECURSIVE chain(id, depth) AS (
                 SELECT id, 0 FROM groups WHERE id = $1
                 UNION ALL
                 SELECT g.parent_id, chain.depth + 1 FROM groups g JOIN chain ON g.id = chain.id
                 WHERE g.parent_id IS NOT NULL AND chain.depth < 32
             )
             SELECT 1 AS trusted FROM memberships m JOIN chain ON m.group_id = chain.id
             WHERE m.user_id = $2 AND m.trusted_host = 1",
        )
        .bind(group_id)
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        Ok(!rows.is_empty())
    }

    /// Marks a member of `group_id` as a trusted host (or takes it back), audited as
    /// `membership.trusted_host`. `NotFound` when they are not a member of that group
    /// itself (trust is set where the membership is).
    pub async fn set_trusted_host(
        &self,
        group_id: i64,
        user_id: i64,
        trusted: bool,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE memberships SET trusted_host = $1 WHERE group_id = $2 AND user_id = $3",
        )
        .bind(i64::from(trusted))
        .bind(group_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = format!(
            "group {group_id}, {}",
            if trusted { "trusted" } else { "not trusted" }
        );
        audit_about_in(
            &mut tx,
            actor,
            AuditAction::MembershipTrustedHost,
            About::group(group_id).and_user(user_id),
            &format!("user {user_id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
