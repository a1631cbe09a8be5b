//! RSVPs without an account: signing up (supporter, consent, place or waiting list,
//! confirmation mail, audit, all in one transaction), the manage link (view, cancel,
//! feedback) and the host's attendee list. Places are handed out under a lock on the event
//! row, so two people racing for the last place never both get it.
//! It must not decide who may see attendees: that is the web layer's.

use super::supporters::{ConsentProof, NewSupporter, grant_consent_tx, upsert_supporter_tx};
use crate::audit::{AuditAction, audit_event_in};
use crate::outbox::{NewMail, insert_mail};
use crate::webhooks::{WebhookEventType, queue_webhook_in};
use crate::{Backend, Millis, Store, StoreError, now_millis};
use crate::{hash_secret, new_secret};
use barnstorm_domain::event::{Channel, RsvpStatus};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Writes a mail about an RSVP (confirmation or "you have a place"); called inside the
/// transaction, so it must not block.
pub type RsvpMailer = dyn Fn(&RsvpMail) -> NewMail + Sync;

/// An RSVP as submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRsvp {
    /// The event.
    pub event_id: i64,
    /// The shift chosen, for an event with shifts.
    pub shift_id: Option<i64>,
    /// Who is coming.
    pub supporter: NewSupporter,
    /// Channels they agreed the event's group may contact them on, each next to the words
    /// of [`Channel::consent_wording`] for the group.
    pub consents: Vec<Channel>,
    /// The address of the page the form was on, kept as the consents' source.
    pub form_url: String,
    /// The secret in their manage/cancel link; only its SHA-256 is stored.
    pub manage_token: String,
}

/// What a mail about an RSVP needs: the confirmation, or "you have a place" after a
/// cancellation freed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsvpMail {
    /// The RSVP.
    pub rsvp_id: i64,
    /// Attendee's name.
    pub name: String,
    /// Attendee's address (the recipient).
    pub email: String,
    /// Going or on the waiting list.
    pub status: RsvpStatus,
    /// The event.
    pub event_id: i64,
    /// Its title.
    pub event_title: String,
    /// When it starts.
    pub starts_at: Millis,
    /// Its time zone (IANA name), to show the time as the host meant it.
    pub time_zone: String,
    /// The plain token of the manage link this mail carries (only its hash is stored).
    pub manage_token: String,
    /// Which mail this is.
    pub kind: RsvpMailKind,
}

/// The mails about one person's RSVP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsvpMailKind {
    /// The confirmation of the RSVP just made: a place or the waiting list.
    Confirmation,
    /// "You have a place": a cancellation freed one for someone on the waiting list.
    Promoted,
    /// The confirmation that they cancelled their place.
    Cancelled,
}

/// A stored RSVP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rsvp {
    /// Stable id.
    pub id: i64,
    /// The event.
    pub event_id: i64,
    /// The shift, if any.
    pub shift_id: Option<i64>,
    /// Who.
    pub supporter_id: i64,
    /// Where it stands.
    pub status: RsvpStatus,
    /// When it was first made.
    pub created_at: Millis,
}

/// Why RSVPs are closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedReason {
    /// Not published (awaiting approval or rejected).
    NotLive,
    /// Called off.
    Cancelled,
    /// Already over.
    Ended,
}

/// Why an RSVP was refused.
#[derive(Debug, thiserror::Error)]
pub enum RsvpError {
    /// No such event (or it was deleted).
    #[error("we could not find that event; it may have been removed")]
    EventNotFound,
    /// The event does not take RSVPs now.
    #[error("{}", match .0 {
        ClosedReason::NotLive => "this event is not open for sign-ups yet",
        ClosedReason::Cancelled => "this event has been cancelled",
        ClosedReason::Ended => "this event has already finished",
    })]
    Closed(ClosedReason),
    /// The shift named belongs to another event or does not exist.
    #[error("that time slot is not part of this event; please choose one of its slots")]
    ShiftNotOfEvent,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for RsvpError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// What cancelling did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledRsvp {
    /// The RSVP.
    pub rsvp_id: i64,
    /// The event.
    pub event_id: i64,
    /// False when it was already cancelled (nothing changed).
    pub changed: bool,
    /// RSVPs moved from the waiting list into the freed place.
    pub promoted: Vec<i64>,
}

