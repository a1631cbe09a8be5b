//! "Contact people in their area": who may send, who receives (consent, place,
//! suppression), the count shown equals the mail queued, caps, the audit entry, the
//! `List-Unsubscribe` headers and unsubscribing (GET changes nothing, POST does, one-click
//! POST needs no CSRF token).

use crate::app::{Browser, TestApp, TestResponse};
use crate::meetups::{live, new_event};
use crate::on_both;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use barnstorm_domain::event::{Channel, EventKind};
use barnstorm_store::AuditAction;
use barnstorm_store::events::{Event, NewSupporter, Supporter};
use barnstorm_store::{Group, GroupKind, OutboxMail, Role, User, now_millis};
use barnstorm_web::auth::{hash_secret, new_secret};

/// District centres used for supporters (latitude, longitude).
const M1: (f64, f64) = (53.4794, -2.2453);
const M13: (f64, f64) = (53.4609, -2.2146);
/// About 8 km north of M1.
const EIGHT_KM_NORTH: (f64, f64) = (53.5514, -2.2453);
/// Liverpool, about 50 km west.
const L1: (f64, f64) = (53.4038, -2.9808);

struct World {
    uk: Group,
    other: Group,
    organiser: User,
    event: Event,
}

async fn world(app: &TestApp) -> World {
    let organiser = app.user("org@example.org", "Olu Organiser", false).await;
    let uk = app
        .store
        .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let other = app
        .store
        .create_group(None, "Another Movement", GroupKind::National, "", None)
        .await
        .unwrap();
    app.store
        .set_membership(uk.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    let event = live(app, &new_event(uk.id, None, EventKind::Canvass, 4)).await;
    World {
        uk,
        other,
        organiser,
        event,
    }
}

async fn supporter(
    app: &TestApp,
    email: &str,
    at: (f64, f64),
    consents: &[(i64, Channel)],
) -> Supporter {
    let s = app
        .store
        .upsert_supporter(&NewSupporter {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            postcode: None,
            location: Some(at),
            phone: None,
        })
        .await
        .unwrap();
    for (group, channel) in consents {
        app.store
            .grant_consent(
                s.id,
                *group,
                *channel,
                &barnstorm_store::events::ConsentProof::given(
                    "test",
                    "https://example.org/form",
                    "Email me about events",
                ),
            )
            .await
            .unwrap();
    }
    s
}

fn form<'a>(subject: &'a str, radius: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("subject", subject),
        (
            "message",
            "Come canvassing with us on Saturday!\nBring a friend.",
        ),
        ("radius_km", radius),
    ]
}

async fn queued(app: &TestApp) -> Vec<OutboxMail> {
    app.store.claim_due_mail(10_000, 60_000).await.unwrap()
}

