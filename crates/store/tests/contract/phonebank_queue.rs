use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{
    Campaign, CampaignSettings, ClaimedContact, LeaseProblem, OutcomeRecord, RecordedOutcome,
};
use barnstorm_store::testing::TestDatabase;
use barnstorm_store::{GroupKind, Millis, Store, StoreOptions, both_backends};
use std::collections::BTreeMap;

pub(crate) const T0: Millis = 1_750_000_000_000;
pub(crate) const MINUTE: Millis = 60_000;
const LEASE: Millis = 10 * MINUTE;

fn contact(line: u64, nnn: u32) -> ImportedContact {
    ImportedContact {
        line,
        first_name: Some(format!("First{line}")),
        last_name: None,
        phone_e164: normalise_phone(&format!("020 7946 0{nnn:03}"), Region::GB).unwrap(),
        other_phone_e164: None,
        email: None,
        postcode: None,
        extra: BTreeMap::new(),
        external_ids: Default::default(),
        warnings: Vec::new(),
    }
}

pub(crate) struct World {
    pub(crate) store: Store,
    pub(crate) campaign: Campaign,
    pub(crate) a: i64,
    pub(crate) b: i64,
}

/// A campaign with `contacts` numbers (020 7946 0001, 0002, …), at most 2 attempts each,
/// and two callers.
pub(crate) async fn world(store: Store, contacts: u32) -> World {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let campaign = campaign_in(&store, group.id, contacts).await;
    let a = store
        .create_user("a@example.org", "Ann", None, false)
        .await
        .unwrap()
        .id;
    let b = store
        .create_user("b@example.org", "Bob", None, false)
        .await
        .unwrap()
        .id;
    World {
        store,
        campaign,
        a,
        b,
    }
}

pub(crate) async fn campaign_in(store: &Store, group_id: i64, contacts: u32) -> Campaign {
    let mut settings = CampaignSettings::new("Spring");
    settings.retry.max_attempts = 2;
    settings.retry.min_minutes_between_attempts = 30;
    let campaign = store
        .create_campaign(group_id, &settings, None)
        .await
        .unwrap();
    let list: Vec<_> = (1..=contacts)
        .map(|n| contact(u64::from(n) + 1, n))
        .collect();
    store
        .insert_contacts(campaign.id, group_id, &list)
        .await
        .unwrap();
    campaign
}

impl World {
    pub(crate) async fn claim(&self, caller: i64, now: Millis) -> Option<ClaimedContact> {
        self.claim_in(&self.campaign, caller, now).await
    }

    pub(crate) async fn claim_in(
        &self,
        campaign: &Campaign,
        caller: i64,
        now: Millis,
    ) -> Option<ClaimedContact> {
        self.store
            .claim_next_contact(campaign.id, caller, now, LEASE)
            .await
            .unwrap()
    }

    pub(crate) async fn record(
        &self,
        lease_id: i64,
        caller: i64,
        outcome: &str,
        callback_at: Option<Millis>,
        now: Millis,
    ) -> Result<RecordedOutcome, LeaseProblem> {
        let key = format!("{lease_id}-{outcome}-{now}");
        let record = OutcomeRecord {
            idempotency_key: &key,
            callback_at,
            ..self.outcome_record(lease_id, caller, outcome, now)
        };
        self.store.record_outcome(&record).await
    }

    /// `outcome` on `lease_id` by `caller` at `now`, without answers, notes or key.
    pub(crate) fn outcome_record(
        &self,
        lease_id: i64,
        caller: i64,
        outcome: &str,
        now: Millis,
    ) -> OutcomeRecord<'_> {
        let settings = &self.campaign.settings;
        OutcomeRecord {
            lease_id,
            caller_id: caller,
            idempotency_key: "",
            outcome: settings.outcomes.get(outcome).unwrap(),
            answers_json: "{}",
            notes: "",
            callback_at: None,
            retry: &settings.retry,
            group_id: self.campaign.group_id,
            campaign_id: self.campaign.id,
            do_not_call_per_hour: 10,
            now,
        }
    }
}

async fn two_claims_get_different_contacts(store: Store) {
    let w = world(store, 2).await;
    let first = w.claim(w.a, T0).await.unwrap();
    let second = w.claim(w.b, T0).await.unwrap();
    assert_ne!(first.contact.id, second.contact.id);
    assert_eq!(first.expires_at, T0 + LEASE);
    assert!(
        w.claim(w.a, T0 + 1).await.is_none(),
        "both contacts are leased"
    );
    let counts = w.store.queue_counts(w.campaign.id, T0 + 1).await.unwrap();
    assert_eq!((counts.leased, counts.ready), (2, 0));
}

