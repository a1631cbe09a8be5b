//! Length limits on free text, the same in the API, the pages and the OpenAPI document:
//! the API answers 422 `invalid_input` naming the field, a page names the form field, and
//! the document gives each limited field its `maxLength` from `barnstorm_domain::limits`.

use crate::app::{Browser, TestApp};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::limits;
use barnstorm_store::{GroupKind, Role};
use serde_json::json;

async fn group_text_past_its_limit_is_refused_in_the_api_and_the_page(app: TestApp) {
    app.user("admin@example.org", "Admin", true).await;
    let admin = app.token_for("admin@example.org").await;
    for (body, field) in [
        (json!({"name": "n".repeat(limits::GROUP_NAME + 1)}), "name"),
        (
            json!({"name": "Leeds", "description": "d".repeat(limits::GROUP_DESCRIPTION + 1)}),
            "description",
        ),
    ] {
        let refused = app
            .api(Method::POST, "/api/v1/groups", Some(&admin), Some(body))
            .await;
        assert_eq!(
            (refused.status, refused.error_code().as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            "{}",
            refused.body
        );
        assert_eq!(refused.json()["error"]["details"]["field"], field);
    }
    let fits = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&admin),
            Some(json!({"name": "n".repeat(limits::GROUP_NAME)})),
        )
        .await;
    assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.body);

    let mut browser = Browser::new(&app);
    browser.sign_in("admin@example.org").await;
    let page = browser.get("/groups").await;
    let long_description = "d".repeat(limits::GROUP_DESCRIPTION + 1);
    let refused = browser
        .submit(
            &page,
            "/groups",
            &[("name", "Wales"), ("description", &long_description)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let shown = browser.get(refused.location()).await;
    assert!(
        shown
            .body
            .contains("Description: description is 50001 characters long"),
        "{}",
        shown.body
    );
    let groups = app.store.groups().await.unwrap();
    assert!(groups.iter().all(|g| g.name != "Wales"), "nothing was made");
}

async fn the_campaign_form_names_a_briefing_past_its_limit(app: TestApp) {
    let organiser = app.user("olu@example.org", "Olu Organiser", false).await;
    let branch = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    app.store
        .set_membership(branch.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("olu@example.org").await;
    let path = format!("/groups/{}/campaigns/new", branch.slug);
    let form = browser.get(&path).await;
    assert!(
        form.body
            .contains(&format!("maxlength=\"{}\"", limits::BRIEFING)),
        "the form tells the browser the limit"
    );
    let briefing = "b".repeat(limits::BRIEFING + 1);
    let refused = browser
        .submit(
            &form,
            &path,
            &[
                ("name", "Spring phone bank"),
                ("briefing", &briefing),
                ("script", "Hello {first_name|there}"),
                ("o-key", ""),
                ("o-label", "Do not call"),
                ("o-effect", "do_not_call"),
                ("time_zone", "Europe/London"),
                ("day-monday-open", "on"),
                ("day-monday-start", "10:00"),
                ("day-monday-end", "20:00"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"briefing-error\"")
            && refused.body.contains("The briefing is too long"),
        "{}",
        refused.body
    );
}

async fn the_document_gives_limited_fields_their_max_length(app: TestApp) {
    let doc = app.get("/api/v1/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    for (schema, field, max) in [
        ("NewGroup", "name", limits::GROUP_NAME),
        ("NewGroup", "description", limits::GROUP_DESCRIPTION),
        ("NewEventBody", "title", limits::EVENT_TITLE),
        ("NewEventBody", "description", limits::EVENT_DESCRIPTION),
        ("NewRsvpBody", "name", limits::PERSON_NAME),
        ("SettingsFields", "script", limits::SCRIPT),
        ("SettingsFields", "briefing", limits::BRIEFING),
        ("SurveyQuestion", "label", limits::SURVEY_QUESTION),
        ("Outcome", "label", limits::OUTCOME_LABEL),
        ("OutcomeRequest", "notes", limits::CALL_NOTES),
        ("AcceptInvite", "name", limits::PERSON_NAME),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["maxLength"],
            json!(max),
            "{schema}.{field} in {}",
            schemas[schema]
        );
    }
    assert_eq!(
        schemas["NewEventBody"]["properties"]["title"]["type"], "string",
        "the event body is typed, not a description"
    );
}

on_both! {
    group_text_past_its_limit_is_refused_in_the_api_and_the_page => group_text_past_its_limit_is_refused_in_the_api_and_the_page,
    the_campaign_form_names_a_briefing_past_its_limit => the_campaign_form_names_a_briefing_past_its_limit,
    the_document_gives_limited_fields_their_max_length => the_document_gives_limited_fields_their_max_length,
}
