//! The instance's privacy notice: every version kept, the newest in force. Consents record
//! the version shown when they were given; forms and mails link to the current one.

use crate::audit::{AuditAction, audit_in};
use crate::{Millis, Store, StoreError, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

/// One version of the privacy notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyNotice {
    /// The version: higher is newer.
    pub id: i64,
    /// Its text, in Markdown.
    pub body: String,
    /// When it was published.
    pub created_at: Millis,
    /// Who published it.
    pub created_by: Option<i64>,
}

impl PrivacyNotice {
    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.try_get("id")?,
            body: row.try_get("body")?,
            created_at: row.try_get("created_at")?,
            created_by: row.try_get("created_by")?,
        })
    }
}

const COLUMNS: &str = "id, body, created_at, created_by";

impl Store {
    /// The notice in force, if one was published.
    pub async fn privacy_notice(&self) -> Result<Option<PrivacyNotice>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM privacy_notices ORDER BY id DESC LIMIT 1"
        ))
        .fetch_optional(self.reader())
        .await?
        .as_ref()
        .map(PrivacyNotice::from_row)
        .transpose()
    }

    /// Every version published, newest first.
    pub async fn privacy_notices(&self) -> Result<Vec<PrivacyNotice>, StoreError> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM privacy_notices ORDER BY id DESC"
        ))
        .fetch_all(self.reader())
        .await?
        .iter()
        .map(PrivacyNotice::from_row)
        .collect()
    }

    /// Publishes a new version of the notice (audited); consents given from now on
    /// record it. Returns its version.
    pub async fn publish_privacy_notice(
        &self,
        body: &str,
        by: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO privacy_notices (body, created_at, created_by) VALUES ($1, $2, $3)
             RETURNING id",
        )
        .bind(body)
        .bind(now_millis())
        .bind(by)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        audit_in(
            &mut tx,
            by,
            AuditAction::PrivacyNoticePublish,
            &format!("privacy notice {id}"),
            "",
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
