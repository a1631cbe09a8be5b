//! Consent down the group tree: consent given to a group in words that name its local
//! groups counts for the outreach of every group below it (the count and the send, once
//! per person, with the consent nearest the sender); consent to a sub-group never counts
//! for its parent or siblings; consent given under the earlier words, which named the
//! group alone, reaches that group only.

use super::{MANCHESTER, supporter};
use barnstorm_domain::event::{Channel, EventKind, EventStatus, LocationPrecision};
use barnstorm_store::events::{ConsentProof, NewEvent, OutreachRequest, Recipient};
use barnstorm_store::{GroupKind, NewMail, Store, both_backends, now_millis};
use std::sync::{Arc, Mutex};

/// The words the RSVP form shows today for `group`.
fn todays_words(group: &str) -> String {
    Channel::Email.consent_wording(group)
}

async fn consent(store: &Store, email: &str, group: i64, wording: &str) -> i64 {
    let s = store
        .upsert_supporter(&supporter(email, Some(MANCHESTER)))
        .await
        .unwrap();
    let proof = ConsentProof::given("form", "https://example.org/form", wording);
    store
        .grant_consent(s.id, group, Channel::Email, &proof)
        .await
        .unwrap();
    s.id
}

async fn consent_to_a_group_counts_for_the_groups_below_it(store: Store) {
    let group = |parent: Option<i64>, name: &'static str, kind| {
        let store = store.clone();
        async move {
            store
                .create_group(parent, name, kind, "", None)
                .await
                .unwrap()
        }
    };
    let uk = group(None, "Barnstorm UK", GroupKind::National).await;
    let north = group(Some(uk.id), "North", GroupKind::Region).await;
    let leeds = group(Some(north.id), "Leeds", GroupKind::Branch).await;
    let york = group(Some(north.id), "York", GroupKind::Branch).await;
    let ann = consent(&store, "ann@example.org", uk.id, &todays_words(&uk.name)).await;
    consent(
        &store,
        "bo@example.org",
        leeds.id,
        &todays_words(&leeds.name),
    )
    .await;
    consent(
        &store,
        "cy@example.org",
        uk.id,
        "Email me about other events from Barnstorm UK",
    )
    .await;
    consent(&store, "dee@example.org", uk.id, &todays_words(&uk.name)).await;
    consent(
        &store,
        "dee@example.org",
        leeds.id,
        &todays_words(&leeds.name),
    )
    .await;

    let count = |group: i64| {
        let store = store.clone();
        async move {
            store
                .audience_count(group, MANCHESTER, 10.0, None)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count(leeds.id).await,
        3,
        "Ann and Dee through Barnstorm UK, Bo and Dee directly: each once"
    );
    assert_eq!(
        count(uk.id).await,
        3,
        "Ann, Cy (old words) and Dee; Bo's consent to Leeds does not reach up"
    );
    assert_eq!(count(north.id).await, 2, "Ann and Dee through Barnstorm UK");
    assert_eq!(
        count(york.id).await,
        2,
        "a sibling's supporters do not count for York"
    );

    let host = store
        .create_user("host@example.org", "Hana Host", None, false)
        .await
        .unwrap();
    let starts = now_millis() + 3 * 24 * 3_600_000;
    let event = store
        .create_event(
            &NewEvent {
                postcode: Some("LS1 1UR".into()),
                location: Some(MANCHESTER),
                precision: LocationPrecision::Postcode,
                ..NewEvent::new(
                    leeds.id,
                    EventKind::Canvass,
                    "Leeds canvass",
                    starts,
                    starts + 3_600_000,
                )
            },
            EventStatus::Live,
        )
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let record = move |r: &Recipient| {
        kept.lock()
            .unwrap()
            .push((r.email.clone(), r.consent_group_name.clone()));
        NewMail {
            to: r.email.clone(),
            subject: "Canvass".into(),
            body_text: "Join us.".into(),
            ..NewMail::default()
        }
    };
    let request = OutreachRequest {
        event_id: event.id,
        group_id: leeds.id,
        sender_user_id: host.id,
        subject: "Canvass".into(),
        body: "Join us.".into(),
        center: MANCHESTER,
        radius_km: 10.0,
        per_group_daily_cap: 5,
        per_sender_daily_cap: 5,
        per_recipient_window_ms: 0,
        now: now_millis(),
    };
    let sent = store.send_outreach(&request, &record).await.unwrap();
    assert_eq!(
        sent.recipients, 3,
        "the send reaches whom the count counted"
    );
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("ann@example.org".to_owned(), "Barnstorm UK".to_owned()),
            ("bo@example.org".to_owned(), "Leeds".to_owned()),
            ("dee@example.org".to_owned(), "Leeds".to_owned()),
        ],
        "each copy names the consent it relied on, the sender's own first"
    );

    store
        .withdraw_consent(ann, uk.id, Channel::Email, "asked in a test")
        .await
        .unwrap();
    assert_eq!(
        count(leeds.id).await,
        2,
        "withdrawing from Barnstorm UK stops its local groups too"
    );
}

both_backends!(
    consent_to_a_group_counts_for_the_groups_below_it => consent_to_a_group_counts_for_the_groups_below_it,
);
