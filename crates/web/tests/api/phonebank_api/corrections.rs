//! "Edit my last call" over the API: `PUT /api/v1/leases/{id}/outcome` replaces the
//! outcome the caller just recorded (the dashboard counts the new one), refuses another
//! caller and a lease with nothing recorded, and undoes a do-not-call it had added.

use super::safeguards::campaign_with;
use super::{claim, outcome, team};
use crate::app::{TestApp, TestResponse};
use crate::on_both;
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

on_both! {
    correct_last_call => the_caller_changes_their_last_call,
}
