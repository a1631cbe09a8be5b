use crate::app::TestApp;
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::Role;
use serde_json::json;

async fn organisers_create_groups_below_theirs_only(app: TestApp) {
    app.user("admin@example.org", "Admin", true).await;
    let organiser = app.user("org@example.org", "Org", false).await;
    app.user("someone@example.org", "Someone", false).await;
    let admin = app.token_for("admin@example.org").await;
    let org = app.token_for("org@example.org").await;
    let someone = app.token_for("someone@example.org").await;

    let uk = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&admin),
            Some(json!({"name": "Barnstorm UK"})),
        )
        .await;
    assert_eq!(uk.status, StatusCode::CREATED, "{}", uk.body);
    assert_eq!(uk.json()["kind"], "national");
    let uk_id = uk.json()["id"].as_i64().unwrap();
    let top = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&org),
            Some(json!({"name": "Rival"})),
        )
        .await;
    assert_eq!(top.status, StatusCode::FORBIDDEN);

    let region = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&admin),
            Some(json!({"name": "Wales", "parent_id": uk_id})),
        )
        .await;
    assert_eq!(region.json()["kind"], "region");
    let region_id = region.json()["id"].as_i64().unwrap();
    app.store
        .set_membership(region_id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();

    let branch = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&org),
            Some(json!({"name": "Cardiff", "parent_id": region_id})),
        )
        .await;
    assert_eq!(branch.status, StatusCode::CREATED, "{}", branch.body);
    assert_eq!(branch.json()["kind"], "branch");
    assert_eq!(branch.json()["slug"], "cardiff");
    let refused = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&someone),
            Some(json!({"name": "Mine", "parent_id": region_id})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.error_code(), "forbidden");
    let sideways = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&org),
            Some(json!({"name": "X", "parent_id": uk_id})),
        )
        .await;
    assert_eq!(
        sideways.status,
        StatusCode::FORBIDDEN,
        "a regional organiser cannot add regions"
    );
    let blank = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&org),
            Some(json!({"name": "  ", "parent_id": region_id})),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(blank.json()["error"]["details"]["field"], "name");
    let orphan = app
        .api(
            Method::POST,
            "/api/v1/groups",
            Some(&admin),
            Some(json!({"name": "X", "parent_id": 9999})),
        )
        .await;
    assert_eq!(orphan.json()["error"]["details"]["field"], "parent_id");

    let list = app.api(Method::GET, "/api/v1/groups", None, None).await;
    assert_eq!(list.json().as_array().unwrap().len(), 3);
    let one = app
        .api(
            Method::GET,
            &format!("/api/v1/groups/{region_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(one.json()["name"], "Wales");
    assert_eq!(
        app.api(Method::GET, "/api/v1/groups/4242", None, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn invites_are_checked_and_mailed(app: TestApp) {
    let organiser = app.user("org@example.org", "Olu Organiser", false).await;
    app.user("someone@example.org", "Someone", false).await;
    let group = app
        .store
        .create_group(None, "Leeds", barnstorm_store::GroupKind::Branch, "", None)
        .await
        .unwrap();
    app.store
        .set_membership(group.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    let org = app.token_for("org@example.org").await;
    let someone = app.token_for("someone@example.org").await;
    let path = format!("/api/v1/groups/{}/invites", group.id);

    let bad_email = app
        .api(
            Method::POST,
            &path,
            Some(&org),
            Some(json!({"email": "nia at example", "role": "caller"})),
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_email.json()["error"]["details"]["field"], "email");
    let bad_role = app
        .api(
            Method::POST,
            &path,
            Some(&org),
            Some(json!({"email": "nia@example.org", "role": "boss"})),
        )
        .await;
    assert_eq!(bad_role.json()["error"]["details"]["field"], "role");
    let not_organiser = app
        .api(
            Method::POST,
            &path,
            Some(&someone),
            Some(json!({"email": "nia@example.org", "role": "caller"})),
        )
        .await;
    assert_eq!(not_organiser.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.mail_counts().await.unwrap(),
        (0, 0),
        "refused invites queue no mail"
    );

    let sent = app
        .api(
            Method::POST,
            &path,
            Some(&org),
            Some(json!({"email": "Nia@Example.org", "role": "caller"})),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    assert_eq!(sent.json()["email"], "nia@example.org");
    let mail = app
        .store
        .claim_due_mail(10, 1000)
        .await
        .unwrap()
        .remove(0)
        .mail;
    assert_eq!(mail.to, "nia@example.org");
    assert!(
        mail.subject.contains("invited to join Leeds"),
        "{}",
        mail.subject
    );
    assert!(
        mail.body_text.contains("Olu Organiser"),
        "{}",
        mail.body_text
    );
    assert!(
        mail.body_text.contains("http://barnstorm.test/invites/"),
        "{}",
        mail.body_text
    );

    let members = app
        .api(
            Method::GET,
            &format!("/api/v1/groups/{}/members", group.id),
            Some(&org),
            None,
        )
        .await;
    assert_eq!(members.json()[0]["role"], "organiser");
    let hidden = app
        .api(
            Method::GET,
            &format!("/api/v1/groups/{}/members", group.id),
            Some(&someone),
            None,
        )
        .await;
    assert_eq!(
        hidden.status,
        StatusCode::FORBIDDEN,
        "member lists are for organisers"
    );
}

on_both! {
    group_permissions => organisers_create_groups_below_theirs_only,
    group_invites => invites_are_checked_and_mailed,
}
