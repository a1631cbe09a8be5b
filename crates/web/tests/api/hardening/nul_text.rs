//! A NUL character cannot be stored as text (PostgreSQL refuses it): every way in answers
//! 422 naming the field, on both databases, and a CSV row with one is rejected alone.

use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use barnstorm_store::{GroupKind, Role};
use serde_json::{Value, json};

fn always_open() -> Value {
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

fn campaign_body(group_id: i64) -> Value {
    json!({"group_id": group_id, "name": "Spring canvass", "calling_hours": always_open(),
        "script": "Hello {first_name|there}",
        "survey": {"questions": [
            {"key": "q1", "label": "Will you vote?", "kind": {"type": "single_choice", "options": [
                {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]}}]}})
}

fn assert_refused(response: &TestResponse, field: &str, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {}",
        response.body
    );
    assert_eq!(response.error_code(), "invalid_input", "{what}");
    assert_eq!(
        response.json()["error"]["details"]["field"],
        field,
        "{what}: {}",
        response.body
    );
}

async fn json_bodies_with_nul_are_refused_naming_the_field(app: TestApp) {
    let group = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let org = app.user("org@example.org", "Olive", true).await;
    app.store
        .set_membership(group.id, org.id, Role::Organiser, None)
        .await
        .unwrap();
    let token = app.token_for("org@example.org").await;

    let signing_in = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "org\u{0}@example.org", "password": "x"})),
        )
        .await;
    assert_refused(&signing_in, "email", "token request");

    let group_name = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&token),
            Some(json!({"name": "Barn\u{0}storm"})),
        )
        .await;
    assert_refused(&group_name, "name", "group name");

    let mut nested = campaign_body(group.id);
    nested["survey"]["questions"][0]["kind"]["options"][1]["label"] = json!("N\u{0}o");
    let campaign = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(&token),
            Some(nested),
        )
        .await;
    assert_refused(
        &campaign,
        "survey.questions[0].kind.options[1].label",
        "nested survey label",
    );

    let mut key = campaign_body(group.id);
    key["na\u{0}me"] = json!("x");
    let odd_key = app
        .api(Method::POST, "/api/v1/campaigns", Some(&token), Some(key))
        .await;
    assert_refused(&odd_key, "na\\u0000me", "a key with NUL");

    let created = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(&token),
            Some(campaign_body(group.id)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let patch = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&token),
            Some(json!({"script": "Hi\u{0}"})),
        )
        .await;
    assert_refused(&patch, "script", "campaign update");

    let listed = app
        .api(Method::GET, "/api/v1/groups", Some(&token), None)
        .await;
    assert!(
        !listed.body.contains("Barn"),
        "nothing was stored: {}",
        listed.body
    );
}

async fn query_strings_and_paths_with_nul_are_refused(app: TestApp) {
    app.user("org@example.org", "Olive", true).await;
    let token = app.token_for("org@example.org").await;
    let query = app
        .api(
            Method::GET,
            "/api/v1/events?postcode=LS1%00",
            Some(&token),
            None,
        )
        .await;
    assert_refused(&query, "query.postcode", "API query string");

    let path = app.get("/groups/lee%00ds").await;
    assert_eq!(
        path.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        path.body
    );
    assert!(path.body.contains("NUL character"), "{}", path.body);

    let page_query = app.get("/events?q=x%00").await;
    assert_eq!(page_query.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page_query.body.contains("parameter &#39;q&#39;"),
        "{}",
        page_query.body
    );
}

async fn forms_with_nul_are_refused_naming_the_field(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let refused = browser
        .submit(
            &page,
            "/login",
            &[("email", "ada\0@example.org"), ("password", "x")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("field &#39;email&#39;"),
        "the page names the field: {}",
        refused.body
    );
    browser.sign_in("ada@example.org").await;
    let account = browser.get("/account").await;
    let renamed = browser
        .submit(&account, "/account/tokens", &[("name", "lap\0top")])
        .await;
    assert_eq!(renamed.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_csv_row_with_nul_is_rejected_alone(app: TestApp) {
    let group = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let org = app.user("org@example.org", "Olive", false).await;
    app.store
        .set_membership(group.id, org.id, Role::Organiser, None)
        .await
        .unwrap();
    let token = app.token_for("org@example.org").await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(&token),
            Some(campaign_body(group.id)),
        )
        .await;
    let id = created.json()["id"].as_i64().unwrap();
    let list = "First Name,Surname,Mobile,Ward\nAda,Lovelace,020 7946 0001,Headingley\nBad,Nul\0Name,020 7946 0003,Hyde Park\nAlan,Turing,020 7946 0002,Moortown\n";
    let request = Request::post(format!("/api/v1/campaigns/{id}/contacts"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(list))
        .unwrap();
    let imported = app.send(request).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let body = imported.json();
    assert_eq!(
        (body["imported"].as_u64(), body["rejected_total"].as_u64()),
        (Some(2), Some(1)),
        "{body}"
    );
    assert_eq!(body["rejected"][0]["line"], 3);
    assert_eq!(body["rejected"][0]["column"], "Surname");
    assert!(
        body["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("NUL"),
        "{body}"
    );
}

on_both! {
    nul_in_json => json_bodies_with_nul_are_refused_naming_the_field,
    nul_in_query_and_path => query_strings_and_paths_with_nul_are_refused,
    nul_in_forms => forms_with_nul_are_refused_naming_the_field,
    nul_in_csv_row => a_csv_row_with_nul_is_rejected_alone,
}
