//! Events themselves: creating, reading, editing, moderating and deleting them with their
//! shifts, one transaction each, and queueing change and cancellation notices to attendees
//! through the outbox in the same transaction. The types are in `model.rs`, listings in
//! `listing.rs`, discovery in `index.rs`; RSVPs and supporters are only read here.

use super::model::{
    AttendeeNotice, EVENT_COLUMNS, Event, EventAudience, FIELD_COLUMNS, NewEvent, NewShift, Shift,
    choice, params,
};
use crate::audit::{AuditAction, audit_event_in};
use crate::outbox::insert_mail;
use crate::webhooks::{WebhookEventType, queue_webhook_in};
use crate::{NewMail, Store, StoreError, now_millis};
use barnstorm_domain::event::EventStatus;
use sqlx::{Any, AnyConnection, Row, Transaction};

fn invalid(message: String) -> StoreError {
    StoreError::Invalid(message)
}

/// The rules the store enforces whoever calls it: times in order, no negative capacity.
pub(super) fn validate(event: &NewEvent) -> Result<(), StoreError> {
    if event.ends_at <= event.starts_at {
        return Err(invalid("the event must end after it starts".into()));
    }
    if event.capacity.is_some_and(|c| c < 0) {
        return Err(invalid("capacity cannot be negative".into()));
    }
    for shift in &event.shifts {
        if shift.ends_at <= shift.starts_at {
            return Err(invalid("every shift must end after it starts".into()));
        }
        if shift.capacity.is_some_and(|c| c < 0) {
            return Err(invalid("a shift's capacity cannot be negative".into()));
        }
    }
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

/// Binds the host-set fields in [`FIELD_COLUMNS`] order.
pub(super) fn bind_fields<'q>(query: AnyQuery<'q>, event: &'q NewEvent) -> AnyQuery<'q> {
    query
        .bind(event.group_id)
        .bind(event.host_user_id)
        .bind(event.parent_event_id)
        .bind(event.breakout_id)
        .bind(event.kind.as_str())
        .bind(&event.title)
        .bind(&event.description)
        .bind(event.starts_at)
        .bind(event.ends_at)
        .bind(&event.time_zone)
        .bind(event.capacity)
        .bind(event.postcode.as_deref())
        .bind(&event.address)
        .bind(event.location.map(|(lat, _)| lat))
        .bind(event.location.map(|(_, lon)| lon))
        .bind(event.precision.as_str())
        .bind(i64::from(event.address_after_rsvp))
        .bind(event.visibility.as_str())
        .bind(event.online_url.as_deref())
        .bind(&event.accessibility)
        .bind(event.campaign_id)
}

/// Reads a live (not deleted) event with its shifts.
pub(super) async fn load_event(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<Event>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut event = Event::from_row(&row)?;
    attach_shifts(conn, std::slice::from_mut(&mut event)).await?;
    Ok(Some(event))
}

/// Fills in the shifts of `events` with one query.
pub(super) async fn attach_shifts(
    conn: &mut AnyConnection,
    events: &mut [Event],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT id, event_id, starts_at, ends_at, capacity FROM event_shifts WHERE event_id IN ({})
         ORDER BY starts_at, id",
        params(1, events.len())
    );
    let mut query = sqlx::query(&sql);
    for event in events.iter() {
        query = query.bind(event.id);
    }
    for row in query.fetch_all(&mut *conn).await? {
        let event_id: i64 = row.try_get("event_id")?;
        let shift = Shift {
            id: row.try_get("id")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            capacity: row.try_get("capacity")?,
        };
        if let Some(event) = events.iter_mut().find(|e| e.id == event_id) {
            event.shifts.push(shift);
        }
    }
    Ok(())
}

