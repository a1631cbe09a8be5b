use crate::app::{PASSWORD, TestApp};
use crate::on_both;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

async fn a_token_is_issued_for_the_right_password_only(app: TestApp) {
    app.user("ada@example.org", "Ada", true).await;
    let wrong = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "ada@example.org", "password": "nope"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_code(), "bad_credentials");
    let unknown = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "who@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNAUTHORIZED,
        "unknown accounts answer the same"
    );

    let token = app.token_for("ADA@example.org").await;
    let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], "ada@example.org");
    assert_eq!(me.json()["is_admin"], true);

    let anonymous = app.api(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error_code(), "unauthorized");
    let forged = app
        .api(Method::GET, "/api/v1/me", Some("not-a-token"), None)
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
}

async fn repeated_wrong_passwords_are_throttled(app: TestApp) {
    app.user("bob@example.org", "Bob", false).await;
    for _ in 0..5 {
        let r = app
            .api(
                Method::POST,
                "/api/v1/tokens",
                None,
                Some(json!({"email": "bob@example.org", "password": "guess"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "bob@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits: {}",
        blocked.body
    );
    assert_eq!(blocked.error_code(), "rate_limited");
    assert!(
        blocked.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("minutes")
    );
}

async fn malformed_bodies_get_a_clear_error(app: TestApp) {
    let broken = app
        .send(
            Request::post("/api/v1/tokens")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"email\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.error_code(), "invalid_json");
    let missing = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "x@example.org"})),
        )
        .await;
    assert!(missing.status.is_client_error());
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{}",
        missing.body
    );
    let not_json = app
        .send(
            Request::post("/api/v1/tokens")
                .body(Body::from("email=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let nowhere = app.get("/api/v1/nothing-here").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.error_code(), "not_found");
}

/// Two nodes on one database: a token another node has cached stops working there within
/// a couple of seconds of being revoked, not when that node's cache entry runs out.
async fn a_token_revoked_on_one_node_stops_working_on_the_others(app: TestApp) {
    let user = app.user("cy@example.org", "Cy", false).await;
    let other_node = TestApp::new(app.store.clone());
    let token = app.token_for("cy@example.org").await;
    let me = other_node
        .api(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "the other node now holds the token"
    );

    app.store
        .revoke_other_credentials(
            user.id,
            None,
            barnstorm_store::now_millis(),
            "signed out everywhere",
        )
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + 3 * barnstorm_web::auth::REVOCATION_POLL;
    loop {
        let me = other_node
            .api(Method::GET, "/api/v1/me", Some(&token), None)
            .await;
        if me.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(me.status, StatusCode::OK);
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked token still works on the other node after {:?}",
            3 * barnstorm_web::auth::REVOCATION_POLL
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

on_both! {
    issue_tokens => a_token_is_issued_for_the_right_password_only,
    throttling => repeated_wrong_passwords_are_throttled,
    malformed => malformed_bodies_get_a_clear_error,
    revoked_elsewhere => a_token_revoked_on_one_node_stops_working_on_the_others,
}
