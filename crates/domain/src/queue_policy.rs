//! Queue policy: whether a contact may be rung now, what a call outcome does next, and
//! what a lease allows.
//!
//! Owns the callability rule from DESIGN.md (not completed, not suppressed, attempts left,
//! cooldown over, inside calling hours in the contact's zone, no live lease; due callbacks
//! first), the state transition after an outcome and its settlement in the queue, and the
//! lease checks both store backends apply. It must not claim, lease or store anything: the
//! store runs the callability rule in SQL, and the engine's property tests hold it to this one.

mod health;
mod lease;
mod settlement;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calling_window::CallingWindows;
use crate::outcome::OutcomeEffect;

pub use health::QueueHealth;
pub use lease::{LeaseRefusal, LeaseState, renewal_due};
pub use settlement::{QueueState, Settlement, settle};

/// A contact's place in a campaign's queue, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactQueueState {
    /// An outcome finished this contact (spoke, refused, wrong number, do-not-call).
    pub completed: bool,
    /// On a do-not-call, TPS/CTPS or unsubscribed list.
    pub suppressed: bool,
    /// Calls recorded so far.
    pub attempts: u32,
    /// Cooldown: not to be rung before this instant.
    pub next_call_after: Option<DateTime<Utc>>,
    /// The contact asked to be rung at this instant.
    pub callback_at: Option<DateTime<Utc>>,
    /// A caller holds the contact until this instant (a lease in the past has lapsed).
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The contact's own zone; `None` means the campaign's.
    pub time_zone: Option<Tz>,
}

/// How many times to try a contact, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts after which a contact with no conclusion is left alone (at least 1).
    /// A callback the contact asked for is still made after this limit.
    pub max_attempts: u32,
    /// The shortest gap between two attempts, whatever the outcome's own cooldown.
    pub min_minutes_between_attempts: u32,
}

impl Default for RetryPolicy {
    /// Three attempts, at least 30 minutes apart.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            min_minutes_between_attempts: 30,
        }
    }
}

/// Whether a contact may be handed to a caller now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callability {
    /// Hand it out; lower [`CallPriority::rank`] first.
    Callable {
        /// Which contacts to hand out first.
        priority: CallPriority,
    },
    /// Not now, and why.
    NotCallable(NotCallableReason),
}

/// Order in which callable contacts are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallPriority {
    /// The contact asked to be rung at a time that has come.
    DueCallback,
    /// Never rung in this campaign.
    FirstAttempt,
    /// Rung before without a conclusion; the cooldown is over.
    Retry,
}

impl CallPriority {
    /// 0 is handed out first, then 1, then 2 (for `ORDER BY` in the store).
    pub fn rank(self) -> u8 {
        match self {
            Self::DueCallback => 0,
            Self::FirstAttempt => 1,
            Self::Retry => 2,
        }
    }
}

/// Why a contact may not be rung now. Checked in this order; the first that applies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCallableReason {
    /// An outcome finished the contact.
    Completed,
    /// On a suppression list.
    Suppressed,
    /// A caller holds it.
    Leased {
        /// When the lease lapses unless renewed.
        until: DateTime<Utc>,
    },
    /// Waiting for the time the contact asked for.
    CallbackScheduledAt(DateTime<Utc>),
    /// All attempts used up.
    MaxAttemptsReached,
    /// Too soon after the last attempt.
    CoolingDownUntil(DateTime<Utc>),
    /// Outside calling hours in the contact's zone.
    OutsideCallingHours {
        /// When the hours next open (`None` if they never do).
        opens_at: Option<DateTime<Utc>>,
    },
}

impl NotCallableReason {
    /// The earliest instant this reason can lapse, if it ever does on its own.
    pub fn lapses_at(&self) -> Option<DateTime<Utc>> {
        match *self {
            Self::Leased { until } => Some(until),
            Self::CallbackScheduledAt(at) | Self::CoolingDownUntil(at) => Some(at),
            Self::OutsideCallingHours { opens_at } => opens_at,
            Self::Completed | Self::Suppressed | Self::MaxAttemptsReached => None,
        }
    }
}

/// Decides whether the contact in `state` may be rung at `now`. `windows` are the
/// campaign's calling hours; they are read in the contact's own zone when it has one.
///
/// A due callback outranks everything except completion, suppression and a live lease,
/// including the attempt limit and cooldown, but it still waits for calling hours.
pub fn callability(
    state: &ContactQueueState,
    policy: &RetryPolicy,
    windows: &CallingWindows,
    now: DateTime<Utc>,
) -> Callability {
    use NotCallableReason as Why;
    let not = Callability::NotCallable;
    if state.completed {
        return not(Why::Completed);
    }
    if state.suppressed {
        return not(Why::Suppressed);
    }
    if let Some(until) = state.lease_expires_at.filter(|until| *until > now) {
        return not(Why::Leased { until });
    }
    let priority = match state.callback_at {
        Some(at) if at > now => return not(Why::CallbackScheduledAt(at)),
        Some(_) => CallPriority::DueCallback,
        None if state.attempts >= policy.max_attempts => return not(Why::MaxAttemptsReached),
        None => match state.next_call_after {
            Some(after) if after > now => return not(Why::CoolingDownUntil(after)),
            _ if state.attempts == 0 => CallPriority::FirstAttempt,
            _ => CallPriority::Retry,
        },
    };
    let windows = match state.time_zone {
        Some(tz) => windows.in_time_zone(tz),
        None => windows.clone(),
    };
    if !windows.is_open_at(now) {
        return not(Why::OutsideCallingHours {
            opens_at: windows.next_opening_after(now),
        });
    }
    Callability::Callable { priority }
}

/// Why an outcome could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyOutcomeError {
    /// A callback outcome needs the time the contact asked for.
    #[error("a callback needs the time to ring back")]
    MissingCallbackTime,
}

/// The contact's next queue state after a call at `now` ended with `effect`.
///
/// Every outcome counts an attempt, releases the lease and clears any earlier callback.
/// `RetryAfter` sets the cooldown (at least the policy's minimum gap); `Callback` books
/// `callback_at`; `Completed`, `WrongNumber` and `Refused` finish the contact; `DoNotCall`
/// finishes and suppresses it (the store also adds the number to the group's list, and
/// flags the number for `WrongNumber`). `callback_at` is ignored for other outcomes.
pub fn apply_outcome(
    state: &ContactQueueState,
    effect: OutcomeEffect,
    now: DateTime<Utc>,
    callback_at: Option<DateTime<Utc>>,
    policy: &RetryPolicy,
) -> Result<ContactQueueState, ApplyOutcomeError> {
    let mut next = ContactQueueState {
        attempts: state.attempts.saturating_add(1),
        lease_expires_at: None,
        callback_at: None,
        next_call_after: None,
        ..state.clone()
    };
    match effect {
        OutcomeEffect::RetryAfter { cooldown_minutes } => {
            let minutes = cooldown_minutes.max(policy.min_minutes_between_attempts);
            next.next_call_after = Some(now + TimeDelta::minutes(i64::from(minutes)));
        }
        OutcomeEffect::Callback => {
            next.callback_at = Some(callback_at.ok_or(ApplyOutcomeError::MissingCallbackTime)?);
        }
        OutcomeEffect::Completed | OutcomeEffect::WrongNumber | OutcomeEffect::Refused => {
            next.completed = true;
        }
        OutcomeEffect::DoNotCall => {
            next.completed = true;
            next.suppressed = true;
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests;