async fn leases_expire_heartbeat_and_release(store: Store) {
    let w = world(store, 1).await;
    let held = w.claim(w.a, T0).await.unwrap();
    assert!(matches!(
        w.store
            .heartbeat_lease(held.lease_id, w.b, T0 + MINUTE, LEASE)
            .await,
        Err(LeaseProblem::NotYours)
    ));
    let extended = w
        .store
        .heartbeat_lease(held.lease_id, w.a, T0 + 5 * MINUTE, LEASE)
        .await
        .unwrap();
    assert_eq!(extended, T0 + 15 * MINUTE);
    assert!(
        w.claim(w.b, T0 + 12 * MINUTE).await.is_none(),
        "the heartbeat kept the lease past its first expiry"
    );
    let taken = w
        .claim(w.b, T0 + 15 * MINUTE)
        .await
        .expect("an expired lease frees its contact");
    assert_eq!(taken.contact.id, held.contact.id);
    assert!(matches!(
        w.store
            .heartbeat_lease(held.lease_id, w.a, T0 + 16 * MINUTE, LEASE)
            .await,
        Err(LeaseProblem::Expired)
    ));
    assert!(matches!(
        w.record(held.lease_id, w.a, "spoke", None, T0 + 16 * MINUTE)
            .await,
        Err(LeaseProblem::Expired)
    ));

    w.store
        .release_lease(taken.lease_id, w.b, T0 + 16 * MINUTE)
        .await
        .unwrap();
    let back = w
        .claim(w.a, T0 + 16 * MINUTE)
        .await
        .expect("a released contact is claimable at once");
    assert_eq!(
        (back.contact.id, back.contact.attempts),
        (held.contact.id, 0)
    );
    assert!(matches!(
        w.record(taken.lease_id, w.b, "spoke", None, T0 + 17 * MINUTE)
            .await,
        Err(LeaseProblem::Released)
    ));
}

async fn a_late_outcome_counts_while_nobody_took_the_contact(store: Store) {
    let w = world(store, 1).await;
    let held = w.claim(w.a, T0).await.unwrap();
    let recorded = w
        .record(held.lease_id, w.a, "spoke", None, T0 + LEASE + MINUTE)
        .await
        .unwrap();
    assert!(!recorded.replayed);
    assert!(
        w.claim(w.b, T0 + LEASE + 2 * MINUTE).await.is_none(),
        "spoke finishes the contact"
    );
}

async fn retries_wait_for_their_cooldown_and_stop_at_max_attempts(store: Store) {
    let w = world(store, 1).await;
    let cooldown = 4 * 60 * MINUTE; // no_answer in the UK default set
    let first = w.claim(w.a, T0).await.unwrap();
    w.record(first.lease_id, w.a, "no_answer", None, T0 + MINUTE)
        .await
        .unwrap();
    assert!(w.claim(w.a, T0 + 2 * MINUTE).await.is_none());
    assert!(
        w.claim(w.a, T0 + MINUTE + cooldown - 1).await.is_none(),
        "not before the cooldown ends"
    );
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + 2 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        (counts.cooling_down, counts.next_available_at),
        (1, Some(T0 + MINUTE + cooldown))
    );
    let second = w
        .claim(w.b, T0 + MINUTE + cooldown)
        .await
        .expect("back after the cooldown");
    assert_eq!(
        (
            second.contact.attempts,
            second.contact.last_outcome.as_deref()
        ),
        (1, Some("no_answer"))
    );
    w.record(
        second.lease_id,
        w.b,
        "no_answer",
        None,
        T0 + cooldown + 2 * MINUTE,
    )
    .await
    .unwrap();
    assert!(
        w.claim(w.a, T0 + 10 * cooldown).await.is_none(),
        "two attempts is the maximum"
    );
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + 10 * cooldown)
        .await
        .unwrap();
    assert_eq!((counts.finished, counts.called), (1, 1));
}

