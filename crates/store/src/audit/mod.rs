//! The audit log: who did what to whom, when. Append-only; entries are never edited.
//! Writers describe the subject in words ("group 4", "contact 1932"); they never copy
//! personal data into the detail. Every action is an [`AuditAction`]; a row whose action
//! is not one fails to read.

mod action;
mod listing;

pub use action::{AuditAction, UnknownAuditAction};
pub use listing::{AuditFilter, AuditPage, PersonIds};

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
    /// Who and what the entry is about, where known.
    pub about: About,
}

/// What an entry is about, by id, for filtering: each is `None` when it does not apply
/// or is not known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct About {
    /// The group whose data it is (organisers of that group may see the entry).
    pub group_id: Option<i64>,
    /// The phone bank campaign.
    pub campaign_id: Option<i64>,
    /// The campaign contact.
    pub contact_id: Option<i64>,
    /// The account it was done to (not the one who did it).
    pub subject_user_id: Option<i64>,
    /// The supporter record.
    pub supporter_id: Option<i64>,
}

impl About {
    /// About a group.
    pub fn group(group_id: i64) -> Self {
        Self {
            group_id: Some(group_id),
            ..Self::default()
        }
    }

    /// About a campaign of a group.
    pub fn campaign(group_id: i64, campaign_id: i64) -> Self {
        Self {
            group_id: Some(group_id),
            campaign_id: Some(campaign_id),
            ..Self::default()
        }
    }

    /// About an account.
    pub fn user(user_id: i64) -> Self {
        Self {
            subject_user_id: Some(user_id),
            ..Self::default()
        }
    }

    /// The same, also about the account `user_id`.
    pub fn and_user(self, user_id: i64) -> Self {
        Self {
            subject_user_id: Some(user_id),
            ..self
        }
    }
}

const INSERT_ENTRY: &str = "INSERT INTO audit_log (at, actor_user_id, action, subject, detail,
     group_id, campaign_id, contact_id, subject_user_id, supporter_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Appends an audit entry inside `tx`, so it commits or rolls back with the change.
pub(crate) async fn audit_in(
    tx: &mut Transaction<'static, Any>,
    actor: Option<i64>,
    action: AuditAction,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    audit_about_in(tx, actor, action, About::default(), subject, detail).await
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
    write_entry(tx, at, actor, action, About::default(), subject, detail).await
}

/// Audits `action` about campaign `campaign_id` (and its group), and about the account
/// `user_id` when given (a caller), inside `tx`.
pub(crate) async fn audit_campaign_in(
    tx: &mut Transaction<'static, Any>,
    actor: Option<i64>,
    action: AuditAction,
    (campaign_id, user_id): (i64, Option<i64>),
    detail: &str,
) -> Result<(), StoreError> {
    let group_id: Option<i64> =
        sqlx::query_scalar("SELECT group_id FROM call_campaigns WHERE id = $1")
            .bind(campaign_id)
            .fetch_optional(&mut **tx)
            .await?;
    let about = About {
        group_id,
        campaign_id: Some(campaign_id),
        subject_user_id: user_id,
        ..About::default()
    };
    let subject = format!("campaign {campaign_id}");
    audit_about_in(tx, actor, action, about, &subject, detail).await
}

/// Audits `action` about event `event_id` (and its group) inside `tx`.
pub(crate) async fn audit_event_in(
    tx: &mut Transaction<'static, Any>,
    actor: Option<i64>,
    action: AuditAction,
    event_id: i64,
    detail: &str,
) -> Result<(), StoreError> {
    let group_id: Option<i64> = sqlx::query_scalar("SELECT group_id FROM events WHERE id = $1")
        .bind(event_id)
        .fetch_optional(&mut **tx)
        .await?;
    let about = About {
        group_id,
        ..About::default()
    };
    let subject = format!("event {event_id}");
    audit_about_in(tx, actor, action, about, &subject, detail).await
}

/// [`audit_in`] for an entry about known ids (`about`), so it can be found by them.
pub(crate) async fn audit_about_in(
    tx: &mut Transaction<'static, Any>,
    actor: Option<i64>,
    action: AuditAction,
    about: About,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    write_entry(tx, now_millis(), actor, action, about, subject, detail).await
}

/// Writes one entry inside `tx`.
async fn write_entry(
    tx: &mut Transaction<'static, Any>,
    at: Millis,
    actor: Option<i64>,
    action: AuditAction,
    about: About,
    subject: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(INSERT_ENTRY)
        .bind(at)
        .bind(actor)
        .bind(action.as_str())
        .bind(subject)
        .bind(detail)
        .bind(about.group_id)
        .bind(about.campaign_id)
        .bind(about.contact_id)
        .bind(about.subject_user_id)
        .bind(about.supporter_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Records a read that changes nothing (a download or export of personal data, or a
    /// benchmark's synthetic write), so it has no transaction of its own to share: the
    /// exports of campaign results and attempts, an event's attendee list, a
    /// subject-access export, and `barnstorm bench`. Every change is audited by the store
    /// function that makes it, in its own transaction; an action that is not a read is
    /// refused here.
    pub async fn audit_read(
        &self,
        actor_user_id: Option<i64>,
        action: AuditAction,
        about: About,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        if !action.is_read() {
            return Err(StoreError::Invalid(format!(
                "{action} changes data and is audited with the change"
            )));
        }
        let mut tx = self.begin_write().await?;
        audit_about_in(&mut tx, actor_user_id, action, about, subject, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest entries, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }
}

/// The columns [`entry_from_row`] reads.
const ENTRY_COLUMNS: &str = "at, actor_user_id, action, subject, detail, group_id, campaign_id,
     contact_id, subject_user_id, supporter_id";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        at: row.try_get("at")?,
        actor_user_id: row.try_get("actor_user_id")?,
        action: stored_action(row.try_get("action")?)?,
        subject: row.try_get("subject")?,
        detail: row.try_get("detail")?,
        about: About {
            group_id: row.try_get("group_id")?,
            campaign_id: row.try_get("campaign_id")?,
            contact_id: row.try_get("contact_id")?,
            subject_user_id: row.try_get("subject_user_id")?,
            supporter_id: row.try_get("supporter_id")?,
        },
    })
}

/// The action of a stored row; a name that is no [`AuditAction`] is a defect, reported
/// with the name.
fn stored_action(name: String) -> Result<AuditAction, StoreError> {
    name.parse()
        .map_err(|e: UnknownAuditAction| StoreError::Invalid(e.to_string()))
}
