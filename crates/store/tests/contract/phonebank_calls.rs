//! Bridged calling's records at the store: phone sessions (one open per caller and
//! campaign, a PIN that names one open session), a caller's own number, call records whose
//! moments are written once, a node's unfinished calls closed after it dies, the figures
//! dashboards show, how callers call as a campaign setting, a caller's number and calls
//! found and erased with the rest of them, and call records kept through retention.

use crate::subject_access::{LEASE, T0, contact};
use barnstorm_store::phonebank::{
    Bridging, CallEnd, CallStart, Campaign, CampaignSettings, CampaignStatus, HungUpBy, JoinKind,
};
use barnstorm_store::retention::{RetentionPolicy, RetentionRun};
use barnstorm_store::subject::{Erasure, PersonLookup, PersonQuery};
use barnstorm_store::{GroupKind, Millis, Store, both_backends, now_millis};
use std::collections::BTreeSet;

const SECOND: Millis = 1000;

async fn campaign_with_contacts(store: &Store, n: u64) -> Campaign {
    let group = store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let campaign = store
        .create_campaign(group.id, &CampaignSettings::new("Spring"), None)
        .await
        .unwrap();
    let list: Vec<_> = (1..=n)
        .map(|i| contact(i + 1, &format!("020 7946 0{i:03}"), "Pat", "Doe", None))
        .collect();
    store
        .insert_contacts(campaign.id, group.id, &list)
        .await
        .unwrap();
    campaign
}

async fn user(store: &Store, name: &str) -> i64 {
    let email = format!("{}@example.org", name.to_lowercase().replace(' ', "."));
    store
        .create_user(&email, name, None, false)
        .await
        .unwrap()
        .id
}

/// A second session replaces the first; the PIN finds only the open one; joining and
/// ending keep their first time.
async fn one_open_session_per_caller(store: Store) {
    let campaign = campaign_with_contacts(&store, 1).await;
    let ann = user(&store, "Ann").await;
    let first = store
        .open_phone_session(campaign.id, ann, JoinKind::DialIn, "node-a", T0)
        .await
        .unwrap();
    assert_eq!(first.pin.len(), 6);
    assert!(
        first.pin.bytes().all(|b| b.is_ascii_digit()),
        "{}",
        first.pin
    );
    assert_eq!(first.join, JoinKind::DialIn);
    assert_eq!(first.node, "node-a");
    assert_eq!(
        store.open_phone_session_by_pin(&first.pin).await.unwrap(),
        Some(first.clone())
    );

    let second = store
        .open_phone_session(campaign.id, ann, JoinKind::CallMe, "node-b", T0 + SECOND)
        .await
        .unwrap();
    let replaced = store.phone_session(first.id).await.unwrap().unwrap();
    assert_eq!(replaced.ended_at, Some(T0 + SECOND));
    assert_eq!(replaced.end_reason.as_deref(), Some("replaced"));
    if first.pin != second.pin {
        assert_eq!(
            store.open_phone_session_by_pin(&first.pin).await.unwrap(),
            None
        );
    }
    assert_eq!(
        store
            .open_phone_session_of(campaign.id, ann)
            .await
            .unwrap()
            .map(|s| s.id),
        Some(second.id)
    );

    store
        .phone_session_joined(second.id, T0 + 2 * SECOND)
        .await
        .unwrap();
    store
        .phone_session_joined(second.id, T0 + 9 * SECOND)
        .await
        .unwrap();
    store
        .end_phone_session(second.id, "caller hung up", T0 + 60 * SECOND)
        .await
        .unwrap();
    store
        .end_phone_session(second.id, "again", T0 + 90 * SECOND)
        .await
        .unwrap();
    let ended = store.phone_session(second.id).await.unwrap().unwrap();
    assert_eq!(ended.joined_at, Some(T0 + 2 * SECOND));
    assert_eq!(ended.ended_at, Some(T0 + 60 * SECOND));
    assert_eq!(ended.end_reason.as_deref(), Some("caller hung up"));
    assert_eq!(
        store.open_phone_session_by_pin(&second.pin).await.unwrap(),
        None
    );
    assert_eq!(
        store.open_phone_session_of(campaign.id, ann).await.unwrap(),
        None
    );
    assert_eq!(store.phone_session(9_999).await.unwrap(), None);
}