async fn a_callback_comes_back_first_at_its_time(store: Store) {
    let w = world(store, 3).await;
    let first = w.claim(w.a, T0).await.unwrap();
    let at = T0 + 60 * MINUTE;
    w.record(first.lease_id, w.a, "callback", Some(at), T0 + MINUTE)
        .await
        .unwrap();
    let before = w.claim(w.a, at - 1).await.unwrap();
    assert_ne!(before.contact.id, first.contact.id, "not before its time");
    let due = w.claim(w.b, at).await.unwrap();
    assert_eq!(
        due.contact.id, first.contact.id,
        "a due callback goes before never-called contacts"
    );
    assert_eq!(due.contact.callback_at, Some(at));
    assert!(matches!(
        w.record(due.lease_id, w.b, "callback", None, at + MINUTE)
            .await,
        Err(LeaseProblem::MissingCallbackTime)
    ));
}

async fn outcomes_are_idempotent_per_key(store: Store) {
    let w = world(store, 2).await;
    let held = w.claim(w.a, T0).await.unwrap();
    let record = |lease_id, key: &'static str| {
        let w = &w;
        async move {
            let settings = &w.campaign.settings;
            w.store
                .record_outcome(&OutcomeRecord {
                    lease_id,
                    caller_id: w.a,
                    idempotency_key: key,
                    outcome: settings.outcomes.get("spoke").unwrap(),
                    answers_json: "{}",
                    notes: "",
                    callback_at: None,
                    retry: &settings.retry,
                    group_id: w.campaign.group_id,
                    campaign_id: w.campaign.id,
                    do_not_call_per_hour: 10,
                    now: T0 + MINUTE,
                })
                .await
        }
    };
    let first = record(held.lease_id, "k").await.unwrap();
    let again = record(held.lease_id, "k").await.unwrap();
    assert!(again.replayed);
    assert_eq!(first.attempt_id, again.attempt_id);
    assert!(matches!(
        record(held.lease_id, "k2").await,
        Err(LeaseProblem::AlreadyRecorded)
    ));
    let other = w.claim(w.a, T0 + 2 * MINUTE).await.unwrap();
    assert!(matches!(
        record(other.lease_id, "k").await,
        Err(LeaseProblem::KeyReused)
    ));
    assert_eq!(w.store.attempt_ids(w.campaign.id).await.unwrap().len(), 1);
}

