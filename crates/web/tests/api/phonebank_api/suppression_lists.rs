//! Working with whole lists over the API: searching and paging a group's do-not-call list,
//! taking a number off it (its contacts are called again), uploading a list with bad lines
//! named by line, and loading a TPS file, which only site admins may do.

use super::{Team, claim, team, with_contacts};
use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use barnstorm_store::AuditAction;
use serde_json::json;

async fn send_list(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> TestResponse {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap();
    app.send(request).await
}

async fn add(app: &TestApp, token: &str, group: i64, phone: &str, reason: &str) -> TestResponse {
    app.api(
        Method::POST,
        &format!("/api/v1/groups/{group}/do-not-call"),
        Some(token),
        Some(json!({"phone": phone, "reason": reason})),
    )
    .await
}

/// The group's suppressions as its organiser sees them.
async fn suppressions(app: &TestApp, t: &Team) -> serde_json::Value {
    let path = format!("/api/v1/groups/{}/suppressions", t.group_id);
    let view = app.api(Method::GET, &path, Some(&t.org), None).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    view.json()
}

fn phones(view: &serde_json::Value) -> Vec<String> {
    view["do_not_call"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["phone"].as_str().unwrap().to_owned())
        .collect()
}

async fn search_finds_numbers_in_any_spelling_and_pages(app: TestApp) {
    let t = team(&app).await;
    for (phone, reason) in [
        ("020 7946 0101", "Asked by email"),
        ("0113 496 0102", "Wrote to the office"),
        ("+44 161 496 0103", "Said never again"),
    ] {
        let added = add(&app, &t.org, t.group_id, phone, reason).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    }
    let list = format!("/api/v1/groups/{}/suppressions", t.group_id);
    let found = |q: &str| {
        let path = format!("{list}?q={}", q.replace(' ', "%20").replace('+', "%2B"));
        let app = &app;
        let token = t.org.clone();
        async move {
            let answer = app.api(Method::GET, &path, Some(&token), None).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            answer.json()
        }
    };
    for (q, expected) in [
        ("01134960102", "+441134960102"),
        ("+44 113 496 0102", "+441134960102"),
        ("0161 496 0103", "+441614960103"),
        ("7946 01", "+442079460101"),
        ("0113 496", "+441134960102"),
        ("OFFICE", "+441134960102"),
    ] {
        let view = found(q).await;
        assert_eq!(phones(&view), vec![expected.to_owned()], "{q}: {view}");
        assert_eq!(view["do_not_call_matching"], 1, "{q}");
        assert_eq!(view["do_not_call_total"], 3, "{q}");
    }
    assert!(phones(&found("029 2018 0999").await).is_empty());

    let first = app
        .api(Method::GET, &format!("{list}?limit=2"), Some(&t.org), None)
        .await
        .json();
    assert_eq!(phones(&first).len(), 2, "{first}");
    assert_eq!(first["next_offset"], 2, "{first}");
    let rest = app
        .api(
            Method::GET,
            &format!("{list}?limit=2&offset=2"),
            Some(&t.org),
            None,
        )
        .await
        .json();
    assert_eq!(phones(&rest).len(), 1, "{rest}");
    assert!(rest["next_offset"].is_null(), "{rest}");
    let mut all = phones(&first);
    all.extend(phones(&rest));
    all.sort();
    assert_eq!(all, ["+441134960102", "+441614960103", "+442079460101"]);

    let refused = app
        .api(Method::GET, &format!("{list}?limit=0"), Some(&t.org), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["details"]["field"], "limit");
}

async fn a_removed_number_is_called_again(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    for phone in ["020 7946 0001", "020 7946 0002"] {
        let added = add(&app, &t.org, t.group_id, phone, "Asked by email").await;
        assert_eq!(added.json()["contacts_suppressed"], 1, "{}", added.body);
    }
    assert_eq!(
        claim(&app, &t.caller, id).await.status,
        StatusCode::NO_CONTENT
    );

    let remove = |phone: &str| format!("/api/v1/groups/{}/do-not-call/{phone}", t.group_id);
    let by_caller = app
        .api(
            Method::DELETE,
            &remove("%2B442079460001"),
            Some(&t.caller),
            None,
        )
        .await;
    assert_eq!(
        by_caller.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_caller.body
    );
    let removed = app
        .api(
            Method::DELETE,
            &remove("020%207946%200001"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    let held = claim(&app, &t.caller, id).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    assert_eq!(held.json()["contact"]["phone"], "+442079460001");
    let audited = app.store.recent_audit(5).await.unwrap();
    assert!(
        audited
            .iter()
            .any(|e| e.action == AuditAction::DoNotCallRemove),
        "{audited:?}"
    );

    let again = app
        .api(
            Method::DELETE,
            &remove("%2B442079460001"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    let typo = app
        .api(Method::DELETE, &remove("hello"), Some(&t.org), None)
        .await;
    assert_eq!(
        typo.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        typo.body
    );
    assert_eq!(typo.json()["error"]["details"]["field"], "phone");
    let view = suppressions(&app, &t).await;
    assert_eq!(phones(&view), ["+442079460002"]);
}

async fn an_uploaded_list_counts_and_names_its_bad_lines(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let listed = add(&app, &t.org, t.group_id, "029 2018 0444", "Wrote in").await;
    assert_eq!(listed.status, StatusCode::CREATED);
    let path = format!(
        "/api/v1/groups/{}/do-not-call/upload?name=complaints.csv",
        t.group_id
    );
    let file = "Phone,Reason\n020 7946 0001,\"Asked by text, twice\"\nhello,x\n0113 496 0555\n\n020 7946 0001,again\n029 2018 0444,Wrote in again\n12345,short\n";

    let by_caller = send_list(&app, &t.caller, &path, "text/csv", file).await;
    assert_eq!(
        by_caller.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_caller.body
    );
    let uploaded = send_list(&app, &t.org, &path, "text/csv", file).await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    let report = uploaded.json();
    assert_eq!(report["added"], 2, "{report}");
    assert_eq!(report["already_listed"], 2, "{report}");
    assert_eq!(report["invalid"], 2, "{report}");
    assert_eq!(report["contacts_suppressed"], 1, "{report}");
    let bad = report["invalid_lines"].as_array().unwrap();
    assert_eq!(bad[0]["line"], 3, "{report}");
    assert!(
        bad[0]["reason"].as_str().unwrap().contains("'hello'"),
        "{report}"
    );
    assert_eq!(bad[1]["line"], 8, "{report}");
    assert!(
        bad[1]["reason"]
            .as_str()
            .unwrap()
            .contains("'12345' is too short"),
        "{report}"
    );

    let view = suppressions(&app, &t).await;
    assert_eq!(view["do_not_call_total"], 3, "{view}");
    let reason_of = |phone: &str| {
        view["do_not_call"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["phone"] == phone)
            .map(|e| e["reason"].as_str().unwrap().to_owned())
    };
    assert_eq!(reason_of("+442079460001").unwrap(), "Asked by text, twice");
    assert_eq!(
        reason_of("+441134960555").unwrap(),
        "On the uploaded list complaints.csv"
    );
    assert_eq!(reason_of("+442920180444").unwrap(), "Wrote in");
    let held = claim(&app, &t.caller, id).await.json();
    assert_eq!(held["contact"]["phone"], "+442079460002", "{held}");
    let audited = app.store.recent_audit(5).await.unwrap();
    assert!(
        audited
            .iter()
            .any(|e| e.action == AuditAction::DoNotCallAdd && e.detail.contains("complaints.csv")),
        "{audited:?}"
    );

    // One number a line with no header, as text.
    let plain = send_list(&app, &t.org, &path, "text/plain", "0161 496 0777\n").await;
    assert_eq!(plain.json()["added"], 1, "{}", plain.body);
    let empty = send_list(&app, &t.org, &path, "text/csv", "").await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.body
    );
    let json_body = send_list(&app, &t.org, &path, "application/json", "{}").await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

async fn only_site_admins_load_the_tps_list(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    app.user("admin@example.org", "Ada Admin", true).await;
    let admin = app.token_for("admin@example.org").await;
    let path = "/api/v1/national-lists/tps?name=tps-2026-12.txt";
    let file = "020 7946 0001\nnot a number\n0113 496 0888\n";

    let by_organiser = send_list(&app, &t.org, path, "text/plain", file).await;
    assert_eq!(
        by_organiser.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_organiser.body
    );
    let loaded = send_list(&app, &admin, path, "text/plain", file).await;
    assert_eq!(loaded.status, StatusCode::OK, "{}", loaded.body);
    let report = loaded.json();
    assert_eq!(report["list"], "TPS");
    assert_eq!(report["read"], 2, "{report}");
    assert_eq!(report["added"], 2, "{report}");
    assert_eq!(report["skipped"], 1, "{report}");
    assert_eq!(report["skipped_lines"], json!([2]), "{report}");
    assert_eq!(report["on_list"], 2, "{report}");
    let audited = app.store.recent_audit(5).await.unwrap();
    assert!(
        audited.iter().any(|e| e.action == AuditAction::TpsImport),
        "{audited:?}"
    );
    let held = claim(&app, &t.caller, id).await.json();
    assert_eq!(held["contact"]["phone"], "+442079460002", "{held}");
    let view = suppressions(&app, &t).await;
    assert_eq!(view["national_lists"][0]["last_source"], "tps-2026-12.txt");
    let unknown = send_list(
        &app,
        &admin,
        "/api/v1/national-lists/dnc",
        "text/plain",
        file,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
}

async fn the_page_searches_and_removes_after_a_confirmation(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    for (phone, reason) in [
        ("020 7946 0001", "Asked by email"),
        ("0113 496 0102", "Wrote to the office"),
    ] {
        add(&app, &t.org, t.group_id, phone, reason).await;
    }
    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let found = org.get("/groups/leeds/suppressions?q=office").await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(
        found.body.contains("1 of 2 numbers matches “office”."),
        "{}",
        found.body
    );
    assert!(found.body.contains("0113 496 0102"), "{}", found.body);
    assert!(!found.body.contains("020 7946 0001"), "{}", found.body);

    let confirm = org
        .get("/groups/leeds/suppressions/remove?phone=%2B442079460001")
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("Contacts with this number will be called again"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("Asked by email"), "{}", confirm.body);
    let removed = org
        .submit(
            &confirm,
            "/groups/leeds/suppressions/remove",
            &[("phone", "+442079460001")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let after = org.get("/groups/leeds/suppressions").await;
    assert!(
        after.body.contains(
            "020 7946 0001 is off Leeds&#39;s do-not-call list. One contact will be called again."
        ),
        "{}",
        after.body
    );
    assert!(
        after.body.contains("1 number on the list."),
        "{}",
        after.body
    );
    let held = claim(&app, &t.caller, id).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    let gone = org
        .get("/groups/leeds/suppressions/remove?phone=020+7946+0001")
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    let after = org.get("/groups/leeds/suppressions").await;
    assert!(
        after
            .body
            .contains("020 7946 0001 is not on the do-not-call list."),
        "{}",
        after.body
    );
}

on_both!(
    page_search_remove => the_page_searches_and_removes_after_a_confirmation,
    search_pages => search_finds_numbers_in_any_spelling_and_pages,
    removal_requeues => a_removed_number_is_called_again,
    upload_counts => an_uploaded_list_counts_and_names_its_bad_lines,
    tps_upload_admin_only => only_site_admins_load_the_tps_list,
);
