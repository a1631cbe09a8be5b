//! Who one outreach message goes to: the group's audience within the radius (with the
//! consents to groups above it that named its local groups), less the supporters the
//! group mailed within the per-recipient window, selected exactly as
//! [`Store::audience_count`](crate::Store::audience_count) counts them; where and to
//! which group each one's consent was given (for the truthful line in their copy); and
//! the per-group mark of when each was last mailed. Runs inside the sending transaction
//! only.

use super::audience::{
    audience_condition, audience_groups, cell_condition, not_mailed_since, within_radius,
};
use crate::binds::value_rows;
use crate::{Backend, Millis, StoreError};
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

/// Rows per multi-row statement when marking recipients (3 values each).
const MARKS_PER_STATEMENT: usize = 300;

/// Where a recipient's consent to email from the group came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentOrigin {
    /// They ticked the box on an event's RSVP form.
    RsvpForm {
        /// The event they RSVP'd to.
        event_id: i64,
        /// Its title, while the event is on file.
        event_title: Option<String>,
    },
    /// The group loaded their address in a bulk import that recorded their consent.
    BulkImport,
    /// Recorded some other way; the stored source, e.g. `form`.
    Recorded(String),
}

impl ConsentOrigin {
    /// Reads a stored consent source (`rsvp:42`, `bulk`, anything else).
    fn from_source(source: &str) -> Self {
        if let Some(id) = source
            .strip_prefix("rsvp:")
            .and_then(|id| id.parse::<i64>().ok())
        {
            return Self::RsvpForm {
                event_id: id,
                event_title: None,
            };
        }
        if source == "bulk" {
            return Self::BulkImport;
        }
        Self::Recorded(source.to_owned())
    }
}

/// One person a message goes to, for composing their copy (with their unsubscribe link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The supporter.
    pub supporter_id: i64,
    /// Their name.
    pub name: String,
    /// Their address.
    pub email: String,
    /// For their one-click unsubscribe link.
    pub unsubscribe_token: String,
    /// Where their consent to email came from.
    pub consent_origin: ConsentOrigin,
    /// When they gave it.
    pub consent_given_at: Millis,
    /// The group they consented to: the sending group, or a group above it whose
    /// consent named its local groups (their unsubscribe link withdraws that consent).
    pub consent_group_id: i64,
    /// That group's name, for the line saying why they get the mail.
    pub consent_group_name: String,
}

/// The audience within the radius for outreach by `group_id` (see
/// [`audience_condition`]) that the group has not mailed after `mailed_since`, selected
/// exactly as `audience_count` counts it, once each, with the consent nearest the
/// sending group.
pub(super) async fn select_recipients(
    tx: &mut Transaction<'static, Any>,
    group_id: i64,
    center: (f64, f64),
    radius_km: f64,
    mailed_since: Millis,
) -> Result<Vec<Recipient>, StoreError> {
    let groups = audience_groups(&mut **tx, group_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT a.latitude, a.longitude, a.group_id, g.name AS group_name, s.id, s.name,
                s.email, s.unsubscribe_token, c.source, c.granted_at
         FROM email_audience a
         JOIN supporters s ON s.id = a.supporter_id
         JOIN groups g ON g.id = a.group_id
         JOIN consents c ON c.supporter_id = a.supporter_id AND c.group_id = a.group_id
              AND c.channel = 'email' AND c.withdrawn_at IS NULL
         WHERE {} AND {} AND {}
         ORDER BY s.id",
        audience_condition(&groups),
        cell_condition(center, radius_km),
        not_mailed_since(group_id, Some(mailed_since)),
    ))
    .fetch_all(&mut **tx)
    .await?;
    let nearness = |group: i64| groups.iter().position(|g| *g == group);
    let mut out: Vec<Recipient> = Vec::new();
    for row in &rows {
        let (lat, lon): (f64, f64) = (row.try_get("latitude")?, row.try_get("longitude")?);
        if !within_radius(center, radius_km, lat, lon) {
            continue;
        }
        let source: String = row.try_get("source")?;
        let recipient = Recipient {
            supporter_id: row.try_get("id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            unsubscribe_token: row.try_get("unsubscribe_token")?,
            consent_origin: ConsentOrigin::from_source(&source),
            consent_given_at: row.try_get("granted_at")?,
            consent_group_id: row.try_get("group_id")?,
            consent_group_name: row.try_get("group_name")?,
        };
        // Rows come ordered by supporter; keep the consent nearest the sending group.
        match out.last_mut() {
            Some(last) if last.supporter_id == recipient.supporter_id => {
                if nearness(recipient.consent_group_id) < nearness(last.consent_group_id) {
                    *last = recipient;
                }
            }
            _ => out.push(recipient),
        }
    }
    name_rsvp_events(tx, &mut out).await?;
    Ok(out)
}

/// Fills in the titles of the events whose RSVP forms recipients consented on.
async fn name_rsvp_events(
    tx: &mut Transaction<'static, Any>,
    recipients: &mut [Recipient],
) -> Result<(), StoreError> {
    let mut ids: Vec<i64> = recipients
        .iter()
        .filter_map(|r| match r.consent_origin {
            ConsentOrigin::RsvpForm { event_id, .. } => Some(event_id),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut titles: HashMap<i64, String> = HashMap::new();
    for chunk in ids.chunks(500) {
        // Ids we parsed as integers, so they are written inline.
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT id, title FROM events WHERE id IN ({})",
            list.join(", ")
        ))
        .fetch_all(&mut **tx)
        .await?;
        for row in &rows {
            titles.insert(row.try_get("id")?, row.try_get("title")?);
        }
    }
    for recipient in recipients {
        if let ConsentOrigin::RsvpForm {
            event_id,
            event_title,
        } = &mut recipient.consent_origin
        {
            *event_title = titles.get(event_id).cloned();
        }
    }
    Ok(())
}

/// Records that the group mailed `recipients` at `now`, and forgets marks older than
/// `mailed_since`, which no longer hold anyone back.
pub(super) async fn mark_mailed(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    group_id: i64,
    recipients: &[Recipient],
    now: Millis,
    mailed_since: Millis,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM outreach_recipients WHERE group_id = $1 AND last_sent_at <= $2")
        .bind(group_id)
        .bind(mailed_since)
        .execute(&mut **tx)
        .await?;
    for chunk in recipients.chunks(MARKS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO outreach_recipients (group_id, supporter_id, last_sent_at) VALUES {}
             ON CONFLICT (group_id, supporter_id) DO UPDATE SET last_sent_at = excluded.last_sent_at",
            value_rows(backend, chunk.len(), 3)
        );
        let mut query = sqlx::query(&sql);
        for recipient in chunk {
            query = query.bind(group_id).bind(recipient.supporter_id).bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_sources_are_read_as_origins() {
        assert_eq!(
            ConsentOrigin::from_source("rsvp:42"),
            ConsentOrigin::RsvpForm {
                event_id: 42,
                event_title: None
            }
        );
        assert_eq!(
            ConsentOrigin::from_source("bulk"),
            ConsentOrigin::BulkImport
        );
        assert_eq!(
            ConsentOrigin::from_source("rsvp:x"),
            ConsentOrigin::Recorded("rsvp:x".into())
        );
    }
}