async fn open(browser: &mut Browser<'_>, event_id: i64) -> TestResponse {
    let page = browser.get(&format!("/events/{event_id}/outreach")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

async fn only_consenting_supporters_nearby_get_the_message(app: TestApp) {
    let w = world(&app).await;
    let email = (w.uk.id, Channel::Email);
    let near = supporter(&app, "near@example.org", M1, &[email]).await;
    let close = supporter(&app, "close@example.org", M13, &[email]).await;
    supporter(&app, "noconsent@example.org", M1, &[]).await;
    supporter(
        &app,
        "othergroup@example.org",
        M1,
        &[(w.other.id, Channel::Email)],
    )
    .await;
    supporter(&app, "smsonly@example.org", M1, &[(w.uk.id, Channel::Sms)]).await;
    supporter(&app, "far@example.org", L1, &[email]).await;
    supporter(&app, "north@example.org", EIGHT_KM_NORTH, &[email]).await;
    supporter(&app, "suppressed@example.org", M1, &[email]).await;
    app.store
        .add_suppression("suppressed@example.org", "bounced")
        .await
        .unwrap();

    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = open(&mut browser, w.event.id).await;
    assert!(page.body.contains("Count recipients"));
    let base = format!("/events/{}/outreach", w.event.id);

    // Without JavaScript the count comes back on the whole page, with the message kept.
    let counted = browser
        .submit(
            &page,
            &format!("{base}/count"),
            &form("Canvass on Saturday", "5"),
        )
        .await;
    assert_eq!(counted.status, StatusCode::OK);
    assert!(
        counted
            .body
            .contains("2 supporters within 5 km have agreed to hear from Barnstorm UK by email."),
        "{}",
        counted.body
    );
    assert!(counted.body.contains("value=\"Canvass on Saturday\""));
    for hidden in ["near@", "close@", "noconsent", "far@", "north@"] {
        assert!(
            !counted.body.contains(hidden),
            "the sender never sees who: {hidden}"
        );
    }
    let wider = browser
        .submit(&page, &format!("{base}/count"), &form("x", "10"))
        .await;
    assert!(
        wider.body.contains("3 supporters within 10 km"),
        "{}",
        wider.body
    );
    let silly = browser
        .submit(&page, &format!("{base}/count"), &form("x", "500"))
        .await;
    assert!(
        silly
            .body
            .contains("Radius: give a distance in km from 1 to 50")
    );

    // The confirmation repeats the count; sending queues exactly that many mails.
    let confirm = browser
        .submit(
            &page,
            &format!("{base}/confirm"),
            &form("Canvass on Saturday", "5"),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("Send to 2 supporters"),
        "{}",
        confirm.body
    );
    let sent = browser
        .submit(
            &confirm,
            &format!("{base}/send"),
            &form("Canvass on Saturday", "5"),
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let after = browser.get(&base).await;
    assert!(
        after.body.contains("Sent to 2 supporters"),
        "{}",
        after.body
    );

    let mails = queued(&app).await;
    let mut to: Vec<&str> = mails.iter().map(|m| m.mail.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["close@example.org", "near@example.org"]);
    for mail in &mails {
        let token = if mail.mail.to == near.email {
            &near.unsubscribe_token
        } else {
            &close.unsubscribe_token
        };
        let link = format!(
            "http://barnstorm.test/unsubscribe/{token}?group={}",
            w.uk.id
        );
        assert_eq!(mail.mail.headers["List-Unsubscribe"], format!("<{link}>"));
        assert_eq!(
            mail.mail.headers["List-Unsubscribe-Post"],
            "List-Unsubscribe=One-Click"
        );
        let body = &mail.mail.body_text;
        assert_eq!(mail.mail.subject, "Barnstorm UK: Canvass on Saturday");
        assert!(body.contains("Come canvassing with us on Saturday!\nBring a friend."));
        assert!(body.contains(&w.event.title));
        assert!(body.contains(&format!("http://barnstorm.test/events/{}", w.event.id)));
        assert!(
            body.contains("Friends Meeting House, Mount Street, M1"),
            "{body}"
        );
        assert!(
            body.contains("Barnstorm UK recorded on"),
            "says where the consent came from: {body}"
        );
        assert!(body.contains("Olu Organiser sent this message for Barnstorm UK"));
        assert!(body.contains(&format!("Unsubscribe: {link}")));
    }

    // The send is audited (with the count, not the people) and listed in the history.
    let audit = app.store.recent_audit(20).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == AuditAction::OutreachSend)
        .expect("an outreach.send audit entry");
    assert_eq!(entry.actor_user_id, Some(w.organiser.id));
    assert_eq!(entry.subject, format!("event {}", w.event.id));
    assert!(entry.detail.contains("2 recipients"), "{}", entry.detail);
    assert!(!entry.detail.contains("example.org"));
    assert!(after.body.contains("Canvass on Saturday"));
    assert!(after.body.contains("Olu Organiser"));
    assert!(after.body.contains("5 km"));
}

async fn the_htmx_count_is_a_fragment_with_a_number_only(app: TestApp) {
    let w = world(&app).await;
    supporter(&app, "near@example.org", M1, &[(w.uk.id, Channel::Email)]).await;
    // A session made directly, so the request can carry htmx's headers.
    let token = new_secret();
    let csrf = new_secret();
    app.store
        .create_session(
            &hash_secret(&token),
            w.organiser.id,
            &csrf,
            now_millis() + 3_600_000,
            "password",
        )
        .await
        .unwrap();
    let cookie = format!("barnstorm_session={token}");
    let response = app
        .send(
            Request::post(format!("/events/{}/outreach/count", w.event.id))
                .header(header::COOKIE, cookie)
                .header("HX-Request", "true")
                .header("X-CSRF-Token", csrf)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("subject=&message=&radius_km=3"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(!response.body.contains("<html"), "{}", response.body);
    assert!(response.body.contains("id=\"recipient-count\""));
    assert!(
        response
            .body
            .contains("1 supporter within 3 km has agreed to hear from Barnstorm UK by email.")
    );
    assert!(!response.body.contains("near@"));
}

async fn only_the_host_and_organisers_may_write_to_people_nearby(app: TestApp) {
    let w = world(&app).await;
    supporter(&app, "near@example.org", M1, &[(w.uk.id, Channel::Email)]).await;
    let host = app.user("host@example.org", "Harun Host", false).await;
    app.store
        .set_membership(w.uk.id, host.id, Role::Member, None)
        .await
        .unwrap();
    let hosted = live(
        &app,
        &new_event(w.uk.id, Some(host.id), EventKind::Social, 5),
    )
    .await;
    let caller = app.user("caller@example.org", "Cal Caller", false).await;
    app.store
        .set_membership(w.uk.id, caller.id, Role::Caller, None)
        .await
        .unwrap();
    let base = format!("/events/{}/outreach", w.event.id);
    for email in ["host@example.org", "caller@example.org"] {
        let mut browser = Browser::new(&app);
        browser.sign_in(email).await;
        let page = browser.get(&base).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{email} does not run this event"
        );
        let home = browser.get("/").await;
        for step in ["count", "confirm", "send"] {
            let response = browser
                .submit(&home, &format!("{base}/{step}"), &form("Hi", "5"))
                .await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{email} {step}");
        }
    }
    assert!(queued(&app).await.is_empty());

    // The host of an event may write about their own event.
    let mut browser = Browser::new(&app);
    browser.sign_in("host@example.org").await;
    let page = open(&mut browser, hosted.id).await;
    let own = format!("/events/{}/outreach", hosted.id);
    let sent = browser
        .submit(&page, &format!("{own}/send"), &form("Social", "5"))
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(queued(&app).await.len(), 1);

    // Signed out: to the sign-in page. Without the CSRF token: refused.
    let mut anonymous = Browser::new(&app);
    let response = anonymous.get(&base).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.location().starts_with("/login"));
    let mut organiser = Browser::new(&app);
    organiser.sign_in("org@example.org").await;
    let forged = organiser
        .post_raw(&format!("{base}/send"), &form("Hi", "5"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(queued(&app).await.is_empty());
}

async fn daily_caps_hold_per_sender_and_per_group(app: TestApp) {
    let w = world(&app).await;
    supporter(&app, "near@example.org", M1, &[(w.uk.id, Channel::Email)]).await;
    let mut senders = vec!["org@example.org".to_owned()];
    for n in 2..=4 {
        let email = format!("org{n}@example.org");
        let user = app.user(&email, &format!("Organiser {n}"), false).await;
        app.store
            .set_membership(w.uk.id, user.id, Role::Organiser, None)
            .await
            .unwrap();
        senders.push(email);
    }
    let base = format!("/events/{}/outreach", w.event.id);
    let mut sent = 0;
    let mut fresh_for = 1;
    for email in &senders {
        let mut browser = Browser::new(&app);
        browser.sign_in(email).await;
        let page = open(&mut browser, w.event.id).await;
        for attempt in 1..=4 {
            // Someone new after each message: a supporter hears from the group once a week.
            if sent > 0 && fresh_for == sent {
                let fresh = format!("near{sent}@example.org");
                supporter(&app, &fresh, M1, &[(w.uk.id, Channel::Email)]).await;
                fresh_for = sent + 1;
            }
            let response = browser
                .submit(&page, &format!("{base}/send"), &form("Again", "5"))
                .await;
            assert_eq!(response.status, StatusCode::SEE_OTHER);
            let shown = browser.get(&base).await;
            if sent == 10 {
                assert!(
                    shown
                        .body
                        .contains("Barnstorm UK has sent 10 messages in the last 24 hours"),
                    "{}",
                    shown.body
                );
                assert!(shown.body.contains("the next can go at"));
                break;
            }
            if attempt == 4 {
                assert!(
                    shown
                        .body
                        .contains("You have sent 3 messages in the last 24 hours"),
                    "{}",
                    shown.body
                );
                assert!(shown.body.contains("your next can go at"));
            } else {
                assert!(
                    shown.body.contains("Sent to 1 supporter."),
                    "{}",
                    shown.body
                );
                sent += 1;
            }
        }
    }
    assert_eq!(sent, 10);
    assert_eq!(queued(&app).await.len(), 10, "one mail per message sent");
}

async fn unsubscribing_takes_a_press_not_a_click(app: TestApp) {
    let w = world(&app).await;
    let email = (w.uk.id, Channel::Email);
    let ann = supporter(&app, "ann@example.org", M1, &[email]).await;
    let bob = supporter(&app, "bob@example.org", M1, &[email]).await;
    let cat = supporter(
        &app,
        "cat@example.org",
        M1,
        &[email, (w.other.id, Channel::Email)],
    )
    .await;
    supporter(&app, "dan@example.org", M1, &[email]).await;
    let count = || async {
        (
            app.store
                .audience_count(w.uk.id, M1, 5.0, None)
                .await
                .unwrap(),
            app.store
                .audience_count(w.other.id, M1, 5.0, None)
                .await
                .unwrap(),
        )
    };
    assert_eq!(count().await, (4, 1));

    // Following the link (as a mail scanner would) changes nothing.
    let mut visitor = Browser::new(&app);
    let link = format!("/unsubscribe/{}?group={}", ann.unsubscribe_token, w.uk.id);
    let page = visitor.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Unsubscribe from Barnstorm UK"));
    assert!(page.body.contains("Unsubscribe from all Barnstorm groups"));
    assert!(
        !page.body.contains("ann@"),
        "the page does not show the address"
    );
    visitor.get(&link).await;
    assert_eq!(count().await, (4, 1), "GET must not unsubscribe");

    // Pressing the button does.
    let done = visitor.submit(&page, &link, &[("scope", "group")]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body
            .contains("a***@example.org will get no more email from Barnstorm UK")
    );
    assert_eq!(count().await, (3, 1));

    // A mail client's one-click POST: no cookie, no CSRF token.
    let one_click = app
        .send(
            Request::post(format!(
                "/unsubscribe/{}?group={}",
                bob.unsubscribe_token, w.uk.id
            ))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("List-Unsubscribe=One-Click"))
            .unwrap(),
        )
        .await;
    assert_eq!(one_click.status, StatusCode::OK, "{}", one_click.body);
    assert_eq!(count().await, (2, 1));

    // "All groups" withdraws every consent and suppresses the address.
    let all = format!("/unsubscribe/{}?group={}", cat.unsubscribe_token, w.uk.id);
    let page = visitor.get(&all).await;
    let done = visitor.submit(&page, &all, &[("scope", "all")]).await;
    assert!(done.body.contains("from any group"), "{}", done.body);
    assert_eq!(count().await, (1, 0));
    assert!(app.store.is_suppressed("cat@example.org").await.unwrap());

    // A token nobody holds, and the exemption covers nothing else.
    let unknown = visitor
        .submit(&page, &format!("/unsubscribe/{}", "x".repeat(43)), &[])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let forged = app
        .send(
            Request::post(format!("/unsubscribe/{}/more", ann.unsubscribe_token))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("List-Unsubscribe=One-Click"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "only /unsubscribe/{{token}} skips CSRF"
    );

    // The next message reaches only who is left.
    let mut organiser = Browser::new(&app);
    organiser.sign_in("org@example.org").await;
    let page = open(&mut organiser, w.event.id).await;
    let confirm = organiser
        .submit(
            &page,
            &format!("/events/{}/outreach/confirm", w.event.id),
            &form("Still on", "5"),
        )
        .await;
    assert!(
        confirm.body.contains("Send to 1 supporter"),
        "{}",
        confirm.body
    );
    organiser
        .submit(
            &confirm,
            &format!("/events/{}/outreach/send", w.event.id),
            &form("Still on", "5"),
        )
        .await;
    let to: Vec<String> = queued(&app).await.into_iter().map(|m| m.mail.to).collect();
    assert_eq!(to, ["dan@example.org"]);
    let _ = w.organiser;
}

on_both! {
    outreach_reaches_only_consenting_supporters_nearby => only_consenting_supporters_nearby_get_the_message,
    outreach_htmx_count_is_a_fragment => the_htmx_count_is_a_fragment_with_a_number_only,
    outreach_access => only_the_host_and_organisers_may_write_to_people_nearby,
    outreach_daily_caps => daily_caps_hold_per_sender_and_per_group,
    outreach_unsubscribe => unsubscribing_takes_a_press_not_a_click,
}
