//! Settlement: where a contact goes in its queue once a call ends with an outcome, in the
//! terms the store keeps (state, priority, the time it may next be handed out, attempts,
//! callback). Times are UTC milliseconds. It decides with [`super::apply_outcome`] and
//! must not store anything.

use super::{ApplyOutcomeError, CallPriority, ContactQueueState, RetryPolicy, apply_outcome};
use crate::outcome::OutcomeEffect;
use chrono::{DateTime, Utc};

/// A contact's state in a campaign's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueState {
    /// Waiting to be handed out.
    Queued,
    /// Done with: concluded, or out of attempts.
    Finished,
    /// On a do-not-call list.
    Suppressed,
}

/// Where a contact goes after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// Its state.
    pub state: QueueState,
    /// Its place among claimable contacts (callbacks first).
    pub priority: CallPriority,
    /// When it may next be handed out (the call's time once it is out of the queue).
    pub available_at: i64,
    /// Calls recorded, this one included.
    pub attempts: u32,
    /// The callback booked, if any.
    pub callback_at: Option<i64>,
}

impl Settlement {
    /// When the contact is next callable, kept with the call (none once it left the queue).
    pub fn next_available_at(&self) -> Option<i64> {
        (self.state == QueueState::Queued).then_some(self.available_at)
    }
}

/// Settles a contact in `state` with `attempts` calls so far after a call at `now` ended
/// with `effect`. A contact without a callback that used its last attempt is finished.
pub fn settle(
    state: QueueState,
    attempts: u32,
    effect: OutcomeEffect,
    now: i64,
    callback_at: Option<i64>,
    policy: &RetryPolicy,
) -> Result<Settlement, ApplyOutcomeError> {
    let current = ContactQueueState {
        completed: state == QueueState::Finished,
        suppressed: state == QueueState::Suppressed,
        attempts,
        ..ContactQueueState::default()
    };
    let next = apply_outcome(&current, effect, at(now), callback_at.map(at), policy)?;
    let exhausted =
        !next.completed && next.callback_at.is_none() && next.attempts >= policy.max_attempts;
    let (state, priority, available_at) = if next.suppressed {
        (QueueState::Suppressed, CallPriority::Retry, now)
    } else if next.completed || exhausted {
        (QueueState::Finished, CallPriority::Retry, now)
    } else if let Some(callback) = next.callback_at {
        (
            QueueState::Queued,
            CallPriority::DueCallback,
            callback.timestamp_millis(),
        )
    } else {
        (
            QueueState::Queued,
            CallPriority::Retry,
            next.next_call_after.map_or(now, |t| t.timestamp_millis()),
        )
    };
    Ok(Settlement {
        state,
        priority,
        available_at,
        attempts: next.attempts,
        callback_at: next.callback_at.map(|t| t.timestamp_millis()),
    })
}

fn at(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_736_942_400_000;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    #[test]
    fn no_answer_waits_out_the_longer_cooldown() {
        let effect = OutcomeEffect::RetryAfter {
            cooldown_minutes: 10,
        };
        let settled = settle(QueueState::Queued, 0, effect, NOW, None, &policy()).unwrap();
        assert_eq!(settled.state, QueueState::Queued);
        assert_eq!(settled.priority, CallPriority::Retry);
        assert_eq!(settled.available_at, NOW + 30 * 60_000);
        assert_eq!(settled.attempts, 1);
        assert_eq!(settled.next_available_at(), Some(NOW + 30 * 60_000));
    }

    #[test]
    fn the_last_attempt_finishes_the_contact() {
        let effect = OutcomeEffect::RetryAfter {
            cooldown_minutes: 60,
        };
        let settled = settle(QueueState::Queued, 2, effect, NOW, None, &policy()).unwrap();
        assert_eq!(settled.state, QueueState::Finished);
        assert_eq!(settled.next_available_at(), None);
    }

    #[test]
    fn a_callback_jumps_the_queue_at_its_time_even_past_the_attempt_limit() {
        let at = NOW + 3_600_000;
        let settled = settle(
            QueueState::Queued,
            5,
            OutcomeEffect::Callback,
            NOW,
            Some(at),
            &policy(),
        )
        .unwrap();
        assert_eq!(settled.state, QueueState::Queued);
        assert_eq!(settled.priority, CallPriority::DueCallback);
        assert_eq!((settled.available_at, settled.callback_at), (at, Some(at)));
        assert_eq!(
            settle(
                QueueState::Queued,
                0,
                OutcomeEffect::Callback,
                NOW,
                None,
                &policy()
            ),
            Err(ApplyOutcomeError::MissingCallbackTime)
        );
    }

    #[test]
    fn do_not_call_suppresses_and_a_suppressed_contact_stays_suppressed() {
        let settled = settle(
            QueueState::Queued,
            0,
            OutcomeEffect::DoNotCall,
            NOW,
            None,
            &policy(),
        )
        .unwrap();
        assert_eq!(settled.state, QueueState::Suppressed);
        let spoke = settle(
            QueueState::Suppressed,
            0,
            OutcomeEffect::Completed,
            NOW,
            None,
            &policy(),
        )
        .unwrap();
        assert_eq!(spoke.state, QueueState::Suppressed);
    }
}