async fn insert_shift(
    tx: &mut Transaction<'static, Any>,
    event_id: i64,
    shift: &NewShift,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO event_shifts (event_id, starts_at, ends_at, capacity) VALUES ($1, $2, $3, $4)",
    )
    .bind(event_id)
    .bind(shift.starts_at)
    .bind(shift.ends_at)
    .bind(shift.capacity)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes the event's shifts exactly `shifts`: those with a known id are updated, those
/// without are added, the rest are removed (their RSVPs stay, with no shift).
async fn replace_shifts(
    tx: &mut Transaction<'static, Any>,
    event_id: i64,
    shifts: &[NewShift],
) -> Result<(), StoreError> {
    let existing: Vec<i64> = sqlx::query_scalar("SELECT id FROM event_shifts WHERE event_id = $1")
        .bind(event_id)
        .fetch_all(&mut **tx)
        .await?;
    for shift in shifts {
        match shift.id {
            Some(id) if existing.contains(&id) => {
                sqlx::query(
                    "UPDATE event_shifts SET starts_at = $1, ends_at = $2, capacity = $3 WHERE id = $4",
                )
                .bind(shift.starts_at)
                .bind(shift.ends_at)
                .bind(shift.capacity)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            Some(id) => {
                return Err(invalid(format!(
                    "shift {id} is not part of event {event_id}"
                )));
            }
            None => insert_shift(tx, event_id, shift).await?,
        }
    }
    for id in existing {
        if shifts.iter().any(|s| s.id == Some(id)) {
            continue;
        }
        sqlx::query("UPDATE rsvps SET shift_id = NULL WHERE shift_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM event_shifts WHERE id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Queues `notice` for every attendee going or on the waiting list; returns how many.
async fn notify_attendees(
    tx: &mut Transaction<'static, Any>,
    event_id: i64,
    notice: &AttendeeNotice,
) -> Result<usize, StoreError> {
    let rows = sqlx::query(
        "SELECT r.id AS rsvp_id, r.supporter_id, s.name, s.email, r.status
         FROM rsvps r JOIN supporters s ON s.id = r.supporter_id
         WHERE r.event_id = $1 AND r.status IN ('going', 'waitlist')
         ORDER BY r.id",
    )
    .bind(event_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut queued = 0;
    for row in &rows {
        let attendee = EventAudience {
            rsvp_id: row.try_get("rsvp_id")?,
            supporter_id: row.try_get("supporter_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            status: choice(row, "status")?,
        };
        if let Some(mail) = notice(&attendee) {
            insert_mail(tx, &mail).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The audit verb for a move between two statuses.
fn status_action(from: EventStatus, to: EventStatus) -> AuditAction {
    match (from, to) {
        (EventStatus::Pending, EventStatus::Live) => AuditAction::EventApprove,
        (_, EventStatus::Rejected) => AuditAction::EventReject,
        (_, EventStatus::Cancelled) => AuditAction::EventCancel,
        _ => AuditAction::EventStatus,
    }
}

/// An edit that sends a live event back for approval: who made it, the note the host is
/// shown, and the mails telling the organisers.
#[derive(Debug, Clone, Copy)]
pub struct Review<'a> {
    /// The editor.
    pub actor: i64,
    /// Shown to the host (and on the pending list).
    pub note: &'a str,
    /// Queued only when the event really goes back to pending.
    pub mails: &'a [NewMail],
}

/// What webhooks say about an event: public facts and ids, never its attendees.
fn event_webhook_data(event: &Event) -> serde_json::Value {
    serde_json::json!({
        "event_id": event.id,
        "group_id": event.group_id,
        "kind": event.kind.to_string(),
        "status": event.status.as_str(),
        "title": event.title,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
    })
}

impl Store {
    /// Creates an event and its shifts in `status`, in one transaction with an
    /// `event.create` audit entry. Fails with [`StoreError::Invalid`] when it (or a
    /// shift) ends before it starts.
    pub async fn create_event(
        &self,
        event: &NewEvent,
        status: EventStatus,
    ) -> Result<Event, StoreError> {
        self.create_event_notifying(event, status, &[]).await
    }

    /// [`Store::create_event`] that also queues `mails` (e.g. "an event awaits your
    /// approval" to the organisers) in the same transaction: they go exactly once, with
    /// the event, whichever node made it.
    pub async fn create_event_notifying(
        &self,
        event: &NewEvent,
        status: EventStatus,
        mails: &[NewMail],
    ) -> Result<Event, StoreError> {
        validate(event)?;
        let now = now_millis();
        let sql = format!(
            "INSERT INTO events ({}, status, created_at, updated_at) VALUES ({}, $22, $23, $23) RETURNING id",
            FIELD_COLUMNS.join(", "),
            params(1, FIELD_COLUMNS.len()),
        );
        let mut tx = self.begin_write().await?;
        let row = bind_fields(sqlx::query(&sql), event)
            .bind(status.as_str())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let id: i64 = row.try_get("id")?;
        for shift in &event.shifts {
            insert_shift(&mut tx, id, shift).await?;
        }
        let detail = format!("{} event, {}", event.kind, status);
        audit_event_in(
            &mut tx,
            event.host_user_id,
            AuditAction::EventCreate,
            id,
            &detail,
        )
        .await?;
        for mail in mails {
            insert_mail(&mut tx, mail).await?;
        }
        let created = load_event(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let data = event_webhook_data(&created);
        queue_webhook_in(&mut tx, WebhookEventType::EventCreated, data).await?;
        tx.commit().await?;
        self.events_changed();
        Ok(created)
    }

    /// The event with this id and its shifts; `None` when there is none or it was deleted.
    pub async fn event(&self, id: i64) -> Result<Option<Event>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        load_event(&mut conn, id).await
    }

    /// Replaces every host-set field and the shifts of an event (shifts are matched by
    /// [`NewShift::id`]; removed shifts' RSVPs stay, with no shift), and queues `notice`
    /// for each attendee going or waiting, all in one transaction. Its status is kept.
    pub async fn update_event(
        &self,
        id: i64,
        event: &NewEvent,
        notice: &AttendeeNotice,
    ) -> Result<Event, StoreError> {
        self.edit_event(id, event, notice, None).await
    }

    /// Like [`Store::update_event`], for an editor whose new events would wait for
    /// approval: a live event goes back to pending with `review.note` (shown to the host)
    /// in the same transaction, audited as `event.status` by `review.actor`, so what
    /// organisers approved cannot be turned into something else behind their backs; when
    /// it does, `review.mails` (telling the organisers) are queued with it, once.
    pub async fn update_event_for_review(
        &self,
        id: i64,
        event: &NewEvent,
        notice: &AttendeeNotice,
        review: &Review<'_>,
    ) -> Result<Event, StoreError> {
        self.edit_event(id, event, notice, Some(review)).await
    }

    async fn edit_event(
        &self,
        id: i64,
        event: &NewEvent,
        notice: &AttendeeNotice,
        review: Option<&Review<'_>>,
    ) -> Result<Event, StoreError> {
        validate(event)?;
        let assignments = FIELD_COLUMNS
            .iter()
            .enumerate()
            .map(|(n, column)| format!("{column} = ${}", n + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE events SET {assignments}, updated_at = $22 WHERE id = $23 AND deleted_at IS NULL"
        );
        let mut tx = self.begin_write().await?;
        let done = bind_fields(sqlx::query(&sql), event)
            .bind(now_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        replace_shifts(&mut tx, id, &event.shifts).await?;
        notify_attendees(&mut tx, id, notice).await?;
        if let Some(&Review { actor, note, mails }) = review {
            let reopened = sqlx::query(
                "UPDATE events SET status = $1, status_note = $2 WHERE id = $3 AND status = $4",
            )
            .bind(EventStatus::Pending.as_str())
            .bind(note)
            .bind(id)
            .bind(EventStatus::Live.as_str())
            .execute(&mut *tx)
            .await?;
            if reopened.rows_affected() > 0 {
                let (from, to) = (EventStatus::Live, EventStatus::Pending);
                audit_event_in(
                    &mut tx,
                    Some(actor),
                    status_action(from, to),
                    id,
                    &format!("{from} -> {to} (edited)"),
                )
                .await?;
                for mail in mails {
                    insert_mail(&mut tx, mail).await?;
                }
            }
        }
        let updated = load_event(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        let data = event_webhook_data(&updated);
        queue_webhook_in(&mut tx, WebhookEventType::EventUpdated, data).await?;
        tx.commit().await?;
        self.events_changed();
        Ok(updated)
    }

    /// Links the event to the call campaign `campaign_id` (its attendees get "Start
    /// calling" during it), or unlinks it with `None`, audited as `event.campaign_link` by
    /// `actor` in the same transaction. Whether the campaign may be linked is the
    /// caller's to check.
    pub async fn set_event_campaign(
        &self,
        id: i64,
        campaign_id: Option<i64>,
        actor: i64,
    ) -> Result<Event, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE events SET campaign_id = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL",
        )
        .bind(campaign_id)
        .bind(now_millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = campaign_id.map_or("unlinked".to_owned(), |c| format!("campaign {c}"));
        audit_event_in(
            &mut tx,
            Some(actor),
            AuditAction::EventCampaignLink,
            id,
            &detail,
        )
        .await?;
        let updated = load_event(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        self.events_changed();
        Ok(updated)
    }

    /// Moves an event to `status` with an organiser's `note` (shown to the host), audited
    /// as `event.approve`, `event.reject`, `event.cancel` or `event.status`. Cancelling
    /// queues `notice` for each attendee going or waiting, in the same transaction.
    pub async fn set_event_status(
        &self,
        id: i64,
        status: EventStatus,
        note: &str,
        actor: Option<i64>,
        notice: &AttendeeNotice,
    ) -> Result<Event, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query("SELECT status FROM events WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        let Some(row) = rows.first() else {
            return Err(StoreError::NotFound);
        };
        let before: EventStatus = choice(row, "status")?;
        sqlx::query(
            "UPDATE events SET status = $1, status_note = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(note)
        .bind(now_millis())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if status == EventStatus::Cancelled && before != EventStatus::Cancelled {
            notify_attendees(&mut tx, id, notice).await?;
        }
        audit_event_in(
            &mut tx,
            actor,
            status_action(before, status),
            id,
            &format!("{before} -> {status}"),
        )
        .await?;
        let changed = load_event(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if status == EventStatus::Cancelled && before != EventStatus::Cancelled {
            let data = event_webhook_data(&changed);
            queue_webhook_in(&mut tx, WebhookEventType::EventCancelled, data).await?;
        }
        tx.commit().await?;
        self.events_changed();
        Ok(changed)
    }

    /// Deletes an event, keeping a tombstone (`deleted_at`) so API clients that sync can
    /// learn it is gone. Audited as `event.delete`. Attendees are not told: cancel first.
    pub async fn delete_event(&self, id: i64, actor: Option<i64>) -> Result<(), StoreError> {
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE events SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_event_in(&mut tx, actor, AuditAction::EventDelete, id, "").await?;
        tx.commit().await?;
        self.events_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_between_statuses_are_named_for_the_audit() {
        assert_eq!(
            status_action(EventStatus::Pending, EventStatus::Live),
            AuditAction::EventApprove
        );
        assert_eq!(
            status_action(EventStatus::Live, EventStatus::Cancelled),
            AuditAction::EventCancel
        );
        assert_eq!(
            status_action(EventStatus::Pending, EventStatus::Rejected),
            AuditAction::EventReject
        );
        assert_eq!(
            status_action(EventStatus::Cancelled, EventStatus::Live),
            AuditAction::EventStatus
        );
    }
}
