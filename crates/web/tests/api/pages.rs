use crate::app::{Browser, PASSWORD, TestApp};
use crate::on_both;
use axum::http::StatusCode;
use barnstorm_store::{GroupKind, Role};

async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
    app.user("ada@example.org", "Ada", false).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    assert!(
        browser.has_cookie("barnstorm_csrf"),
        "anonymous forms get a CSRF cookie"
    );
    let forged = browser
        .post_raw(
            "/login",
            &[("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("reload the page"), "{}", forged.body);
    let wrong = browser
        .post_raw(
            "/login",
            &[
                ("csrf", "x".repeat(43).as_str()),
                ("email", "ada@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(!browser.has_cookie("barnstorm_session"));
    let ok = browser
        .submit(
            &page,
            "/login",
            &[("email", "ada@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
}

async fn people_sign_in_with_a_password_and_out_again(app: TestApp) {
    app.user("ada@example.org", "Ada Admin", true).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login?next=/groups").await;
    let wrong = browser
        .submit(
            &page,
            "/login",
            &[("email", "ada@example.org"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::OK);
    assert!(wrong.body.contains("do not match"), "{}", wrong.body);
    assert!(
        wrong.body.contains("value=\"ada@example.org\""),
        "the email is kept"
    );

    let ok = browser
        .submit(
            &page,
            "/login",
            &[
                ("email", "ada@example.org"),
                ("password", PASSWORD),
                ("next", "/groups"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/groups");
    let cookie = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("barnstorm_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let home = browser.get("/").await;
    assert!(home.body.contains("Ada Admin"), "the nav names the person");
    assert!(home.body.contains("Sign out"));

    let out = browser.submit(&home, "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = browser.get("/account").await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "signed out: the account page asks to sign in"
    );
    assert!(after.location().starts_with("/login?next="));
}

async fn an_emailed_link_signs_in_once(app: TestApp) {
    app.user("lin@example.org", "Lin", false).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let sent = browser
        .submit(&page, "/login/link", &[("email", "lin@example.org")])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let unknown = browser
        .submit(&page, "/login/link", &[("email", "nobody@example.org")])
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::SEE_OTHER,
        "unknown addresses get the same answer"
    );
    let mails = app.store.claim_due_mail(10, 1000).await.unwrap();
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1].mail.to, "nobody@example.org");
    assert_eq!(
        mails[1].mail.subject, "No Barnstorm account yet",
        "an address without an account is offered one, not a sign-in"
    );
    let body = &mails[0].mail.body_text;
    let start = body.find("http://barnstorm.test").unwrap();
    let link = body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("http://barnstorm.test")
        .to_owned();

    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let used = browser.submit(&confirm, &link, &[]).await;
    assert_eq!(used.status, StatusCode::SEE_OTHER);
    assert_eq!(used.location(), "/");
    assert!(browser.get("/").await.body.contains("Lin"));

    let mut other = Browser::new(&app);
    let confirm = other.get(&link).await;
    let again = other.submit(&confirm, &link, &[]).await;
    assert_eq!(again.location(), "/login", "a link works once");
}

async fn organisers_add_branches_and_invitees_join(app: TestApp) {
    let organiser = app.user("org@example.org", "Olu Organiser", false).await;
    app.user("someone@example.org", "Someone", false).await;
    let uk = app
        .store
        .create_group(None, "Barnstorm UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let region = app
        .store
        .create_group(Some(uk.id), "North West", GroupKind::Region, "", None)
        .await
        .unwrap();
    app.store
        .set_membership(region.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();

    let mut stranger = Browser::new(&app);
    stranger.sign_in("someone@example.org").await;
    let page = stranger.get("/groups/north-west").await;
    assert!(
        !page.body.contains("Create branch"),
        "only organisers see the form"
    );
    let refused = stranger
        .submit(&page, "/groups/north-west/children", &[("name", "Mine")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = browser.get("/groups/north-west").await;
    assert!(page.body.contains("Create branch"));
    let blank = browser
        .submit(&page, "/groups/north-west/children", &[("name", "   ")])
        .await;
    assert_eq!(blank.location(), "/groups/north-west");
    assert!(
        browser
            .get("/groups/north-west")
            .await
            .body
            .contains("Name: give the group a name.")
    );
    let created = browser
        .submit(
            &page,
            "/groups/north-west/children",
            &[("name", "Bolton"), ("description", "")],
        )
        .await;
    assert_eq!(created.location(), "/groups/bolton");
    let branch_page = browser.get("/groups/bolton").await;
    assert!(
        branch_page.body.contains("Branch created: Bolton."),
        "{}",
        branch_page.body
    );
    assert!(branch_page.body.contains("<h1>Bolton</h1>"));

    let bad = browser
        .submit(
            &branch_page,
            "/groups/bolton/invites",
            &[("email", "not-an-address"), ("role", "caller")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::SEE_OTHER);
    assert!(
        browser
            .get("/groups/bolton")
            .await
            .body
            .contains("Email address: &#39;not-an-address&#39; is not an email address.")
    );
    let invited = browser
        .submit(
            &branch_page,
            "/groups/bolton/invites",
            &[("email", "nia@example.org"), ("role", "caller")],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER);
    assert!(
        browser
            .get("/groups/bolton")
            .await
            .body
            .contains("Invite sent to nia@example.org.")
    );

    let mail = app
        .store
        .claim_due_mail(10, 1000)
        .await
        .unwrap()
        .remove(0)
        .mail;
    let start = mail
        .body_text
        .find("http://barnstorm.test/invites/")
        .unwrap();
    let link = mail.body_text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_start_matches("http://barnstorm.test")
        .to_owned();

    let mut newcomer = Browser::new(&app);
    let invite_page = newcomer.get(&link).await;
    assert_eq!(invite_page.status, StatusCode::OK);
    assert!(invite_page.body.contains("Join Bolton"));
    let short = newcomer
        .submit(
            &invite_page,
            &format!("{link}/accept"),
            &[("name", "Nia Newcomer"), ("password", "short")],
        )
        .await;
    assert_eq!(short.status, StatusCode::OK);
    assert!(
        short.body.contains("at least 10 characters"),
        "{}",
        short.body
    );
    assert!(
        short.body.contains("value=\"Nia Newcomer\""),
        "the name is kept"
    );
    let joined = newcomer
        .submit(
            &invite_page,
            &format!("{link}/accept"),
            &[("name", "Nia Newcomer"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(joined.location(), "/groups/bolton");
    let welcome = newcomer.get("/groups/bolton").await;
    assert!(
        welcome.body.contains("Welcome to Bolton"),
        "{}",
        welcome.body
    );
    let nia = app
        .store
        .user_by_email("nia@example.org")
        .await
        .unwrap()
        .unwrap();
    let branch = app.store.group_by_slug("bolton").await.unwrap().unwrap();
    assert_eq!(
        app.store.effective_role(nia.id, branch.id).await.unwrap(),
        Some(Role::Caller)
    );
    assert!(
        browser
            .get("/groups/bolton")
            .await
            .body
            .contains("Nia Newcomer"),
        "the organiser sees the new member"
    );

    let reused = Browser::new(&app).get(&link).await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert!(reused.body.contains("already been used"));
}

async fn titles_and_names_are_escaped(app: TestApp) {
    let admin = app
        .user("admin@example.org", "<script>alert(1)</script>", true)
        .await;
    app.store
        .create_group(
            None,
            "<img src=x onerror=alert(1)>",
            GroupKind::National,
            "",
            None,
        )
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in(&admin.email).await;
    let page = browser.get("/groups").await;
    assert!(
        !page.body.contains("<img src=x"),
        "markup in names is inert"
    );
    assert!(
        page.body.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
}

async fn an_incomplete_form_gets_a_page_saying_what_is_missing(app: TestApp) {
    app.user("org@example.org", "Org", true).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = browser.get("/groups").await;
    let incomplete = browser
        .submit(&page, "/groups", &[("description", "no name given")])
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        incomplete.body.contains("<!doctype html>"),
        "a page, not bare text: {}",
        incomplete.body
    );
    assert!(
        incomplete.body.contains("missing field"),
        "{}",
        incomplete.body
    );
    assert!(
        incomplete.body.contains("name"),
        "names the field: {}",
        incomplete.body
    );
    assert_eq!(
        app.store.groups().await.unwrap().len(),
        0,
        "nothing was written"
    );
}

on_both! {
    incomplete_form => an_incomplete_form_gets_a_page_saying_what_is_missing,
    csrf => forms_without_the_csrf_token_are_refused,
    password_sign_in => people_sign_in_with_a_password_and_out_again,
    link_sign_in => an_emailed_link_signs_in_once,
    branches_and_invites => organisers_add_branches_and_invitees_join,
    escaping => titles_and_names_are_escaped,
}
