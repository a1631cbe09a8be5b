//! Length limits on the phonebank's free text over the API: campaign settings and call
//! notes past their limit answer 422 `invalid_input` naming the field, and nothing changes.

use super::{claim, live_campaign, outcome, team, with_contacts};
use crate::app::TestApp;
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::limits;
use serde_json::{Value, json};

fn assert_refused(response: &crate::app::TestResponse, field: &str) {
    assert_eq!(
        (response.status, response.error_code().as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        "{}",
        response.body
    );
    assert_eq!(
        response.json()["error"]["details"]["field"],
        field,
        "{}",
        response.body
    );
}

async fn campaign_text_past_its_limit_is_refused_by_name(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let patch = |body: Value| {
        let app = &app;
        let token = t.org.clone();
        async move {
            app.api(
                Method::PATCH,
                &format!("/api/v1/campaigns/{id}"),
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let long = |n: usize| "b".repeat(n);
    assert_refused(
        &patch(json!({"name": long(limits::CAMPAIGN_NAME + 1)})).await,
        "name",
    );
    assert_refused(
        &patch(json!({"briefing": long(limits::BRIEFING + 1)})).await,
        "briefing",
    );
    assert_refused(
        &patch(json!({"script": long(limits::SCRIPT + 1)})).await,
        "script",
    );
    let question = json!({"questions": [{"key": "q", "label": long(limits::SURVEY_QUESTION + 1),
        "kind": {"type": "free_text", "max_len": 10}}]});
    let refused = patch(json!({ "survey": question })).await;
    assert_refused(&refused, "survey");
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 1000"),
        "{}",
        refused.body
    );
    let option = json!({"questions": [{"key": "q", "label": "Q?", "kind": {"type": "single_choice",
        "options": [{"key": "y", "label": long(limits::SURVEY_OPTION + 1)}]}}]});
    assert_refused(&patch(json!({ "survey": option })).await, "survey");
    let outcomes = json!([
        {"key": "spoke", "label": long(limits::OUTCOME_LABEL + 1), "effect": {"type": "completed"}},
        {"key": "dnc", "label": "Do not call", "effect": {"type": "do_not_call"}}
    ]);
    assert_refused(&patch(json!({ "outcomes": outcomes })).await, "outcomes");

    let unchanged = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            None,
        )
        .await
        .json();
    assert_eq!(unchanged["name"], "Spring canvass");
    assert_eq!(unchanged["script"], "Hello {first_name|there}");

    let at_the_limit = patch(json!({"briefing": long(limits::BRIEFING)})).await;
    assert_eq!(at_the_limit.status, StatusCode::OK, "{}", at_the_limit.body);
}

async fn call_notes_past_their_limit_are_refused_and_the_call_stays_open(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let claimed = claim(&app, &t.caller, id).await;
    let lease = claimed.json()["lease_id"].as_i64().unwrap();
    let too_long = json!({"outcome": "no_answer", "notes": "n".repeat(limits::CALL_NOTES + 1)});
    let refused = outcome(&app, &t.caller, lease, Some("k-long"), too_long).await;
    assert_refused(&refused, "notes");
    let fits = json!({"outcome": "no_answer", "notes": "n".repeat(limits::CALL_NOTES)});
    let saved = outcome(&app, &t.caller, lease, Some("k-fits"), fits).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
}

on_both! {
    campaign_text_past_its_limit_is_refused_by_name => campaign_text_past_its_limit_is_refused_by_name,
    call_notes_past_their_limit_are_refused_and_the_call_stays_open => call_notes_past_their_limit_are_refused_and_the_call_stays_open,
}
