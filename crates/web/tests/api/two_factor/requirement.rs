//! Where two-factor sign-in is required (by a group above, or by the instance), an
//! organiser without it is refused organiser pages and API calls with a pointer to the
//! set-up page; callers and members are not affected; enrolling lifts the refusal.

use crate::app::{Browser, TestApp};
use crate::two_factor::enrol;
use axum::http::{Method, StatusCode};
use barnstorm_store::AuditAction;
use barnstorm_store::{Group, GroupKind, Role, Store, now_millis};
use barnstorm_web::auth::two_factor::TwoFactorRequirement;

struct Fixture {
    north: Group,
    leeds: Group,
}

async fn groups(app: &TestApp) -> Fixture {
    let uk = app
        .store
        .create_group(None, "UK", GroupKind::National, "", None)
        .await
        .unwrap();
    let north = app
        .store
        .create_group(Some(uk.id), "North", GroupKind::Region, "", None)
        .await
        .unwrap();
    let leeds = app
        .store
        .create_group(Some(north.id), "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    Fixture { north, leeds }
}

pub(crate) async fn turn_on_authenticator(store: &Store, user_id: i64) {
    store
        .begin_totp_setup(user_id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", now_millis())
        .await
        .unwrap();
    assert!(
        store
            .confirm_totp(user_id, 1, &[], now_millis())
            .await
            .unwrap()
    );
}

async fn a_group_requirement_stops_organisers_below_it_until_they_enrol(app: TestApp) {
    let f = groups(&app).await;
    let chair = app.user("chair@example.org", "Chair", false).await;
    let organiser = app.user("org@example.org", "Organiser", false).await;
    let caller = app.user("caller@example.org", "Caller", false).await;
    app.store
        .set_membership(f.north.id, chair.id, Role::Organiser, None)
        .await
        .unwrap();
    app.store
        .set_membership(f.leeds.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    app.store
        .set_membership(f.leeds.id, caller.id, Role::Caller, None)
        .await
        .unwrap();

    // The chair cannot require it before having it.
    let mut chair_browser = Browser::new(&app);
    chair_browser.sign_in("chair@example.org").await;
    let page = chair_browser.get("/groups/north").await;
    let refused = chair_browser
        .submit(&page, "/groups/north/two-factor", &[("required", "on")])
        .await;
    let page = chair_browser.get(refused.location()).await;
    assert!(
        page.body.contains("set it up for yourself"),
        "{}",
        page.body
    );
    assert!(
        !app.store
            .group_requires_two_factor(f.north.id)
            .await
            .unwrap()
    );
    enrol(&mut chair_browser).await;
    let page = chair_browser.get("/groups/north").await;
    chair_browser
        .submit(&page, "/groups/north/two-factor", &[("required", "on")])
        .await;
    assert!(
        app.store
            .group_requires_two_factor(f.north.id)
            .await
            .unwrap()
    );
    let log = app.store.recent_audit(10).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == AuditAction::GroupRequireTwoFactor && e.detail == "on")
    );

    // The Leeds organiser, below North, is stopped on pages and in the API.
    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let group_page = browser.get("/groups/leeds").await;
    assert_eq!(group_page.status, StatusCode::OK);
    assert!(
        group_page.body.contains("href=\"/account/two-factor\""),
        "{}",
        group_page.body
    );
    assert!(!group_page.body.contains("Invite someone"));
    let invite = browser
        .submit(
            &group_page,
            "/groups/leeds/invites",
            &[("email", "new@example.org"), ("role", "member")],
        )
        .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN, "{}", invite.body);
    assert!(invite.body.contains("Set up two-factor sign-in first"));
    assert!(invite.body.contains("href=\"/account/two-factor\""));

    let token = app.token_for("org@example.org").await;
    let members_path = format!("/api/v1/groups/{}/members", f.leeds.id);
    let members = app
        .api(Method::GET, &members_path, Some(&token), None)
        .await;
    assert_eq!(members.status, StatusCode::FORBIDDEN);
    assert_eq!(members.error_code(), "two_factor_required");
    assert_eq!(
        members.json()["error"]["details"]["set_up"],
        "/account/two-factor"
    );

    // A caller of the same group is not affected.
    let caller_token = app.token_for("caller@example.org").await;
    let campaigns = format!("/api/v1/groups/{}/campaigns", f.leeds.id);
    let listed = app
        .api(Method::GET, &campaigns, Some(&caller_token), None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);

    // Once the organiser has two-factor sign-in, they organise again.
    turn_on_authenticator(&app.store, organiser.id).await;
    let members = app
        .api(Method::GET, &members_path, Some(&token), None)
        .await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.body);
    assert!(
        browser
            .get("/groups/leeds")
            .await
            .body
            .contains("Invite someone")
    );
}

async fn organisers_of_groups_without_the_requirement_are_not_stopped(app: TestApp) {
    let f = groups(&app).await;
    let organiser = app.user("org@example.org", "Organiser", false).await;
    app.store
        .set_membership(f.leeds.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    let token = app.token_for("org@example.org").await;
    let path = format!("/api/v1/groups/{}/members", f.leeds.id);
    let members = app.api(Method::GET, &path, Some(&token), None).await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.body);
}

async fn instance_requirement(store: Store, requirement: TwoFactorRequirement) -> (TestApp, i64) {
    let app = TestApp::with_config(store, |c| c.require_two_factor = requirement);
    let f = groups(&app).await;
    let organiser = app.user("org@example.org", "Organiser", false).await;
    app.user("admin@example.org", "Admin", true).await;
    app.store
        .set_membership(f.leeds.id, organiser.id, Role::Organiser, None)
        .await
        .unwrap();
    (app, f.leeds.id)
}

async fn members_status(app: &TestApp, token: &str, group_id: i64) -> StatusCode {
    let path = format!("/api/v1/groups/{group_id}/members");
    app.api(Method::GET, &path, Some(token), None).await.status
}

async fn the_instance_setting_covers_organisers_or_admins(app: TestApp) {
    let store = app.store.clone();
    let (organisers, leeds) =
        instance_requirement(store.clone(), TwoFactorRequirement::Organisers).await;
    let organiser = organisers.token_for("org@example.org").await;
    let admin = organisers.token_for("admin@example.org").await;
    assert_eq!(
        members_status(&organisers, &organiser, leeds).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        members_status(&organisers, &admin, leeds).await,
        StatusCode::FORBIDDEN
    );

    let admins = TestApp::with_config(store.clone(), |c| {
        c.require_two_factor = TwoFactorRequirement::Admins;
    });
    assert_eq!(
        members_status(&admins, &organiser, leeds).await,
        StatusCode::OK
    );
    assert_eq!(
        members_status(&admins, &admin, leeds).await,
        StatusCode::FORBIDDEN
    );
    // A token issued before two-factor was set up keeps working, now for organising too.
    let admin_user = store
        .user_by_email("admin@example.org")
        .await
        .unwrap()
        .unwrap();
    turn_on_authenticator(&store, admin_user.id).await;
    assert_eq!(members_status(&admins, &admin, leeds).await, StatusCode::OK);
}

crate::on_both! {
    a_group_requirement_stops_organisers_below_it_until_they_enrol => a_group_requirement_stops_organisers_below_it_until_they_enrol,
    organisers_of_groups_without_the_requirement_are_not_stopped => organisers_of_groups_without_the_requirement_are_not_stopped,
    the_instance_setting_covers_organisers_or_admins => the_instance_setting_covers_organisers_or_admins,
}
