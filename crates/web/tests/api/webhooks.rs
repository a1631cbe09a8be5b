//! Signed webhooks end to end: an admin subscribes a real receiver on loopback, an RSVP
//! made through the API reaches it signed (verified by PyPI's `standardwebhooks`), a
//! receiver that fails gets the same `webhook-id` again after the backoff, "send again"
//! sends it once more, and endpoints that could reach into the server's network are
//! refused with the field named.

mod nodes;
mod receiver;

use crate::app::{Browser, TestApp};
use crate::discover::{live, national, new_event};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::EventKind;
use barnstorm_store::Store;
use barnstorm_store::events::Event;
use barnstorm_web::webhooks::{WebhookSettings, WebhookWorker};
use receiver::{Receiver, verified_by_standardwebhooks};
use serde_json::{Value, json};
use std::time::Duration;

/// The app allowing loopback receivers, as `--webhook-allow-insecure-loopback` does.
fn loopback_app(app: &TestApp) -> TestApp {
    TestApp::with_config(app.store.clone(), |c| {
        c.webhook_allow_insecure_loopback = true;
    })
}

/// Settings for tests: loopback allowed, a 300 ms first retry.
pub fn test_settings() -> WebhookSettings {
    WebhookSettings {
        allow_insecure_loopback: true,
        first_retry: Duration::from_millis(300),
        max_retry: Duration::from_secs(2),
        max_attempts: 4,
        timeout: Duration::from_secs(5),
    }
}

pub fn worker(store: &Store) -> WebhookWorker {
    WebhookWorker::new(store.clone(), test_settings()).unwrap()
}

