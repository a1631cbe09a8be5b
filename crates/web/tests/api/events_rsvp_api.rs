//! RSVPs over the API: no account, the same checks and confirmation mail as the event
//! page, a place or the waiting list, and each refusal (404, 409, 422) tested.

use crate::app::TestApp;
use crate::discover::{live, national, new_event};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::{EventKind, EventStatus};
use serde_json::json;

async fn rsvps_need_no_account_and_send_the_confirmation(app: TestApp) {
    let group = national(&app, "Leeds Left").await;
    let mut small = new_event(group.id, "Small social", "LS6", 2, EventKind::Social);
    small.capacity = Some(1);
    let small = live(&app, small).await;
    let path = format!("/api/v1/events/{}/rsvps", small.id);
    let body = |name: &str, email: &str| json!({"name": name, "email": email, "postcode": "LS6 1AB", "phone": "0113 496 0123", "consents": ["email", "sms"]});
    let first = app
        .api(
            Method::POST,
            &path,
            None,
            Some(body("Ruth Reader", "ruth@example.org")),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.json()["status"], "going");
    let mail = app.store.claim_due_mail(10, 1000).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].mail.to, "ruth@example.org");
    assert!(
        mail[0].mail.subject.contains("Small social"),
        "{}",
        mail[0].mail.subject
    );
    assert!(
        mail[0].mail.body_text.contains("/rsvp/"),
        "the manage link: {}",
        mail[0].mail.body_text
    );

    let second = app
        .api(
            Method::POST,
            &path,
            None,
            Some(body("Wes Waiting", "wes@example.org")),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.json()["status"], "waitlist", "the event is full");

    for (change, field) in [
        (json!({"name": ""}), "name"),
        (json!({"email": "not-an-address"}), "email"),
        (json!({"postcode": ""}), "postcode"),
        (json!({"postcode": "ZZ99 9ZZ"}), "postcode"),
        (json!({"phone": "call me"}), "phone"),
        (json!({"consents": ["pigeon"]}), "consents"),
    ] {
        let mut b = body("Val Id", "val@example.org");
        for (k, v) in change.as_object().unwrap() {
            b[k] = v.clone();
        }
        let refused = app.api(Method::POST, &path, None, Some(b)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            refused.body
        );
        assert_eq!(
            refused.json()["error"]["details"]["field"],
            field,
            "{}",
            refused.body
        );
    }
    let missing = app
        .api(Method::POST, &path, None, Some(json!({"name": "x"})))
        .await;
    assert_eq!(
        missing.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing fields: {}",
        missing.body
    );
    let fields = missing.json()["error"]["details"]["fields"].clone();
    assert!(
        fields.get("email").is_some() && fields.get("postcode").is_some(),
        "{fields}"
    );

    let mut shifts = new_event(group.id, "Shifts", "LS6", 2, EventKind::Canvass);
    shifts.shifts = vec![barnstorm_store::events::NewShift {
        id: None,
        starts_at: shifts.starts_at,
        ends_at: shifts.starts_at + 3_600_000,
        capacity: None,
    }];
    let shifts = live(&app, shifts).await;
    let no_shift = app
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvps", shifts.id),
            None,
            Some(body("Sh", "sh@example.org")),
        )
        .await;
    assert_eq!(
        no_shift.json()["error"]["details"]["field"],
        "shift_id",
        "{}",
        no_shift.body
    );
    let mut with_shift = body("Sh", "sh@example.org");
    with_shift["shift_id"] = json!(shifts.shifts[0].id);
    let ok = app
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvps", shifts.id),
            None,
            Some(with_shift),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.json()["shift_id"], shifts.shifts[0].id);

    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/events/999999/rsvps",
            None,
            Some(body("A", "a@example.org"))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let pending = app
        .store
        .create_event(
            &new_event(group.id, "Pending", "LS6", 2, EventKind::Social),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    assert_eq!(
        app.api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvps", pending.id),
            None,
            Some(body("A", "a@example.org"))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let called_off = live(
        &app,
        new_event(group.id, "Called off", "LS6", 2, EventKind::Social),
    )
    .await;
    app.store
        .set_event_status(called_off.id, EventStatus::Cancelled, "", None, &|_| None)
        .await
        .unwrap();
    let conflict = app
        .api(
            Method::POST,
            &format!("/api/v1/events/{}/rsvps", called_off.id),
            None,
            Some(body("A", "a@example.org")),
        )
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.error_code(), "event_cancelled");
}

on_both! {
    rsvps_need_no_account_and_send_the_confirmation => rsvps_need_no_account_and_send_the_confirmation,
}
