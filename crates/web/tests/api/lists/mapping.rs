//! The column-mapping step: the preview of a list's first rows over the API and the
//! campaign page (the guess, chosen roles, a mapping that does not fit, in plain words),
//! then the page's upload with the chosen roles. The file is
//! `tests/fixtures/messy-export.csv`, shared with the browser test: its phone column is
//! headed "Tel (home)", and a "Mobile provider" column of network names looks more like
//! the mobile number to the guess.

use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use crate::phonebank_api::{live_campaign, team};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

const EXPORT: &str = include_str!("../../../../../tests/fixtures/messy-export.csv");
/// The roles an organiser picks for the export.
const CHOSEN: &str = "Tel (home):phone,Mobile provider:ignore";

pub(crate) async fn preview(
    app: &TestApp,
    token: &str,
    campaign: i64,
    map: &str,
    csv: &str,
) -> TestResponse {
    let query = serde_urlencoded::to_string([("map", map)]).unwrap();
    let request = Request::post(format!(
        "/api/v1/campaigns/{campaign}/imports/preview?{query}"
    ))
    .header(header::AUTHORIZATION, format!("Bearer {token}"))
    .header(header::CONTENT_TYPE, "text/csv")
    .body(Body::from(csv.to_owned()))
    .unwrap();
    app.send(request).await
}

/// Each column's header and role.
pub(crate) fn roles(body: &Value) -> Vec<(String, String)> {
    body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["header"].as_str().unwrap().to_owned(),
                c["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn role_of(body: &Value, header: &str) -> String {
    roles(body)
        .into_iter()
        .find(|(h, _)| h == header)
        .unwrap_or_else(|| panic!("no column {header} in {body}"))
        .1
}

async fn the_api_previews_a_list_with_the_roles_chosen(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;

    let guessed = preview(&app, &t.org, id, "", EXPORT).await;
    assert_eq!(guessed.status, StatusCode::OK, "{}", guessed.body);
    let guessed = guessed.json();
    assert_eq!(role_of(&guessed, "Forename"), "first_name");
    assert_eq!(role_of(&guessed, "Mobile provider"), "phone", "{guessed}");
    assert_eq!(role_of(&guessed, "Tel (home)"), "other_phone");
    assert_eq!(role_of(&guessed, "Post code"), "postcode");
    assert_eq!(guessed["ok"], true);
    assert_eq!(guessed["whole_file"], true);
    assert_eq!(guessed["rows_in_sample"], 7);
    let rows = guessed["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "the first five rows");
    assert_eq!(rows[0]["line"], 2);
    assert_eq!(rows[0]["cells"][2], "Vodafone");
    assert_eq!(
        rows[0]["warnings"][0]["column"], "Mobile provider",
        "the guess is visibly wrong: {guessed}"
    );
    assert!(
        rows[0]["warnings"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("the number in Tel (home) is rung instead"),
        "{guessed}"
    );

    let no_phone = preview(&app, &t.org, id, "Mobile provider:ignore", EXPORT).await;
    assert_eq!(no_phone.status, StatusCode::OK, "{}", no_phone.body);
    let no_phone = no_phone.json();
    assert_eq!(no_phone["ok"], false);
    assert_eq!(
        no_phone["problem"], "No column is the phone number: choose one.",
        "{no_phone}"
    );
    assert_eq!(role_of(&no_phone, "Mobile provider"), "ignore");

    let chosen = preview(&app, &t.org, id, CHOSEN, EXPORT).await.json();
    assert_eq!(chosen["ok"], true, "{chosen}");
    assert_eq!(chosen["problem"], Value::Null);
    assert_eq!(role_of(&chosen, "Tel (home)"), "phone");
    let marked: Vec<(&str, bool)> = chosen["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["header"].as_str().unwrap(),
                c["chosen"].as_bool().unwrap(),
            )
        })
        .filter(|(_, chosen)| *chosen)
        .collect();
    assert_eq!(marked, [("Mobile provider", true), ("Tel (home)", true)]);
    let warned: Vec<&str> = chosen["rows"][0]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["column"].as_str().unwrap())
        .collect();
    assert_eq!(warned, ["Post code"], "{chosen}");

    let bad_role = preview(&app, &t.org, id, "Tel (home):telephone", EXPORT).await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_role.json()["error"]["details"]["field"], "map");
    let empty = preview(&app, &t.org, id, "", "").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("the file is empty"), "{}", empty.body);
    let caller = preview(&app, &t.caller, id, "", EXPORT).await;
    assert_eq!(caller.status, StatusCode::FORBIDDEN, "only organisers");
    assert_eq!(
        app.store.contact_count(id).await.unwrap(),
        0,
        "a preview imports nothing"
    );
}

