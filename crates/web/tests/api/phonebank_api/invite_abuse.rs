//! Abuse of caller invite links: many accounts from one link (use limit, hourly cap, a
//! meetup's burst from one address), the pre-registration takeover (a squatter who made
//! the account for someone else's address loses it when the owner proves the address,
//! and an unverified account never holds a role), and what an existing address is told.

use super::{team, with_contacts};
use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::{NewInvite, NewMail, Role, hash_secret, now_millis};
use serde_json::{Value, json};

async fn make_invite(app: &TestApp, org: &str, campaign: i64, body: Option<Value>) -> TestResponse {
    app.api(
        Method::POST,
        &format!("/api/v1/campaigns/{campaign}/invites"),
        Some(org),
        body,
    )
    .await
}

async fn accept(app: &TestApp, code: &str, email: &str) -> TestResponse {
    app.api(
        Method::POST,
        &format!("/api/v1/invites/{code}/accept"),
        None,
        Some(json!({"name": "Vol", "email": email})),
    )
    .await
}

/// The path of the newest mailed link to `to`, and drains the outbox.
async fn mailed_link(app: &TestApp, to: &str) -> String {
    let mails = app.store.claim_due_mail(10_000, 1000).await.unwrap();
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.mail.to == to)
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let body = &mail.mail.body_text;
    let start = body.find("http://barnstorm.test").unwrap();
    body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("http://barnstorm.test")
        .to_owned()
}

async fn follow_link(browser: &mut Browser<'_>, link: &str) -> TestResponse {
    let confirm = browser.get(link).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let action = link.to_owned();
    let action = if action.contains("?next=") {
        action
    } else {
        format!("{action}?next=/")
    };
    browser.submit(&confirm, &action, &[]).await
}

async fn links_have_default_limits_and_show_the_code_once(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let made = make_invite(&app, &t.org, id, None).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.json()["max_uses"], 1000);
    assert_eq!(made.json()["max_new_accounts_per_hour"], 600);
    let code = made.json()["code"].as_str().unwrap().to_owned();
    let listed = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/invites"),
            Some(&t.org),
            None,
        )
        .await;
    let listed = listed.json();
    assert_eq!(
        listed[0]["code"],
        Value::Null,
        "the code is not shown again"
    );
    assert_eq!(listed[0]["url"], Value::Null);
    let invites = app.store.campaign_invites(id).await.unwrap();
    assert_eq!(
        invites[0].code_hash,
        hash_secret(&code),
        "only the hash is stored"
    );

    let bad = make_invite(
        &app,
        &t.org,
        id,
        Some(json!({"max_new_accounts_per_hour": 0})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("max_new_accounts_per_hour"),
        "{}",
        bad.body
    );
}

async fn one_link_makes_at_most_its_hourly_cap_of_accounts(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let made = make_invite(
        &app,
        &t.org,
        id,
        Some(json!({"max_new_accounts_per_hour": 3})),
    )
    .await;
    let code = made.json()["code"].as_str().unwrap().to_owned();
    for n in 0..3 {
        let ok = accept(&app, &code, &format!("v{n}@example.org")).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    }
    let fourth = accept(&app, &code, "v3@example.org").await;
    assert_eq!(
        (fourth.status, fourth.error_code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "invite_busy")
    );
    assert!(
        app.store
            .user_by_email("v3@example.org")
            .await
            .unwrap()
            .is_none()
    );
    // An existing account can still join with the link.
    let joined = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/join"),
            Some(&t.stranger),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);

    let once = make_invite(&app, &t.org, id, Some(json!({"max_uses": 2}))).await;
    let once = once.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(
        accept(&app, &once, "u1@example.org").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        accept(&app, &once, "u2@example.org").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        accept(&app, &once, "u3@example.org").await.status,
        StatusCode::GONE
    );
}

