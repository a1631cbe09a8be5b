//! Campaign exports stream: the header goes out before any row is read, then one chunk per
//! page of rows, so a long list never sits in memory whole.

use crate::app::TestApp;
use crate::on_both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use barnstorm_store::AuditAction;
use barnstorm_store::{GroupKind, Role};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

const CONTACTS: usize = 2_500;

async fn big_campaign(app: &TestApp) -> (i64, String) {
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
            Some(json!({"group_id": group.id, "name": "Big list"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let mut list = String::from("First Name,Mobile\n");
    // Ofcom's numbers for drama: 1,000 in each of London, Leeds and Manchester.
    for n in 0..CONTACTS {
        let area = ["020 7946", "0113 496", "0161 496"][n / 1000];
        list.push_str(&format!("Person {n},{area} {:04}\n", n % 1000));
    }
    let request = Request::post(format!("/api/v1/campaigns/{id}/contacts"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(list))
        .unwrap();
    let imported = app.send(request).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(
        imported.json()["imported"],
        CONTACTS as u64,
        "{}",
        &imported.body[..imported.body.len().min(500)]
    );
    (id, token)
}

async fn results_stream_in_chunks_header_first(app: TestApp) {
    let (id, token) = big_campaign(&app).await;
    let request = Request::get(format!("/api/v1/campaigns/{id}/results.csv"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get(header::CONTENT_LENGTH).is_none(),
        "a streamed body has no length up front"
    );
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(
        String::from_utf8_lossy(&first).starts_with("contact_id,first_name,"),
        "the header comes first"
    );
    assert_eq!(
        first.iter().filter(|b| **b == b'\n').count(),
        1,
        "the first chunk is the header alone, sent before any row is read"
    );
    let mut chunks = 1;
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            chunks += 1;
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(chunks >= 4, "header and one chunk per 1,000 rows: {chunks}");
    assert_eq!(text.lines().count(), CONTACTS + 1);
    assert!(
        text.lines()
            .nth(CONTACTS)
            .unwrap()
            .contains(",Person 2499,")
    );

    let audit = app.store.recent_audit(10).await.unwrap();
    let details: Vec<&str> = audit
        .iter()
        .filter(|e| e.action == AuditAction::ResultsExport)
        .map(|e| e.detail.as_str())
        .collect();
    assert!(details.contains(&"download started"), "{details:?}");
    assert!(
        details.contains(&format!("download complete: {CONTACTS} contacts").as_str()),
        "{details:?}"
    );
}

on_both! {
    export_streams => results_stream_in_chunks_header_first,
}
