//! Reading RSVPs: the attendee's manage link (with their feedback) and the host's view
//! (attendee list, counts, attendance). Writing places is `rsvps.rs`'s. It must not
//! decide who may see attendees: that is the web layer's.

use super::rsvps::{Rsvp, named_by_link, parse_status, rsvp_from_row};
use crate::hash_secret;
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::event::RsvpStatus;
use sqlx::Row;

/// An RSVP as its manage link shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsvpView {
    /// The RSVP.
    pub rsvp: Rsvp,
    /// Attendee's name.
    pub name: String,
    /// Attendee's address.
    pub email: String,
    /// Event title.
    pub event_title: String,
    /// When it starts and ends.
    pub starts_at: Millis,
    /// When it ends.
    pub ends_at: Millis,
    /// Its time zone.
    pub time_zone: String,
    /// Feedback given, if any: rating 1-5 and text.
    pub feedback: Option<(i64, String)>,
}

/// One line of a host's attendee list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// The RSVP.
    pub rsvp_id: i64,
    /// Name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Phone, if given.
    pub phone: Option<String>,
    /// Going, waiting or cancelled.
    pub status: RsvpStatus,
    /// Whether they came, once the host has said.
    pub attended: Option<bool>,
    /// The shift, if any.
    pub shift_id: Option<i64>,
    /// When they signed up.
    pub created_at: Millis,
}

/// Sign-ups for one event, or one of its shifts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotCounts {
    /// People with a place.
    pub going: i64,
    /// People waiting.
    pub waitlist: i64,
}

/// Sign-ups for an event, in total and per shift.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RsvpCounts {
    /// People with a place, all shifts together.
    pub going: i64,
    /// People waiting, all shifts together.
    pub waitlist: i64,
    /// Per shift id, in id order (shifts with no sign-ups are left out).
    pub shifts: Vec<(i64, SlotCounts)>,
}

/// Why feedback was refused.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// The link names no RSVP.
    #[error("this feedback link is not valid")]
    UnknownLink,
    /// The rating is not 1 to 5.
    #[error("please give a rating from 1 to 5")]
    BadRating,
    /// The text is longer than [`MAX_FEEDBACK_CHARS`].
    #[error("please keep your feedback under {MAX_FEEDBACK_CHARS} characters")]
    TooLong,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The longest feedback text kept.
pub const MAX_FEEDBACK_CHARS: usize = 5_000;

impl Store {
    /// The RSVP a manage link names.
    pub async fn rsvp_by_token(&self, token: &str) -> Result<Option<RsvpView>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT r.id, r.event_id, r.shift_id, r.supporter_id, r.status, r.created_at,
                    r.feedback_rating, r.feedback_text, s.name, s.email,
                    e.title, e.starts_at, e.ends_at, e.time_zone
             FROM rsvps r JOIN supporters s ON s.id = r.supporter_id JOIN events e ON e.id = r.event_id
             WHERE {}",
            named_by_link("r.id", "$1")
        ))
        .bind(hash_secret(token))
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let rating: Option<i64> = row.try_get("feedback_rating")?;
        let text: Option<String> = row.try_get("feedback_text")?;
        Ok(Some(RsvpView {
            rsvp: rsvp_from_row(&row)?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            event_title: row.try_get("title")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            time_zone: row.try_get("time_zone")?,
            feedback: rating.map(|r| (r, text.unwrap_or_default())),
        }))
    }

    /// Everyone who signed up for an event, in sign-up order, cancelled included. RSVPs
    /// past their retention period are listed with an empty name and address, so the
    /// counts and attendance marks stay.
    pub async fn attendees(&self, event_id: i64) -> Result<Vec<Attendee>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.status, r.attended, r.shift_id, r.created_at,
                    COALESCE(s.name, '') AS name, COALESCE(s.email, '') AS email, s.phone
             FROM rsvps r LEFT JOIN supporters s ON s.id = r.supporter_id
             WHERE r.event_id = $1 ORDER BY r.created_at, r.id",
        )
        .bind(event_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Attendee {
                    rsvp_id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    phone: row.try_get("phone")?,
                    status: parse_status(&row.try_get::<String, _>("status")?)?,
                    attended: row.try_get::<Option<i64>, _>("attended")?.map(|a| a != 0),
                    shift_id: row.try_get("shift_id")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// How many are going and waiting, in total and per shift.
    pub async fn rsvp_counts(&self, event_id: i64) -> Result<RsvpCounts, StoreError> {
        let rows = sqlx::query(
            "SELECT shift_id, status, COUNT(*) AS n FROM rsvps
             WHERE event_id = $1 AND status <> 'cancelled'
             GROUP BY shift_id, status ORDER BY shift_id",
        )
        .bind(event_id)
        .fetch_all(self.reader())
        .await?;
        let mut counts = RsvpCounts::default();
        for row in &rows {
            let shift: Option<i64> = row.try_get("shift_id")?;
            let n: i64 = row.try_get("n")?;
            let going = parse_status(&row.try_get::<String, _>("status")?)? == RsvpStatus::Going;
            let slot = match shift {
                None => None,
                Some(id) => {
                    if counts.shifts.last().is_none_or(|(last, _)| *last != id) {
                        counts.shifts.push((id, SlotCounts::default()));
                    }
                    counts.shifts.last_mut().map(|(_, c)| c)
                }
            };
            if going {
                counts.going += n;
                if let Some(slot) = slot {
                    slot.going += n;
                }
            } else {
                counts.waitlist += n;
                if let Some(slot) = slot {
                    slot.waitlist += n;
                }
            }
        }
        Ok(counts)
    }

    /// Marks whether someone came (`None` clears it). `NotFound` if the RSVP is not of
    /// this event.
    pub async fn set_attended(
        &self,
        event_id: i64,
        rsvp_id: i64,
        attended: Option<bool>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE rsvps SET attended = $1, updated_at = $2 WHERE id = $3 AND event_id = $4",
        )
        .bind(attended.map(i64::from))
        .bind(now_millis())
        .bind(rsvp_id)
        .bind(event_id)
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Keeps an attendee's rating (1-5) and comments, replacing earlier feedback.
    pub async fn record_feedback(
        &self,
        token: &str,
        rating: i64,
        text: &str,
    ) -> Result<(), FeedbackError> {
        if !(1..=5).contains(&rating) {
            return Err(FeedbackError::BadRating);
        }
        let text = text.trim();
        if text.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(FeedbackError::TooLong);
        }
        let done = sqlx::query(&format!(
            "UPDATE rsvps SET feedback_rating = $1, feedback_text = $2, updated_at = $3
             WHERE {}",
            named_by_link("id", "$4")
        ))
        .bind(rating)
        .bind(text)
        .bind(now_millis())
        .bind(hash_secret(token))
        .execute(self.writer())
        .await
        .map_err(StoreError::from)?;
        if done.rows_affected() == 0 {
            return Err(FeedbackError::UnknownLink);
        }
        Ok(())
    }
}
