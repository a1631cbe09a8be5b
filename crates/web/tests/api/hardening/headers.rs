//! Security headers on every kind of response, and API errors always in the JSON shape.

use crate::app::{TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::GroupKind;

fn header<'a>(response: &'a TestResponse, name: &str) -> &'a str {
    response
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn assert_protected(response: &TestResponse, what: &str) {
    let policy = header(response, "content-security-policy");
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{what}: {policy:?}"
    );
    assert!(policy.contains("object-src 'none'"), "{what}: {policy:?}");
    assert_eq!(
        header(response, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
}

async fn every_response_carries_the_security_headers(app: TestApp) {
    app.store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let page = app.get("/events").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_protected(&page, "a page");
    assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert_eq!(
        header(&page, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    assert_eq!(
        header(&page, "strict-transport-security"),
        "",
        "no HSTS over plain http"
    );

    let api = app.api(Method::GET, "/api/v1/groups", None, None).await;
    assert_protected(&api, "an API answer");
    assert!(header(&api, "content-security-policy").contains("frame-ancestors 'none'"));

    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_protected(&missing, "a 404 page");

    let asset = app.get("/assets/app.js").await;
    assert_protected(&asset, "a script asset");

    let embed = app.get("/embed/groups/leeds").await;
    assert_eq!(embed.status, StatusCode::OK, "{}", embed.body);
    assert_protected(&embed, "the embed widget");
    let embed_policy = header(&embed, "content-security-policy");
    assert!(
        embed_policy.contains("frame-ancestors *"),
        "the widget may be framed: {embed_policy}"
    );
    assert_eq!(header(&embed, "x-frame-options"), "");
    assert!(!embed.body.contains(" rel=\"noopener\">"), "{}", embed.body);

    for token_page in [
        "/login/link/secret-token",
        "/invites/secret-token",
        "/rsvp/secret-token",
        "/unsubscribe/secret-token",
        "/call/join/secret-code",
    ] {
        let response = app.get(token_page).await;
        assert_eq!(
            header(&response, "referrer-policy"),
            "no-referrer",
            "{token_page} must not leak its token"
        );
        assert_protected(&response, token_page);
    }
}

async fn templates_carry_no_inline_script_or_style(app: TestApp) {
    // The group tree is one page that used to set its indentation in an inline style.
    let uk = app
        .store
        .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
        .await
        .unwrap();
    app.store
        .create_group(Some(uk.id), "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    for path in ["/", "/events", "/login", "/groups"] {
        let page = app.get(path).await;
        let lower = page.body.to_lowercase();
        for script in lower.match_indices("<script").map(|(i, _)| &lower[i..]) {
            let tag = &script[..script.find('>').unwrap_or(script.len())];
            assert!(tag.contains(" src="), "inline script on {path}: {tag}");
        }
        assert!(!lower.contains(" style="), "inline style on {path}");
        assert!(!lower.contains(" onclick="), "inline handler on {path}");
    }
}

async fn https_sites_send_hsts(store: barnstorm_store::Store) {
    let app = TestApp::with_base_url(store, "https://barnstorm.example");
    let page = app.get("/").await;
    assert_eq!(
        header(&page, "strict-transport-security"),
        "max-age=31536000"
    );
}

async fn api_errors_are_json_even_before_the_handler(app: TestApp) {
    app.user("admin@example.org", "Ada", true).await;
    let token = app.token_for("admin@example.org").await;
    let bad_id = app
        .api(Method::GET, "/api/v1/groups/abc", Some(&token), None)
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST, "{}", bad_id.body);
    assert_eq!(bad_id.error_code(), "invalid_path");
    assert_eq!(bad_id.json()["error"]["details"]["field"], "path");

    let bad_query = app
        .api(
            Method::GET,
            "/api/v1/events?types=canvass&types=meeting",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        bad_query.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_query.body
    );
    assert_eq!(bad_query.error_code(), "invalid_query");
    assert_eq!(bad_query.json()["error"]["details"]["field"], "query");

    let wrong_method = app
        .api(Method::DELETE, "/api/v1/tokens", Some(&token), None)
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");

    let not_json = app
        .send(
            axum::http::Request::post("/api/v1/groups")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "text/plain")
                .body(axum::body::Body::from("name=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(not_json.error_code(), "invalid_json");
}

on_both! {
    security_headers => every_response_carries_the_security_headers,
    no_inline_script => templates_carry_no_inline_script_or_style,
    api_errors_json => api_errors_are_json_even_before_the_handler,
}

mod hsts {
    #[tokio::test]
    async fn sqlite() {
        let db = barnstorm_store::testing::TestDatabase::sqlite().await;
        super::https_sites_send_hsts(db.store.clone()).await;
        db.drop_database().await;
    }
}
