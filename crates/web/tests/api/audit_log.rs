//! The audit log over the API: an organiser lists and downloads who was shown, imported
//! and changed what in their group, filtered by caller, person and action, and never sees
//! another group's entries; callers are refused; administrators see every group.

use crate::app::{Browser, TestApp};
use crate::on_both;
use crate::phonebank_api::{claim, live_campaign, team, upload};
use axum::http::{Method, StatusCode};
use barnstorm_store::phonebank::CampaignSettings;
use barnstorm_store::{GroupKind, Role};
use serde_json::{Value, json};

const LIST: &str =
    "First Name,Surname,Mobile\nAda,Lovelace,020 7946 0001\nAlan,Turing,020 7946 0002\n";

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app.api(Method::GET, path, Some(token), None).await;
    let body = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

fn entries(body: &Value) -> &Vec<Value> {
    body["data"].as_array().unwrap()
}

async fn organisers_read_their_groups_audit_only(app: TestApp) {
    let t = team(&app).await;
    let campaign = live_campaign(&app, &t, json!({})).await;
    let imported = upload(&app, &t.org, campaign, "", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let claimed = claim(&app, &t.caller, campaign).await;
    assert_eq!(claimed.status, StatusCode::CREATED, "{}", claimed.body);
    let shown_phone = claimed.json()["contact"]["phone"]
        .as_str()
        .unwrap()
        .to_owned();
    let caller = app
        .store
        .user_by_email("cal@example.org")
        .await
        .unwrap()
        .unwrap();

    // Another group with its own organiser and campaign.
    let york = app
        .store
        .create_group(None, "York", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let yorker = app.user("york@example.org", "Yan York", false).await;
    app.store
        .set_membership(york.id, yorker.id, Role::Organiser, None)
        .await
        .unwrap();
    let york_campaign = app
        .store
        .create_campaign(
            york.id,
            &CampaignSettings::new("York calls"),
            Some(yorker.id),
        )
        .await
        .unwrap();

    let (status, all) = get(&app, &t.org, "/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let rows = entries(&all);
    assert!(
        rows.iter().all(|e| e["group_id"] == json!(t.group_id)),
        "only Leeds entries: {all}"
    );
    for action in [
        "campaign.create",
        "campaign.status",
        "contacts.import",
        "contact.view",
    ] {
        assert!(
            rows.iter().any(|e| e["action"] == action),
            "{action} in {all}"
        );
    }
    assert!(!all.to_string().contains("York calls"));

    // Asking for York is refused, not answered with nothing.
    let (status, body) = get(&app, &t.org, &format!("/api/v1/audit?group={}", york.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Who was shown the person with this number: the caller, once.
    let path = format!(
        "/api/v1/audit?action=contact.view&phone={}",
        shown_phone.replace('+', "%2B")
    );
    let (status, viewed) = get(&app, &t.org, &path).await;
    assert_eq!(status, StatusCode::OK, "{viewed}");
    let views = entries(&viewed);
    assert_eq!(views.len(), 1, "{viewed}");
    assert_eq!(views[0]["actor_user_id"], json!(caller.id));
    assert_eq!(views[0]["actor_name"], "Cal Caller");
    assert_eq!(views[0]["campaign_id"], json!(campaign));

    // By caller, with pages of one.
    let (_, page) = get(
        &app,
        &t.org,
        &format!("/api/v1/audit?caller={}&limit=1", caller.id),
    )
    .await;
    assert_eq!(entries(&page).len(), 1);
    assert_eq!(page["next_cursor"], Value::Null, "the caller did one thing");

    // Bad filters say which field is wrong.
    let (status, body) = get(&app, &t.org, "/api/v1/audit?action=contact.stare").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["field"], "action", "{body}");
    let (status, body) = get(&app, &t.org, "/api/v1/audit?from=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The CSV holds the same rows and nothing of York.
    let csv = app
        .api(Method::GET, "/api/v1/audit.csv", Some(&t.org), None)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.body.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("at,action,actor_user_id,actor_name")
    );
    assert_eq!(lines.count(), rows.len());
    assert!(csv.body.contains("contact.view"));
    assert!(!csv.body.contains(&format!("campaign {}", york_campaign.id)));

    // The group's page shows the same entries with the filter form and a CSV link.
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = browser.get("/groups/leeds/audit?action=contact.view").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Cal Caller") && page.body.contains("contact.view"));
    assert!(
        page.body
            .contains("/groups/leeds/audit.csv?action=contact.view")
    );
    let bad = browser.get("/groups/leeds/audit?caller=someone").await;
    assert!(
        bad.body.contains("&#39;someone&#39; is not a whole number")
            || bad.body.contains("'someone' is not a whole number"),
        "{}",
        bad.body
    );
    let download = browser
        .get("/groups/leeds/audit.csv?action=contact.view")
        .await;
    assert_eq!(download.body.lines().count(), 2, "{}", download.body);
    assert_eq!(
        browser.get("/groups/york/audit").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.get("/admin/audit").await.status,
        StatusCode::FORBIDDEN
    );

    // A caller cannot read the log; an administrator reads every group's.
    let (status, _) = get(&app, &t.caller, "/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.user("admin@example.org", "Ada Admin", true).await;
    let admin = app.token_for("admin@example.org").await;
    let (_, everything) = get(&app, &admin, "/api/v1/audit?limit=500").await;
    assert!(
        entries(&everything)
            .iter()
            .any(|e| e["campaign_id"] == json!(york_campaign.id))
    );
}

on_both!(organisers_read_their_groups_audit_only => organisers_read_their_groups_audit_only);
