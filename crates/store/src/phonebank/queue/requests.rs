//! What callers ask of the queue and what it answers: a claim and its answer, an outcome
//! to record and the attempt it became. Plain values; the rules that decide the answers
//! are in [`super::rules`] and `barnstorm_domain::queue_policy`.

use super::contact::ClaimedContact;
use crate::Millis;
use crate::phonebank::campaigns::CallerPace;
use crate::phonebank::pace::{CallerBar, HOUR_MS, MINUTE_MS};
use crate::phonebank::queue_status::CallerStanding;
use barnstorm_domain::outcome::Outcome;
use barnstorm_domain::queue_policy::{RetryPolicy, renewal_due};

/// A caller asking for the next contact of a campaign.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest {
    /// The campaign.
    pub campaign_id: i64,
    /// The caller.
    pub caller_id: i64,
    /// The time of the claim.
    pub now: Millis,
    /// How long a new lease lasts without a heartbeat.
    pub lease_ms: Millis,
    /// The start of the window in which skips count towards throttling.
    pub skips_since: Millis,
    /// More skips than this in the window and the caller is throttled.
    pub skip_limit: i64,
    /// Whether the campaign's calling hours are open at `now`.
    pub calling_hours_open: bool,
    /// The most new contacts the caller may be handed a minute and an hour.
    pub pace: CallerPace,
}

impl ClaimRequest {
    /// The pace windows' binds: the start and limit of the minute, then of the hour.
    pub(crate) fn pace_windows(&self) -> [i64; 4] {
        [
            self.now - MINUTE_MS,
            self.pace.per_minute,
            self.now - HOUR_MS,
            self.pace.per_hour,
        ]
    }

    /// Why a caller who holds nothing gets no new contact, if they do not: too many
    /// skips, the pace limit reached, or calling hours closed.
    pub(crate) fn refusal(&self, standing: &CallerStanding) -> Option<ClaimAnswer> {
        let pace_until = [
            standing
                .last_minute
                .limited_until(self.pace.per_minute, MINUTE_MS),
            standing
                .last_hour
                .limited_until(self.pace.per_hour, HOUR_MS),
        ]
        .into_iter()
        .flatten()
        .max();
        if standing.skips > self.skip_limit {
            Some(ClaimAnswer::Throttled {
                skips: standing.skips,
            })
        } else if let Some(retry_at) = pace_until {
            Some(ClaimAnswer::PaceLimited { retry_at })
        } else if !self.calling_hours_open {
            Some(ClaimAnswer::Nothing)
        } else {
            None
        }
    }

    /// Whether a claim that finds the caller's held contact renews its lease: as a
    /// heartbeat does, so that a caller coming back (a reload, a lost connection) is not
    /// cut off before their next heartbeat.
    pub(crate) fn renews(&self, expires_at: Millis) -> bool {
        renewal_due(expires_at, self.now, self.lease_ms)
    }
}

/// What a caller's claim came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimAnswer {
    /// The contact the caller already holds (they reloaded or asked twice), its lease
    /// renewed when less than half of it remained.
    Held(ClaimedContact),
    /// A contact newly leased to the caller.
    Claimed(ClaimedContact),
    /// More skips in the window than the campaign allows: nothing was leased.
    Throttled {
        /// Skips in the window.
        skips: i64,
    },
    /// The caller was handed as many new contacts as the pace limit allows: nothing was
    /// leased.
    PaceLimited {
        /// When the caller may be handed the next contact.
        retry_at: Millis,
    },
    /// The caller is suspended or removed: nothing was leased or resumed.
    Barred(CallerBar),
    /// Nothing is claimable now, or calling hours are closed.
    Nothing,
}

/// An outcome to record on a lease.
#[derive(Debug, Clone, Copy)]
pub struct OutcomeRecord<'a> {
    /// The lease the call was made under.
    pub lease_id: i64,
    /// The caller recording it.
    pub caller_id: i64,
    /// The client's key: the same key again returns the first result.
    pub idempotency_key: &'a str,
    /// The chosen outcome.
    pub outcome: &'a Outcome,
    /// Checked survey answers, as JSON.
    pub answers_json: &'a str,
    /// Free-text notes.
    pub notes: &'a str,
    /// For a callback: when to ring back.
    pub callback_at: Option<Millis>,
    /// The campaign's retry rules.
    pub retry: &'a RetryPolicy,
    /// The campaign the outcome was sent for: a lease of another is refused.
    pub campaign_id: i64,
    /// The group whose do-not-call list a do-not-call outcome adds to.
    pub group_id: i64,
    /// "Do not call" outcomes the caller may record in an hour.
    pub do_not_call_per_hour: i64,
    /// The time of recording.
    pub now: Millis,
}

/// A recorded call attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOutcome {
    /// The attempt's id.
    pub attempt_id: i64,
    /// The contact.
    pub contact_id: i64,
    /// The outcome key.
    pub outcome: String,
    /// True when this answer repeats an earlier identical request.
    pub replayed: bool,
}

/// An outcome to record, owned so it can cross to a queue's writer (thread or task).
pub(crate) struct OwnedOutcome {
    pub(crate) lease_id: i64,
    pub(crate) caller_id: i64,
    pub(crate) idempotency_key: String,
    pub(crate) outcome: Outcome,
    pub(crate) answers_json: String,
    pub(crate) notes: String,
    pub(crate) callback_at: Option<Millis>,
    pub(crate) retry: RetryPolicy,
    pub(crate) campaign_id: i64,
    pub(crate) group_id: i64,
    pub(crate) do_not_call_per_hour: i64,
    pub(crate) now: Millis,
}

impl OwnedOutcome {
    /// Copies `record`.
    pub(crate) fn new(record: &OutcomeRecord<'_>) -> Self {
        Self {
            lease_id: record.lease_id,
            caller_id: record.caller_id,
            idempotency_key: record.idempotency_key.to_owned(),
            outcome: record.outcome.clone(),
            answers_json: record.answers_json.to_owned(),
            notes: record.notes.to_owned(),
            callback_at: record.callback_at,
            retry: *record.retry,
            campaign_id: record.campaign_id,
            group_id: record.group_id,
            do_not_call_per_hour: record.do_not_call_per_hour,
            now: record.now,
        }
    }

    /// The record, borrowed again.
    pub(crate) fn record(&self) -> OutcomeRecord<'_> {
        OutcomeRecord {
            lease_id: self.lease_id,
            caller_id: self.caller_id,
            idempotency_key: &self.idempotency_key,
            outcome: &self.outcome,
            answers_json: &self.answers_json,
            notes: &self.notes,
            callback_at: self.callback_at,
            retry: &self.retry,
            campaign_id: self.campaign_id,
            group_id: self.group_id,
            do_not_call_per_hour: self.do_not_call_per_hour,
            now: self.now,
        }
    }
}