async fn do_not_call_suppresses_the_number_across_the_group(store: Store) {
    let w = world(store, 1).await;
    let sibling = campaign_in(&w.store, w.campaign.group_id, 1).await;
    let elsewhere_group = w
        .store
        .create_group(None, "York", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let elsewhere = campaign_in(&w.store, elsewhere_group.id, 1).await;
    let held = w.claim(w.a, T0).await.unwrap();
    w.record(held.lease_id, w.a, "do_not_call", None, T0 + MINUTE)
        .await
        .unwrap();
    let entry = w
        .store
        .do_not_call_entry(w.campaign.group_id, &held.contact.phone)
        .await
        .unwrap()
        .expect("the number is on the group's do-not-call list");
    assert_eq!(entry.reason, "asked not to be called");
    assert_eq!(entry.created_at, T0 + MINUTE, "dated by the call");
    assert_eq!(
        (entry.campaign_id, entry.added_by),
        (Some(w.campaign.id), Some(w.a)),
        "the campaign and caller whose call it came from"
    );
    assert_eq!(
        entry.campaign_name.as_deref(),
        Some(w.campaign.settings.name.as_str())
    );
    assert!(
        w.claim_in(&sibling, w.b, T0 + 2 * MINUTE).await.is_none(),
        "the same number in the group's other campaign"
    );
    assert_eq!(
        w.store
            .queue_counts(sibling.id, T0 + 2 * MINUTE)
            .await
            .unwrap()
            .suppressed,
        1
    );
    assert!(
        w.claim_in(&elsewhere, w.b, T0 + 2 * MINUTE).await.is_some(),
        "another group's list is its own"
    );
}

async fn stats_count_calls_answers_and_callers(store: Store) {
    let mut w = world(store, 3).await;
    let mut settings = w.campaign.settings.clone();
    settings.survey = serde_json::from_value(serde_json::json!({"questions": [
        {"key": "support", "label": "Support?", "kind": {"type": "single_choice", "options": [
            {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]}},
        {"key": "issues", "label": "Issues?", "kind": {"type": "multiple_choice", "options": [
            {"key": "nhs", "label": "NHS"}, {"key": "housing", "label": "Housing"}]}},
        {"key": "why", "label": "Why?", "kind": {"type": "free_text", "max_len": 100}}
    ]}))
    .unwrap();
    w.campaign = w
        .store
        .update_campaign_settings(w.campaign.id, &settings, None)
        .await
        .unwrap();
    let one = w.claim(w.a, T0).await.unwrap();
    w.store
        .record_outcome(&OutcomeRecord {
            lease_id: one.lease_id,
            caller_id: w.a,
            idempotency_key: "s1",
            outcome: w.campaign.settings.outcomes.get("spoke").unwrap(),
            answers_json: r#"{"support":"yes","issues":["nhs","housing"]}"#,
            notes: "",
            callback_at: None,
            retry: &w.campaign.settings.retry,
            group_id: w.campaign.group_id,
            campaign_id: w.campaign.id,
            do_not_call_per_hour: 10,
            now: T0 + MINUTE,
        })
        .await
        .unwrap();
    let two = w.claim(w.b, T0 + 2 * MINUTE).await.unwrap();
    w.record(two.lease_id, w.b, "no_answer", None, T0 + 3 * MINUTE)
        .await
        .unwrap();
    w.claim(w.b, T0 + 4 * MINUTE).await.unwrap();

    let stats = w
        .store
        .campaign_stats(w.campaign.id, T0 + 5 * MINUTE)
        .await
        .unwrap();
    assert_eq!(
        (
            stats.callers_online,
            stats.calls_last_hour,
            stats.conversations
        ),
        (2, 2, 1)
    );
    assert_eq!(stats.outcomes.get("spoke"), Some(&1));
    assert_eq!(stats.calls_per_hour.len(), 24);
    assert_eq!(stats.calls_per_hour.iter().map(|h| h.calls).sum::<i64>(), 2);
    assert_eq!(
        (
            stats.progress.total,
            stats.progress.called,
            stats.progress.finished,
            stats.progress.remaining
        ),
        (3, 2, 1, 2)
    );
    assert_eq!(
        stats.survey["support"],
        BTreeMap::from([("yes".to_owned(), 1)])
    );
    assert_eq!(
        stats.survey["issues"],
        BTreeMap::from([("nhs".to_owned(), 1), ("housing".to_owned(), 1)])
    );
    assert!(
        !stats.survey.contains_key("why"),
        "free text is not tallied"
    );
    assert_eq!(stats.callers.len(), 2);
    let later = w
        .store
        .campaign_stats(w.campaign.id, T0 + 3 * 60 * MINUTE)
        .await
        .unwrap();
    assert_eq!((later.callers_online, later.calls_last_hour), (0, 0));
    let ann = w.store.caller_stats(w.campaign.id, w.a, T0).await.unwrap();
    assert_eq!((ann.calls, ann.conversations), (1, 1));
    let top = w.store.leaderboard(w.campaign.id, T0, 1).await.unwrap();
    assert_eq!(
        (top.len(), top[0].name.as_str(), top[0].conversations),
        (1, "Ann", 1)
    );
    assert_eq!(
        w.store.lease_campaign_id(one.lease_id).await.unwrap(),
        Some(w.campaign.id)
    );
    assert_eq!(w.store.lease_campaign_id(999_999).await.unwrap(), None);
    let page = w
        .store
        .campaign_results_page(w.campaign.id, 0, 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(
        page[0].answers.get("support"),
        Some(&serde_json::json!("yes"))
    );
    assert_eq!(
        w.store
            .campaign_attempts_page(w.campaign.id, 0, 10)
            .await
            .unwrap()[0]
            .caller_name,
        "Ann"
    );
}

/// Many callers at once (on SQLite the queue writer commits them in shared
/// transactions): every claim gets its own contact, and an outcome refused for one caller
/// takes nothing away from the others recorded beside it.
async fn simultaneous_claims_and_outcomes_stand_alone(store: Store) {
    let w = world(store, 60).await;
    let mut callers = Vec::new();
    for n in 0..80 {
        let user = w
            .store
            .create_user(&format!("caller{n}@example.org"), "Caller", None, false)
            .await
            .unwrap();
        callers.push(user.id);
    }
    let mut claims = tokio::task::JoinSet::new();
    for &caller in &callers {
        let store = w.store.clone();
        let campaign_id = w.campaign.id;
        claims.spawn(async move {
            let claimed = store
                .claim_next_contact(campaign_id, caller, T0, LEASE)
                .await
                .unwrap();
            (caller, claimed)
        });
    }
    let held: Vec<(i64, ClaimedContact)> = claims
        .join_all()
        .await
        .into_iter()
        .filter_map(|(caller, claimed)| claimed.map(|c| (caller, c)))
        .collect();
    let contacts: std::collections::BTreeSet<i64> =
        held.iter().map(|(_, c)| c.contact.id).collect();
    assert_eq!(
        (held.len(), contacts.len()),
        (60, 60),
        "one contact per claim, 20 left empty-handed"
    );

    let mut outcomes = tokio::task::JoinSet::new();
    for (i, (caller, claimed)) in held.into_iter().enumerate() {
        let store = w.store.clone();
        let campaign = w.campaign.clone();
        // Every third request comes from someone who does not hold the lease.
        let sender = if i % 3 == 0 { w.a } else { caller };
        outcomes.spawn(async move {
            let settings = &campaign.settings;
            let key = format!("call-{}", claimed.lease_id);
            let result = store
                .record_outcome(&OutcomeRecord {
                    lease_id: claimed.lease_id,
                    caller_id: sender,
                    idempotency_key: &key,
                    outcome: settings.outcomes.get("spoke").unwrap(),
                    answers_json: "{}",
                    notes: "",
                    callback_at: None,
                    retry: &settings.retry,
                    group_id: campaign.group_id,
                    campaign_id: campaign.id,
                    do_not_call_per_hour: 10,
                    now: T0 + MINUTE,
                })
                .await;
            (sender == caller, result)
        });
    }
    let mut recorded = 0;
    for (own_lease, result) in outcomes.join_all().await {
        if own_lease {
            result.unwrap();
            recorded += 1;
        } else {
            assert!(matches!(result, Err(LeaseProblem::NotYours)), "{result:?}");
        }
    }
    assert_eq!(recorded, 40);
    let stored = w.store.attempt_ids(w.campaign.id).await.unwrap();
    assert_eq!(
        stored.len(),
        40,
        "every acknowledged outcome, and only those, is stored"
    );
    let counts = w
        .store
        .queue_counts(w.campaign.id, T0 + MINUTE)
        .await
        .unwrap();
    assert_eq!((counts.finished, counts.leased), (40, 20));
}

both_backends! {
    simultaneous_claims => simultaneous_claims_and_outcomes_stand_alone,
    no_double_lease => two_claims_get_different_contacts,
    lease_lifecycle => leases_expire_heartbeat_and_release,
    late_outcome => a_late_outcome_counts_while_nobody_took_the_contact,
    retry_cooldown => retries_wait_for_their_cooldown_and_stop_at_max_attempts,
    callback_priority => a_callback_comes_back_first_at_its_time,
    idempotent_outcomes => outcomes_are_idempotent_per_key,
    do_not_call => do_not_call_suppresses_the_number_across_the_group,
    stats => stats_count_calls_answers_and_callers,
}

/// Two nodes (two stores on one database) claiming from one campaign at once, each
/// batching its own callers' claims: 80 claims for 60 contacts hand out each contact once
/// and leave 20 callers empty-handed.
async fn two_nodes_claiming_at_once_never_lease_a_contact_twice(db: TestDatabase) {
    let second = Store::connect(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let w = world(db.store.clone(), 60).await;
    let mut claims = tokio::task::JoinSet::new();
    for n in 0..80 {
        let caller = w
            .store
            .create_user(&format!("node{n}@example.org"), "Caller", None, false)
            .await
            .unwrap()
            .id;
        let store = if n % 2 == 0 {
            w.store.clone()
        } else {
            second.clone()
        };
        let campaign_id = w.campaign.id;
        claims.spawn(async move {
            store
                .claim_next_contact(campaign_id, caller, T0, LEASE)
                .await
                .unwrap()
        });
    }
    let held: Vec<ClaimedContact> = claims.join_all().await.into_iter().flatten().collect();
    let contacts: std::collections::BTreeSet<i64> = held.iter().map(|c| c.contact.id).collect();
    assert_eq!(
        (held.len(), contacts.len()),
        (60, 60),
        "each contact handed out once across both nodes"
    );
    second.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_claiming_at_once_on_sqlite() {
    two_nodes_claiming_at_once_never_lease_a_contact_twice(TestDatabase::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_claiming_at_once_on_postgres() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    two_nodes_claiming_at_once_never_lease_a_contact_twice(db).await;
}
