//! Signed webhooks' persistence: the endpoints instance admins subscribe to event types,
//! the messages queued with the changes they tell of, and their deliveries and attempts.
//! Signing and sending are the web layer's (`barnstorm_web::webhooks`); nothing here
//! speaks HTTP. Payloads carry ids and the least data a receiver needs, never contact
//! details.

mod deliveries;
mod queue;

pub use deliveries::{ClaimedWebhook, WebhookAttempt, WebhookDelivery, WebhookOutcome};
pub(crate) use queue::queue_webhook_in;

use crate::audit::{AuditAction, audit_in};
use crate::{Millis, Store, StoreError, now_millis};
use base64::Engine;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Declares [`WebhookEventType`] with the name each type is sent and stored under.
macro_rules! webhook_event_types {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)+) => {
        /// A kind of change an endpoint may subscribe to. Its name is the payload's `type`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum WebhookEventType {
            $($(#[doc = $doc])* $variant,)+
        }

        impl WebhookEventType {
            /// Every type, in the order declared.
            pub const ALL: &'static [WebhookEventType] = &[$(WebhookEventType::$variant,)+];

            /// The dotted name, e.g. `rsvp.created`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(WebhookEventType::$variant => $name,)+
                }
            }
        }
    };
}

webhook_event_types! {
    /// Someone signed up for an event (or moved to another shift).
    RsvpCreated => "rsvp.created",
    /// Someone cancelled their RSVP.
    RsvpCancelled => "rsvp.cancelled",
    /// An event was created (live, or waiting for approval).
    EventCreated => "event.created",
    /// An event's details were edited.
    EventUpdated => "event.updated",
    /// An event was cancelled.
    EventCancelled => "event.cancelled",
    /// A phone bank call's outcome was recorded.
    AttemptRecorded => "attempt.recorded",
    /// A number or address was suppressed (do-not-call list, unsubscribe).
    ContactSuppressed => "contact.suppressed",
    /// A person was erased everywhere.
    PersonErased => "person.erased",
}

impl std::fmt::Display for WebhookEventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WebhookEventType {
    type Err = StoreError;

    fn from_str(name: &str) -> Result<Self, StoreError> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| StoreError::Invalid(format!("unknown webhook event type {name:?}")))
    }
}

/// A subscribed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Stable id.
    pub id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// What the admin wrote about it.
    pub description: String,
    /// The types it listens for.
    pub event_types: Vec<WebhookEventType>,
    /// Whether new messages are queued for it.
    pub enabled: bool,
    /// When it was added.
    pub created_at: Millis,
}

/// An endpoint to subscribe. Its URL is checked by the caller (HTTPS, public address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhookEndpoint {
    /// Where deliveries are POSTed.
    pub url: String,
    /// A note for admins.
    pub description: String,
    /// At least one type to listen for.
    pub event_types: Vec<WebhookEventType>,
}

/// A new Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_webhook_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

const ENDPOINT_COLUMNS: &str = "id, url, description, event_types, enabled, created_at";

fn endpoint_from_row(row: &AnyRow) -> Result<WebhookEndpoint, StoreError> {
    let types: String = row.try_get("event_types")?;
    Ok(WebhookEndpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        event_types: types
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Subscribes an endpoint with the signing `secret` (from [`new_webhook_secret`]),
    /// audited as `webhook.create` by `actor` (the audit log is the record of who added
    /// it).
    pub async fn create_webhook_endpoint(
        &self,
        new: &NewWebhookEndpoint,
        secret: &str,
        actor: i64,
    ) -> Result<WebhookEndpoint, StoreError> {
        if new.event_types.is_empty() {
            return Err(StoreError::Invalid(
                "choose at least one event type".to_owned(),
            ));
        }
        let mut types = new.event_types.clone();
        types.sort();
        types.dedup();
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO webhook_endpoints (url, description, secret, event_types, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&new.url)
        .bind(&new.description)
        .bind(secret)
        .bind(names.join(" "))
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?;
        let endpoint = endpoint_from_row(&row)?;
        let subject = format!("webhook {}", endpoint.id);
        audit_in(
            &mut tx,
            Some(actor),
            AuditAction::WebhookCreate,
            &subject,
            &names.join(" "),
        )
        .await?;
        tx.commit().await?;
        Ok(endpoint)
    }

    /// Every endpoint, oldest first.
    pub async fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// The endpoint with this id.
    pub async fn webhook_endpoint(&self, id: i64) -> Result<Option<WebhookEndpoint>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    /// Removes an endpoint with its deliveries and their log, audited as `webhook.delete`
    /// by `actor`. `false` when there was none.
    pub async fn delete_webhook_endpoint(&self, id: i64, actor: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        // Children first: SQLite enforces foreign keys but the cascade is spelled out so
        // both engines remove the same rows.
        sqlx::query(
            "DELETE FROM webhook_attempts WHERE delivery_id IN
                 (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if gone {
            let subject = format!("webhook {id}");
            audit_in(
                &mut tx,
                Some(actor),
                AuditAction::WebhookDelete,
                &subject,
                "",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(gone)
    }
}
