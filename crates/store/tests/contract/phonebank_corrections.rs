//! Changing the call just saved, and callers on a break: only the caller's own latest
//! call, only within the minute, only while nobody has the contact again; the queue effect
//! recomputed from the time of the call; a do-not-call undone comes off the list only if
//! that call put it there; a caller on a break is not counted online.

use crate::phonebank_queue::{MINUTE, T0, World, world};
use barnstorm_store::phonebank::{LeaseProblem, OutcomeRecord, RecordedOutcome};
use barnstorm_store::{AuditAction, AuditFilter, Millis, Store, both_backends};

impl World {
    async fn correct(
        &self,
        lease_id: i64,
        caller: i64,
        outcome: &str,
        now: Millis,
    ) -> Result<RecordedOutcome, LeaseProblem> {
        let record = OutcomeRecord {
            answers_json: r#"{"support":"yes"}"#,
            notes: "changed",
            ..self.outcome_record(lease_id, caller, outcome, now)
        };
        self.store.correct_outcome(&record).await
    }

    async fn outcomes(&self) -> Vec<(String, i64)> {
        let stats = self
            .store
            .campaign_stats(self.campaign.id, T0 + 2 * MINUTE)
            .await
            .unwrap();
        stats.outcomes.into_iter().collect()
    }
}

async fn the_last_call_changes_within_a_minute_and_not_after(store: Store) {
    let w = world(store, 3).await;
    let held = w.claim(w.a, T0).await.unwrap();
    w.record(held.lease_id, w.a, "no_answer", None, T0 + MINUTE)
        .await
        .unwrap();
    let last = w
        .store
        .last_call(w.campaign.id, w.a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (last.lease_id, last.outcome.as_str()),
        (held.lease_id, "no_answer")
    );
    assert_eq!(last.changeable_until(), T0 + 2 * MINUTE);

    let changed = w
        .correct(held.lease_id, w.a, "spoke", T0 + MINUTE + 59_000)
        .await
        .unwrap();
    assert_eq!(changed.outcome, "spoke");
    assert_eq!(
        w.outcomes().await,
        [("spoke".to_owned(), 1)],
        "one call, counted once"
    );
    let last = w
        .store
        .last_call(w.campaign.id, w.a)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.notes, "changed");
    assert_eq!(last.answers.get("support"), Some(&serde_json::json!("yes")));
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + 2 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        counts.finished, 1,
        "spoke finishes the contact that no answer had put back"
    );
    assert_eq!(counts.cooling_down, 0);

    assert!(matches!(
        w.correct(held.lease_id, w.a, "busy", T0 + 2 * MINUTE).await,
        Err(LeaseProblem::TooLateToChange)
    ));
    let filter = AuditFilter {
        campaign_id: Some(w.campaign.id),
        actions: vec![AuditAction::CallCorrect],
        ..AuditFilter::default()
    };
    let audit = w.store.list_audit(&filter, 0, 10).await.unwrap().entries;
    let audit: Vec<_> = audit
        .iter()
        .map(|e| (e.actor_user_id, e.detail.as_str()))
        .collect();
    assert_eq!(
        audit,
        [(Some(w.a), "no_answer → spoke")],
        "the change is audited"
    );
}

async fn only_the_callers_own_latest_call_while_nobody_called_again(store: Store) {
    let w = world(store, 3).await;
    let first = w.claim(w.a, T0).await.unwrap();
    w.record(first.lease_id, w.a, "busy", None, T0 + 1_000)
        .await
        .unwrap();
    assert!(
        matches!(
            w.correct(first.lease_id, w.b, "spoke", T0 + 2_000).await,
            Err(LeaseProblem::NotYours)
        ),
        "another caller's call"
    );
    let second = w.claim(w.a, T0 + 3_000).await.unwrap();
    assert!(
        matches!(
            w.correct(second.lease_id, w.a, "spoke", T0 + 4_000).await,
            Err(LeaseProblem::NotRecordedYet)
        ),
        "a call still being made"
    );
    w.record(second.lease_id, w.a, "busy", None, T0 + 5_000)
        .await
        .unwrap();
    assert!(
        matches!(
            w.correct(first.lease_id, w.a, "spoke", T0 + 6_000).await,
            Err(LeaseProblem::TooLateToChange)
        ),
        "only the latest call"
    );
    assert_eq!(w.outcomes().await, [("busy".to_owned(), 2)]);
}

