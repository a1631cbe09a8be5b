//! Queuing webhook messages: inside the transaction of the change they tell of, one message
//! (with its `webhook-id` and body) and one delivery for each enabled endpoint subscribed
//! to its type. Nothing is written when no endpoint listens, so a change costs one
//! read of the small endpoints table when webhooks are unused.

use super::WebhookEventType;
use crate::{Store, StoreError, new_secret, now_millis};
use chrono::{SecondsFormat, TimeZone, Utc};
use sqlx::{Any, Row, Transaction};

/// The SQL condition "endpoint `e` listens for the type bound as `param`" (its types are
/// stored space-separated).
fn listens_for(param: &str) -> String {
    format!("e.enabled = 1 AND (' ' || e.event_types || ' ') LIKE {param}")
}

/// The `LIKE` pattern [`listens_for`] matches `kind` with.
fn type_pattern(kind: WebhookEventType) -> String {
    format!("% {} %", kind.as_str())
}

/// Queues a `kind` message with `data` inside `tx`: it commits with the change or not at
/// all. Returns how many deliveries were queued (one per subscribed endpoint).
pub(crate) async fn queue_webhook_in(
    tx: &mut Transaction<'static, Any>,
    kind: WebhookEventType,
    data: serde_json::Value,
) -> Result<u64, StoreError> {
    let pattern = type_pattern(kind);
    let listening: i64 = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM webhook_endpoints e WHERE {}",
        listens_for("$1")
    ))
    .bind(&pattern)
    .fetch_one(&mut **tx)
    .await?
    .try_get("n")?;
    if listening == 0 {
        return Ok(0);
    }
    let now = now_millis();
    let timestamp = Utc
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default();
    let body = serde_json::json!({
        "type": kind.as_str(),
        "timestamp": timestamp,
        "data": data,
    });
    let msg_id = format!("msg_{}", new_secret());
    let message_id: i64 = sqlx::query(
        "INSERT INTO webhook_messages (msg_id, event_type, payload, created_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&msg_id)
    .bind(kind.as_str())
    .bind(body.to_string())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    let queued = sqlx::query(&format!(
        "INSERT INTO webhook_deliveries (message_id, endpoint_id, next_attempt_at, created_at)
         SELECT $1, e.id, $2, $2 FROM webhook_endpoints e WHERE {}",
        listens_for("$3")
    ))
    .bind(message_id)
    .bind(now)
    .bind(&pattern)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(queued)
}

impl Store {
    /// Queues a `kind` message on its own, for changes made outside a store transaction
    /// (a call outcome, committed by the phone bank's batching queue). Returns how many
    /// deliveries were queued.
    pub async fn queue_webhook(
        &self,
        kind: WebhookEventType,
        data: serde_json::Value,
    ) -> Result<u64, StoreError> {
        // Most instances have no endpoint for most types: a read, not a write, says so.
        let listening: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT e.id FROM webhook_endpoints e WHERE {} LIMIT 1",
            listens_for("$1")
        ))
        .bind(type_pattern(kind))
        .fetch_optional(self.reader())
        .await?;
        if listening.is_none() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let queued = queue_webhook_in(&mut tx, kind, data).await?;
        tx.commit().await?;
        Ok(queued)
    }
}
