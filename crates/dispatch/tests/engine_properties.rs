//! Property tests of the calling engine: many random interleavings of claims, heartbeats,
//! outcomes, releases, abandoned leases and clock jumps, on SQLite and PostgreSQL. The
//! oracle is the domain's callability rule (`queue_policy::callability`) over a model of
//! each contact kept with `apply_outcome`: every contact handed out must be callable by it
//! (never under a live lease, finished, inside its cooldown, waiting for its callback, out
//! of attempts or outside calling hours), and every acknowledged outcome must be stored
//! exactly once. A bridged call a dead node left without an end is reported by the checker
//! and fails nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use barnstorm_dispatch::{CallingError, CampaignEvents, Claim, Dispatcher, check_campaign};
use barnstorm_domain::outcome::OutcomeEffect;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_domain::queue_policy::{Callability, ContactQueueState, apply_outcome, callability};
use barnstorm_domain::survey::Answers;
use barnstorm_store::phonebank::{
    CallStart, CampaignSettings, CampaignStatus, JoinKind, LeaseProblem,
};
use barnstorm_store::{GroupKind, Millis, Store, User, both_backends};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

const CONTACTS: usize = 60;
const CALLERS: usize = 4;
const STEPS: usize = 160;
const SEEDS: u64 = 6;
/// Monday 2 March 2026, 09:00 UTC (London is on GMT then).
const START: Millis = 1_772_442_000_000;

#[derive(Default, Clone)]
struct ContactModel {
    /// The latest lease on the contact: (lease id, expires at, ended).
    lease: Option<(i64, Millis, bool)>,
    /// The contact's queue state after the outcomes acknowledged so far.
    queue: ContactQueueState,
}

impl ContactModel {
    /// The queue state the oracle judges, with the live lease if there is one.
    fn state(&self) -> ContactQueueState {
        ContactQueueState {
            lease_expires_at: self
                .lease
                .filter(|(_, _, ended)| !ended)
                .map(|(_, expires, _)| at(expires)),
            ..self.queue.clone()
        }
    }
}

fn at(millis: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(millis).unwrap()
}

struct Caller {
    user: User,
    holding: Option<(i64, i64)>,
}

async fn setup(store: &Store) -> (i64, Vec<Caller>) {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let mut settings = CampaignSettings::new("Property campaign");
    settings.calling_hours = serde_json::from_value(serde_json::json!({
        "time_zone": "Europe/London",
        "days": {
            "monday": {"start": "10:00", "end": "20:00"}, "tuesday": {"start": "10:00", "end": "20:00"},
            "wednesday": {"start": "10:00", "end": "20:00"}, "thursday": {"start": "10:00", "end": "20:00"},
            "friday": {"start": "10:00", "end": "20:00"}, "saturday": {"start": "10:00", "end": "18:00"}
        }
    }))
    .unwrap();
    settings.lease_seconds = 120;
    settings.skip_limit = 10_000;
    let campaign = store
        .create_campaign(group.id, &settings, None)
        .await
        .unwrap();
    store
        .set_campaign_status(campaign.id, CampaignStatus::Live, None)
        .await
        .unwrap();
    let contacts: Vec<_> = (0..CONTACTS)
        .map(|i| barnstorm_domain::contact_import::ImportedContact {
            line: i as u64 + 2,
            first_name: Some(format!("Contact{i}")),
            last_name: None,
            phone_e164: normalise_phone(&format!("020 7946 00{i:02}"), Region::GB).unwrap(),
            other_phone_e164: None,
            email: None,
            postcode: None,
            extra: Default::default(),
            external_ids: Default::default(),
            warnings: Vec::new(),
        })
        .collect();
    store
        .insert_contacts(campaign.id, group.id, &contacts)
        .await
        .unwrap();
    let mut callers = Vec::new();
    for i in 0..CALLERS {
        let user = store
            .create_user(
                &format!("caller{i}@example.org"),
                &format!("Caller {i}"),
                None,
                false,
            )
            .await
            .unwrap();
        store
            .set_membership(group.id, user.id, barnstorm_store::Role::Caller, None)
            .await
            .unwrap();
        callers.push(Caller {
            user,
            holding: None,
        });
    }
    assert_eq!(
        store.queue_counts(campaign.id, START).await.unwrap().total,
        CONTACTS as i64
    );
    (campaign.id, callers)
}