/// Open sessions of many callers never share a PIN, so a PIN names one caller.
async fn open_sessions_have_distinct_pins(store: Store) {
    let campaign = campaign_with_contacts(&store, 1).await;
    let mut pins = BTreeSet::new();
    for n in 0..40 {
        let caller = user(&store, &format!("Caller {n}")).await;
        let session = store
            .open_phone_session(campaign.id, caller, JoinKind::DialIn, "node-a", T0)
            .await
            .unwrap();
        let found = store
            .open_phone_session_by_pin(&session.pin)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.caller_id, caller);
        pins.insert(session.pin);
    }
    assert_eq!(pins.len(), 40);
}

/// The caller's own number is kept in E.164, replaced, forgotten, and refused when it is
/// not E.164.
async fn a_callers_own_number(store: Store) {
    let ann = user(&store, "Ann").await;
    assert_eq!(store.caller_phone(ann).await.unwrap(), None);
    store
        .set_caller_phone(ann, Some("+441134960001"))
        .await
        .unwrap();
    store
        .set_caller_phone(ann, Some("+442079460002"))
        .await
        .unwrap();
    assert_eq!(
        store.caller_phone(ann).await.unwrap().as_deref(),
        Some("+442079460002")
    );
    assert!(
        store
            .set_caller_phone(ann, Some("020 7946 0002"))
            .await
            .is_err()
    );
    store.set_caller_phone(ann, None).await.unwrap();
    assert_eq!(store.caller_phone(ann).await.unwrap(), None);
}

struct Bridged {
    campaign: Campaign,
    caller: i64,
    session: i64,
    lease_id: i64,
    contact_id: i64,
}

async fn bridged(store: &Store, contacts: u64) -> Bridged {
    let campaign = campaign_with_contacts(store, contacts).await;
    let caller = user(store, "Ann").await;
    let session = store
        .open_phone_session(campaign.id, caller, JoinKind::CallMe, "node-a", T0)
        .await
        .unwrap()
        .id;
    let claimed = store
        .claim_next_contact(campaign.id, caller, T0, LEASE)
        .await
        .unwrap()
        .unwrap();
    Bridged {
        campaign,
        caller,
        session,
        lease_id: claimed.lease_id,
        contact_id: claimed.contact.id,
    }
}

fn start(b: &Bridged, node: &str, now: Millis) -> CallStart {
    CallStart {
        campaign_id: b.campaign.id,
        lease_id: b.lease_id,
        contact_id: b.contact_id,
        caller_id: b.caller,
        session_id: b.session,
        node: node.into(),
        now,
    }
}

fn end(now: Millis, by: HungUpBy, status: Option<u16>) -> CallEnd {
    CallEnd {
        now,
        hung_up_by: by,
        sip_status: status,
        cause: status.map(|s| format!("SIP {s}")),
        proposed_outcome: (status == Some(486)).then(|| "busy".to_owned()),
    }
}

