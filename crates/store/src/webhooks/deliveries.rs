//! Webhook deliveries: claimed by one worker at a time under a short lock (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL, the single writer on SQLite), each attempt logged with its
//! answer and duration, then marked delivered, retried later or given up. The delivery log
//! and "send again" read and re-queue them.

use super::WebhookEventType;
use crate::audit::{AuditAction, audit_in};
use crate::{Backend, Millis, Store, StoreError, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A delivery claimed for sending, with everything needed to sign and send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedWebhook {
    /// The delivery.
    pub delivery_id: i64,
    /// The `webhook-id` header (the same on every attempt).
    pub msg_id: String,
    /// The body to send, exactly as signed.
    pub payload: String,
    /// Where to send it.
    pub url: String,
    /// The endpoint's signing secret (`whsec_…`).
    pub secret: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// What one attempt got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// When it started.
    pub at: Millis,
    /// The HTTP status, when the endpoint answered.
    pub http_status: Option<i64>,
    /// Why it failed, when it did (no answer, a non-2xx status's body, a refused address).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The endpoint answered 2xx.
    Delivered,
    /// Try again at this time.
    RetryAt(Millis),
    /// Give up.
    Failed,
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Stable id.
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The `webhook-id`.
    pub msg_id: String,
    /// Its type.
    pub event_type: WebhookEventType,
    /// The body sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts since it was queued (or sent again).
    pub attempts: i64,
    /// When it is next tried, while pending.
    pub next_attempt_at: Millis,
    /// When it was queued.
    pub created_at: Millis,
    /// When an endpoint last took it.
    pub delivered_at: Option<Millis>,
    /// The last failure.
    pub last_error: Option<String>,
}

const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, m.msg_id, m.event_type, m.payload, d.status,
    d.attempts, d.next_attempt_at, d.created_at, d.delivered_at, d.last_error";

fn delivery_from_row(row: &AnyRow) -> Result<WebhookDelivery, StoreError> {
    Ok(WebhookDelivery {
        id: row.try_get("id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        msg_id: row.try_get("msg_id")?,
        event_type: row.try_get::<String, _>("event_type")?.parse()?,
        payload: row.try_get("payload")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
        last_error: row.try_get("last_error")?,
    })
}

impl Store {
    /// Claims up to `limit` due deliveries, locking them for `lock_ms` so no other worker
    /// (on this node or another) takes them meanwhile. A worker that dies leaves the lock to
    /// expire, and the delivery goes out again with the same `webhook-id`.
    pub async fn claim_due_webhooks(
        &self,
        limit: i64,
        lock_ms: Millis,
    ) -> Result<Vec<ClaimedWebhook>, StoreError> {
        let now = now_millis();
        let skip_locked = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claimed = sqlx::query(&format!(
            "UPDATE webhook_deliveries SET locked_until = $1
             WHERE id IN (
                 SELECT id FROM webhook_deliveries
                 WHERE status = 'pending' AND next_attempt_at <= $2
                   AND (locked_until IS NULL OR locked_until < $2)
                 ORDER BY id LIMIT $3 {skip_locked}
             )
             RETURNING id"
        ))
        .bind(now + lock_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(self.writer())
        .await?;
        let mut ids: Vec<i64> = claimed
            .iter()
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        ids.sort_unstable();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // Read through the writer: on SQLite a reader could lag the claim just made.
            let row = sqlx::query(
                "SELECT d.id, d.attempts, m.msg_id, m.payload, e.url, e.secret
                 FROM webhook_deliveries d
                 JOIN webhook_messages m ON m.id = d.message_id
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id
                 WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(self.writer())
            .await?;
            if let Some(row) = row {
                out.push(ClaimedWebhook {
                    delivery_id: row.try_get("id")?,
                    attempts: row.try_get("attempts")?,
                    msg_id: row.try_get("msg_id")?,
                    payload: row.try_get("payload")?,
                    url: row.try_get("url")?,
                    secret: row.try_get("secret")?,
                });
            }
        }
        Ok(out)
    }

    /// Logs one attempt at a claimed delivery and applies `outcome`, releasing the lock.
    pub async fn record_webhook_attempt(
        &self,
        delivery_id: i64,
        attempt: &WebhookAttempt,
        outcome: WebhookOutcome,
    ) -> Result<(), StoreError> {
        let now = now_millis();
        let (status, next, delivered_at) = match outcome {
            WebhookOutcome::Delivered => ("delivered", now, Some(now)),
            WebhookOutcome::RetryAt(at) => ("pending", at, None),
            WebhookOutcome::Failed => ("failed", now, None),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, at, http_status, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(delivery_id)
        .bind(attempt.at)
        .bind(attempt.http_status)
        .bind(attempt.error.as_deref())
        .bind(attempt.duration_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2, attempts = attempts + 1,
                 locked_until = NULL, last_error = $3, delivered_at = COALESCE($4, delivered_at)
             WHERE id = $5",
        )
        .bind(status)
        .bind(next)
        .bind(attempt.error.as_deref())
        .bind(delivered_at)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives claimed deliveries back unsent, so any worker may claim them at once.
    pub async fn release_webhooks(&self, ids: &[i64]) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query(
                "UPDATE webhook_deliveries SET locked_until = NULL WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .execute(self.writer())
            .await?;
        }
        Ok(())
    }

    /// The latest `limit` deliveries to an endpoint, newest first.
    pub async fn webhook_deliveries(
        &self,
        endpoint_id: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d
             JOIN webhook_messages m ON m.id = d.message_id
             WHERE d.endpoint_id = $1 ORDER BY d.id DESC LIMIT $2"
        ))
        .bind(endpoint_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// One delivery.
    pub async fn webhook_delivery(&self, id: i64) -> Result<Option<WebhookDelivery>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d
             JOIN webhook_messages m ON m.id = d.message_id WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(delivery_from_row).transpose()
    }

    /// Every attempt at a delivery, oldest first.
    pub async fn webhook_attempts(
        &self,
        delivery_id: i64,
    ) -> Result<Vec<WebhookAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, http_status, error, duration_ms FROM webhook_attempts
             WHERE delivery_id = $1 ORDER BY id",
        )
        .bind(delivery_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(WebhookAttempt {
                    at: row.try_get("at")?,
                    http_status: row.try_get("http_status")?,
                    error: row.try_get("error")?,
                    duration_ms: row.try_get("duration_ms")?,
                })
            })
            .collect()
    }

    /// "Send again": queues a delivery now with a fresh count of attempts and the same
    /// `webhook-id` (a receiver that took it already can tell), audited as
    /// `webhook.resend` by `actor`. A delivery a worker holds keeps its lock, so it is
    /// never sent twice at once. `false` when there is no such delivery.
    pub async fn resend_webhook_delivery(&self, id: i64, actor: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let found = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1
             WHERE id = $2",
        )
        .bind(now_millis())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if found {
            let subject = format!("webhook delivery {id}");
            audit_in(
                &mut tx,
                Some(actor),
                AuditAction::WebhookResend,
                &subject,
                "",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(found)
    }

    /// Deletes delivered messages older than `older_than_ms`, with their log.
    pub async fn purge_delivered_webhooks(&self, older_than_ms: Millis) -> Result<u64, StoreError> {
        let cutoff = now_millis() - older_than_ms;
        let mut tx = self.begin_write().await?;
        let old =
            "SELECT id FROM webhook_deliveries WHERE status = 'delivered' AND delivered_at < $1";
        sqlx::query(&format!(
            "DELETE FROM webhook_attempts WHERE delivery_id IN ({old})"
        ))
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(&format!(
            "DELETE FROM webhook_deliveries WHERE id IN ({old})"
        ))
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM webhook_messages
             WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = webhook_messages.id)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(gone)
    }
}
