//! The phonebank API end to end: campaigns, invites, CSV import, the calling session and
//! results, on both backends. Campaigns are live with calling hours open all week so the
//! tests do not depend on the clock.

use crate::app::{TestApp, TestResponse};
use crate::on_both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use barnstorm_store::{GroupKind, Role};
use serde_json::{Value, json};

pub(crate) fn always_open() -> Value {
    let day = json!({"start": "00:00", "end": "24:00"});
    let days: serde_json::Map<String, Value> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .map(|d| ((*d).to_owned(), day.clone()))
    .collect();
    json!({"time_zone": "UTC", "days": days})
}

/// q1 yes/no; q2 (free text) shown only when q1 is yes.
fn branching_survey() -> Value {
    json!({"questions": [
        {"key": "q1", "label": "Will you vote?", "kind": {"type": "single_choice", "options": [
            {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]}},
        {"key": "q2", "label": "What matters most?", "kind": {"type": "free_text", "max_len": 200},
            "show_if": {"question_key": "q1", "equals_any": ["yes"]}}
    ]})
}

pub(crate) struct Team {
    pub(crate) group_id: i64,
    pub(crate) org: String,
    pub(crate) caller: String,
    caller2: String,
    stranger: String,
}

pub(crate) async fn team(app: &TestApp) -> Team {
    let group = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let org = app.user("org@example.org", "Olive Organiser", false).await;
    let caller = app.user("cal@example.org", "Cal Caller", false).await;
    let caller2 = app.user("cal2@example.org", "Cara Caller", false).await;
    app.user("stranger@example.org", "Stan", false).await;
    app.store
        .set_membership(group.id, org.id, Role::Organiser, None)
        .await
        .unwrap();
    app.store
        .set_membership(group.id, caller.id, Role::Caller, None)
        .await
        .unwrap();
    app.store
        .set_membership(group.id, caller2.id, Role::Caller, None)
        .await
        .unwrap();
    Team {
        group_id: group.id,
        org: app.token_for("org@example.org").await,
        caller: app.token_for("cal@example.org").await,
        caller2: app.token_for("cal2@example.org").await,
        stranger: app.token_for("stranger@example.org").await,
    }
}

/// A live campaign, always open, with the branching survey and `extra` settings.
pub(crate) async fn live_campaign(app: &TestApp, t: &Team, extra: Value) -> i64 {
    let mut body = json!({"group_id": t.group_id, "name": "Spring canvass", "survey": branching_survey(),
        "calling_hours": always_open(), "script": "Hello {first_name|there}"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = app
        .api(Method::POST, "/api/v1/campaigns", Some(&t.org), Some(body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let live = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            Some(json!({"status": "live"})),
        )
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    id
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    campaign: i64,
    query: &str,
    csv: &str,
) -> TestResponse {
    let request = Request::post(format!("/api/v1/campaigns/{campaign}/contacts{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_owned()))
        .unwrap();
    app.send(request).await
}

const LIST: &str = "First Name,Surname,Mobile,Ward\nAda,Lovelace,020 7946 0001,Headingley\nBad,Number,12345,Hyde Park\nAlan,Turing,020 7946 0002,Moortown\n";

async fn with_contacts(app: &TestApp, t: &Team, extra: Value) -> i64 {
    let id = live_campaign(app, t, extra).await;
    let imported = upload(app, &t.org, id, "", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    id
}

pub(crate) async fn claim(app: &TestApp, token: &str, campaign: i64) -> TestResponse {
    app.api(
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/claims"),
        Some(token),
        None,
    )
    .await
}

/// Gives a held contact back unrecorded (a skip).
async fn release(app: &TestApp, token: &str, lease: i64) -> TestResponse {
    app.api(
        Method::POST,
        &format!("/api/v1/leases/{lease}/release"),
        Some(token),
        None,
    )
    .await
}

pub(crate) async fn outcome(
    app: &TestApp,
    token: &str,
    lease: i64,
    key: Option<&str>,
    body: Value,
) -> TestResponse {
    let mut request = Request::post(format!("/api/v1/leases/{lease}/outcome"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

mod bridging;
mod calling;
mod campaign_edits;
mod corrections;
mod crm_round_trip;
mod invite_abuse;
mod invites_results;
mod safeguard_pages;
mod safeguards;
mod suppression_lists;
mod suppressions;
mod text_limits;

async fn campaigns_are_checked_and_move_through_their_states(app: TestApp) {
    let t = team(&app).await;
    let post = |body: Value| app.api(Method::POST, "/api/v1/campaigns", Some(&t.org), Some(body));
    let bad_survey = post(
        json!({"group_id": t.group_id, "name": "X", "survey": {"questions": [
        {"key": "q2", "label": "Later?", "kind": {"type": "free_text", "max_len": 10},
         "show_if": {"question_key": "nope", "equals_any": ["yes"]}}]}}),
    )
    .await;
    assert_eq!(
        bad_survey.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_survey.body
    );
    assert_eq!(bad_survey.json()["error"]["details"]["field"], "survey");
    assert!(
        bad_survey.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Question 1: \"show only when\" refers to \"nope\"")
    );
    let bad_outcomes = post(json!({"group_id": t.group_id, "name": "X", "outcomes": []})).await;
    assert_eq!(bad_outcomes.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_outcomes.json()["error"]["details"]["field"], "outcomes");
    let bad_hours = post(json!({"group_id": t.group_id, "name": "X", "calling_hours": {"time_zone": "UTC", "days": {}}})).await;
    assert_eq!(bad_hours.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad_hours.json()["error"]["details"]["field"],
        "calling_hours"
    );
    assert!(
        bad_hours.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("closed every day"),
        "{}",
        bad_hours.body
    );
    let no_name = post(json!({"group_id": t.group_id})).await;
    assert_eq!(no_name.json()["error"]["details"]["field"], "name");
    let not_theirs = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(&t.caller),
            Some(json!({"group_id": t.group_id, "name": "Mine"})),
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);

    let created = post(json!({"group_id": t.group_id, "name": "Spring"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let c = created.json();
    assert_eq!(
        (
            c["status"].as_str(),
            c["max_attempts"].as_i64(),
            c["lease_seconds"].as_i64()
        ),
        (Some("draft"), Some(3), Some(600))
    );
    let path = format!("/api/v1/campaigns/{}", c["id"]);
    let patch = |body: Value| app.api(Method::PATCH, &path, Some(&t.org), Some(body));
    let paused = patch(json!({"status": "paused"})).await;
    assert_eq!(paused.status, StatusCode::CONFLICT);
    assert!(
        paused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("draft")
    );
    let bad_status = patch(json!({"status": "sleeping"})).await;
    assert_eq!(bad_status.json()["error"]["details"]["field"], "status");
    for (to, name) in [
        ("live", "Spring 2"),
        ("paused", "Spring 2"),
        ("live", "Spring 3"),
        ("finished", "Spring 3"),
    ] {
        let moved = patch(json!({"status": to, "name": name})).await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
        assert_eq!(
            (
                moved.json()["status"].as_str(),
                moved.json()["name"].as_str()
            ),
            (Some(to), Some(name))
        );
    }
    assert_eq!(
        patch(json!({"status": "live"})).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        patch(json!({"max_attempts": 0})).await.json()["error"]["details"]["field"],
        "max_attempts"
    );

    let read = app.api(Method::GET, &path, Some(&t.caller), None).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "a caller of the group may read the campaign"
    );
    assert_eq!(
        app.api(Method::GET, &path, Some(&t.stranger), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let list = app
        .api(
            Method::GET,
            &format!("/api/v1/groups/{}/campaigns", t.group_id),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(list.json().as_array().unwrap().len(), 1);

    let doc = app.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/campaigns",
        "/api/v1/campaigns/{id}/claims",
        "/api/v1/leases/{id}/outcome",
        "/api/v1/invites/{code}/accept",
        "/api/v1/campaigns/{id}/contacts",
        "/api/v1/imports/{job_id}/rejections.csv",
        "/api/v1/campaigns/{id}/results.csv",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
}

async fn csv_import_reports_rejected_rows(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let imported = upload(&app, &t.org, id, "", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let body = imported.json();
    assert_eq!(
        (body["imported"].as_u64(), body["rejected_total"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(body["rejected"][0]["line"], 3);
    assert_eq!(body["rejected"][0]["column"], "Mobile");
    let job = body["job_id"].as_i64().unwrap();
    let status = app
        .api(
            Method::GET,
            &format!("/api/v1/imports/{job}"),
            Some(&t.org),
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            status["status"].as_str(),
            status["imported"].as_u64(),
            status["rejected"].as_u64()
        ),
        (Some("done"), Some(2), Some(1))
    );
    let rejections = app
        .api(
            Method::GET,
            &format!("/api/v1/imports/{job}/rejections.csv"),
            Some(&t.org),
            None,
        )
        .await;
    assert!(
        rejections.body.starts_with(
            "First Name,Surname,Mobile,Ward,Rejected on line,Rejected column,Rejection reason\n\
             Bad,Number,12345,Hyde Park,3,Mobile,"
        ),
        "{}",
        rejections.body
    );
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/imports/{job}"),
            Some(&t.caller),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let again = upload(&app, &t.org, id, "?map=Ward:ignore", LIST)
        .await
        .json();
    assert_eq!(again["duplicates"], 2, "{again}");
    let bad_role = upload(&app, &t.org, id, "?map=Mobile:telephone", LIST).await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_role.json()["error"]["details"]["field"], "map");
    let no_phone = upload(&app, &t.org, id, "", "Name,Ward\nAda,Headingley\n").await;
    assert_eq!(
        (no_phone.status, no_phone.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_file")
    );
    let json_body = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/contacts"),
            Some(&t.org),
            Some(json!({})),
        )
        .await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        upload(&app, &t.caller, id, "", LIST).await.status,
        StatusCode::FORBIDDEN
    );
}

on_both! {
    campaigns_lifecycle => campaigns_are_checked_and_move_through_their_states,
    csv_import => csv_import_reports_rejected_rows,
}