async fn random_interleavings_keep_the_guarantees(store: Store) {
    let dispatcher = Dispatcher::new(store.clone(), CampaignEvents::default());
    let (campaign_id, mut callers) = setup(&store).await;
    let campaign = store.campaign(campaign_id).await.unwrap().unwrap();
    let outcomes: Vec<_> = campaign.settings.outcomes.iter().cloned().collect();
    let mut model: HashMap<i64, ContactModel> = HashMap::new();
    let mut acknowledged: Vec<i64> = Vec::new();
    let mut now = START;

    for seed in 0..SEEDS {
        let mut rng = StdRng::seed_from_u64(seed);
        for step in 0..STEPS {
            let who = rng.random_range(0..CALLERS);
            let action = rng.random_range(0..100);
            let caller = &mut callers[who];
            match (action, caller.holding) {
                (0..=9, _) => now += rng.random_range(1_000..4 * 3_600_000),
                (10..=44, _) => {
                    let lapsed = caller.holding.is_some_and(|(lease, contact)| {
                        model
                            .get(&contact)
                            .and_then(|m| m.lease)
                            .is_none_or(|(l, expires, _)| l != lease || expires <= now)
                    });
                    if lapsed {
                        caller.holding = None;
                    }
                    match dispatcher.claim(&caller.user, campaign_id, now).await {
                        Ok(Claim::Contact { claimed, .. }) => {
                            let id = claimed.contact.id;
                            let entry = model.entry(id).or_default();
                            if let Some((held_lease, _)) = caller.holding {
                                assert_eq!(
                                    held_lease, claimed.lease_id,
                                    "seed {seed} step {step}: a caller holds one contact at a time"
                                );
                                continue;
                            }
                            if entry.lease.is_some_and(|(lease, expires, ended)| {
                                lease == claimed.lease_id && !ended && expires > now
                            }) {
                                // The caller walked away and came back: they resume the contact they hold.
                                caller.holding = Some((claimed.lease_id, id));
                                continue;
                            }
                            let verdict = callability(
                                &entry.state(),
                                &campaign.settings.retry,
                                &campaign.settings.calling_hours,
                                at(now),
                            );
                            assert!(
                                matches!(verdict, Callability::Callable { .. }),
                                "seed {seed} step {step}: contact {id} handed out though {verdict:?}"
                            );
                            entry.lease = Some((claimed.lease_id, claimed.expires_at, false));
                            caller.holding = Some((claimed.lease_id, id));
                        }
                        Ok(Claim::Nothing(report)) => assert!(!report.summary.is_empty()),
                        Err(e) => panic!("seed {seed} step {step}: claim failed: {e}"),
                    }
                }
                (45..=54, Some((lease, contact))) => match dispatcher
                    .heartbeat(&caller.user, lease, &campaign, now)
                    .await
                {
                    Ok(expires) => {
                        model.entry(contact).or_default().lease = Some((lease, expires, false));
                    }
                    Err(CallingError::Lease(LeaseProblem::Expired)) => caller.holding = None,
                    Err(e) => panic!("seed {seed} step {step}: heartbeat failed: {e}"),
                },
                (55..=64, Some((lease, contact))) => {
                    dispatcher
                        .release(&caller.user, lease, campaign_id, now)
                        .await
                        .unwrap();
                    let entry = model.entry(contact).or_default();
                    if entry.lease.is_some_and(|(l, _, _)| l == lease) {
                        entry.lease = Some((lease, now, true));
                    }
                    caller.holding = None;
                }
                (65..=69, Some(_)) => caller.holding = None,
                (70..=99, Some((lease, contact))) => {
                    let outcome = &outcomes[rng.random_range(0..outcomes.len())];
                    let callback_at = (outcome.effect == OutcomeEffect::Callback)
                        .then(|| now + rng.random_range(60_000..48 * 3_600_000));
                    let key = format!("{seed}-{step}-{lease}");
                    let result = dispatcher
                        .record_outcome(
                            &caller.user,
                            &campaign,
                            lease,
                            &key,
                            &outcome.key,
                            &Answers::new(),
                            "",
                            callback_at,
                            now,
                        )
                        .await;
                    caller.holding = None;
                    match result {
                        Ok(recorded) => {
                            acknowledged.push(recorded.attempt_id);
                            let again = dispatcher
                                .record_outcome(
                                    &caller.user,
                                    &campaign,
                                    lease,
                                    &key,
                                    &outcome.key,
                                    &Answers::new(),
                                    "",
                                    callback_at,
                                    now,
                                )
                                .await
                                .unwrap();
                            assert_eq!(
                                again.attempt_id, recorded.attempt_id,
                                "a replay returns the first result"
                            );
                            let entry = model.entry(contact).or_default();
                            entry.lease = Some((lease, now, true));
                            entry.queue = apply_outcome(
                                &entry.queue,
                                outcome.effect,
                                at(now),
                                callback_at.map(at),
                                &campaign.settings.retry,
                            )
                            .unwrap();
                            assert_eq!(
                                store.contact_attempts(contact).await.unwrap(),
                                i64::from(entry.queue.attempts),
                                "seed {seed} step {step}: the stored attempts follow the model"
                            );
                        }
                        Err(CallingError::Lease(LeaseProblem::Expired)) => {}
                        Err(e) => panic!("seed {seed} step {step}: outcome failed: {e}"),
                    }
                }
                _ => {}
            }
        }
    }
    let stored = store.attempt_ids(campaign_id).await.unwrap();
    acknowledged.sort_unstable();
    assert_eq!(
        stored, acknowledged,
        "every acknowledged outcome is stored exactly once, and nothing else"
    );
    assert!(
        acknowledged.len() > 20,
        "the run exercised outcomes ({} recorded)",
        acknowledged.len()
    );

    let report = check_campaign(&store, &campaign, Some(&acknowledged))
        .await
        .unwrap();
    assert!(report.passed, "the checker agrees:\n{report}");
    assert_eq!(report.unacknowledged_stored, 0);
    assert!(
        report.leases > acknowledged.len(),
        "releases and lapses leave leases without outcomes"
    );
    let mut claimed_but_lost = acknowledged.clone();
    claimed_but_lost.push(i64::MAX);
    let report = check_campaign(&store, &campaign, Some(&claimed_but_lost))
        .await
        .unwrap();
    assert!(
        !report.passed,
        "an acknowledged outcome missing from the database fails the check"
    );
    assert_eq!(report.missing_acknowledged, [i64::MAX]);
}

