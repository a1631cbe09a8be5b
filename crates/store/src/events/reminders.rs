//! Scheduled notices to attendees (the day before, on the day, feedback afterwards): which
//! are due, and queuing each exactly once. `rsvp_notices` remembers what was queued, and
//! the marker and the mail are written in one transaction, so several nodes running the
//! reminder job never send a notice twice. When a notice is due is `barnstorm_domain`'s.

use super::rsvps::add_manage_link;
use crate::outbox::{NewMail, insert_mail};
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::event_notices::{NoticeKind, is_due};
use sqlx::Row;

const HOUR_MS: i64 = 3_600_000;

/// A notice that should go out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueNotice {
    /// The RSVP it is for.
    pub rsvp_id: i64,
    /// Which notice.
    pub kind: NoticeKind,
    /// The event.
    pub event_id: i64,
    /// Its title.
    pub title: String,
    /// When it starts.
    pub starts_at: Millis,
    /// When it ends.
    pub ends_at: Millis,
    /// Its time zone (IANA name).
    pub time_zone: String,
    /// Its address (attendees may see it).
    pub address: String,
    /// Its postcode.
    pub postcode: Option<String>,
    /// Its online link (attendees may see it).
    pub online_url: Option<String>,
    /// Attendee's name.
    pub name: String,
    /// Attendee's address (the recipient).
    pub email: String,
}

/// The windows in which each kind can fall due, in SQL over `e` (events) and `r`
/// (rsvps), binding `$1` = now. They are wider than the exact rule (which
/// [`is_due`] applies afterwards) to allow for any time zone and clock change.
fn candidate_window(kind: NoticeKind) -> String {
    match kind {
        // 11:00 local the day before: 12-38 h before the start.
        NoticeKind::DayBefore => format!(
            "e.starts_at > $1 AND e.starts_at <= $1 + {} AND r.created_at < e.starts_at - {}",
            39 * HOUR_MS,
            11 * HOUR_MS
        ),
        // 08:00 local on the day or 3 h before an early start: 1-17 h before the start.
        NoticeKind::OnTheDay => format!(
            "e.starts_at > $1 AND e.starts_at <= $1 + {} AND r.created_at < e.starts_at",
            18 * HOUR_MS
        ),
        // An hour after the end, for a week.
        NoticeKind::Feedback => format!(
            "e.ends_at <= $1 - {HOUR_MS} AND e.ends_at > $1 - {} AND r.created_at < e.ends_at + {HOUR_MS}",
            7 * 24 * HOUR_MS
        ),
    }
}

impl Store {
    /// Up to `limit` notices due at `now`: for going RSVPs of live events, not queued yet,
    /// soonest events first.
    pub async fn due_notices(&self, now: Millis, limit: i64) -> Result<Vec<DueNotice>, StoreError> {
        let mut due = Vec::new();
        for kind in NoticeKind::ALL.iter().copied() {
            let order = match kind {
                NoticeKind::Feedback => "e.ends_at",
                _ => "e.starts_at",
            };
            // Fetch more than `limit`: a few candidates may not be due yet.
            let rows = sqlx::query(&format!(
                "SELECT r.id AS rsvp_id, r.created_at, e.id AS event_id, e.title, e.starts_at, e.ends_at,
                        e.time_zone, e.address, e.postcode, e.online_url, s.name, s.email
                 FROM rsvps r
                 JOIN events e ON e.id = r.event_id
                 JOIN supporters s ON s.id = r.supporter_id
                 WHERE r.status = 'going' AND e.status = 'live' AND e.deleted_at IS NULL
                   AND {}
                   AND NOT EXISTS (SELECT 1 FROM rsvp_notices n WHERE n.rsvp_id = r.id AND n.kind = $2)
                 ORDER BY {order}, r.id LIMIT $3",
                candidate_window(kind)
            ))
            .bind(now)
            .bind(kind.as_str())
            .bind(limit.saturating_mul(2).saturating_add(100))
            .fetch_all(self.reader())
            .await?;
            for row in &rows {
                let time_zone: String = row.try_get("time_zone")?;
                let tz = time_zone.parse().unwrap_or(chrono_tz::Europe::London);
                let (created, starts_at, ends_at) = (
                    row.try_get("created_at")?,
                    row.try_get("starts_at")?,
                    row.try_get("ends_at")?,
                );
                if !is_due(kind, now, created, starts_at, ends_at, tz) {
                    continue;
                }
                due.push(DueNotice {
                    rsvp_id: row.try_get("rsvp_id")?,
                    kind,
                    event_id: row.try_get("event_id")?,
                    title: row.try_get("title")?,
                    starts_at,
                    ends_at,
                    time_zone,
                    address: row.try_get("address")?,
                    postcode: row.try_get("postcode")?,
                    online_url: row.try_get("online_url")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                });
            }
        }
        due.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(due)
    }

    /// Queues `mail` as the `kind` notice of an RSVP unless that notice was queued before
    /// or the RSVP is no longer going. Returns whether it was queued. `manage_token` is the
    /// manage link the mail carries; it starts working with the mail, alongside the earlier
    /// links. The marker, the link and the mail commit together, so concurrent jobs queue
    /// each notice once.
    pub async fn queue_notice(
        &self,
        rsvp_id: i64,
        kind: NoticeKind,
        manage_token: &str,
        mail: &NewMail,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(
            "INSERT INTO rsvp_notices (rsvp_id, kind, queued_at)
             SELECT id, $1, $2 FROM rsvps WHERE id = $3 AND status = 'going'
             ON CONFLICT (rsvp_id, kind) DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(now_millis())
        .bind(rsvp_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if marked {
            add_manage_link(&mut tx, rsvp_id, manage_token).await?;
            insert_mail(&mut tx, mail).await?;
        }
        tx.commit().await?;
        Ok(marked)
    }
}