/// A call's ring, answer and end are written once: a repeated event from the SIP agent
/// keeps the first time, and the record reads back as the engine wrote it.
async fn call_moments_are_written_once(store: Store) {
    let b = bridged(&store, 1).await;
    let busy = store.call_dialled(&start(&b, "node-a", T0)).await.unwrap();
    store.call_ringing(busy, T0 + SECOND).await.unwrap();
    store.call_ringing(busy, T0 + 3 * SECOND).await.unwrap();
    store
        .call_ended(busy, &end(T0 + 4 * SECOND, HungUpBy::Contact, Some(486)))
        .await
        .unwrap();
    store
        .call_ended(busy, &end(T0 + 9 * SECOND, HungUpBy::Network, Some(503)))
        .await
        .unwrap();
    let answered = store
        .call_dialled(&start(&b, "node-a", T0 + 10 * SECOND))
        .await
        .unwrap();
    store
        .call_answered(answered, T0 + 14 * SECOND)
        .await
        .unwrap();
    store
        .call_answered(answered, T0 + 15 * SECOND)
        .await
        .unwrap();

    let calls = store.calls_of_lease(b.lease_id).await.unwrap();
    assert_eq!(calls.len(), 2);
    let first = &calls[0];
    assert_eq!(first.id, busy);
    assert_eq!(
        (
            first.campaign_id,
            first.contact_id,
            first.caller_id,
            first.session_id
        ),
        (b.campaign.id, b.contact_id, b.caller, b.session)
    );
    assert_eq!(first.dialled_at, T0);
    assert_eq!(first.ringing_at, Some(T0 + SECOND));
    assert_eq!(first.answered_at, None);
    assert_eq!(first.ended_at, Some(T0 + 4 * SECOND));
    assert_eq!(first.hung_up_by, Some(HungUpBy::Contact));
    assert_eq!(first.sip_status, Some(486));
    assert_eq!(first.cause.as_deref(), Some("SIP 486"));
    assert_eq!(first.proposed_outcome.as_deref(), Some("busy"));
    assert_eq!(calls[1].answered_at, Some(T0 + 14 * SECOND));
    assert_eq!(calls[1].ended_at, None);
    assert!(
        store
            .calls_of_lease(b.lease_id + 1)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A node that restarts finds its own unfinished calls and closes them as ended by the
/// network; other nodes' calls are untouched.
async fn a_dead_nodes_calls_are_closed(store: Store) {
    let b = bridged(&store, 1).await;
    let on_a = store.call_dialled(&start(&b, "node-a", T0)).await.unwrap();
    let done_on_a = store.call_dialled(&start(&b, "node-a", T0)).await.unwrap();
    store
        .call_ended(done_on_a, &end(T0 + SECOND, HungUpBy::Caller, None))
        .await
        .unwrap();
    let on_b = store.call_dialled(&start(&b, "node-b", T0)).await.unwrap();
    let unfinished: Vec<i64> = store
        .unfinished_calls("node-a")
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(unfinished, [on_a]);

    let closed = store
        .close_calls_of_node("node-a", "node restarted", T0 + 60 * SECOND)
        .await
        .unwrap();
    assert_eq!(closed, 1);
    assert!(store.unfinished_calls("node-a").await.unwrap().is_empty());
    let calls = store.calls_of_lease(b.lease_id).await.unwrap();
    let call = |id| calls.iter().find(|c| c.id == id).unwrap();
    assert_eq!(call(on_a).hung_up_by, Some(HungUpBy::Network));
    assert_eq!(call(on_a).cause.as_deref(), Some("node restarted"));
    assert_eq!(call(on_a).ended_at, Some(T0 + 60 * SECOND));
    assert_eq!(call(done_on_a).hung_up_by, Some(HungUpBy::Caller));
    assert_eq!(call(on_b).ended_at, None);
    assert_eq!(store.unfinished_calls("node-b").await.unwrap().len(), 1);
}

/// Talk time adds answer-to-hang-up of ended calls; the connect rate is answered over
/// dialled; only calls since the moment asked about count.
async fn call_figures_add_up(store: Store) {
    let b = bridged(&store, 1).await;
    let empty = store.call_figures(b.campaign.id, T0).await.unwrap();
    assert_eq!((empty.dialled, empty.answered, empty.talk_ms), (0, 0, 0));
    assert_eq!(empty.connect_rate, 0.0);
    assert_eq!(empty.mean_talk_ms, 0);

    let old = store
        .call_dialled(&start(&b, "node-a", T0 - 3_600 * SECOND))
        .await
        .unwrap();
    store.call_answered(old, T0 - 3_590 * SECOND).await.unwrap();
    store
        .call_ended(old, &end(T0 - 3_000 * SECOND, HungUpBy::Contact, None))
        .await
        .unwrap();
    for (offset, talk) in [(0, 90), (200, 30)] {
        let id = store
            .call_dialled(&start(&b, "node-a", T0 + offset * SECOND))
            .await
            .unwrap();
        store
            .call_answered(id, T0 + (offset + 5) * SECOND)
            .await
            .unwrap();
        store
            .call_ended(
                id,
                &end(T0 + (offset + 5 + talk) * SECOND, HungUpBy::Caller, None),
            )
            .await
            .unwrap();
    }
    let still_talking = store
        .call_dialled(&start(&b, "node-a", T0 + 400 * SECOND))
        .await
        .unwrap();
    store
        .call_answered(still_talking, T0 + 405 * SECOND)
        .await
        .unwrap();
    let busy = store
        .call_dialled(&start(&b, "node-a", T0 + 500 * SECOND))
        .await
        .unwrap();
    store
        .call_ended(busy, &end(T0 + 502 * SECOND, HungUpBy::Contact, Some(486)))
        .await
        .unwrap();

    let figures = store.call_figures(b.campaign.id, T0).await.unwrap();
    assert_eq!(figures.dialled, 4);
    assert_eq!(figures.answered, 3);
    assert_eq!(figures.talk_ms, 120 * SECOND);
    assert_eq!(figures.mean_talk_ms, 60 * SECOND);
    assert!((figures.connect_rate - 0.75).abs() < 1e-9, "{figures:?}");
    let all = store.call_figures(b.campaign.id, 0).await.unwrap();
    assert_eq!(all.dialled, 5);
    assert_eq!(all.talk_ms, (120 + 590) * SECOND);
    let other = store.call_figures(b.campaign.id + 1, 0).await.unwrap();
    assert_eq!(other.dialled, 0);
}

/// New campaigns call by phone links only; how callers call and the caller ID are kept.
async fn how_callers_call_is_a_campaign_setting(store: Store) {
    let campaign = campaign_with_contacts(&store, 1).await;
    assert_eq!(campaign.settings.bridging, Bridging::default());
    assert!(campaign.settings.bridging.tel_links);
    assert!(!campaign.settings.bridging.is_bridged());

    let mut settings = campaign.settings.clone();
    settings.bridging = Bridging {
        caller_id: Some("+442079460000".into()),
        call_me: true,
        dial_in: false,
        tel_links: false,
    };
    store
        .update_campaign_settings(campaign.id, &settings, None)
        .await
        .unwrap();
    let stored = store.campaign(campaign.id).await.unwrap().unwrap();
    assert_eq!(stored.settings.bridging, settings.bridging);
    assert!(stored.settings.bridging.is_bridged());
    assert!(stored.settings.bridging.hides_numbers());
}

/// A caller looked up by their own "call me" number is found with their sessions and
/// calls; erasing them deletes the number and keeps the calls' figures.
async fn a_callers_number_and_calls_are_found_and_erased(store: Store) {
    let b = bridged(&store, 1).await;
    store
        .set_caller_phone(b.caller, Some("+441134960777"))
        .await
        .unwrap();
    let call = store.call_dialled(&start(&b, "node-a", T0)).await.unwrap();
    store.call_answered(call, T0 + 5 * SECOND).await.unwrap();
    store
        .call_ended(call, &end(T0 + 65 * SECOND, HungUpBy::Contact, None))
        .await
        .unwrap();

    let query = PersonQuery::parse(None, Some("0113 496 0777"), None, None).unwrap();
    let PersonLookup::Found(records) = store.find_person(&query).await.unwrap() else {
        panic!("the caller is not found by their own number");
    };
    assert_eq!(records.user_ids, [b.caller]);
    assert_eq!(records.rows("caller_phones").len(), 1);
    assert_eq!(records.rows("phone_sessions").len(), 1);
    assert_eq!(records.rows("call_records").len(), 1);

    let Erasure::Erased(_) = store.erase_person(&query, None).await.unwrap() else {
        panic!("the caller was not erased");
    };
    assert_eq!(store.caller_phone(b.caller).await.unwrap(), None);
    assert!(matches!(
        store.find_person(&query).await.unwrap(),
        PersonLookup::Nobody
    ));
    let session = store.phone_session(b.session).await.unwrap().unwrap();
    assert_eq!(session.end_reason.as_deref(), Some("erased"));
    let figures = store.call_figures(b.campaign.id, 0).await.unwrap();
    assert_eq!((figures.dialled, figures.talk_ms), (1, 60 * SECOND));
}

/// A contact's calls are part of what is found about them.
async fn a_contacts_calls_are_found(store: Store) {
    let b = bridged(&store, 1).await;
    store.call_dialled(&start(&b, "node-a", T0)).await.unwrap();
    let query = PersonQuery::parse(None, Some("020 7946 0001"), None, None).unwrap();
    let PersonLookup::Found(records) = store.find_person(&query).await.unwrap() else {
        panic!("the contact is not found");
    };
    assert_eq!(records.contact_ids, [b.contact_id]);
    assert_eq!(records.rows("call_records").len(), 1);
    assert!(records.rows("caller_phones").is_empty());
}

/// Retention empties a finished campaign's contacts the way it does for attempts: their
/// call records stay for talk time and connect rate, and no longer lead to anyone.
async fn retention_keeps_call_records_for_the_figures(store: Store) {
    let b = bridged(&store, 1).await;
    let call = store.call_dialled(&start(&b, "node-a", T0)).await.unwrap();
    store.call_answered(call, T0 + 5 * SECOND).await.unwrap();
    store
        .call_ended(call, &end(T0 + 65 * SECOND, HungUpBy::Caller, None))
        .await
        .unwrap();
    store
        .set_campaign_status(b.campaign.id, CampaignStatus::Finished, None)
        .await
        .unwrap();
    let later = now_millis() + 100 * 24 * 3_600 * SECOND;
    let RetentionRun::Ran(done) = store
        .run_retention(&RetentionPolicy::default(), later)
        .await
        .unwrap()
    else {
        panic!("retention did not run");
    };
    assert_eq!(done.contacts(), 1);
    let query = PersonQuery::parse(None, Some("020 7946 0001"), None, None).unwrap();
    assert!(matches!(
        store.find_person(&query).await.unwrap(),
        PersonLookup::Nobody
    ));
    let calls = store.calls_of_lease(b.lease_id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].contact_id, b.contact_id);
    let figures = store.call_figures(b.campaign.id, 0).await.unwrap();
    assert_eq!((figures.dialled, figures.talk_ms), (1, 60 * SECOND));
}

both_backends! {
    retention_keeps_call_records_for_the_figures => retention_keeps_call_records_for_the_figures,
    one_open_session_per_caller => one_open_session_per_caller,
    open_sessions_have_distinct_pins => open_sessions_have_distinct_pins,
    a_callers_own_number => a_callers_own_number,
    call_moments_are_written_once => call_moments_are_written_once,
    a_dead_nodes_calls_are_closed => a_dead_nodes_calls_are_closed,
    call_figures_add_up => call_figures_add_up,
    how_callers_call_is_a_campaign_setting => how_callers_call_is_a_campaign_setting,
    a_callers_number_and_calls_are_found_and_erased => a_callers_number_and_calls_are_found_and_erased,
    a_contacts_calls_are_found => a_contacts_calls_are_found,
}