/// The event fields an RSVP needs, read (and on PostgreSQL locked) inside the transaction.
pub(crate) struct EventForRsvp {
    pub id: i64,
    pub group_id: i64,
    pub title: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub time_zone: String,
    pub capacity: Option<i64>,
    pub status: String,
}

/// Reads the event and, on PostgreSQL, locks its row until the transaction ends, so
/// places are handed out one transaction at a time (SQLite's `BEGIN IMMEDIATE` already
/// serialises writers).
pub(crate) async fn lock_event(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    event_id: i64,
) -> Result<Option<EventForRsvp>, StoreError> {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT id, group_id, title, starts_at, ends_at, time_zone, capacity, status FROM events
         WHERE id = $1 AND deleted_at IS NULL {lock}"
    ))
    .bind(event_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        Ok(EventForRsvp {
            id: row.try_get("id")?,
            group_id: row.try_get("group_id")?,
            title: row.try_get("title")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            time_zone: row.try_get("time_zone")?,
            capacity: row.try_get("capacity")?,
            status: row.try_get("status")?,
        })
    })
    .transpose()
}

pub(super) fn parse_status(text: &str) -> Result<RsvpStatus, sqlx::Error> {
    text.parse()
        .map_err(|e: barnstorm_domain::event::UnknownChoice| sqlx::Error::Decode(e.into()))
}

/// Going RSVPs and capacity of a slot: the whole event (`shift_id` `None`, counting every
/// going RSVP against the event's capacity) or one shift (against the shift's capacity).
async fn has_room(
    tx: &mut Transaction<'static, Any>,
    event: &EventForRsvp,
    shift_id: Option<i64>,
) -> Result<bool, StoreError> {
    let (capacity, going) = match shift_id {
        None => {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM rsvps WHERE event_id = $1 AND status = 'going'",
            )
            .bind(event.id)
            .fetch_one(&mut **tx)
            .await?;
            (event.capacity, row.try_get::<i64, _>("n")?)
        }
        Some(shift) => {
            let cap = sqlx::query("SELECT capacity FROM event_shifts WHERE id = $1")
                .bind(shift)
                .fetch_one(&mut **tx)
                .await?
                .try_get::<Option<i64>, _>("capacity")?;
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM rsvps WHERE shift_id = $1 AND status = 'going'",
            )
            .bind(shift)
            .fetch_one(&mut **tx)
            .await?;
            (cap, row.try_get::<i64, _>("n")?)
        }
    };
    Ok(capacity.is_none_or(|cap| going < cap))
}

fn slot_filter(shift_id: Option<i64>) -> String {
    shift_id.map_or("shift_id IS NULL".to_owned(), |s| format!("shift_id = {s}"))
}

