use super::{DAY, MANCHESTER, grant, group, live_event, new_event, rsvp, rsvp_mail, supporter};
use barnstorm_domain::event::{Channel, EventStatus};
use barnstorm_store::AuditAction;
use barnstorm_store::events::{
    BulkSupporter, ConsentOrigin, OutreachError, OutreachRequest, Recipient,
};
use barnstorm_store::{NewMail, Store, both_backends, now_millis};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Salford Quays, about 3.5 km from Manchester city centre.
const SALFORD: (f64, f64) = (53.4714, -2.2958);
/// Liverpool, about 50 km away.
const LIVERPOOL: (f64, f64) = (53.4084, -2.9916);

fn compose(r: &Recipient) -> NewMail {
    let link = format!("https://example.org/unsubscribe/{}", r.unsubscribe_token);
    let mut headers = BTreeMap::new();
    headers.insert("List-Unsubscribe".to_owned(), format!("<{link}>"));
    NewMail {
        to: r.email.clone(),
        subject: "Canvass this Saturday".into(),
        body_text: format!("Hi {},\n\nJoin us.\n\nUnsubscribe: {link}", r.name),
        headers,
        ..Default::default()
    }
}

fn request(event_id: i64, group_id: i64, sender: i64) -> OutreachRequest {
    OutreachRequest {
        event_id,
        group_id,
        sender_user_id: sender,
        subject: "Canvass this Saturday".into(),
        body: "Join us.".into(),
        center: MANCHESTER,
        radius_km: 10.0,
        per_group_daily_cap: 2,
        per_sender_daily_cap: 5,
        // The per-recipient rule has its own test; these repeat sends to the same people.
        per_recipient_window_ms: 0,
        now: now_millis(),
    }
}

async fn person(
    store: &Store,
    email: &str,
    at: (f64, f64),
    group: i64,
    channel: Channel,
) -> String {
    let s = store
        .upsert_supporter(&supporter(email, Some(at)))
        .await
        .unwrap();
    grant(store, s.id, group, channel).await;
    s.unsubscribe_token
}

async fn outreach_reaches_consenting_people_nearby_only(store: Store) {
    let g = group(&store, "Manchester").await;
    let other = group(&store, "Liverpool").await;
    let host = store
        .create_user("host@example.org", "Hana Host", None, false)
        .await
        .unwrap();
    let event = live_event(&store, g, None).await;
    person(&store, "near@example.org", MANCHESTER, g, Channel::Email).await;
    let quays = person(&store, "quays@example.org", SALFORD, g, Channel::Email).await;
    person(&store, "text@example.org", MANCHESTER, g, Channel::Sms).await;
    person(&store, "far@example.org", LIVERPOOL, g, Channel::Email).await;
    person(
        &store,
        "elsewhere@example.org",
        MANCHESTER,
        other,
        Channel::Email,
    )
    .await;
    person(&store, "blocked@example.org", MANCHESTER, g, Channel::Email).await;
    store
        .add_suppression("blocked@example.org", "complained")
        .await
        .unwrap();
    store.claim_due_mail(1000, 60_000).await.unwrap();

    let shown = store
        .audience_count(g, MANCHESTER, 10.0, None)
        .await
        .unwrap();
    assert_eq!(shown, 2);
    let sent = store
        .send_outreach(&request(event.id, g, host.id), &compose)
        .await
        .unwrap();
    assert_eq!(sent.recipients, shown, "the count shown is the count sent");
    let mail = store.claim_due_mail(1000, 60_000).await.unwrap();
    let mut to: Vec<_> = mail.iter().map(|m| m.mail.to.as_str()).collect();
    to.sort();
    assert_eq!(to, ["near@example.org", "quays@example.org"]);
    let quays_mail = mail
        .iter()
        .find(|m| m.mail.to == "quays@example.org")
        .unwrap();
    assert!(quays_mail.mail.headers["List-Unsubscribe"].contains(&quays));

    // The history keeps the count, never the people; the send is audited.
    let history = store.outreach_history(event.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].id, history[0].recipients), (sent.message_id, 2));
    assert_eq!(history[0].sender_name.as_deref(), Some("Hana Host"));
    assert_eq!(history[0].radius_km, 10.0);
    let audit = store.recent_audit(20).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == AuditAction::OutreachSend)
        .unwrap();
    assert_eq!(entry.actor_user_id, Some(host.id));
    assert_eq!(entry.subject, format!("event {}", event.id));
    assert!(entry.detail.contains("10 km") && entry.detail.contains("2 recipients"));
    assert!(!entry.detail.contains('@'));

    // Following the unsubscribe link takes them out of the next message.
    store.unsubscribe(&quays, Some(g)).await.unwrap().unwrap();
    let next = store
        .send_outreach(&request(event.id, g, host.id), &compose)
        .await
        .unwrap();
    assert_eq!(next.recipients, 1);
    assert_eq!(
        store.outreach_history(event.id).await.unwrap()[0].id,
        next.message_id
    );
}

