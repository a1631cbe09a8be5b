//! Tests for queue policy: callability order, outcome transitions and queue health.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::outcome::OutcomeSet;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Wednesday 15 January 2025, 12:00 GMT: inside UK calling hours.
fn noon() -> DateTime<Utc> {
    utc("2025-01-15T12:00:00Z")
}

fn check(state: &ContactQueueState, now: DateTime<Utc>) -> Callability {
    callability(
        state,
        &RetryPolicy::default(),
        &CallingWindows::uk_default(),
        now,
    )
}

fn not(reason: NotCallableReason) -> Callability {
    Callability::NotCallable(reason)
}

#[test]
fn fresh_contact_in_hours_is_callable_as_first_attempt() {
    let state = ContactQueueState::default();
    assert_eq!(
        check(&state, noon()),
        Callability::Callable {
            priority: CallPriority::FirstAttempt
        }
    );
}

#[test]
fn completed_and_suppressed_win_over_everything() {
    let due_callback = ContactQueueState {
        callback_at: Some(noon() - TimeDelta::minutes(5)),
        ..Default::default()
    };
    let completed = ContactQueueState {
        completed: true,
        suppressed: true,
        ..due_callback.clone()
    };
    assert_eq!(check(&completed, noon()), not(NotCallableReason::Completed));
    let suppressed = ContactQueueState {
        suppressed: true,
        ..due_callback
    };
    assert_eq!(
        check(&suppressed, noon()),
        not(NotCallableReason::Suppressed)
    );
}

#[test]
fn live_lease_blocks_and_lapsed_lease_does_not() {
    let until = noon() + TimeDelta::minutes(3);
    let leased = ContactQueueState {
        lease_expires_at: Some(until),
        ..Default::default()
    };
    assert_eq!(
        check(&leased, noon()),
        not(NotCallableReason::Leased { until })
    );
    assert!(matches!(
        check(&leased, until),
        Callability::Callable { .. }
    ));
}

#[test]
fn callbacks_wait_for_their_time_then_jump_the_queue() {
    let at = noon() + TimeDelta::hours(2);
    let state = ContactQueueState {
        attempts: 3, // already at the default limit: the contact's request still counts
        next_call_after: Some(noon() + TimeDelta::hours(10)),
        callback_at: Some(at),
        ..Default::default()
    };
    assert_eq!(
        check(&state, noon()),
        not(NotCallableReason::CallbackScheduledAt(at))
    );
    let due = check(&state, at);
    assert_eq!(
        due,
        Callability::Callable {
            priority: CallPriority::DueCallback
        }
    );
    assert!(CallPriority::DueCallback.rank() < CallPriority::FirstAttempt.rank());
    assert!(CallPriority::FirstAttempt.rank() < CallPriority::Retry.rank());
}

#[test]
fn callback_due_after_hours_waits_for_the_window() {
    // Asked for 21:00 on a Wednesday: calling hours end at 20:00, reopen Thursday 10:00.
    let state = ContactQueueState {
        callback_at: Some(utc("2025-01-15T21:00:00Z")),
        attempts: 1,
        ..Default::default()
    };
    assert_eq!(
        check(&state, utc("2025-01-15T21:05:00Z")),
        not(NotCallableReason::OutsideCallingHours {
            opens_at: Some(utc("2025-01-16T10:00:00Z"))
        })
    );
}

#[test]
fn attempts_limit_then_cooldown_then_hours() {
    let out_of_attempts = ContactQueueState {
        attempts: 3,
        ..Default::default()
    };
    assert_eq!(
        check(&out_of_attempts, noon()),
        not(NotCallableReason::MaxAttemptsReached)
    );

    let after = noon() + TimeDelta::hours(1);
    let cooling = ContactQueueState {
        attempts: 1,
        next_call_after: Some(after),
        ..Default::default()
    };
    assert_eq!(
        check(&cooling, noon()),
        not(NotCallableReason::CoolingDownUntil(after))
    );
    assert_eq!(
        check(&cooling, after),
        Callability::Callable {
            priority: CallPriority::Retry
        }
    );

    let sunday = utc("2025-01-19T12:00:00Z");
    assert_eq!(
        check(&ContactQueueState::default(), sunday),
        not(NotCallableReason::OutsideCallingHours {
            opens_at: Some(utc("2025-01-20T10:00:00Z"))
        })
    );
}

#[test]
fn hours_are_read_in_the_contacts_own_time_zone() {
    let in_new_york = ContactQueueState {
        time_zone: Some(chrono_tz::America::New_York),
        ..Default::default()
    };
    // 12:00 in London is 07:00 in New York: too early there.
    assert_eq!(
        check(&in_new_york, noon()),
        not(NotCallableReason::OutsideCallingHours {
            opens_at: Some(utc("2025-01-15T15:00:00Z"))
        })
    );
}

