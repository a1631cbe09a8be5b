//! Messages about an approved event to supporters nearby who consented to email from the
//! group: daily caps per group (every sender's messages) and per sender, a supporter
//! mailed by the group within the per-recipient window left out, the audience chosen
//! exactly as [`Store::audience_count`] counts it (`outreach_recipients.rs`), one mail per
//! recipient through the outbox, and an audited record that keeps the count but never
//! who received it. It must not decide who may send: that is the web layer's.

use super::outreach_recipients::{Recipient, mark_mailed, select_recipients};
use crate::audit::{AuditAction, audit_event_in};
use crate::outbox::{NewMail, insert_mail};
use crate::{Backend, Millis, Store, StoreError};
use barnstorm_domain::event::EventStatus;
use sqlx::{Any, Row, Transaction};

const DAY_MS: i64 = 24 * 3_600_000;

/// Writes one recipient's copy of an outreach message, with their unsubscribe link.
pub type OutreachComposer = dyn Fn(&Recipient) -> NewMail + Sync;

/// A message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutreachRequest {
    /// The event it is about.
    pub event_id: i64,
    /// The group sending (recipients consented to email from it).
    pub group_id: i64,
    /// Who is sending.
    pub sender_user_id: i64,
    /// Subject line.
    pub subject: String,
    /// Body as written.
    pub body: String,
    /// Latitude and longitude the radius is measured from.
    pub center: (f64, f64),
    /// Radius in kilometres.
    pub radius_km: f64,
    /// Messages the group may send in 24 hours.
    pub per_group_daily_cap: i64,
    /// Messages one sender may send in 24 hours.
    pub per_sender_daily_cap: i64,
    /// How long a supporter the group has mailed is left out of its next messages, in
    /// milliseconds (7 days by default).
    pub per_recipient_window_ms: i64,
    /// The time of the send (the caps' windows end here).
    pub now: Millis,
}

impl OutreachRequest {
    /// Supporters the group mailed after this are left out of the message.
    pub fn mailed_since(&self) -> Millis {
        self.now.saturating_sub(self.per_recipient_window_ms.max(0))
    }
}

/// What was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutreachSent {
    /// The stored message.
    pub message_id: i64,
    /// How many mails were queued.
    pub recipients: i64,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum OutreachError {
    /// No such event in the sending group (or it was deleted).
    #[error("we could not find that event")]
    EventNotFound,
    /// The event is not published: waiting for approval, turned down or cancelled.
    #[error("this event is {0}: only published events can be promoted")]
    EventNotLive(EventStatus),
    /// Nobody who agreed to hear from the group lives within the radius, or everyone who
    /// does heard from it within the per-recipient window.
    #[error(
        "nobody within that distance can be contacted: nobody there agreed to hear from this group, or everyone who did has heard from it in the last few days; try a larger radius"
    )]
    NoRecipients,
    /// The group or sender has sent as many messages as allowed in 24 hours.
    #[error(
        "the daily limit of {cap} messages per {scope} has been reached; you can send again later"
    )]
    DailyCapReached {
        /// `"group"` or `"sender"`.
        scope: &'static str,
        /// The limit.
        cap: i64,
        /// When the next message may go.
        next_allowed_at: Millis,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OutreachError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// A message as the event's history lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutreachMessageSummary {
    /// Stable id.
    pub id: i64,
    /// The group it was sent for.
    pub group_id: i64,
    /// Who sent it (`None` once their account is gone).
    pub sender_user_id: Option<i64>,
    /// Their name.
    pub sender_name: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Radius in kilometres.
    pub radius_km: f64,
    /// How many it went to.
    pub recipients: i64,
    /// When.
    pub created_at: Millis,
}

/// Checks a 24-hour cap over the messages matched by `column = id`.
async fn check_cap(
    tx: &mut Transaction<'static, Any>,
    scope: &'static str,
    column: &str,
    id: i64,
    cap: i64,
    now: Millis,
) -> Result<(), OutreachError> {
    let rows = sqlx::query(&format!(
        "SELECT created_at FROM outreach_messages WHERE {column} = $1 AND created_at > $2
         ORDER BY created_at"
    ))
    .bind(id)
    .bind(now - DAY_MS)
    .fetch_all(&mut **tx)
    .await?;
    let sent = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    if sent < cap {
        return Ok(());
    }
    // The next message may go once enough of these are a day old to leave the window.
    let index = usize::try_from(sent - cap.max(0)).unwrap_or(0);
    let oldest: Millis = rows
        .get(index)
        .map(|row| row.try_get("created_at"))
        .transpose()?
        .unwrap_or(now);
    Err(OutreachError::DailyCapReached {
        scope,
        cap,
        next_allowed_at: oldest + DAY_MS,
    })
}

