//! No phishing through events or outreach, through the router on both databases: a fresh
//! account whose address is not proven can neither publish an event (a new group asks for
//! approval anyway) nor write to supporters; an event waiting for approval cannot be
//! promoted; the group's daily cap counts every sender; a supporter hears from a group at
//! most once a week; the mail names the group, the host, the sender and where the
//! recipient's consent came from.

use crate::app::{Browser, PASSWORD, TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::{Channel, EventApproval, EventKind, EventStatus};
use barnstorm_store::events::{BulkSupporter, NewSupporter};
use barnstorm_store::{Group, GroupKind, OutboxMail, Role, User, now_millis};
use barnstorm_web::auth::{hash_password, hash_secret, new_secret};
use serde_json::json;

/// The M1 district centre (latitude, longitude).
const M1: (f64, f64) = (53.4794, -2.2453);

/// A browser signed in as `user` through a session made in the store, as the invite-link
/// join makes one for a new account.
async fn session_for<'a>(app: &'a TestApp, user: &User) -> Browser<'a> {
    let token = new_secret();
    app.store
        .create_session(
            &hash_secret(&token),
            user.id,
            &new_secret(),
            now_millis() + 3_600_000,
            "password",
        )
        .await
        .unwrap();
    let mut browser = Browser::new(app);
    browser.set_cookie("barnstorm_session", &token);
    browser
}

/// An account made by joining through a caller invite link: address not proven.
async fn unverified(app: &TestApp, email: &str, name: &str) -> User {
    let hash = hash_password(PASSWORD, 256).unwrap();
    app.store
        .create_unverified_user(email, name, Some(&hash))
        .await
        .unwrap()
}

/// A supporter at `at` who consented to email from `group` on a form.
async fn consenting(app: &TestApp, email: &str, at: (f64, f64), group: i64) {
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
    app.store
        .grant_consent(
            s.id,
            group,
            Channel::Email,
            &barnstorm_store::events::ConsentProof::given(
                "form",
                "https://example.org/form",
                "Email me about events",
            ),
        )
        .await
        .unwrap();
}

async fn queued(app: &TestApp) -> Vec<OutboxMail> {
    app.store.claim_due_mail(10_000, 60_000).await.unwrap()
}

fn message(subject: &str) -> Vec<(&str, &str)> {
    vec![
        ("subject", subject),
        ("message", "Come canvassing with us on Saturday!"),
        ("radius_km", "5"),
    ]
}

/// Sends `subject` about `event_id` as `browser`; returns the page shown afterwards.
async fn send(browser: &mut Browser<'_>, event_id: i64, subject: &str) -> TestResponse {
    let base = format!("/events/{event_id}/outreach");
    let page = browser.get(&base).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let sent = browser
        .submit(&page, &format!("{base}/send"), &message(subject))
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    browser.get(&base).await
}