async fn a_meetup_of_500_joins_from_one_address(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let made = make_invite(&app, &t.org, id, None).await;
    let code = made.json()["code"].as_str().unwrap().to_owned();
    for n in 0..500 {
        let ok = accept(&app, &code, &format!("m{n}@example.org")).await;
        assert_eq!(ok.status, StatusCode::CREATED, "person {n}: {}", ok.body);
    }
    for n in 500..600 {
        assert_eq!(
            accept(&app, &code, &format!("m{n}@example.org"))
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let over = accept(&app, &code, "m600@example.org").await;
    assert_eq!(
        over.status,
        StatusCode::TOO_MANY_REQUESTS,
        "600 an hour by default"
    );
}

async fn the_owner_proving_the_address_evicts_a_squatter(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let made = make_invite(&app, &t.org, id, None).await;
    let code = made.json()["code"].as_str().unwrap().to_owned();

    // The squatter joins with the victim's address, by page and by API.
    let mut squatter = Browser::new(&app);
    let page = squatter.get(&format!("/call/join/{code}")).await;
    let joined = squatter
        .submit(
            &page,
            &format!("/call/join/{code}"),
            &[("name", "Not Vic"), ("email", "vic@example.org")],
        )
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    assert_eq!(joined.location(), format!("/call/{id}"));
    let account = squatter.get("/account").await;
    assert!(
        account.body.contains("Not confirmed yet"),
        "{}",
        account.body
    );
    // The squatter also sets a password, to come back after being signed out.
    let with_password = squatter
        .submit(
            &account,
            "/account/password",
            &[
                ("current_password", ""),
                ("new_password", "squatter's own password"),
            ],
        )
        .await;
    assert_eq!(with_password.status, StatusCode::SEE_OTHER);
    let account = squatter.get("/account").await;
    let made_token = squatter
        .submit(&account, "/account/tokens", &[("label", "kept")])
        .await;
    let marker = "<code class=\"secret\">";
    let start = made_token
        .body
        .find(marker)
        .expect("the new token is shown")
        + marker.len();
    let squat_token = made_token.body[start..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let me = app
        .api(Method::GET, "/api/v1/me", Some(&squat_token), None)
        .await;
    assert_eq!(me.json()["email_verified"], false);

    // Unverified: an organiser membership grants nothing.
    let vic = app
        .store
        .user_by_email("vic@example.org")
        .await
        .unwrap()
        .unwrap();
    app.store
        .set_membership(t.group_id, vic.id, Role::Organiser, None)
        .await
        .unwrap();
    let results = format!("/api/v1/campaigns/{id}/results.csv");
    let squatted = app
        .api(Method::GET, &results, Some(&squat_token), None)
        .await;
    assert_eq!(squatted.status, StatusCode::FORBIDDEN, "{}", squatted.body);
    app.store
        .set_membership(t.group_id, vic.id, Role::Caller, None)
        .await
        .unwrap();
    app.store.claim_due_mail(10_000, 1000).await.unwrap();

    // The real Vic signs in by emailed link and accepts an organiser invite.
    let mut vic_browser = Browser::new(&app);
    let login = vic_browser.get("/login").await;
    vic_browser
        .submit(
            &login,
            "/login/link",
            &[("email", "vic@example.org"), ("next", "/")],
        )
        .await;
    let link = mailed_link(&app, "vic@example.org").await;
    let signed_in = follow_link(&mut vic_browser, &link).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let invite_token = barnstorm_store::new_secret();
    let org = app
        .store
        .user_by_email("org@example.org")
        .await
        .unwrap()
        .unwrap();
    app.store
        .create_invite(
            &NewInvite {
                group_id: t.group_id,
                email: "vic@example.org",
                role: Role::Organiser,
                token_hash: &hash_secret(&invite_token),
                invited_by: org.id,
                expires_at: now_millis() + 3_600_000,
            },
            &NewMail {
                to: "vic@example.org".into(),
                subject: "Invite".into(),
                body_text: "join".into(),
                headers: Default::default(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let invite_page = vic_browser.get(&format!("/invites/{invite_token}")).await;
    let accepted = vic_browser
        .submit(
            &invite_page,
            &format!("/invites/{invite_token}/accept"),
            &[],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert!(
        vic_browser
            .get("/account")
            .await
            .body
            .contains("Confirmed on")
    );

    // The squatter's session and token are dead; results.csv stays out of reach.
    let after = squatter.get("/account").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the squatter's session ended"
    );
    assert!(after.location().starts_with("/login"));
    let stolen = app
        .api(Method::GET, &results, Some(&squat_token), None)
        .await;
    assert_eq!(stolen.status, StatusCode::UNAUTHORIZED, "{}", stolen.body);
    let again = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "vic@example.org", "password": "squatter's own password"})),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "the password set before the proof is gone"
    );
}

async fn an_existing_address_is_told_only_to_sign_in(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let made = make_invite(&app, &t.org, id, None).await;
    let code = made.json()["code"].as_str().unwrap().to_owned();
    // One verified account with a password and roles, one unverified account.
    assert_eq!(
        accept(&app, &code, "fresh@example.org").await.status,
        StatusCode::CREATED
    );
    let verified = accept(&app, &code, "org@example.org").await;
    let unverified = accept(&app, &code, "fresh@example.org").await;
    assert_eq!(verified.status, StatusCode::CONFLICT);
    assert_eq!(
        (verified.status, verified.body.clone()),
        (unverified.status, unverified.body.clone()),
        "the same answer whatever the account"
    );
    assert_eq!(
        verified.json()["error"]["message"],
        "sign in to join with this address"
    );
    assert!(!verified.body.contains("org@example.org"));

    let join_as = |email: &'static str| {
        let app = &app;
        let code = code.clone();
        async move {
            let mut browser = Browser::new(app);
            let page = browser.get(&format!("/call/join/{code}")).await;
            let answer = browser
                .submit(
                    &page,
                    &format!("/call/join/{code}"),
                    &[("name", "Someone"), ("email", email)],
                )
                .await;
            let shown = browser.get(answer.location()).await;
            (answer.status, answer.location().to_owned(), shown.body)
        }
    };
    let (status_a, location_a, page_a) = join_as("org@example.org").await;
    let (status_b, location_b, page_b) = join_as("fresh@example.org").await;
    assert_eq!((status_a, &location_a), (status_b, &location_b));
    assert_eq!(location_a, format!("/login?next=%2Fcall%2Fjoin%2F{code}"));
    assert!(page_a.contains("Sign in to join with this address"));
    assert!(page_b.contains("Sign in to join with this address"));
    // The owner got a way back in, by mail.
    let link = mailed_link(&app, "org@example.org").await;
    assert!(
        link.contains(&format!("next=%2Fcall%2Fjoin%2F{code}")),
        "{link}"
    );
}

on_both! {
    invite_defaults => links_have_default_limits_and_show_the_code_once,
    invite_hourly_cap => one_link_makes_at_most_its_hourly_cap_of_accounts,
    invite_meetup_burst => a_meetup_of_500_joins_from_one_address,
    pre_registration_takeover => the_owner_proving_the_address_evicts_a_squatter,
    invite_enumeration => an_existing_address_is_told_only_to_sign_in,
}