#[test]
fn outcomes_drive_the_next_state() {
    let policy = RetryPolicy::default();
    let set = OutcomeSet::default_uk();
    let effect = |key: &str| set.get(key).unwrap().effect;
    let leased = ContactQueueState {
        lease_expires_at: Some(noon() + TimeDelta::minutes(5)),
        ..Default::default()
    };

    let no_answer = apply_outcome(&leased, effect("no_answer"), noon(), None, &policy).unwrap();
    assert_eq!(no_answer.attempts, 1);
    assert_eq!(no_answer.lease_expires_at, None);
    assert_eq!(
        no_answer.next_call_after,
        Some(noon() + TimeDelta::hours(4))
    );
    assert!(!no_answer.completed);

    let quick = OutcomeEffect::RetryAfter {
        cooldown_minutes: 5,
    };
    let busy = apply_outcome(&leased, quick, noon(), None, &policy).unwrap();
    assert_eq!(
        busy.next_call_after,
        Some(noon() + TimeDelta::minutes(30)),
        "the policy's minimum gap applies"
    );

    let at = noon() + TimeDelta::hours(7);
    let callback = apply_outcome(&no_answer, effect("callback"), noon(), Some(at), &policy);
    let callback = callback.unwrap();
    assert_eq!(
        (callback.callback_at, callback.next_call_after),
        (Some(at), None)
    );
    assert_eq!(
        apply_outcome(&leased, effect("callback"), noon(), None, &policy),
        Err(ApplyOutcomeError::MissingCallbackTime)
    );

    // The callback is made, and the contact says "don't call me again".
    let dnc = apply_outcome(&callback, effect("do_not_call"), at, None, &policy).unwrap();
    assert!(dnc.completed && dnc.suppressed);
    assert_eq!((dnc.attempts, dnc.callback_at), (3, None));

    for key in ["spoke", "wrong_number", "refused"] {
        let done = apply_outcome(&leased, effect(key), noon(), None, &policy).unwrap();
        assert!(done.completed && !done.suppressed, "{key}");
    }
}

#[test]
fn three_unanswered_calls_exhaust_the_contact() {
    let policy = RetryPolicy::default();
    let windows = CallingWindows::uk_default();
    let no_answer = OutcomeEffect::RetryAfter {
        cooldown_minutes: 60,
    };
    let mut state = ContactQueueState::default();
    let mut now = utc("2025-01-15T10:00:00Z");
    for _ in 0..3 {
        assert!(matches!(
            callability(&state, &policy, &windows, now),
            Callability::Callable { .. }
        ));
        state = apply_outcome(&state, no_answer, now, None, &policy).unwrap();
        now += TimeDelta::hours(2);
    }
    assert_eq!(
        callability(&state, &policy, &windows, now),
        not(NotCallableReason::MaxAttemptsReached)
    );
}

#[test]
fn queue_health_explains_an_empty_queue() {
    let now = utc("2025-01-15T12:00:00Z");
    let mut results = Vec::new();
    results.extend(std::iter::repeat_n(
        not(NotCallableReason::CoolingDownUntil(utc(
            "2025-01-15T19:00:00Z",
        ))),
        311,
    ));
    results.push(not(NotCallableReason::CoolingDownUntil(utc(
        "2025-01-15T18:00:00Z",
    ))));
    results.extend(std::iter::repeat_n(
        not(NotCallableReason::OutsideCallingHours {
            opens_at: Some(utc("2025-01-16T15:00:00Z")),
        }),
        40,
    ));
    results.extend(std::iter::repeat_n(not(NotCallableReason::Suppressed), 5));
    let health: QueueHealth = results.iter().collect();

    assert_eq!(health.callable, 0);
    assert_eq!(health.cooling_down, 312);
    assert_eq!(health.next_callable_at(), Some(utc("2025-01-15T18:00:00Z")));
    assert_eq!(
        health.describe(now, chrono_tz::Europe::London),
        "312 in cooldown, first back at 18:00, \
         40 outside calling hours, opening at Thu 15:00, 5 suppressed"
    );
    // Same tally, shown to a campaign run from New York.
    assert!(
        health
            .describe(now, chrono_tz::America::New_York)
            .starts_with("312 in cooldown, first back at 13:00")
    );
    assert_eq!(
        QueueHealth::default().describe(now, chrono_tz::UTC),
        "no contacts"
    );
}

#[test]
fn queue_health_counts_ready_leased_and_callbacks() {
    let now = utc("2025-01-15T12:00:00Z");
    let results = [
        Callability::Callable {
            priority: CallPriority::FirstAttempt,
        },
        not(NotCallableReason::Leased {
            until: utc("2025-01-15T12:05:00Z"),
        }),
        not(NotCallableReason::CallbackScheduledAt(utc(
            "2025-01-28T19:30:00Z",
        ))),
        not(NotCallableReason::MaxAttemptsReached),
        not(NotCallableReason::Completed),
    ];
    let health: QueueHealth = results.iter().collect();
    assert_eq!(
        health.describe(now, chrono_tz::Europe::London),
        "1 ready to call, 1 being called, first free at 12:05, \
         1 callback booked, first at 28 Jan 19:30, 1 out of attempts, 1 done"
    );
}