/// The national group made the way an administrator makes one, with its organiser.
async fn national(app: &TestApp) -> (Group, User) {
    app.user("admin@example.org", "Ada Admin", true).await;
    let admin = app.token_for("admin@example.org").await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&admin),
            Some(json!({ "name": "Barnstorm UK" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let group = app
        .store
        .group_by_id(created.json()["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    let organiser = app.user("org@example.org", "Olu Organiser", false).await;
    app.store
        .set_membership(group.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    (group, organiser)
}

/// The host form's fields for a social in M1 three days ahead.
fn event_form(group: &Group, title: &str) -> Vec<(String, String)> {
    let day = (chrono::Utc::now().date_naive() + chrono::Days::new(3))
        .format("%Y-%m-%d")
        .to_string();
    [
        ("group", group.slug.as_str()),
        ("kind", "social"),
        ("title", title),
        ("date", day.as_str()),
        ("start_time", "19:00"),
        ("end_time", "21:00"),
        ("time_zone", "Europe/London"),
        ("postcode", "M1"),
        ("address", "Friends Meeting House"),
        ("visibility", "public"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

/// Approves pending event `id` of `group` from the organisers' queue.
/// Approves event `id` from `group`'s queue as the organiser `org`.
pub async fn approve(org: &mut Browser<'_>, group: &Group, id: i64) {
    let queue = org
        .get(&format!("/groups/{}/events/pending", group.slug))
        .await;
    let decided = org
        .submit(
            &queue,
            &format!("/events/{id}/decision"),
            &[("decision", "approve"), ("note", "")],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
}

async fn the_phishing_chain_is_broken_at_every_step(app: TestApp) {
    let (uk, organiser) = national(&app).await;
    assert_eq!(
        app.store.group_event_approval(uk.id).await.unwrap(),
        EventApproval::Approval,
        "a new group asks its organisers to approve events"
    );
    for n in 0..5 {
        consenting(&app, &format!("s{n}@example.org"), M1, uk.id).await;
    }

    // A fresh account from an invite link cannot create an event at all.
    let fresh = unverified(&app, "fresh@example.org", "Fresh Face").await;
    let mut browser = session_for(&app, &fresh).await;
    let form = browser.get("/events/new").await;
    assert_eq!(form.status, StatusCode::FORBIDDEN, "{}", form.body);
    assert!(form.body.contains("Confirm your email address first"));
    assert!(form.body.contains("href=\"/account\""), "a way to do so");
    let home = browser.get("/").await;
    let fields = event_form(&uk, "Free tickets");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let posted = browser.submit(&home, "/events/new", &pairs).await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN, "{}", posted.body);
    // The API token the join gives the new account.
    let token = new_secret();
    app.store
        .create_api_token(fresh.id, &hash_secret(&token), "joined by invite link")
        .await
        .unwrap();
    let api = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&token),
            Some(json!({
                "group_id": uk.id, "kind": "social", "title": "Free tickets",
                "date": fields[3].1, "start_time": "19:00", "end_time": "21:00",
                "postcode": "M1",
            })),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
    assert_eq!(api.error_code(), "email_unverified");
    assert!(
        api.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Confirm your email address first")
    );
    assert!(
        app.store
            .events_hosted_by(fresh.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Nor write to supporters, even about a live event it hosts.
    let mut hosted = crate::meetups::new_event(uk.id, Some(fresh.id), EventKind::Social, 3);
    hosted.title = "Hosted by a stranger".into();
    let hosted = app
        .store
        .create_event(&hosted, EventStatus::Live)
        .await
        .unwrap();
    let base = format!("/events/{}/outreach", hosted.id);
    let page = browser.get(&base).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Confirm your email address first"));
    for step in ["count", "confirm", "send"] {
        let response = browser
            .submit(&home, &format!("{base}/{step}"), &message("Win a prize"))
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{step}");
    }
    assert!(queued(&app).await.is_empty(), "no mail went out");

    // A verified host's event waits for approval and cannot be promoted meanwhile.
    app.user("hana@example.org", "Hana Host", false).await;
    let hana = app
        .store
        .user_by_email("hana@example.org")
        .await
        .unwrap()
        .unwrap();
    app.store
        .set_membership(uk.id, hana.id, Role::Host, None)
        .await
        .unwrap();
    let mut host = Browser::new(&app);
    host.sign_in("hana@example.org").await;
    let form = host.get("/events/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let fields = event_form(&uk, "Hana's social");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let created = host.submit(&form, "/events/new", &pairs).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id: i64 = created
        .location()
        .trim_start_matches("/events/")
        .parse()
        .unwrap();
    assert_eq!(
        app.store.event(id).await.unwrap().unwrap().status,
        EventStatus::Pending
    );
    let shown = send(&mut host, id, "Come along").await;
    assert!(
        shown.body.contains("only published events can be promoted"),
        "{}",
        shown.body
    );
    let mails: Vec<(String, String)> = queued(&app)
        .await
        .into_iter()
        .map(|m| (m.mail.to, m.mail.subject))
        .collect();
    assert_eq!(
        mails,
        [(
            "org@example.org".to_owned(),
            "Waiting for your approval: Hana's social".to_owned()
        )],
        "no outreach about a pending event: only the organisers hear of it"
    );

    // Once the organisers approve it, the host may write about it.
    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    approve(&mut org, &uk, id).await;
    queued(&app).await;
    let shown = send(&mut host, id, "Come along").await;
    assert!(
        shown.body.contains("Sent to 5 supporters"),
        "{}",
        shown.body
    );

    // What the organisers approved cannot be rewritten unseen: the edit sends it back.
    let form = host.get(&format!("/events/{id}/edit")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields = event_form(&uk, "Claim your tax refund here");
    fields.retain(|(k, _)| k != "group");
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = host
        .submit(&form, &format!("/events/{id}/edit"), &pairs)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = host.get(saved.location()).await;
    assert!(
        page.body
            .contains("off the map until an organiser approves the changes"),
        "{}",
        page.body
    );
    assert_eq!(
        app.store.event(id).await.unwrap().unwrap().status,
        EventStatus::Pending
    );
    assert_eq!(
        Browser::new(&app)
            .get(&format!("/events/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the edited event is hidden from the public again"
    );
    let shown = send(&mut host, id, "Refund").await;
    assert!(
        shown.body.contains("only published events can be promoted"),
        "{}",
        shown.body
    );
    let queue = org
        .get(&format!("/groups/{}/events/pending", uk.slug))
        .await;
    assert!(
        queue.body.contains("Claim your tax refund here"),
        "{}",
        queue.body
    );

    // The organisers' own edits do not wait for themselves.
    approve(&mut org, &uk, id).await;
    let form = org.get(&format!("/events/{id}/edit")).await;
    let saved = org
        .submit(&form, &format!("/events/{id}/edit"), &pairs)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        app.store.event(id).await.unwrap().unwrap().status,
        EventStatus::Live
    );
    let _ = organiser;
}

async fn the_group_cap_counts_every_sender(app: TestApp) {
    let (uk, _) = national(&app).await;
    let event = crate::meetups::live(
        &app,
        &crate::meetups::new_event(uk.id, None, EventKind::Canvass, 4),
    )
    .await;
    let mut senders = vec![];
    for n in 1..=4 {
        let email = format!("org{n}@example.org");
        let user = app.user(&email, &format!("Organiser {n}"), false).await;
        app.store
            .set_membership(uk.id, user.id, Role::Organiser, None)
            .await
            .unwrap();
        senders.push(email);
    }
    // Each sender sends their daily three, each to someone new (nobody hears twice a week).
    let mut sent = 0;
    let mut refused = None;
    'senders: for email in &senders {
        let mut browser = Browser::new(&app);
        browser.sign_in(email).await;
        for _ in 0..3 {
            consenting(&app, &format!("new{sent}@example.org"), M1, uk.id).await;
            let shown = send(&mut browser, event.id, "Again").await;
            if shown.body.contains("Sent to 1 supporter.") {
                sent += 1;
            } else {
                refused = Some((email.clone(), shown.body));
                break 'senders;
            }
        }
    }
    assert_eq!(sent, 10, "the group's daily limit");
    let (who, page) = refused.expect("the eleventh message is refused");
    assert_eq!(
        who, "org4@example.org",
        "a fourth sender hit the group's cap"
    );
    assert!(
        page.contains("Barnstorm UK has sent 10 messages in the last 24 hours"),
        "{page}"
    );
    assert_eq!(queued(&app).await.len(), 10, "one mail per message sent");
}

async fn a_supporter_hears_from_a_group_once_a_week(app: TestApp) {
    let (uk, _) = national(&app).await;
    let other = app
        .store
        .create_group(None, "Another Movement", GroupKind::National, "", None)
        .await
        .unwrap();
    let other_org = app.user("other@example.org", "Oma Other", false).await;
    app.store
        .set_membership(other.id, other_org.id, Role::Organiser, None)
        .await
        .unwrap();
    let event = crate::meetups::live(
        &app,
        &crate::meetups::new_event(uk.id, None, EventKind::Canvass, 4),
    )
    .await;
    let other_event = crate::meetups::live(
        &app,
        &crate::meetups::new_event(other.id, None, EventKind::Canvass, 4),
    )
    .await;
    consenting(&app, "ann@example.org", M1, uk.id).await;
    let s = app
        .store
        .supporter_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    app.store
        .grant_consent(
            s.id,
            other.id,
            Channel::Email,
            &barnstorm_store::events::ConsentProof::given(
                "form",
                "https://example.org/form",
                "Email me about events",
            ),
        )
        .await
        .unwrap();

    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let shown = send(&mut org, event.id, "First").await;
    assert!(
        shown.body.contains("Sent to 1 supporter."),
        "{}",
        shown.body
    );
    assert_eq!(queued(&app).await.len(), 1);

    // The count leaves her out, and so does a second message from the same group.
    let page = org.get(&format!("/events/{}/outreach", event.id)).await;
    let counted = org
        .submit(
            &page,
            &format!("/events/{}/outreach/count", event.id),
            &message("Second"),
        )
        .await;
    assert!(
        counted.body.contains("Nobody within 5 km can be contacted"),
        "{}",
        counted.body
    );
    assert!(
        counted.body.contains("in the last 7 days"),
        "{}",
        counted.body
    );
    let shown = send(&mut org, event.id, "Second").await;
    assert!(
        shown
            .body
            .contains("Nobody within that distance can be contacted"),
        "{}",
        shown.body
    );
    assert!(
        queued(&app).await.is_empty(),
        "no second message within 7 days"
    );

    // Another group may still write to her.
    let mut other_browser = Browser::new(&app);
    other_browser.sign_in("other@example.org").await;
    let shown = send(&mut other_browser, other_event.id, "Hello").await;
    assert!(
        shown.body.contains("Sent to 1 supporter."),
        "{}",
        shown.body
    );
    let mails = queued(&app).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].mail.to, "ann@example.org");
    assert_eq!(mails[0].mail.subject, "Another Movement: Hello");
}

async fn the_mail_names_group_host_and_where_consent_came_from(app: TestApp) {
    let (uk, _) = national(&app).await;
    let hana = app.user("hana@example.org", "Hana Host", false).await;
    let event = crate::meetups::live(
        &app,
        &crate::meetups::new_event(uk.id, Some(hana.id), EventKind::Canvass, 4),
    )
    .await;
    // Rita ticks the box on the RSVP form; Ivo's address came in a bulk import.
    let mut visitor = Browser::new(&app);
    let page = visitor.get(&format!("/events/{}", event.id)).await;
    let rsvp = visitor
        .submit(
            &page,
            &format!("/events/{}/rsvp", event.id),
            &[
                ("name", "Rita"),
                ("email", "rita@example.org"),
                ("postcode", "M1 1AE"),
                ("consent_email", "on"),
            ],
        )
        .await;
    assert!(
        rsvp.status.is_success() || rsvp.status.is_redirection(),
        "{}",
        rsvp.body
    );
    app.store
        .insert_supporters_bulk(
            uk.id,
            &[BulkSupporter {
                email: "ivo@example.org".into(),
                name: "Ivo".into(),
                postcode: "M1".into(),
                location: M1,
            }],
            &barnstorm_store::events::BulkSource {
                name: "test data",
                wording: "Email me about events",
                collected_by: None,
            },
        )
        .await
        .unwrap();
    queued(&app).await;

    // The preview shows the group, the host, the sender and the consent line.
    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let base = format!("/events/{}/outreach", event.id);
    let page = org.get(&base).await;
    let confirm = org
        .submit(
            &page,
            &format!("{base}/confirm"),
            &message("Canvass on Saturday"),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    for expected in [
        "Send to 2 supporters",
        "Barnstorm UK: Canvass on Saturday",
        "Hosted by Hana Host for Barnstorm UK",
        "Olu Organiser sent this message for Barnstorm UK",
        "when you RSVP&#39;d to",
        "added your address in a bulk import",
    ] {
        assert!(
            confirm.body.contains(expected),
            "{expected}: {}",
            confirm.body
        );
    }

    let shown = send(&mut org, event.id, "Canvass on Saturday").await;
    assert!(
        shown.body.contains("Sent to 2 supporters"),
        "{}",
        shown.body
    );
    let mails = queued(&app).await;
    let body_of = |to: &str| {
        mails
            .iter()
            .find(|m| m.mail.to == to)
            .unwrap_or_else(|| panic!("no mail to {to}"))
            .mail
            .body_text
            .clone()
    };
    let rita = body_of("rita@example.org");
    assert!(
        rita.contains("Hosted by Hana Host for Barnstorm UK"),
        "{rita}"
    );
    assert!(rita.contains("Olu Organiser sent this message for Barnstorm UK"));
    assert!(
        rita.contains(&format!(
            "agreed to hear from Barnstorm UK by email when you RSVP'd to \"{}\" on",
            event.title
        )),
        "{rita}"
    );
    let ivo = body_of("ivo@example.org");
    assert!(ivo.contains("Hosted by Hana Host for Barnstorm UK"));
    assert!(
        ivo.contains("Barnstorm UK added your address in a bulk import on"),
        "{ivo}"
    );
    assert!(
        !ivo.contains("RSVP'd"),
        "an import is not called an RSVP: {ivo}"
    );
}

on_both! {
    phishing_chain_is_broken => the_phishing_chain_is_broken_at_every_step,
    outreach_group_cap_counts_every_sender => the_group_cap_counts_every_sender,
    outreach_once_a_week_per_group => a_supporter_hears_from_a_group_once_a_week,
    outreach_mail_names_group_host_and_consent => the_mail_names_group_host_and_where_consent_came_from,
}