/// An admin's token and a new endpoint's id and secret for `url`, sending `types`.
async fn subscribe(app: &TestApp, url: &str, types: &[&str]) -> (String, i64, String) {
    app.user("ada.admin@example.org", "Ada Admin", true).await;
    let token = app.token_for("ada.admin@example.org").await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/webhooks",
            Some(&token),
            Some(json!({"url": url, "description": "CRM sync", "event_types": types})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let body = created.json();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (token, body["endpoint"]["id"].as_i64().unwrap(), secret)
}

/// A live canvass of a new group, and Ruth's RSVP to it through the API.
async fn rsvp_to_a_canvass(app: &TestApp) -> Event {
    let group = national(app, "Leeds Left").await;
    let event = live(
        app,
        new_event(group.id, "Canvass", "LS6", 3, EventKind::Canvass),
    )
    .await;
    rsvp(app, event.id, "ruth@example.org").await;
    event
}

async fn rsvp(app: &TestApp, event_id: i64, email: &str) {
    let made = app
        .api(
            Method::POST,
            &format!("/api/v1/events/{event_id}/rsvps"),
            None,
            Some(json!({"name": "Ruth Reader", "email": email, "postcode": "LS6 1AB", "consents": ["email"]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
}

async fn deliveries(app: &TestApp, token: &str, endpoint: i64) -> Vec<Value> {
    let log = app
        .api(
            Method::GET,
            &format!("/api/v1/webhooks/{endpoint}/deliveries"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    log.json().as_array().unwrap().clone()
}

async fn an_rsvp_reaches_the_receiver_signed(app: TestApp) {
    let app = loopback_app(&app);
    let receiver = Receiver::start(&[]).await;
    let (token, endpoint, secret) = subscribe(&app, &receiver.url, &["rsvp.created"]).await;
    let event = rsvp_to_a_canvass(&app).await;
    let attendee = app.store.attendees(event.id).await.unwrap().remove(0);

    let report = worker(&app.store).deliver_due().await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let body = got[0].json();
    assert_eq!(body["type"], "rsvp.created");
    assert_eq!(body["data"]["event_id"], event.id);
    assert_eq!(body["data"]["group_id"], event.group_id);
    assert_eq!(body["data"]["rsvp_id"], attendee.rsvp_id);
    assert_eq!(body["data"]["status"], "going");
    assert!(got[0].id.starts_with("msg_"), "{}", got[0].id);
    // Special-category data: ids only, never who the person is.
    for personal in ["ruth@example.org", "Ruth", "LS6 1AB"] {
        assert!(!got[0].body.contains(personal), "{}", got[0].body);
    }
    if let Some(verified) = verified_by_standardwebhooks(&secret, &got[0]) {
        assert!(verified, "standardwebhooks refused the signature");
        let mut tampered = got[0].clone();
        tampered.body = tampered.body.replace("going", "waitlist");
        assert_eq!(
            verified_by_standardwebhooks(&secret, &tampered),
            Some(false)
        );
    }

    let log = deliveries(&app, &token, endpoint).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["webhook_id"], got[0].id.as_str());
    assert_eq!(log[0]["attempt_log"][0]["http_status"], 200);
    // A type the endpoint did not choose is not sent.
    live(
        &app,
        new_event(event.group_id, "Social", "LS6", 4, EventKind::Social),
    )
    .await;
    assert_eq!(worker(&app.store).deliver_due().await.unwrap().delivered, 0);
    assert_eq!(receiver.received().len(), 1);
}

async fn a_failing_receiver_gets_the_same_webhook_id_after_the_backoff(app: TestApp) {
    let app = loopback_app(&app);
    let receiver = Receiver::start(&[500]).await;
    let (token, endpoint, _) = subscribe(&app, &receiver.url, &["event.created"]).await;
    let group = national(&app, "Leeds Left").await;
    live(
        &app,
        new_event(group.id, "Canvass", "LS6", 3, EventKind::Canvass),
    )
    .await;
    let worker = worker(&app.store);

    assert_eq!(worker.deliver_due().await.unwrap().retrying, 1);
    // Not again before the backoff is over...
    assert_eq!(worker.deliver_due().await.unwrap(), Default::default());
    assert_eq!(receiver.received().len(), 1);
    let log = deliveries(&app, &token, endpoint).await;
    assert_eq!(log[0]["status"], "pending");
    assert_eq!(log[0]["attempt_log"][0]["http_status"], 500);
    let error = log[0]["attempt_log"][0]["error"].as_str().unwrap();
    assert!(error.contains("receiver says hello"), "{error}");
    // ...and after it, with the same id.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(worker.deliver_due().await.unwrap().delivered, 1);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
    assert_eq!(got[0].body, got[1].body);
    let log = deliveries(&app, &token, endpoint).await;
    assert_eq!(log[0]["status"], "delivered");
    let answers: Vec<&Value> = log[0]["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["http_status"])
        .collect();
    assert_eq!(answers, [&json!(500), &json!(200)]);
}

async fn send_again_delivers_the_same_webhook_id_once_more(app: TestApp) {
    let app = loopback_app(&app);
    let receiver = Receiver::start(&[]).await;
    let (_, endpoint, _) = subscribe(&app, &receiver.url, &["rsvp.created"]).await;
    rsvp_to_a_canvass(&app).await;
    let worker = worker(&app.store);
    assert_eq!(worker.deliver_due().await.unwrap().delivered, 1);

    let mut admin = Browser::new(&app);
    admin.sign_in("ada.admin@example.org").await;
    let page = admin.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("delivered"), "{}", page.body);
    let delivery = app.store.webhook_deliveries(endpoint, 10).await.unwrap()[0].id;
    let sent = admin
        .submit(
            &page,
            &format!("/admin/webhooks/deliveries/{delivery}/resend"),
            &[],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(worker.deliver_due().await.unwrap().delivered, 1);
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id);
    // Sent once, not on every round after.
    assert_eq!(worker.deliver_due().await.unwrap(), Default::default());
    let page = admin.get(&format!("/admin/webhooks/{endpoint}")).await;
    assert_eq!(page.body.matches(" 200 in ").count(), 2, "{}", page.body);
}

async fn endpoints_that_reach_into_the_network_are_refused(app: TestApp) {
    app.user("ada.admin@example.org", "Ada Admin", true).await;
    let mut admin = Browser::new(&app);
    admin.sign_in("ada.admin@example.org").await;
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.status, StatusCode::OK);
    let refused = admin
        .submit(
            &page,
            "/admin/webhooks",
            &[
                ("url", "http://hooks.example.com/in"),
                ("description", "CRM"),
                ("event_types", "rsvp.created"),
                ("event_types", "person.erased"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"url-error\"")
            && refused.body.contains("must start with https://"),
        "{}",
        refused.body
    );
    // What was typed stays, the choices too.
    assert!(
        refused
            .body
            .contains("value=\"http://hooks.example.com/in\"")
    );
    assert!(refused.body.contains("value=\"person.erased\" checked"));
    assert!(app.store.webhook_endpoints().await.unwrap().is_empty());

    let token = app.token_for("ada.admin@example.org").await;
    for url in [
        "https://169.254.169.254/latest",
        "https://127.0.0.1/in",
        "https://[fd00::1]/",
    ] {
        let answer = app
            .api(
                Method::POST,
                "/api/v1/webhooks",
                Some(&token),
                Some(json!({"url": url, "event_types": ["rsvp.created"]})),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            answer.body
        );
        assert_eq!(answer.json()["error"]["details"]["field"], "url");
    }

    // A public https endpoint is taken, and its secret shown once on the page.
    let page = admin.get("/admin/webhooks").await;
    let added = admin
        .submit(
            &page,
            "/admin/webhooks",
            &[
                ("url", "https://hooks.example.com/in"),
                ("event_types", "event.created"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert!(
        added.body.contains("data-webhook-secret>whsec_"),
        "{}",
        added.body
    );
    let listed = admin.get("/admin/webhooks").await;
    assert!(listed.body.contains("https://hooks.example.com/in"));
    assert!(!listed.body.contains("whsec_"), "the secret is shown once");
}

on_both! {
    an_rsvp_reaches_the_receiver_signed => an_rsvp_reaches_the_receiver_signed,
    a_failing_receiver_gets_the_same_webhook_id_after_the_backoff => a_failing_receiver_gets_the_same_webhook_id_after_the_backoff,
    send_again_delivers_the_same_webhook_id_once_more => send_again_delivers_the_same_webhook_id_once_more,
    endpoints_that_reach_into_the_network_are_refused => endpoints_that_reach_into_the_network_are_refused,
}
