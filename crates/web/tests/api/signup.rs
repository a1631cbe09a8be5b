//! Making an account: the form's mail confirms the address and signs in, a taken address
//! gets the same page (and its owner a sign-in link), a sign-in link asked for an unknown
//! address mails an invitation to sign up, bad input names the field, and a new account
//! cannot host until its address is confirmed.

use crate::app::{Browser, PASSWORD, TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::NewMail;
use serde_json::json;

/// Every mail queued for `to`, oldest first, and drains the outbox.
async fn mails_to(app: &TestApp, to: &str) -> Vec<NewMail> {
    let mails = app.store.claim_due_mail(1000, 1000).await.unwrap();
    mails
        .into_iter()
        .map(|m| m.mail)
        .filter(|m| m.to == to)
        .collect()
}

fn link_in(mail: &NewMail) -> String {
    crate::app::first_link(&mail.body_text)
}

async fn sign_up(
    browser: &mut Browser<'_>,
    from: &str,
    fields: &[(&str, &str)],
) -> (TestResponse, String) {
    let page = browser.get(from).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let next = page
        .body
        .split("name=\"next\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let mut all = fields.to_vec();
    all.push(("next", &next));
    let answer = browser.submit(&page, "/signup", &all).await;
    (answer, next)
}

async fn signing_up_mails_a_link_that_confirms_and_signs_in(app: TestApp) {
    let mut browser = Browser::new(&app);
    let host = browser.get("/events/new?kind=canvass").await;
    assert_eq!(host.status, StatusCode::SEE_OTHER);
    assert_eq!(
        host.location(),
        "/signup?next=%2Fevents%2Fnew%3Fkind%3Dcanvass"
    );
    let form = browser.get(host.location()).await;
    assert!(form.body.contains("To host an event"), "{}", form.body);
    assert!(form.body.contains("/privacy"), "the privacy line is shown");
    let (sent, next) = sign_up(
        &mut browser,
        host.location(),
        &[
            ("name", "Nia New"),
            ("email", "Nia@Example.org"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(next, "/events/new?kind=canvass");
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.body.contains("Check your email"), "{}", sent.body);
    assert!(sent.body.contains("nia@example.org"));
    assert!(
        !browser.get("/account").await.location().is_empty(),
        "not signed in yet"
    );

    let user = app
        .store
        .user_by_email("nia@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "Nia New");
    assert!(!user.is_verified());
    let mails = mails_to(&app, "nia@example.org").await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "Confirm your Barnstorm address");
    let link = link_in(&mails[0]);
    let confirm = browser.get(&link).await;
    let used = browser.submit(&confirm, &link, &[]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    assert_eq!(used.location(), "/events/new?kind=canvass");
    let user = app.store.user_by_id(user.id).await.unwrap().unwrap();
    assert!(
        user.is_verified(),
        "following the link confirmed the address"
    );
    let event_form = browser.get("/events/new?kind=canvass").await;
    assert_eq!(event_form.status, StatusCode::OK, "{}", event_form.body);
    // Confirming removes a password set before the address was proved (whoever made the
    // account could have been someone else), as the form's hint says.
    let old_password = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            None,
            Some(json!({"email": "nia@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(old_password.status, StatusCode::UNAUTHORIZED);
    assert!(browser.get("/account").await.body.contains("Nia New"));
}

async fn a_taken_address_gets_the_same_page_and_its_owner_a_sign_in_link(app: TestApp) {
    app.user("owner@example.org", "Olu Owner", false).await;
    let mut browser = Browser::new(&app);
    let fields = |email| [("name", "Someone Else"), ("email", email), ("password", "")];
    let (taken, _) = sign_up(&mut browser, "/signup", &fields("owner@example.org")).await;
    let (fresh, _) = sign_up(&mut browser, "/signup", &fields("fresh@example.org")).await;
    assert_eq!(taken.status, fresh.status);
    let strip = |r: &TestResponse, email: &str| {
        let body = r.body.replace(email, "ADDRESS");
        let start = body.find("<h1>").unwrap();
        let end = body.find("</section>").unwrap();
        body[start..end].to_owned()
    };
    assert_eq!(
        strip(&taken, "owner@example.org"),
        strip(&fresh, "fresh@example.org"),
        "the page says nothing about which address has an account"
    );
    let outbox = app.store.claim_due_mail(1000, 1000).await.unwrap();
    let to_owner: Vec<_> = outbox
        .iter()
        .filter(|m| m.mail.to == "owner@example.org")
        .collect();
    assert_eq!(to_owner.len(), 1);
    assert_eq!(to_owner[0].mail.subject, "Your Barnstorm sign-in link");
    assert!(to_owner[0].mail.body_text.contains("Olu Owner"));
    let owner = app
        .store
        .user_by_email("owner@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.name, "Olu Owner", "the account is untouched");
    assert!(owner.is_verified());
}

async fn a_sign_in_link_for_an_unknown_address_mails_a_sign_up_link(app: TestApp) {
    app.user("known@example.org", "Kim Known", false).await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/login?next=/my/events").await;
    assert!(
        login.body.contains("href=\"/signup?next=%2Fmy%2Fevents\""),
        "{}",
        login.body
    );
    let mut shown = Vec::new();
    for email in ["known@example.org", "ghost@example.org"] {
        let page = browser.get("/login").await;
        let asked = browser
            .submit(
                &page,
                "/login/link",
                &[("email", email), ("next", "/my/events")],
            )
            .await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER);
        let after = browser.get(asked.location()).await;
        assert!(after.body.contains("Check your email"), "{}", after.body);
        shown.push(
            after
                .body
                .replace(email, "ADDRESS")
                .replace(&crate::app::csrf_of(&after.body), ""),
        );
    }
    assert_eq!(
        shown[0], shown[1],
        "the answer is the same for both addresses"
    );
    let mails = mails_to(&app, "ghost@example.org").await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "No Barnstorm account yet");
    let link = link_in(&mails[0]);
    assert_eq!(
        link,
        "/signup?email=ghost%40example.org&next=%2Fmy%2Fevents"
    );
    let form = browser.get(&link).await;
    assert!(
        form.body.contains("value=\"ghost@example.org\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("name=\"next\" value=\"/my/events\""));
    assert!(
        app.store
            .user_by_email("ghost@example.org")
            .await
            .unwrap()
            .is_none()
    );
}

async fn bad_input_names_the_field(app: TestApp) {
    let mut browser = Browser::new(&app);
    let cases = [
        (
            ["", "pat@example.org", ""],
            "Your name: tell us what to call you",
        ),
        (
            ["Pat", "pat.example.org", ""],
            "Email address: enter your address",
        ),
        (
            ["Pat", "pat@example.org", "short"],
            "Password: use at least 10 characters",
        ),
    ];
    for ([name, email, password], expected) in cases {
        let (answer, _) = sign_up(
            &mut browser,
            "/signup",
            &[("name", name), ("email", email), ("password", password)],
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer.body.contains(expected),
            "{expected}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(&format!("value=\"{email}\"")),
            "input kept"
        );
    }
    assert!(
        app.store
            .user_by_email("pat@example.org")
            .await
            .unwrap()
            .is_none()
    );
    assert!(mails_to(&app, "pat@example.org").await.is_empty());
}

async fn an_unconfirmed_new_account_cannot_host(app: TestApp) {
    let mut browser = Browser::new(&app);
    sign_up(
        &mut browser,
        "/signup",
        &[
            ("name", "Una Unconfirmed"),
            ("email", "una@example.org"),
            ("password", PASSWORD),
        ],
    )
    .await;
    browser.sign_in("una@example.org").await;
    let form = browser.get("/events/new").await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    assert!(
        form.body.contains("Confirm your email address first"),
        "{}",
        form.body
    );
    let token = app.token_for("una@example.org").await;
    let api = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&token),
            Some(json!({"title": "Canvass"})),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.error_code(), "email_unverified");
}

on_both! {
    signing_up_confirms_and_signs_in => signing_up_mails_a_link_that_confirms_and_signs_in,
    a_taken_address_gets_the_same_page => a_taken_address_gets_the_same_page_and_its_owner_a_sign_in_link,
    unknown_address_sign_in_link_mails_sign_up => a_sign_in_link_for_an_unknown_address_mails_a_sign_up_link,
    bad_sign_up_input_names_the_field => bad_input_names_the_field,
    an_unconfirmed_new_account_cannot_host => an_unconfirmed_new_account_cannot_host,
}