impl Store {
    /// Sends a message about a live event of the group to the group's supporters within
    /// the radius, in one transaction: checks the event is still published and the daily
    /// caps, leaves out supporters the group mailed within the per-recipient window,
    /// queues one mail per recipient (written by `compose`, which must add the
    /// unsubscribe link and `List-Unsubscribe` headers), marks them mailed, records the
    /// message with its count and audits `outreach.send`.
    pub async fn send_outreach(
        &self,
        req: &OutreachRequest,
        compose: &OutreachComposer,
    ) -> Result<OutreachSent, OutreachError> {
        let now = req.now;
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Serialise sends by the same group and sender so caps hold under concurrency.
            sqlx::query("SELECT id FROM groups WHERE id = $1 FOR UPDATE")
                .bind(req.group_id)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(req.sender_user_id)
                .fetch_all(&mut *tx)
                .await?;
        }
        let event = sqlx::query(
            "SELECT status FROM events WHERE id = $1 AND group_id = $2 AND deleted_at IS NULL",
        )
        .bind(req.event_id)
        .bind(req.group_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(event) = event else {
            return Err(OutreachError::EventNotFound);
        };
        // Read in the transaction, so an approval withdrawn a moment ago stops the send.
        let status: EventStatus = super::model::choice(&event, "status")?;
        if status != EventStatus::Live {
            return Err(OutreachError::EventNotLive(status));
        }
        let (group, sender) = (req.group_id, req.sender_user_id);
        check_cap(
            &mut tx,
            "group",
            "group_id",
            group,
            req.per_group_daily_cap,
            now,
        )
        .await?;
        check_cap(
            &mut tx,
            "sender",
            "sender_user_id",
            sender,
            req.per_sender_daily_cap,
            now,
        )
        .await?;
        let mailed_since = req.mailed_since();
        let people = select_recipients(
            &mut tx,
            req.group_id,
            req.center,
            req.radius_km,
            mailed_since,
        )
        .await?;
        if people.is_empty() {
            return Err(OutreachError::NoRecipients);
        }
        for person in &people {
            insert_mail(&mut tx, &compose(person)).await?;
        }
        mark_mailed(
            &mut tx,
            self.backend(),
            req.group_id,
            &people,
            now,
            mailed_since,
        )
        .await?;
        let count = i64::try_from(people.len()).unwrap_or(i64::MAX);
        let row = sqlx::query(
            "INSERT INTO outreach_messages (event_id, group_id, sender_user_id, subject, body, radius_km, recipients, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(req.event_id)
        .bind(req.group_id)
        .bind(req.sender_user_id)
        .bind(&req.subject)
        .bind(&req.body)
        .bind(req.radius_km)
        .bind(count)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let message_id: i64 = row.try_get("id")?;
        let detail = format!(
            "message {message_id}, group {}, radius {} km, {count} recipients",
            req.group_id, req.radius_km
        );
        let actor = Some(req.sender_user_id);
        let action = AuditAction::OutreachSend;
        audit_event_in(&mut tx, actor, action, req.event_id, &detail).await?;
        tx.commit().await?;
        Ok(OutreachSent {
            message_id,
            recipients: count,
        })
    }

    /// Forgets when groups last mailed supporters, for every mark at or before
    /// `mailed_before` (the start of the per-recipient window): such marks hold nobody
    /// back any more, and keeping them would keep a record of who heard from whom.
    /// Returns how many were removed.
    pub async fn forget_outreach_recipients(
        &self,
        mailed_before: Millis,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM outreach_recipients WHERE last_sent_at <= $1")
            .bind(mailed_before)
            .execute(self.writer())
            .await?;
        Ok(done.rows_affected())
    }

    /// Messages sent about an event, newest first.
    pub async fn outreach_history(
        &self,
        event_id: i64,
    ) -> Result<Vec<OutreachMessageSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.group_id, m.sender_user_id, u.name AS sender_name, m.subject, m.radius_km,
                    m.recipients, m.created_at
             FROM outreach_messages m LEFT JOIN users u ON u.id = m.sender_user_id
             WHERE m.event_id = $1 ORDER BY m.created_at DESC, m.id DESC",
        )
        .bind(event_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(OutreachMessageSummary {
                    id: row.try_get("id")?,
                    group_id: row.try_get("group_id")?,
                    sender_user_id: row.try_get("sender_user_id")?,
                    sender_name: row.try_get("sender_name")?,
                    subject: row.try_get("subject")?,
                    radius_km: row.try_get("radius_km")?,
                    recipients: row.try_get("recipients")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }
}
