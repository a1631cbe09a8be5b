//! The durable mail outbox. Mail is queued in the same transaction as the change that
//! causes it; a delivery worker claims due mail under a short lock (so several nodes never
//! send the same mail twice at once), then marks it sent or schedules a retry.

use crate::{Backend, Millis, Store, StoreError, now_millis};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

/// A mail to queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewMail {
    /// One recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// Extra headers, such as `List-Unsubscribe`.
    pub headers: BTreeMap<String, String>,
    /// The name shown as the sender, such as the group the mail is from; the address is
    /// always the instance's own. `None` keeps the instance's sender name.
    pub sender_name: Option<String>,
    /// Files sent with the text, such as an event's calendar entry.
    pub attachments: Vec<MailAttachment>,
}

/// A file sent with a mail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailAttachment {
    /// The file name the recipient sees, e.g. `event-42.ics`.
    pub filename: String,
    /// Its media type, e.g. `text/calendar; charset=utf-8; method=PUBLISH`.
    pub content_type: String,
    /// Its content (text attachments only).
    pub content: String,
}

/// A queued mail claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    /// Stable id.
    pub id: i64,
    /// The queued content.
    pub mail: NewMail,
    /// Delivery attempts made before this one.
    pub attempts: i64,
}

impl OutboxMail {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let headers: String = row.try_get("headers")?;
        let attachments: String = row.try_get("attachments")?;
        Ok(Self {
            id: row.try_get("id")?,
            attempts: row.try_get("attempts")?,
            mail: NewMail {
                to: row.try_get("to_addr")?,
                subject: row.try_get("subject")?,
                body_text: row.try_get("body_text")?,
                headers: serde_json::from_str(&headers)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
                sender_name: row.try_get("sender_name")?,
                attachments: serde_json::from_str(&attachments)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
            },
        })
    }
}

pub(crate) async fn insert_mail(
    tx: &mut Transaction<'static, Any>,
    mail: &NewMail,
) -> Result<i64, StoreError> {
    let encode = |e: serde_json::Error| StoreError::Database(sqlx::Error::Encode(e.into()));
    let headers = serde_json::to_string(&mail.headers).map_err(encode)?;
    let attachments = serde_json::to_string(&mail.attachments).map_err(encode)?;
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO outbox (to_addr, subject, body_text, headers, sender_name, attachments, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.body_text)
    .bind(headers)
    .bind(mail.sender_name.as_deref())
    .bind(attachments)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

impl Store {
    /// Queues one mail on its own.
    pub async fn enqueue_mail(&self, mail: &NewMail) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = insert_mail(&mut tx, mail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims up to `limit` mails that are due, locking them for `lock_ms` so no other
    /// worker takes them meanwhile. A worker that dies leaves the lock to expire.
    pub async fn claim_due_mail(
        &self,
        limit: i64,
        lock_ms: Millis,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        let now = now_millis();
        let skip_locked = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let rows = sqlx::query(&format!(
            "UPDATE outbox SET locked_until = $1
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'pending' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2)
                 ORDER BY id LIMIT $3 {skip_locked}
             )
             RETURNING id, to_addr, subject, body_text, headers, sender_name, attachments, attempts"
        ))
        .bind(now + lock_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.writer())
        .await?;
        let mut mails = rows
            .iter()
            .map(OutboxMail::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        mails.sort_by_key(|m| m.id);
        Ok(mails)
    }

    /// Records a successful delivery.
    pub async fn mark_mail_sent(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, locked_until = NULL, last_error = NULL
             WHERE id = $2",
        )
        .bind(now_millis())
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Gives claimed mails back unsent, so any worker may claim them at once.
    pub async fn release_mail(&self, ids: &[i64]) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET locked_until = NULL WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .execute(self.writer())
            .await?;
        }
        Ok(())
    }

    /// Records a failed delivery: retry at `retry_at`, or give up when it is `None`.
    pub async fn mark_mail_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Millis>,
    ) -> Result<(), StoreError> {
        let (status, next) = match retry_at {
            Some(at) => ("pending", at),
            None => ("failed", now_millis()),
        };
        sqlx::query(
            "UPDATE outbox SET status = $1, next_attempt_at = $2, attempts = attempts + 1, locked_until = NULL,
                 last_error = $3
             WHERE id = $4",
        )
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Deletes mail sent more than `older_than_ms` ago: bodies can hold live links.
    pub async fn purge_sent_mail(&self, older_than_ms: Millis) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM outbox WHERE status = 'sent' AND sent_at < $1")
            .bind(now_millis() - older_than_ms)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }

    /// How many mails are waiting and how many were given up on.
    pub async fn mail_counts(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
                    COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed
             FROM outbox",
        )
        .fetch_one(self.reader())
        .await?;
        Ok((row.try_get("pending")?, row.try_get("failed")?))
    }
}
