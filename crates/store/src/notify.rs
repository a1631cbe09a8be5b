//! Cross-node signals over PostgreSQL `LISTEN`/`NOTIFY`: [`Store::notify_campaign_event`]
//! sends a payload to every node on the same database, and [`NotificationListener`] receives
//! them on a dedicated connection that reconnects and re-subscribes by itself. It carries
//! opaque text only; what the payload means belongs to the caller (the dispatch crate).
//! On SQLite there is one node, so notifying is a no-op and there is nothing to listen to.

use crate::{Backend, DatabaseUrl, Store, StoreError};
use sqlx::postgres::{PgListener, PgPoolOptions};
use std::time::Duration;

/// The channel campaign events travel on. Channels are per database, not per schema.
pub const CAMPAIGN_EVENTS_CHANNEL: &str = "barnstorm_campaign_events";

/// PostgreSQL refuses `NOTIFY` payloads of 8000 bytes or more.
pub const MAX_PAYLOAD_BYTES: usize = 7900;

/// How long one attempt to (re)connect the listener may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Sends `payload` to every node listening for campaign events, when the transaction
    /// that issues it commits (here: at once). A no-op on SQLite, which has one node.
    pub async fn notify_campaign_event(&self, payload: &str) -> Result<(), StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(());
        }
        if payload.len() >= MAX_PAYLOAD_BYTES {
            return Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "a notification payload of {} bytes is over PostgreSQL's limit",
                payload.len()
            ))));
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CAMPAIGN_EVENTS_CHANNEL)
            .bind(payload)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// A listener for campaign events on its own connection, or `None` on SQLite. It does
    /// not connect until [`NotificationListener::next`] is first called.
    pub fn campaign_event_listener(&self) -> Option<NotificationListener> {
        match &self.inner.url {
            DatabaseUrl::Postgres(url) => Some(NotificationListener {
                url: url.clone(),
                listener: None,
            }),
            DatabaseUrl::Sqlite(_) => None,
        }
    }
}

/// What a [`NotificationListener`] heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// A payload another node (or this one) sent.
    Payload(String),
    /// The listener (re)connected and subscribed. Notifications sent while it was away
    /// are lost, so whoever listens should assume everything changed.
    Connected,
}

/// Receives campaign-event payloads on one dedicated PostgreSQL connection.
pub struct NotificationListener {
    url: String,
    listener: Option<PgListener>,
}

impl NotificationListener {
    /// Waits for the next notification. After a lost connection it reconnects (one
    /// attempt of at most five seconds per call) and answers [`Notification::Connected`];
    /// an error means the database is unreachable now, and the caller should wait a little
    /// before calling again.
    pub async fn next(&mut self) -> Result<Notification, StoreError> {
        let Some(listener) = self.listener.as_mut() else {
            let listener = tokio::time::timeout(CONNECT_TIMEOUT, self.connect())
                .await
                .map_err(|_| {
                    StoreError::Unavailable("the notification listener timed out connecting".into())
                })??;
            self.listener = Some(listener);
            return Ok(Notification::Connected);
        };
        match listener.try_recv().await {
            Ok(Some(notification)) => Ok(Notification::Payload(notification.payload().to_owned())),
            // sqlx reconnected and re-subscribed before answering `None`.
            Ok(None) => Ok(Notification::Connected),
            Err(error) => {
                // Start afresh next time rather than trust a half-dead connection.
                self.listener = None;
                Err(StoreError::Unavailable(format!(
                    "the notification listener lost PostgreSQL: {error}"
                )))
            }
        }
    }

    async fn connect(&self) -> Result<PgListener, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy(&self.url)
            .map_err(|e| StoreError::Unavailable(format!("bad listener URL: {e}")))?;
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.ignore_pool_close_event(true);
        listener.listen(CAMPAIGN_EVENTS_CHANNEL).await?;
        Ok(listener)
    }
}
