//! The queue's rules in the store's terms, shared by both backends: the stored state codes,
//! a lease row and its checks, and what an outcome does to its contact. The decisions are
//! `barnstorm_domain::queue_policy`'s (lease checks, settlement); this file only maps the
//! store's columns onto them and back. It runs no SQL.

use super::problems::LeaseProblem;
use super::requests::OutcomeRecord;
use crate::Millis;
use crate::phonebank::pace::CallerBar;
use barnstorm_domain::queue_policy::{LeaseState, QueueState, settle};
use sqlx::Row;
use sqlx::any::AnyRow;

/// `contacts.state`: waiting in the queue.
pub(crate) const QUEUED: i64 = 0;
/// `contacts.state`: done with.
pub(crate) const FINISHED: i64 = 1;
/// `contacts.state`: on a do-not-call list.
pub(crate) const SUPPRESSED: i64 = 2;

/// A lease as the queue's checks need it.
pub(crate) struct LeaseRow {
    pub(crate) contact_id: i64,
    pub(crate) campaign_id: i64,
    pub(crate) caller_id: i64,
    pub(crate) expires_at: Millis,
    pub(crate) released_at: Option<Millis>,
    pub(crate) outcome_at: Option<Millis>,
    pub(crate) barred: Option<CallerBar>,
}

impl LeaseRow {
    /// Reads the columns of [`super::sql::SELECT_LEASE`] from a sqlx row.
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            contact_id: row.try_get("contact_id")?,
            campaign_id: row.try_get("campaign_id")?,
            caller_id: row.try_get("caller_id")?,
            expires_at: row.try_get("expires_at")?,
            released_at: row.try_get("released_at")?,
            outcome_at: row.try_get("outcome_at")?,
            barred: CallerBar::from_code(row.try_get("barred")?),
        })
    }

    /// The lease as the domain's rules see it.
    fn state(&self) -> LeaseState {
        LeaseState {
            caller_id: self.caller_id,
            campaign_id: self.campaign_id,
            expires_at: self.expires_at,
            released: self.released_at.is_some(),
            recorded: self.outcome_at.is_some(),
        }
    }

    /// The lease, if it is `caller_id`'s and they are not suspended or removed.
    pub(crate) fn owned_by(self, caller_id: i64) -> Result<Self, LeaseProblem> {
        self.state().check_owner(caller_id)?;
        match self.barred {
            Some(bar) => Err(LeaseProblem::Barred(bar)),
            None => Ok(self),
        }
    }

    /// May an outcome for `record` be recorded on it? (The contact must also still be
    /// under it.)
    pub(crate) fn check_outcome_for(&self, record: &OutcomeRecord<'_>) -> Result<(), LeaseProblem> {
        Ok(self.state().check_outcome(record.campaign_id)?)
    }

    /// May the lease be extended at `now`?
    pub(crate) fn check_heartbeat(&self, now: Millis) -> Result<(), LeaseProblem> {
        Ok(self.state().check_heartbeat(now)?)
    }

    /// May the contact be given back? `Ok(false)` when it was already.
    pub(crate) fn check_release(&self) -> Result<bool, LeaseProblem> {
        Ok(self.state().check_release()?)
    }
}

/// What recording an outcome does to the contact, in stored codes.
pub(crate) struct Settlement {
    pub(crate) state: i64,
    pub(crate) priority: i64,
    pub(crate) available_at: Millis,
    pub(crate) attempts: i64,
    pub(crate) callback_at: Option<Millis>,
    next_available_at: Option<Millis>,
}

impl Settlement {
    /// Applies `record`'s outcome to a contact in `state` with `attempts` calls so far.
    pub(crate) fn plan(
        record: &OutcomeRecord<'_>,
        state: i64,
        attempts: i64,
    ) -> Result<Self, LeaseProblem> {
        let state = match state {
            FINISHED => QueueState::Finished,
            SUPPRESSED => QueueState::Suppressed,
            _ => QueueState::Queued,
        };
        let settled = settle(
            state,
            u32::try_from(attempts).unwrap_or(u32::MAX),
            record.outcome.effect,
            record.now,
            record.callback_at,
            record.retry,
        )
        .map_err(|_| LeaseProblem::MissingCallbackTime)?;
        Ok(Self {
            state: match settled.state {
                QueueState::Queued => QUEUED,
                QueueState::Finished => FINISHED,
                QueueState::Suppressed => SUPPRESSED,
            },
            priority: i64::from(settled.priority.rank()),
            available_at: settled.available_at,
            attempts: i64::from(settled.attempts),
            callback_at: settled.callback_at,
            next_available_at: settled.next_available_at(),
        })
    }

    /// When the contact is next callable, stored with the attempt (none once settled).
    pub(crate) fn next_available_at(&self) -> Option<Millis> {
        self.next_available_at
    }
}
