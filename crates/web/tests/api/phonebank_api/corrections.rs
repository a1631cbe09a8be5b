//! "Edit my last call" over the API (`PUT /api/v1/leases/{id}/outcome`) and on the caller
//! page without script: it replaces the outcome the caller just recorded (the dashboard
//! counts the new one), refuses another caller and a lease with nothing recorded, and
//! undoes a do-not-call it had added; on the page a "do not call" asks to confirm first.

use super::safeguards::campaign_with;
use super::{claim, outcome, team};
use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use crate::phonebank_pages::field_value;
use axum::http::{Method, StatusCode};
use barnstorm_store::now_millis;
use serde_json::{Value, json};

async fn correct(app: &TestApp, token: &str, lease: i64, body: Value) -> TestResponse {
    let path = format!("/api/v1/leases/{lease}/outcome");
    app.api(Method::PUT, &path, Some(token), Some(body)).await
}

async fn counted(app: &TestApp, id: i64) -> Value {
    app.store
        .campaign_stats(id, now_millis())
        .await
        .map_or(Value::Null, |s| json!(s.outcomes))
}

async fn the_caller_changes_their_last_call(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 3, json!({})).await;
    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    let nothing_yet = correct(&app, &t.caller, lease, json!({"outcome": "spoke"})).await;
    assert_eq!(
        nothing_yet.status,
        StatusCode::CONFLICT,
        "{}",
        nothing_yet.body
    );
    assert_eq!(nothing_yet.error_code(), "not_recorded");

    let recorded = outcome(
        &app,
        &t.caller,
        lease,
        Some("k1"),
        json!({"outcome": "do_not_call"}),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    let phone = app
        .store
        .last_call(
            id,
            super::safeguards::user_id(&app, "cal@example.org").await,
        )
        .await
        .unwrap()
        .unwrap()
        .phone;
    assert!(
        app.store
            .do_not_call_entry(t.group_id, &phone)
            .await
            .unwrap()
            .is_some()
    );

    let theirs = correct(&app, &t.caller2, lease, json!({"outcome": "spoke"})).await;
    assert_eq!(
        theirs.status,
        StatusCode::FORBIDDEN,
        "another caller's call"
    );
    let unknown = correct(&app, &t.caller, lease, json!({"outcome": "nonsense"})).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );

    let changed = correct(
        &app,
        &t.caller,
        lease,
        json!({"outcome": "spoke", "answers": {"q1": "yes"}, "notes": "said yes in the end"}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["outcome"], "spoke");
    assert_eq!(
        counted(&app, id).await,
        json!({"spoke": 1}),
        "the dashboard counts the new outcome only"
    );
    assert!(
        app.store
            .do_not_call_entry(t.group_id, &phone)
            .await
            .unwrap()
            .is_none(),
        "the do-not-call this call added is undone"
    );
}

/// The plain-form path: confirm a do-not-call on a second step, then change it on the
/// last-call page; someone else's lease is refused.
async fn the_caller_page_confirms_and_changes_the_last_call(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 3, json!({})).await;
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/call/{id}")).await;
    assert!(
        page.body.contains("tel:+4420794600"),
        "the call link keeps E.164"
    );
    assert!(
        page.body.contains(">020 7946 000"),
        "the number reads nationally"
    );
    let lease = field_value(&page.body, "lease_id");
    let suppressed = || async {
        app.store
            .queue_counts(id, now_millis())
            .await
            .unwrap()
            .suppressed
    };
    let fields = [
        ("lease_id", lease.as_str()),
        ("idempotency_key", "page-1"),
        ("outcome", "do_not_call"),
    ];

    let asked = caller
        .submit(&page, &format!("/call/{id}/outcome"), &fields)
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(
        asked.body.contains("data-confirm-dialog open"),
        "the confirmation is shown open"
    );
    assert!(asked.body.contains("Yes, do not call again"));
    assert_eq!(suppressed().await, 0, "nothing recorded before confirming");

    let saved = caller
        .submit(&asked, &format!("/call/{id}/outcome?confirmed=1"), &fields)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(suppressed().await, 1);
    let next = caller.get(&format!("/call/{id}")).await;
    assert!(next.body.contains("Edit my last call"), "{}", next.body);

    let edit = caller.get(&format!("/call/{id}/last")).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.body);
    assert!(edit.body.contains("You saved “Do not call again”"));
    assert_eq!(field_value(&edit.body, "lease_id"), lease);

    let mut other = Browser::new(&app);
    other.sign_in("cal2@example.org").await;
    let theirs = other.get(&format!("/call/{id}")).await;
    let refused = other
        .submit(
            &theirs,
            &format!("/call/{id}/last"),
            &[("lease_id", &lease), ("outcome", "spoke")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "another caller's call"
    );

    let changed = caller
        .submit(
            &edit,
            &format!("/call/{id}/last"),
            &[("lease_id", &lease), ("outcome", "spoke")],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(suppressed().await, 0, "the do-not-call is undone");
    assert_eq!(counted(&app, id).await, json!({"spoke": 1}));
}

on_both! {
    correct_last_call => the_caller_changes_their_last_call,
    correct_on_the_page => the_caller_page_confirms_and_changes_the_last_call,
}
