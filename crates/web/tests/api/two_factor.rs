//! Two-factor sign-in through the pages and the API: enrolment, the second step with a
//! code, a recovery code or a replayed code, API tokens, the requirement for organisers,
//! and codes computed by an independent implementation (PyPI's pyotp).

mod pyotp;
pub(crate) mod requirement;

use crate::app::{Browser, PASSWORD, TestApp, TestResponse};
use axum::http::{Method, StatusCode};
use barnstorm_store::AuditAction;
use barnstorm_store::now_millis;
use barnstorm_web::auth::two_factor::code_at;
use serde_json::json;

/// The text between `marker` and the next `<` in `html`.
pub fn text_after<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in page: {html}"))
        + marker.len();
    html[start..].split('<').next().unwrap()
}

/// The recovery codes shown on a page.
pub fn recovery_codes(html: &str) -> Vec<String> {
    let list = &html[html.find("data-recovery-codes").expect("no recovery codes")..];
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

/// Sets up an authenticator app for the signed-in `browser` and returns its secret and
/// recovery codes; the code used to confirm is for `now`.
pub async fn enrol(browser: &mut Browser<'_>) -> (String, Vec<String>) {
    let account = browser.get("/account/two-factor").await;
    assert!(
        account.body.contains("Two-factor sign-in is off"),
        "{}",
        account.body
    );
    let set_up = browser
        .submit(&account, "/account/two-factor/app", &[])
        .await;
    assert_eq!(set_up.status, StatusCode::OK, "{}", set_up.body);
    let secret = text_after(&set_up.body, "data-totp-secret>").to_owned();
    let code = code_at(&secret, now_millis()).unwrap();
    let done = browser
        .submit(
            &set_up,
            "/account/two-factor/app/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    (secret, recovery_codes(&done.body))
}

/// Signs in with the password and returns the page the second step answered with.
async fn second_step(browser: &mut Browser<'_>, email: &str, code: &str) -> TestResponse {
    browser.sign_in(email).await;
    let page = browser.get("/login/two-factor").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    browser
        .submit(&page, "/login/two-factor", &[("code", code)])
        .await
}

async fn enrolment_shows_a_qr_code_and_needs_a_code_before_it_is_on(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let account = browser.get("/account/two-factor").await;
    let set_up = browser
        .submit(&account, "/account/two-factor/app", &[])
        .await;
    assert!(
        set_up.body.contains("<svg"),
        "QR code rendered on the server"
    );
    let secret = text_after(&set_up.body, "data-totp-secret>").to_owned();
    assert_eq!(secret.len(), 32, "160-bit secret in base32");
    let uri = text_after(&set_up.body, "data-otpauth-uri>");
    assert!(
        uri.starts_with("otpauth://totp/Barnstorm%3Aada%40example.org?secret="),
        "{uri}"
    );

    let wrong = browser
        .submit(
            &set_up,
            "/account/two-factor/app/confirm",
            &[("code", "000000")],
        )
        .await;
    assert!(
        wrong.body.contains("Code: that is not the current code"),
        "{}",
        wrong.body
    );
    let user = app
        .store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !app.store
            .two_factor_status(user.id)
            .await
            .unwrap()
            .enabled()
    );

    let code = code_at(&secret, now_millis()).unwrap();
    let done = browser
        .submit(
            &wrong,
            "/account/two-factor/app/confirm",
            &[("code", &code)],
        )
        .await;
    let codes = recovery_codes(&done.body);
    assert_eq!(codes.len(), 10);
    let status = app.store.two_factor_status(user.id).await.unwrap();
    assert!(status.totp);
    assert_eq!(status.recovery_codes_left, 10);
    let account = browser.get("/account/two-factor").await;
    assert!(account.body.contains("Two-factor sign-in is on"));
    assert!(!account.body.contains(&codes[0]), "codes are shown once");
}

async fn sign_in_needs_a_fresh_code_after_the_password(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let (secret, _) = enrol(&mut browser).await;

    let mut visitor = Browser::new(&app);
    let login = visitor.get("/login").await;
    let password_ok = visitor
        .submit(
            &login,
            "/login",
            &[
                ("email", "ada@example.org"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(password_ok.location(), "/login/two-factor");
    assert!(
        !visitor.has_cookie("barnstorm_session"),
        "no session before the second step"
    );
    assert_eq!(visitor.get("/account").await.status, StatusCode::SEE_OTHER);

    let page = visitor.get("/login/two-factor").await;
    let wrong = visitor
        .submit(&page, "/login/two-factor", &[("code", "123456")])
        .await;
    assert!(
        wrong.body.contains("Code: that is neither"),
        "{}",
        wrong.body
    );
    assert!(!visitor.has_cookie("barnstorm_session"));

    // The enrolment used this step's code; the app's next code is accepted (one step of
    // drift), and that one only once.
    let next_code = code_at(&secret, now_millis() + 30_000).unwrap();
    let signed_in = visitor
        .submit(&wrong, "/login/two-factor", &[("code", &next_code)])
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert_eq!(signed_in.location(), "/account");
    assert!(visitor.has_cookie("barnstorm_session"));
    assert_eq!(visitor.get("/account").await.status, StatusCode::OK);

    let mut attacker = Browser::new(&app);
    let replayed = second_step(&mut attacker, "ada@example.org", &next_code).await;
    assert!(
        replayed.body.contains("that code was already used"),
        "{}",
        replayed.body
    );
    assert!(!attacker.has_cookie("barnstorm_session"));
    let log = app.store.recent_audit(5).await.unwrap();
    assert!(
        log.iter().any(|e| e.action == AuditAction::SessionSignIn
            && e.detail == "two-factor: authenticator code")
    );
}

async fn a_recovery_code_signs_in_once(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let (_, codes) = enrol(&mut browser).await;

    let mut lost_phone = Browser::new(&app);
    let typed = codes[3].to_uppercase();
    let done = second_step(&mut lost_phone, "ada@example.org", &typed).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(lost_phone.has_cookie("barnstorm_session"));

    let mut again = Browser::new(&app);
    let refused = second_step(&mut again, "ada@example.org", &codes[3]).await;
    assert!(
        refused.body.contains("Code: that is neither"),
        "{}",
        refused.body
    );
    assert!(!again.has_cookie("barnstorm_session"));
    let user = app
        .store
        .user_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        app.store
            .two_factor_status(user.id)
            .await
            .unwrap()
            .recovery_codes_left,
        9
    );
}

async fn wrong_codes_count_against_the_sign_in_limit(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let (secret, _) = enrol(&mut browser).await;

    let mut guesser = Browser::new(&app);
    guesser.sign_in("ada@example.org").await;
    let mut page = guesser.get("/login/two-factor").await;
    for guess in ["111111", "222222", "333333", "444444", "555555"] {
        page = guesser
            .submit(&page, "/login/two-factor", &[("code", guess)])
            .await;
        assert_eq!(page.status, StatusCode::OK);
    }
    let right = code_at(&secret, now_millis() + 30_000).unwrap();
    let blocked = guesser
        .submit(&page, "/login/two-factor", &[("code", &right)])
        .await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        blocked.body
    );
    assert!(!guesser.has_cookie("barnstorm_session"));
}

async fn api_tokens_need_a_code_for_accounts_with_two_factor(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let (secret, codes) = enrol(&mut browser).await;
    let request = |code: Option<&str>| {
        let mut body = json!({ "email": "ada@example.org", "password": PASSWORD });
        if let Some(code) = code {
            body["code"] = json!(code);
        }
        app.api(Method::POST, "/api/v1/tokens", None, Some(body))
    };
    let missing = request(None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.error_code(), "two_factor_required");
    assert_eq!(missing.json()["error"]["details"]["field"], "code");
    let wrong = request(Some("999999")).await;
    assert_eq!(wrong.error_code(), "bad_code");

    let code = code_at(&secret, now_millis() + 30_000).unwrap();
    let made = request(Some(&code)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let token = made.json()["token"].as_str().unwrap().to_owned();
    let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.json()["email"], "ada@example.org");
    assert_eq!(
        request(Some(&code)).await.error_code(),
        "bad_code",
        "replay"
    );
    assert_eq!(request(Some(&codes[0])).await.status, StatusCode::CREATED);
    assert_eq!(request(Some(&codes[0])).await.error_code(), "bad_code");

    let openapi = app.get("/api/v1/openapi.json").await.json();
    let fields = &openapi["components"]["schemas"]["TokenRequest"]["properties"];
    assert!(fields.get("code").is_some(), "code documented: {fields}");
}

async fn turning_off_asks_for_the_password_or_a_code(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    enrol(&mut browser).await;
    let page = browser.get("/account/two-factor").await;
    let refused = browser
        .submit(
            &page,
            "/account/two-factor/off",
            &[("password_or_code", "not my password")],
        )
        .await;
    let page = browser.get(refused.location()).await;
    assert!(page.body.contains("Password or code:"), "{}", page.body);
    assert!(page.body.contains("Two-factor sign-in is on"));
    browser
        .submit(
            &page,
            "/account/two-factor/off",
            &[("password_or_code", PASSWORD)],
        )
        .await;
    let page = browser.get("/account/two-factor").await;
    assert!(
        page.body.contains("Two-factor sign-in is off"),
        "{}",
        page.body
    );
    // Signing in is back to the password alone.
    let mut again = Browser::new(&app);
    again.sign_in("ada@example.org").await;
    assert!(again.has_cookie("barnstorm_session"));
}

async fn new_recovery_codes_replace_the_old_ones(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let (_, old) = enrol(&mut browser).await;
    let page = browser.get("/account/two-factor").await;
    let fresh = browser
        .submit(
            &page,
            "/account/two-factor/recovery-codes",
            &[("password_or_code", PASSWORD)],
        )
        .await;
    let new = recovery_codes(&fresh.body);
    assert_eq!(new.len(), 10);
    let mut old_phone = Browser::new(&app);
    let refused = second_step(&mut old_phone, "ada@example.org", &old[0]).await;
    assert!(
        !old_phone.has_cookie("barnstorm_session"),
        "{}",
        refused.body
    );
    let mut new_phone = Browser::new(&app);
    second_step(&mut new_phone, "ada@example.org", &new[0]).await;
    assert!(new_phone.has_cookie("barnstorm_session"));
}

crate::on_both! {
    enrolment_shows_a_qr_code_and_needs_a_code_before_it_is_on => enrolment_shows_a_qr_code_and_needs_a_code_before_it_is_on,
    sign_in_needs_a_fresh_code_after_the_password => sign_in_needs_a_fresh_code_after_the_password,
    a_recovery_code_signs_in_once => a_recovery_code_signs_in_once,
    wrong_codes_count_against_the_sign_in_limit => wrong_codes_count_against_the_sign_in_limit,
    api_tokens_need_a_code_for_accounts_with_two_factor => api_tokens_need_a_code_for_accounts_with_two_factor,
    turning_off_asks_for_the_password_or_a_code => turning_off_asks_for_the_password_or_a_code,
    new_recovery_codes_replace_the_old_ones => new_recovery_codes_replace_the_old_ones,
}