async fn daily_caps_hold_per_group_and_per_sender(store: Store) {
    let g = group(&store, "Manchester").await;
    let other = group(&store, "Salford").await;
    let ann = store
        .create_user("ann@example.org", "Ann", None, false)
        .await
        .unwrap();
    let bo = store
        .create_user("bo@example.org", "Bo", None, false)
        .await
        .unwrap();
    let event = live_event(&store, g, None).await;
    let empty_event = live_event(&store, other, None).await;
    person(&store, "near@example.org", MANCHESTER, g, Channel::Email).await;
    person(
        &store,
        "near@example.org",
        MANCHESTER,
        other,
        Channel::Email,
    )
    .await;

    // Nobody in range: an error that does not use up the allowance.
    let mut far = request(event.id, g, ann.id);
    far.center = LIVERPOOL;
    assert!(matches!(
        store.send_outreach(&far, &compose).await,
        Err(OutreachError::NoRecipients)
    ));
    let missing = request(999_999, g, ann.id);
    assert!(matches!(
        store.send_outreach(&missing, &compose).await,
        Err(OutreachError::EventNotFound)
    ));

    let before = now_millis();
    store
        .send_outreach(&request(event.id, g, ann.id), &compose)
        .await
        .unwrap();
    store
        .send_outreach(&request(event.id, g, bo.id), &compose)
        .await
        .unwrap();
    let err = store
        .send_outreach(&request(event.id, g, bo.id), &compose)
        .await
        .unwrap_err();
    let OutreachError::DailyCapReached {
        scope,
        cap,
        next_allowed_at,
    } = err
    else {
        panic!("expected the group cap, got {err:?}");
    };
    assert_eq!((scope, cap), ("group", 2));
    assert!(next_allowed_at >= before + DAY && next_allowed_at <= now_millis() + DAY);

    // Ann has sent one today; with a sender cap of one she cannot send for another group.
    let mut for_other = request(empty_event.id, other, ann.id);
    for_other.per_sender_daily_cap = 1;
    let err = store.send_outreach(&for_other, &compose).await.unwrap_err();
    assert!(matches!(
        err,
        OutreachError::DailyCapReached {
            scope: "sender",
            cap: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("daily limit"));
    for_other.sender_user_id = bo.id;
    for_other.per_sender_daily_cap = 2;
    store.send_outreach(&for_other, &compose).await.unwrap();
    assert_eq!(store.outreach_history(event.id).await.unwrap().len(), 2);
}

/// The week-long per-recipient window, with the send's time given.
fn weekly(event_id: i64, group_id: i64, sender: i64, now: i64) -> OutreachRequest {
    OutreachRequest {
        per_group_daily_cap: 100,
        per_sender_daily_cap: 100,
        per_recipient_window_ms: 7 * DAY,
        now,
        ..request(event_id, group_id, sender)
    }
}

async fn recipients_hear_from_a_group_once_a_week(store: Store) {
    let g = group(&store, "Manchester").await;
    let other = group(&store, "Salford").await;
    let host = store
        .create_user("host@example.org", "Hana Host", None, false)
        .await
        .unwrap();
    let event = live_event(&store, g, None).await;
    let other_event = live_event(&store, other, None).await;
    person(&store, "ann@example.org", MANCHESTER, g, Channel::Email).await;
    person(&store, "bo@example.org", MANCHESTER, g, Channel::Email).await;
    person(&store, "ann@example.org", MANCHESTER, other, Channel::Email).await;
    let t0 = now_millis();
    let sent = store
        .send_outreach(&weekly(event.id, g, host.id, t0), &compose)
        .await
        .unwrap();
    assert_eq!(sent.recipients, 2);
    person(&store, "cy@example.org", MANCHESTER, g, Channel::Email).await;
    store.claim_due_mail(1000, 60_000).await.unwrap();

    // A day later: the count leaves out who heard from the group, and so does the send.
    let t1 = t0 + DAY;
    let since = Some(t1 - 7 * DAY);
    let everyone = store
        .audience_count(g, MANCHESTER, 10.0, None)
        .await
        .unwrap();
    let shown = store
        .audience_count(g, MANCHESTER, 10.0, since)
        .await
        .unwrap();
    assert_eq!((everyone, shown), (3, 1));
    let sent = store
        .send_outreach(&weekly(event.id, g, host.id, t1), &compose)
        .await
        .unwrap();
    assert_eq!(sent.recipients, shown, "the count shown is the count sent");
    let to: Vec<String> = store
        .claim_due_mail(1000, 60_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.mail.to)
        .collect();
    assert_eq!(to, ["cy@example.org"]);
    assert!(matches!(
        store
            .send_outreach(&weekly(event.id, g, host.id, t1 + 1), &compose)
            .await,
        Err(OutreachError::NoRecipients)
    ));

    // Another group may still write to Ann.
    let sent = store
        .send_outreach(&weekly(other_event.id, other, host.id, t1), &compose)
        .await
        .unwrap();
    assert_eq!(sent.recipients, 1);

    // A week after the first message, Ann and Bo may hear from the group again; Cy not yet.
    let t2 = t0 + 7 * DAY + 1;
    let sent = store
        .send_outreach(&weekly(event.id, g, host.id, t2), &compose)
        .await
        .unwrap();
    assert_eq!(sent.recipients, 2);

    // Housekeeping forgets marks older than the window, and only those: Cy's (day one) is
    // gone at day nine, Ann's and Bo's (day eight) hold them back until day fifteen.
    let t3 = t0 + 9 * DAY;
    assert_eq!(
        store
            .forget_outreach_recipients(t3 - 7 * DAY)
            .await
            .unwrap(),
        2,
        "Cy's mark from this group and Ann's from the other"
    );
    assert_eq!(
        store
            .audience_count(g, MANCHESTER, 10.0, Some(t3 - 7 * DAY))
            .await
            .unwrap(),
        1,
        "only Cy may be mailed again"
    );
}

async fn only_live_events_of_the_group_can_be_promoted(store: Store) {
    let g = group(&store, "Manchester").await;
    let other = group(&store, "Salford").await;
    let host = store
        .create_user("host@example.org", "Hana Host", None, false)
        .await
        .unwrap();
    person(&store, "ann@example.org", MANCHESTER, g, Channel::Email).await;
    let starts = now_millis() + 3 * DAY;
    let pending = store
        .create_event(&new_event(g, starts, None), EventStatus::Pending)
        .await
        .unwrap();
    let err = store
        .send_outreach(&request(pending.id, g, host.id), &compose)
        .await
        .unwrap_err();
    assert!(
        matches!(err, OutreachError::EventNotLive(EventStatus::Pending)),
        "{err:?}"
    );
    assert!(err.to_string().contains("only published events"));
    // An event of another group cannot be used to write to this group's supporters.
    let elsewhere = live_event(&store, other, None).await;
    assert!(matches!(
        store
            .send_outreach(&request(elsewhere.id, g, host.id), &compose)
            .await,
        Err(OutreachError::EventNotFound)
    ));
    // Approved, it can; cancelled again, it cannot.
    store
        .set_event_status(pending.id, EventStatus::Live, "", None, &|_| None)
        .await
        .unwrap();
    store
        .send_outreach(&request(pending.id, g, host.id), &compose)
        .await
        .unwrap();
    store
        .set_event_status(pending.id, EventStatus::Cancelled, "", None, &|_| None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .send_outreach(&request(pending.id, g, host.id), &compose)
            .await,
        Err(OutreachError::EventNotLive(EventStatus::Cancelled))
    ));
}

async fn each_recipient_carries_where_their_consent_came_from(store: Store) {
    let g = group(&store, "Manchester").await;
    let host = store
        .create_user("host@example.org", "Hana Host", None, false)
        .await
        .unwrap();
    let event = live_event(&store, g, None).await;
    store
        .create_rsvp(
            &rsvp(event.id, "rita@example.org", &[Channel::Email]),
            &rsvp_mail,
        )
        .await
        .unwrap();
    store
        .insert_supporters_bulk(
            g,
            &[BulkSupporter {
                email: "ivo@example.org".into(),
                name: "Ivo".into(),
                postcode: "M1".into(),
                location: MANCHESTER,
            }],
            &barnstorm_store::events::BulkSource {
                name: "test data",
                wording: "Email me about events",
                collected_by: None,
            },
        )
        .await
        .unwrap();
    person(&store, "fay@example.org", MANCHESTER, g, Channel::Email).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let record = move |r: &Recipient| {
        kept.lock().unwrap().push((
            r.email.clone(),
            r.consent_origin.clone(),
            r.consent_given_at,
        ));
        compose(r)
    };
    store
        .send_outreach(&request(event.id, g, host.id), &record)
        .await
        .unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let origins: Vec<(&str, &ConsentOrigin)> =
        seen.iter().map(|(e, o, _)| (e.as_str(), o)).collect();
    assert_eq!(
        origins,
        [
            ("fay@example.org", &ConsentOrigin::Recorded("form".into())),
            ("ivo@example.org", &ConsentOrigin::BulkImport),
            (
                "rita@example.org",
                &ConsentOrigin::RsvpForm {
                    event_id: event.id,
                    event_title: Some(event.title.clone()),
                }
            ),
        ]
    );
    assert!(seen.iter().all(|(_, _, at)| *at > 0));
}

both_backends!(
    outreach_reaches_consenting_people_nearby_only => outreach_reaches_consenting_people_nearby_only,
    daily_caps_hold_per_group_and_per_sender => daily_caps_hold_per_group_and_per_sender,
    recipients_hear_from_a_group_once_a_week => recipients_hear_from_a_group_once_a_week,
    only_live_events_of_the_group_can_be_promoted => only_live_events_of_the_group_can_be_promoted,
    each_recipient_carries_where_their_consent_came_from => each_recipient_carries_where_their_consent_came_from,
);