/// Moves the earliest waiting RSVPs of a slot into free places, queuing a "you have a
/// place" mail for each. Returns the ids promoted.
pub(crate) async fn fill_places(
    tx: &mut Transaction<'static, Any>,
    event: &EventForRsvp,
    shift_id: Option<i64>,
    notice: &RsvpMailer,
) -> Result<Vec<i64>, StoreError> {
    let mut promoted = Vec::new();
    while has_room(tx, event, shift_id).await? {
        let next = sqlx::query(&format!(
            "SELECT r.id, s.name, s.email FROM rsvps r JOIN supporters s ON s.id = r.supporter_id
             WHERE r.event_id = $1 AND r.status = 'waitlist' AND r.{}
             ORDER BY r.created_at, r.id LIMIT 1",
            slot_filter(shift_id)
        ))
        .bind(event.id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(next) = next else { break };
        let id: i64 = next.try_get("id")?;
        sqlx::query("UPDATE rsvps SET status = 'going', updated_at = $1 WHERE id = $2")
            .bind(now_millis())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        let manage_token = new_secret();
        add_manage_link(tx, id, &manage_token).await?;
        let mail = RsvpMail {
            rsvp_id: id,
            name: next.try_get("name")?,
            email: next.try_get("email")?,
            status: RsvpStatus::Going,
            event_id: event.id,
            event_title: event.title.clone(),
            starts_at: event.starts_at,
            time_zone: event.time_zone.clone(),
            manage_token,
            kind: RsvpMailKind::Promoted,
        };
        insert_mail(tx, &notice(&mail)).await?;
        audit_event_in(
            tx,
            None,
            AuditAction::RsvpPromote,
            event.id,
            &format!("rsvp {id}"),
        )
        .await?;
        promoted.push(id);
    }
    Ok(promoted)
}

/// A further manage link to an RSVP, besides its confirmation's, for a mail that carries
/// one: only the token's hash is stored, and the earlier links keep working.
pub(super) async fn add_manage_link(
    tx: &mut Transaction<'static, Any>,
    rsvp_id: i64,
    token: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO rsvp_links (token_hash, rsvp_id, created_at) VALUES ($1, $2, $3)")
        .bind(hash_secret(token))
        .bind(rsvp_id)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Voids every manage link of an RSVP but its confirmation's.
async fn forget_manage_links(
    tx: &mut Transaction<'static, Any>,
    rsvp_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM rsvp_links WHERE rsvp_id = $1")
        .bind(rsvp_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// SQL that is true when `id_column` is the RSVP a manage link names, by the hash bound
/// as `param`: the confirmation's link or any later mail's.
pub(super) fn named_by_link(id_column: &str, param: &str) -> String {
    format!(
        "{id_column} = COALESCE(
             (SELECT r0.id FROM rsvps r0 WHERE r0.manage_token_hash = {param}),
             (SELECT l.rsvp_id FROM rsvp_links l WHERE l.token_hash = {param}))"
    )
}

pub(super) fn rsvp_from_row(row: &AnyRow) -> Result<Rsvp, sqlx::Error> {
    Ok(Rsvp {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        shift_id: row.try_get("shift_id")?,
        supporter_id: row.try_get("supporter_id")?,
        status: parse_status(&row.try_get::<String, _>("status")?)?,
        created_at: row.try_get("created_at")?,
    })
}

const RSVP_COLUMNS: &str = "id, event_id, shift_id, supporter_id, status, created_at";

/// A repeated RSVP to the same slot is confirmed by mail again only this long after the
/// last confirmation (an hour), so the form cannot be used to flood an address.
pub const REPEAT_CONFIRMATION_AFTER_MS: Millis = 60 * 60 * 1000;

impl Store {
    /// Signs someone up, in one transaction: records the supporter, the consents they
    /// ticked (for the event's group, source `rsvp:<event id>`), gives them a place if
    /// the event (or shift) has room or else a place on the waiting list, queues the mail
    /// `compose` writes, and audits. Signing up again with the same email updates the
    /// existing RSVP (re-activating a cancelled one) and never takes a second place.
    /// Moving to another shift frees the old place: `compose` then also writes the
    /// "you have a place" mail for whoever is promoted into it (their `manage_token` is
    /// `None`).
    /// Repeating an RSVP to the same slot within [`REPEAT_CONFIRMATION_AFTER_MS`] of its
    /// last confirmation sends no mail and keeps the manage link already mailed.
    pub async fn create_rsvp(
        &self,
        new: &NewRsvp,
        compose: &RsvpMailer,
    ) -> Result<Rsvp, RsvpError> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let event = lock_event(&mut tx, self.backend(), new.event_id)
            .await?
            .ok_or(RsvpError::EventNotFound)?;
        match event.status.as_str() {
            "live" => {}
            "cancelled" => return Err(RsvpError::Closed(ClosedReason::Cancelled)),
            _ => return Err(RsvpError::Closed(ClosedReason::NotLive)),
        }
        let mut ends_at = event.ends_at;
        if let Some(shift) = new.shift_id {
            let row =
                sqlx::query("SELECT ends_at FROM event_shifts WHERE id = $1 AND event_id = $2")
                    .bind(shift)
                    .bind(event.id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(RsvpError::ShiftNotOfEvent)?;
            ends_at = row.try_get("ends_at")?;
        }
        if now >= ends_at {
            return Err(RsvpError::Closed(ClosedReason::Ended));
        }

        let supporter = upsert_supporter_tx(&mut tx, &new.supporter).await?;
        let source = format!("rsvp:{}", event.id);
        if !new.consents.is_empty() {
            let group_name: String = sqlx::query("SELECT name FROM groups WHERE id = $1")
                .bind(event.group_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("name")?;
            for channel in &new.consents {
                let wording = channel.consent_wording(&group_name);
                let proof = ConsentProof {
                    source: &source,
                    source_detail: &new.form_url,
                    wording: &wording,
                    collected_by: None,
                };
                grant_consent_tx(&mut tx, supporter.id, event.group_id, *channel, &proof).await?;
            }
        }

        let existing = sqlx::query(&format!(
            "SELECT {RSVP_COLUMNS} FROM rsvps WHERE event_id = $1 AND supporter_id = $2"
        ))
        .bind(event.id)
        .bind(supporter.id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(rsvp_from_row)
        .transpose()?;
        let token_hash = hash_secret(&new.manage_token);
        let same_slot = existing
            .as_ref()
            .is_some_and(|r| r.shift_id == new.shift_id);
        let rsvp = match existing {
            // Already signed up for this slot: keep their place (or place in the queue).
            Some(old) if same_slot && old.status != RsvpStatus::Cancelled => {
                let mailed_at: Option<Millis> =
                    sqlx::query("SELECT confirmation_mailed_at FROM rsvps WHERE id = $1")
                        .bind(old.id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("confirmation_mailed_at")?;
                if mailed_at.is_some_and(|at| now - at < REPEAT_CONFIRMATION_AFTER_MS) {
                    // Mailed within the hour: no second mail, and the link in the first
                    // one keeps working. Repeating the form cannot flood the address.
                    sqlx::query("UPDATE rsvps SET updated_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(old.id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(old);
                }
                // Long enough ago that the first mail may be lost: a new mail, whose
                // link replaces every earlier one.
                sqlx::query(
                    "UPDATE rsvps SET manage_token_hash = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(&token_hash)
                .bind(now)
                .bind(old.id)
                .execute(&mut *tx)
                .await?;
                forget_manage_links(&mut tx, old.id).await?;
                old
            }
            Some(old) => {
                // Step out of the old slot first so it does not count against the new one.
                sqlx::query("UPDATE rsvps SET status = 'cancelled' WHERE id = $1")
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
                let status = place(&mut tx, &event, new.shift_id).await?;
                sqlx::query(
                    "UPDATE rsvps SET status = $1, shift_id = $2, manage_token_hash = $3, attended = NULL,
                         created_at = $4, updated_at = $4
                     WHERE id = $5",
                )
                .bind(status.as_str())
                .bind(new.shift_id)
                .bind(&token_hash)
                .bind(now)
                .bind(old.id)
                .execute(&mut *tx)
                .await?;
                forget_manage_links(&mut tx, old.id).await?;
                if old.status == RsvpStatus::Going {
                    fill_places(&mut tx, &event, old.shift_id, compose).await?;
                }
                Rsvp {
                    status,
                    shift_id: new.shift_id,
                    created_at: now,
                    ..old
                }
            }
            None => {
                let status = place(&mut tx, &event, new.shift_id).await?;
                let row = sqlx::query(
                    "INSERT INTO rsvps (event_id, shift_id, supporter_id, status, manage_token_hash, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                )
                .bind(event.id)
                .bind(new.shift_id)
                .bind(supporter.id)
                .bind(status.as_str())
                .bind(&token_hash)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Rsvp {
                    id: row.try_get("id")?,
                    event_id: event.id,
                    shift_id: new.shift_id,
                    supporter_id: supporter.id,
                    status,
                    created_at: now,
                }
            }
        };
        let mail = RsvpMail {
            rsvp_id: rsvp.id,
            name: supporter.name.clone(),
            email: supporter.email.clone(),
            status: rsvp.status,
            event_id: event.id,
            event_title: event.title.clone(),
            starts_at: event.starts_at,
            time_zone: event.time_zone.clone(),
            manage_token: new.manage_token.clone(),
            kind: RsvpMailKind::Confirmation,
        };
        insert_mail(&mut tx, &compose(&mail)).await?;
        sqlx::query("UPDATE rsvps SET confirmation_mailed_at = $1 WHERE id = $2")
            .bind(now)
            .bind(rsvp.id)
            .execute(&mut *tx)
            .await?;
        let detail = format!("rsvp {} {}", rsvp.id, rsvp.status);
        audit_event_in(&mut tx, None, AuditAction::RsvpCreate, event.id, &detail).await?;
        let data = serde_json::json!({
            "rsvp_id": rsvp.id,
            "event_id": event.id,
            "group_id": event.group_id,
            "shift_id": rsvp.shift_id,
            "supporter_id": rsvp.supporter_id,
            "status": rsvp.status.as_str(),
        });
        queue_webhook_in(&mut tx, WebhookEventType::RsvpCreated, data).await?;
        tx.commit().await?;
        Ok(rsvp)
    }

    /// Cancels the RSVP a manage link names (again is harmless), queueing the mail
    /// `mail_for` writes to confirm it. A freed place goes to the earliest on the waiting
    /// list of the same event or shift, with the "you have a place" mail `mail_for`
    /// writes, in the same transaction. `None` for an unknown link.
    pub async fn cancel_rsvp(
        &self,
        token: &str,
        mail_for: &RsvpMailer,
    ) -> Result<Option<CancelledRsvp>, StoreError> {
        let hash = hash_secret(token);
        let mut tx = self.begin_write().await?;
        let event_id = sqlx::query(&format!(
            "SELECT event_id FROM rsvps WHERE {}",
            named_by_link("id", "$1")
        ))
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row: AnyRow| row.try_get::<i64, _>("event_id"))
        .transpose()?;
        let Some(event_id) = event_id else {
            tx.commit().await?;
            return Ok(None);
        };
        let event = lock_event(&mut tx, self.backend(), event_id).await?;
        // Read again under the lock: a concurrent change may have moved it.
        let rsvp = sqlx::query(&format!(
            "SELECT {RSVP_COLUMNS} FROM rsvps WHERE {}",
            named_by_link("id", "$1")
        ))
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await
        .map(|row| rsvp_from_row(&row))??;
        let mut outcome = CancelledRsvp {
            rsvp_id: rsvp.id,
            event_id,
            changed: rsvp.status != RsvpStatus::Cancelled,
            promoted: Vec::new(),
        };
        if outcome.changed {
            sqlx::query("UPDATE rsvps SET status = 'cancelled', updated_at = $1 WHERE id = $2")
                .bind(now_millis())
                .bind(rsvp.id)
                .execute(&mut *tx)
                .await?;
            audit_event_in(
                &mut tx,
                None,
                AuditAction::RsvpCancel,
                event_id,
                &format!("rsvp {}", rsvp.id),
            )
            .await?;
            let data = serde_json::json!({
                "rsvp_id": rsvp.id,
                "event_id": event_id,
                "group_id": event.as_ref().map(|e| e.group_id),
                "shift_id": rsvp.shift_id,
                "supporter_id": rsvp.supporter_id,
            });
            queue_webhook_in(&mut tx, WebhookEventType::RsvpCancelled, data).await?;
            if let Some(event) = &event {
                let person = sqlx::query("SELECT name, email FROM supporters WHERE id = $1")
                    .bind(rsvp.supporter_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let mail = RsvpMail {
                    rsvp_id: rsvp.id,
                    name: person.try_get("name")?,
                    email: person.try_get("email")?,
                    status: RsvpStatus::Cancelled,
                    event_id,
                    event_title: event.title.clone(),
                    starts_at: event.starts_at,
                    time_zone: event.time_zone.clone(),
                    manage_token: token.to_owned(),
                    kind: RsvpMailKind::Cancelled,
                };
                insert_mail(&mut tx, &mail_for(&mail)).await?;
            }
            if let Some(event) = event.filter(|_| rsvp.status == RsvpStatus::Going) {
                outcome.promoted = fill_places(&mut tx, &event, rsvp.shift_id, mail_for).await?;
            }
        }
        tx.commit().await?;
        Ok(Some(outcome))
    }
}

/// Going if the slot has room, else the waiting list.
async fn place(
    tx: &mut Transaction<'static, Any>,
    event: &EventForRsvp,
    shift_id: Option<i64>,
) -> Result<RsvpStatus, StoreError> {
    Ok(if has_room(tx, event, shift_id).await? {
        RsvpStatus::Going
    } else {
        RsvpStatus::Waitlist
    })
}