/// Polls the page's progress JSON until the import is done.
async fn finished(browser: &mut Browser<'_>, progress_url: &str) -> Value {
    for _ in 0..200 {
        let job = browser.get(progress_url).await.json();
        if job["done"] == true {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the import did not finish");
}

async fn the_page_previews_and_uploads_with_the_roles_chosen(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = browser.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.body
            .contains(r#"<option value="other_phone">Other phone number</option>"#)
            && page
                .body
                .contains(r#"<option value="extra">Keep for the script</option>"#),
        "the role menu's choices are in plain words: {}",
        page.body
    );
    assert!(
        !page.body.contains("repeated numbers are skipped")
            && page.body.contains("merged into one contact"),
        "the hint says duplicates are merged"
    );

    let query = serde_urlencoded::to_string([("map", "Mobile provider:ignore")]).unwrap();
    let no_phone = browser
        .post_csv(
            &page,
            &format!("/campaigns/{id}/imports/preview?{query}"),
            EXPORT,
        )
        .await;
    assert_eq!(no_phone.status, StatusCode::OK, "{}", no_phone.body);
    assert_eq!(
        no_phone.json()["problem"],
        "No column is the phone number: choose one."
    );
    let empty = browser
        .post_csv(&page, &format!("/campaigns/{id}/imports/preview"), "")
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        empty.json()["error"],
        "The file could not be read: the file is empty; the first row must name the columns."
    );
    let bad_role = serde_urlencoded::to_string([("map", "Tel (home):telephone")]).unwrap();
    let refused = browser
        .post_csv(
            &page,
            &format!("/campaigns/{id}/imports?{bad_role}"),
            EXPORT,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Column roles: \"telephone\" is not a role"),
        "{}",
        refused.body
    );

    let chosen = serde_urlencoded::to_string([("name", "export.csv"), ("map", CHOSEN)]).unwrap();
    let started = browser
        .post_csv(&page, &format!("/campaigns/{id}/imports?{chosen}"), EXPORT)
        .await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    let progress_url = started.json()["progress_url"].as_str().unwrap().to_owned();
    let job = finished(&mut browser, &progress_url).await;
    let counts = ["imported", "duplicates", "warnings", "rejected", "contacts"]
        .map(|k| job[k].as_u64().unwrap());
    assert_eq!(counts, [4, 1, 2, 2, 4], "{job}");
    assert!(
        job["queue"].is_string(),
        "the queue line is refreshed: {job}"
    );
    let asha = app
        .store
        .contact_by_phone(id, "+442079460201")
        .await
        .unwrap()
        .expect("the number in Tel (home) is the one rung");
    assert!(
        !asha.extra.contains_key("Mobile provider"),
        "an ignored column is not kept: {:?}",
        asha.extra
    );
    assert_eq!(
        asha.extra.get("Ward").map(String::as_str),
        Some("Hyde Park")
    );
}

on_both! {
    api_preview => the_api_previews_a_list_with_the_roles_chosen,
    page_preview_and_upload => the_page_previews_and_uploads_with_the_roles_chosen,
}
