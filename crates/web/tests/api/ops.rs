use crate::app::TestApp;
use crate::on_both;
use axum::http::StatusCode;

async fn health_follows_the_database(app: TestApp) {
    let up = app.get("/healthz").await;
    assert_eq!(up.status, StatusCode::OK);
    assert_eq!(up.json()["status"], "ok");
    assert!(
        up.headers.contains_key("x-request-id"),
        "every response carries a request id"
    );
    app.store.close().await;
    let down = app.get("/healthz").await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(down.json()["status"], "unavailable");
}

async fn metrics_count_requests_by_route(app: TestApp) {
    app.get("/groups").await;
    app.get("/groups").await;
    app.get("/no-such-page").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        metrics.body.contains(
            "barnstorm_http_requests_total{method=\"GET\",route=\"/groups\",status=\"200\"} 2"
        ),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains("status=\"404\""), "{}", metrics.body);
    assert!(
        metrics
            .body
            .contains("barnstorm_outbox_mails{status=\"pending\"} 0")
    );
}

async fn openapi_describes_the_api(app: TestApp) {
    let doc = app.get("/api/v1/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    let json = doc.json();
    assert!(json["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/tokens",
        "/api/v1/me",
        "/api/v1/groups",
        "/api/v1/groups/{id}",
        "/api/v1/groups/{id}/invites",
    ] {
        assert!(json["paths"].get(path).is_some(), "missing {path}");
    }
    assert!(
        json["components"]["securitySchemes"]
            .get("bearer")
            .is_some()
    );
}

async fn assets_are_served_from_the_binary(app: TestApp) {
    let css = app.get("/assets/app.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let js = app.get("/assets/app.js").await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.body.contains("htmx"), "htmx is bundled");
}

on_both! {
    health => health_follows_the_database,
    metrics => metrics_count_requests_by_route,
    openapi => openapi_describes_the_api,
    assets => assets_are_served_from_the_binary,
}
