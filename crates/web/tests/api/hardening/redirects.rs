//! `next` parameters after sign-in: only paths on this site are followed.

use crate::app::{Browser, PASSWORD, TestApp};
use crate::on_both;
use axum::http::StatusCode;

/// Return paths a browser would follow off-site (or that break the `Location` header).
const ATTACKS: &[&str] = &[
    "//evil.example/",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\r\n/evil.example",
    "/groups\r\nSet-Cookie: stolen=1",
    "//barnstorm.test@evil.example/",
    "https://barnstorm.test@evil.example/",
];

async fn sign_in_never_sends_anyone_off_site(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    for attack in ATTACKS {
        let mut browser = Browser::new(&app);
        let page = browser.get("/login").await;
        let response = browser
            .submit(
                &page,
                "/login",
                &[
                    ("email", "ada@example.org"),
                    ("password", PASSWORD),
                    ("next", attack),
                ],
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{attack:?}");
        assert_eq!(response.location(), "/", "signing in followed {attack:?}");

        let encoded: String = url::form_urlencoded::byte_serialize(attack.as_bytes()).collect();
        let again = browser.get(&format!("/login?next={encoded}")).await;
        assert_eq!(
            again.status,
            StatusCode::SEE_OTHER,
            "{attack:?}: {}",
            again.body
        );
        assert_eq!(
            again.location(),
            "/",
            "the sign-in page followed {attack:?}"
        );
    }
}

async fn sign_in_comes_back_to_the_page_asked_for(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    let sent_away = browser.get("/account").await;
    assert_eq!(sent_away.status, StatusCode::SEE_OTHER);
    assert_eq!(sent_away.location(), "/login?next=%2Faccount");
    let page = browser.get(sent_away.location()).await;
    assert!(page.body.contains("value=\"/account\""), "{}", page.body);
    let response = browser
        .submit(
            &page,
            "/login",
            &[
                ("email", "ada@example.org"),
                ("password", PASSWORD),
                ("next", "/account?tab=tokens"),
            ],
        )
        .await;
    assert_eq!(response.location(), "/account?tab=tokens");
}

on_both! {
    sign_in_redirect_attacks => sign_in_never_sends_anyone_off_site,
    sign_in_redirect_home => sign_in_comes_back_to_the_page_asked_for,
}
