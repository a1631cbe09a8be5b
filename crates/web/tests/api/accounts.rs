//! Sign-in limits and revocation: parallel password guessing, a locked-out owner coming
//! back by emailed link, sign-in link floods, and "sign out everywhere" and password
//! changes ending every other session and token.

use crate::app::{Browser, PASSWORD, TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use serde_json::json;

async fn password_token(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.api(
        Method::POST,
        "/api/v1/tokens",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

/// Every mailed link to `to`, oldest first, and drains the outbox.
async fn mailed_links(app: &TestApp, to: &str) -> Vec<String> {
    let mails = app.store.claim_due_mail(1000, 1000).await.unwrap();
    mails
        .iter()
        .filter(|m| m.mail.to == to)
        .map(|m| crate::app::first_link(&m.mail.body_text))
        .collect()
}

async fn redeem(browser: &mut Browser<'_>, link: &str) -> TestResponse {
    let confirm = browser.get(link).await;
    browser.submit(&confirm, link, &[]).await
}

async fn ask_for_link(browser: &mut Browser<'_>, email: &str) -> TestResponse {
    let page = browser.get("/login").await;
    browser
        .submit(
            &page,
            "/login/link",
            &[("email", email), ("next", "/account")],
        )
        .await
}

async fn parallel_guesses_get_at_most_the_limit(app: TestApp) {
    app.user("target@example.org", "Target", false).await;
    let guesses = (0..20).map(|n| {
        let app = &app;
        async move { password_token(app, "target@example.org", &format!("wrong guess {n}")).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked <= 5,
        "{checked} passwords were checked against a limit of 5"
    );
    assert_eq!(checked + refused, 20);
    let right = password_token(&app, "target@example.org", PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "locked out");
}

async fn a_locked_out_owner_signs_in_by_link(app: TestApp) {
    app.user("owner@example.org", "Owner", false).await;
    for _ in 0..6 {
        password_token(&app, "owner@example.org", "not it at all").await;
    }
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let refused = browser
        .submit(
            &page,
            "/login",
            &[("email", "owner@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.body.contains("sign-in link"));

    ask_for_link(&mut browser, "owner@example.org").await;
    let links = mailed_links(&app, "owner@example.org").await;
    let used = redeem(&mut browser, &links[0]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    assert_eq!(used.location(), "/account");
    assert!(browser.get("/account").await.body.contains("Owner"));
    let after = password_token(&app, "owner@example.org", PASSWORD).await;
    assert_eq!(
        after.status,
        StatusCode::CREATED,
        "the link cleared the lock-out"
    );
}

async fn sign_in_links_are_limited_and_only_the_newest_works(app: TestApp) {
    app.user("flood@example.org", "Flood", false).await;
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        let sent = ask_for_link(&mut browser, "flood@example.org").await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER);
    }
    let fourth = ask_for_link(&mut browser, "flood@example.org").await;
    assert_eq!(fourth.status, StatusCode::SEE_OTHER, "redirects after POST");
    let shown = browser.get(fourth.location()).await;
    assert!(
        shown.body.contains("Enough sign-in links"),
        "{}",
        shown.body
    );
    // An address without an account is limited the same way.
    for _ in 0..3 {
        ask_for_link(&mut browser, "ghost@example.org").await;
    }
    let ghost = ask_for_link(&mut browser, "ghost@example.org").await;
    assert!(
        browser
            .get(ghost.location())
            .await
            .body
            .contains("Enough sign-in links")
    );

    let links = mailed_links(&app, "flood@example.org").await;
    assert_eq!(links.len(), 3, "the fourth request sent nothing");
    let mut old = Browser::new(&app);
    let void = redeem(&mut old, &links[0]).await;
    assert_eq!(void.location(), "/login", "an older link is void");
    let newest = redeem(&mut old, &links[2]).await;
    assert_eq!(newest.location(), "/account");
}

async fn signing_out_everywhere_ends_other_sessions_and_tokens(app: TestApp) {
    app.user("many@example.org", "Many", false).await;
    let mut laptop = Browser::new(&app);
    let mut phone = Browser::new(&app);
    laptop.sign_in("many@example.org").await;
    phone.sign_in("many@example.org").await;
    let token = app.token_for("many@example.org").await;
    let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::OK, "the token works (and is cached)");

    let page = laptop.get("/account").await;
    let done = laptop
        .submit(&page, "/account/sign-out-everywhere", &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        laptop.get("/account").await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(phone.get("/account").await.status, StatusCode::SEE_OTHER);
    let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
}

async fn a_password_change_ends_other_sessions_and_tokens(app: TestApp) {
    app.user("pw@example.org", "Pw", false).await;
    let mut laptop = Browser::new(&app);
    let mut phone = Browser::new(&app);
    laptop.sign_in("pw@example.org").await;
    phone.sign_in("pw@example.org").await;
    let token = app.token_for("pw@example.org").await;
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let page = laptop.get("/account").await;
    let changed = laptop
        .submit(
            &page,
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/account").await.status, StatusCode::OK);
    assert_eq!(phone.get("/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

on_both! {
    parallel_brute_force => parallel_guesses_get_at_most_the_limit,
    locked_out_owner => a_locked_out_owner_signs_in_by_link,
    sign_in_link_flood => sign_in_links_are_limited_and_only_the_newest_works,
    sign_out_everywhere => signing_out_everywhere_ends_other_sessions_and_tokens,
    password_change_revokes => a_password_change_ends_other_sessions_and_tokens,
}
