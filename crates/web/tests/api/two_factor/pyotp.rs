//! Codes from an independent TOTP implementation (PyPI's pyotp, run with python3) sign
//! in, read from the `otpauth://` URI the set-up page shows. Without python3 and pyotp
//! the test is skipped, except under CI or `BARNSTORM_REQUIRE_ALL_SUITES=1`, where it
//! fails: CI installs pyotp.

use crate::app::{Browser, PASSWORD, TestApp, skip_unless_required};
use crate::two_factor::{recovery_codes, text_after};
use axum::http::{Method, StatusCode};
use barnstorm_store::now_millis;
use serde_json::json;
use std::process::Command;

/// pyotp's code for the set-up `uri` at `unix_seconds`; `None` when pyotp cannot run here
/// and that is allowed.
fn pyotp_code(uri: &str, unix_seconds: i64) -> Option<String> {
    let script = "import sys, pyotp; print(pyotp.parse_uri(sys.argv[1]).at(int(sys.argv[2])))";
    let output = Command::new("python3")
        .args(["-c", script, uri, &unix_seconds.to_string()])
        .output();
    match output {
        Ok(out) if out.status.success() => {
            Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
        }
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            skip_unless_required("pyotp cross-check", "pyotp", &why);
            None
        }
    }
}

async fn codes_from_pyotp_enrol_and_sign_in(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.org").await;
    let account = browser.get("/account/two-factor").await;
    let set_up = browser
        .submit(&account, "/account/two-factor/app", &[])
        .await;
    let uri = text_after(&set_up.body, "data-otpauth-uri>")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let now = now_millis() / 1000;
    let Some(code) = pyotp_code(&uri, now) else {
        return;
    };
    let done = browser
        .submit(
            &set_up,
            "/account/two-factor/app/confirm",
            &[("code", &code)],
        )
        .await;
    assert_eq!(recovery_codes(&done.body).len(), 10, "{}", done.body);

    // pyotp's code for the next step signs in on the page...
    let next = pyotp_code(&uri, now + 30).unwrap();
    let mut visitor = Browser::new(&app);
    visitor.sign_in("ada@example.org").await;
    let page = visitor.get("/login/two-factor").await;
    let signed_in = visitor
        .submit(&page, "/login/two-factor", &[("code", &next)])
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    assert!(visitor.has_cookie("barnstorm_session"));

    // ...and pyotp's code for the previous step, though within the drift allowed, is
    // refused: a later step was used, and steps only move forward.
    let earlier = pyotp_code(&uri, now - 30).unwrap();
    let body = json!({ "email": "ada@example.org", "password": PASSWORD, "code": earlier });
    let refused = app
        .api(Method::POST, "/api/v1/tokens", None, Some(body))
        .await;
    assert_eq!(refused.error_code(), "bad_code");
}

crate::on_both! {
    codes_from_pyotp_enrol_and_sign_in => codes_from_pyotp_enrol_and_sign_in,
}
