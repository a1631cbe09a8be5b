//! The audit log: who did what to whom, when. Append-only; entries are never edited.
//! Writers describe the subject in words ("group 4", "contact 1932"); they never copy
//! personal data into the detail. Every action is an [`AuditAction`]; a row whose action
//! is not one fails to read.

mod action;

pub use action::{AuditAction, UnknownAuditAction};

use crate::{Millis, Store, StoreError, now_millis};
use sqlx::{Any, Row, Transaction};

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When it happened.
    pub at: Millis,
    /// Who did it (none for the system or an anonymous visitor).
    pub actor_user_id: Option<i64>,
    /// What was done.
    pub action: AuditAction,
    /// What it was done to.
    pub subject: String,
    /// Anything else worth keeping.
    pub detail: String,
}

const INSERT_ENTRY: &str = "INSERT INTO audit_log (at, actor_user_id, action, subject, detail) VALUES ($1, $2, $3, $4, $5)";

/// Appends an audit entry inside `tx`, so it commits or rolls back with the change.
pub(crate) async fn audit_in(
    tx: &mut Transaction<'static, Any>,
    actor: Option<i64>,
    action: AuditAction,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    audit_in_at(tx, now_millis(), actor, action, subject, detail).await
}

/// Appends an audit entry dated `at` inside `tx` (for jobs that are given their clock).
pub(crate) async fn audit_in_at(
    tx: &mut Transaction<'static, Any>,
    at: Millis,
    actor: Option<i64>,
    action: AuditAction,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(INSERT_ENTRY)
        .bind(at)
        .bind(actor)
        .bind(action.as_str())
        .bind(subject)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Appends an entry.
    pub async fn audit(
        &self,
        actor_user_id: Option<i64>,
        action: AuditAction,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        audit_in(&mut tx, actor_user_id, action, subject, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor_user_id, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: row.try_get("at")?,
                    actor_user_id: row.try_get("actor_user_id")?,
                    action: stored_action(row.try_get("action")?)?,
                    subject: row.try_get("subject")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// The action of a stored row; a name that is no [`AuditAction`] is a defect, reported
/// with the name.
fn stored_action(name: String) -> Result<AuditAction, StoreError> {
    name.parse()
        .map_err(|e: UnknownAuditAction| StoreError::Invalid(e.to_string()))
}
