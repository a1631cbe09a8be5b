//! Campaign meetups ("barnstorms"): their breakout groups and the plan of sessions spawned
//! from them (child events via `parent_event_id`) with sign-up counts. Creating a session
//! is an ordinary [`Store::create_event`] with the parent and breakout set.

use super::model::{EventSummary, SUMMARY_COLUMNS};
use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Store, StoreError, now_millis};
use barnstorm_domain::event::EventKind;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A breakout group of a campaign meetup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakout {
    /// Stable id.
    pub id: i64,
    /// The meetup it belongs to.
    pub event_id: i64,
    /// Its name, e.g. "North Leeds phonebankers".
    pub name: String,
    /// Who leads it, as free text.
    pub facilitator: String,
}

/// One session planned from a meetup.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedSession {
    /// The session.
    pub event: EventSummary,
    /// The breakout group that planned it.
    pub breakout_id: Option<i64>,
    /// RSVPs going.
    pub going: i64,
}

/// Everything planned from a meetup ("20 phonebanking sessions planned, 143 sign-ups").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeetupPlan {
    /// Live and pending sessions, by start time.
    pub sessions: Vec<PlannedSession>,
    /// How many sessions of each kind, in [`EventKind::ALL`] order, kinds with none left out.
    pub sessions_by_kind: Vec<(EventKind, i64)>,
    /// RSVPs going, over every session.
    pub total_signups: i64,
}

impl Breakout {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            name: row.try_get("name")?,
            facilitator: row.try_get("facilitator")?,
        })
    }
}

impl Store {
    /// Adds a breakout group to a meetup, audited as `meetup.breakout.add` by `actor`;
    /// [`StoreError::NotFound`] when the event does not exist or was deleted.
    pub async fn add_breakout(
        &self,
        event_id: i64,
        name: &str,
        facilitator: &str,
        actor: Option<i64>,
    ) -> Result<Breakout, StoreError> {
        let mut tx = self.begin_write().await?;
        let group_id: Option<i64> =
            sqlx::query_scalar("SELECT group_id FROM events WHERE id = $1 AND deleted_at IS NULL")
                .bind(event_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(group_id) = group_id else {
            return Err(StoreError::NotFound);
        };
        let row = sqlx::query(
            "INSERT INTO event_breakouts (event_id, name, facilitator, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, event_id, name, facilitator",
        )
        .bind(event_id)
        .bind(name.trim())
        .bind(facilitator.trim())
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?;
        let breakout = Breakout::from_row(&row)?;
        let subject = format!("event {event_id}");
        let detail = format!("breakout {}", breakout.id);
        let action = AuditAction::MeetupBreakoutAdd;
        audit_about_in(
            &mut tx,
            actor,
            action,
            About::group(group_id),
            &subject,
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(breakout)
    }

    /// A meetup's breakout groups in the order they were added.
    pub async fn breakouts(&self, event_id: i64) -> Result<Vec<Breakout>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event_id, name, facilitator FROM event_breakouts WHERE event_id = $1 ORDER BY id",
        )
        .bind(event_id)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(Breakout::from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// The sessions planned from a meetup (live or pending, not deleted), each with its
    /// RSVPs going, counted by kind and in total.
    pub async fn meetup_plan(&self, event_id: i64) -> Result<MeetupPlan, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, breakout_id,
                    (SELECT COUNT(*) FROM rsvps r WHERE r.event_id = events.id AND r.status = 'going') AS going
             FROM events
             WHERE parent_event_id = $1 AND status IN ('live', 'pending') AND deleted_at IS NULL
             ORDER BY starts_at, id"
        ))
        .bind(event_id)
        .fetch_all(self.reader())
        .await?;
        let mut plan = MeetupPlan::default();
        for row in &rows {
            let session = PlannedSession {
                event: EventSummary::from_row(row)?,
                breakout_id: row.try_get("breakout_id")?,
                going: row.try_get("going")?,
            };
            plan.total_signups += session.going;
            plan.sessions.push(session);
        }
        plan.sessions_by_kind = EventKind::ALL
            .iter()
            .map(|kind| {
                let n = plan
                    .sessions
                    .iter()
                    .filter(|s| s.event.kind == *kind)
                    .count();
                (*kind, i64::try_from(n).unwrap_or(i64::MAX))
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        Ok(plan)
    }
}