/// A call with no end whose lease expired is listed as accounted for; a call still under
/// a live lease is not; neither fails the check.
async fn a_dead_nodes_call_is_accounted_for(store: Store) {
    let (campaign_id, callers) = setup(&store).await;
    let campaign = store.campaign(campaign_id).await.unwrap().unwrap();
    let year: Millis = 365 * 24 * 3_600_000;
    let mut calls = Vec::new();
    for (caller, claimed_at, lease_ms) in [
        (&callers[0], START + 3_600_000, 120_000),
        (&callers[1], START + 7_200_000, 100 * year),
    ] {
        let session = store
            .open_phone_session(
                campaign_id,
                caller.user.id,
                JoinKind::CallMe,
                "node-a",
                claimed_at,
            )
            .await
            .unwrap();
        let claimed = store
            .claim_next_contact(campaign_id, caller.user.id, claimed_at, lease_ms)
            .await
            .unwrap()
            .unwrap();
        let start = CallStart {
            campaign_id,
            lease_id: claimed.lease_id,
            contact_id: claimed.contact.id,
            caller_id: caller.user.id,
            session_id: session.id,
            node: "node-a".into(),
            now: claimed_at + 1_000,
        };
        calls.push(store.call_dialled(&start).await.unwrap());
    }
    let report = check_campaign(&store, &campaign, None).await.unwrap();
    assert_eq!(report.calls_left_unfinished, [calls[0]]);
    assert!(report.passed, "{report}");
    assert!(
        report
            .to_string()
            .contains("calls left unfinished        1")
    );
}

both_backends! {
    engine_properties => random_interleavings_keep_the_guarantees,
    dead_nodes_call => a_dead_nodes_call_is_accounted_for,
}