async fn a_changed_outcome_requeues_and_a_contact_called_again_cannot_be_changed(store: Store) {
    let w = world(store, 1).await;
    let held = w.claim(w.a, T0).await.unwrap();
    w.record(held.lease_id, w.a, "wrong_number", None, T0 + 1_000)
        .await
        .unwrap();
    w.correct(held.lease_id, w.a, "no_answer", T0 + 2_000)
        .await
        .unwrap();
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + 2_000)
        .await
        .unwrap();
    assert_eq!(
        counts.finished, 0,
        "no answer puts the contact back in the queue"
    );
    assert_eq!(counts.cooling_down, 1, "after its cooldown");
    let back_at = T0 + 1_000 + 4 * 60 * MINUTE;
    assert!(
        w.claim(w.b, back_at - 1).await.is_none(),
        "the cooldown runs from the call"
    );

    // A callback asked for in a moment, and someone else rings it.
    let again = w.claim(w.a, back_at).await.unwrap();
    w.record(
        again.lease_id,
        w.a,
        "callback",
        Some(back_at + 1_500),
        back_at + 1_000,
    )
    .await
    .unwrap();
    w.claim(w.b, back_at + 2_000).await.unwrap();
    assert!(matches!(
        w.correct(again.lease_id, w.a, "spoke", back_at + 3_000)
            .await,
        Err(LeaseProblem::CalledSince)
    ));
}

async fn undoing_a_do_not_call_takes_off_only_what_the_call_put_on(store: Store) {
    let w = world(store, 2).await;
    let held = w.claim(w.a, T0).await.unwrap();
    w.record(held.lease_id, w.a, "do_not_call", None, T0 + 1_000)
        .await
        .unwrap();
    let phone = held.contact.phone.clone();
    let group = w.campaign.group_id;
    assert!(
        w.store
            .do_not_call_entry(group, &phone)
            .await
            .unwrap()
            .is_some()
    );
    w.correct(held.lease_id, w.a, "spoke", T0 + 2_000)
        .await
        .unwrap();
    assert!(
        w.store
            .do_not_call_entry(group, &phone)
            .await
            .unwrap()
            .is_none(),
        "the call's own entry comes off the list"
    );
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + 3_000)
        .await
        .unwrap();
    assert_eq!((counts.suppressed, counts.finished), (0, 1));

    // A number already on the list stays there when its do-not-call is changed.
    let other = w.claim(w.a, T0 + 4_000).await.unwrap();
    w.store
        .add_do_not_call(group, &other.contact.phone, "asked by letter", None)
        .await
        .unwrap();
    w.record(other.lease_id, w.a, "do_not_call", None, T0 + 5_000)
        .await
        .unwrap();
    w.correct(other.lease_id, w.a, "refused", T0 + 6_000)
        .await
        .unwrap();
    let entry = w
        .store
        .do_not_call_entry(group, &other.contact.phone)
        .await
        .unwrap()
        .expect("the earlier entry stays");
    assert_eq!(entry.reason, "asked by letter");
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + 7_000)
        .await
        .unwrap();
    assert_eq!(
        counts.suppressed, 1,
        "still suppressed by the earlier entry"
    );

    // Changing to do-not-call puts the number on the list, dated by the call.
    w.correct(other.lease_id, w.a, "do_not_call", T0 + 8_000)
        .await
        .unwrap();
    assert_eq!(
        w.store
            .do_not_call_entry(group, &other.contact.phone)
            .await
            .unwrap()
            .map(|e| e.reason),
        Some("asked by letter".to_owned())
    );
}

async fn callers_on_a_break_are_not_online(store: Store) {
    let w = world(store, 3).await;
    let a = w.claim(w.a, T0).await.unwrap();
    w.claim(w.b, T0).await.unwrap();
    let online = |now| {
        let store = w.store.clone();
        let id = w.campaign.id;
        async move { store.campaign_stats(id, now).await.unwrap().callers_online }
    };
    assert_eq!(online(T0 + 1_000).await, 2);
    w.store
        .start_break(w.campaign.id, w.a, T0 + 2_000)
        .await
        .unwrap();
    w.store
        .release_lease(a.lease_id, w.a, T0 + 2_000)
        .await
        .unwrap();
    assert_eq!(
        online(T0 + 3_000).await,
        1,
        "the caller on a break is left out"
    );
    w.claim(w.a, T0 + 4_000).await.unwrap();
    assert_eq!(
        online(T0 + 5_000).await,
        2,
        "a claim after the break counts again"
    );
    w.store
        .start_break(w.campaign.id, w.b, T0 + 6_000)
        .await
        .unwrap();
    assert_eq!(online(T0 + 7_000).await, 1);
    w.store.end_break(w.campaign.id, w.b).await.unwrap();
    assert_eq!(online(T0 + 8_000).await, 2, "resuming ends the break");
}

both_backends! {
    correction_window => the_last_call_changes_within_a_minute_and_not_after,
    correction_owner => only_the_callers_own_latest_call_while_nobody_called_again,
    correction_requeues => a_changed_outcome_requeues_and_a_contact_called_again_cannot_be_changed,
    correction_do_not_call => undoing_a_do_not_call_takes_off_only_what_the_call_put_on,
    breaks_online => callers_on_a_break_are_not_online,
}
