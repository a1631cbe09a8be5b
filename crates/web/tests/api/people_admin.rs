//! The data-protection officer's pages and API: finding a person, the subject-access ZIP
//! and erasure with confirmation, who may use them, several and no matches; and an
//! organiser erasing one contact of a campaign (totals unchanged, re-import suppressed).

use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use crate::phonebank_api::{Team, claim, live_campaign, outcome, team, upload};
use crate::two_factor::requirement::turn_on_authenticator;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::AuditAction;
use barnstorm_web::auth::two_factor::TwoFactorRequirement;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SAM_EMAIL: &str = "sam.example@example.org";
const SAM_PHONE: &str = "020 7946 0123";

/// The bytes of entry `name` of a ZIP whose entries are stored uncompressed, read from the
/// local headers.
fn zip_entry(zip: &[u8], name: &str) -> Option<Vec<u8>> {
    let mut at = 0;
    let u16_at = |i: usize| usize::from(u16::from_le_bytes([zip[i], zip[i + 1]]));
    let u32_at =
        |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    while at + 30 <= zip.len() && u32_at(at) == 0x0403_4b50 {
        assert_eq!(u16_at(at + 8), 0, "entries are stored");
        let size = u32_at(at + 18);
        let name_len = u16_at(at + 26);
        let extra_len = u16_at(at + 28);
        let entry_name = std::str::from_utf8(&zip[at + 30..at + 30 + name_len]).unwrap();
        let data = at + 30 + name_len + extra_len;
        if entry_name == name {
            return Some(zip[data..data + size].to_vec());
        }
        at = data + size;
    }
    None
}

/// Sends a JSON API request and keeps the body as bytes (a ZIP is not text).
async fn api_bytes(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, String, Vec<u8>) {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, bytes.to_vec())
}

/// Sam Example: an account, and a contact (with a call and its notes) on a live campaign
/// of the team's group. Returns the campaign.
async fn plant_sam(app: &TestApp, t: &Team) -> i64 {
    app.user(SAM_EMAIL, "Sam Example", false).await;
    let campaign = live_campaign(app, t, json!({})).await;
    let list = format!("First Name,Surname,Mobile,Email\nSam,Example,{SAM_PHONE},{SAM_EMAIL}\n");
    let imported = upload(app, &t.org, campaign, "", &list).await;
    assert_eq!(imported.json()["imported"], 1, "{}", imported.body);
    call_with_notes(app, &t.caller, campaign, "walking the dog").await;
    campaign
}

/// The caller takes the next contact and records a completed call with `notes`.
async fn call_with_notes(app: &TestApp, token: &str, campaign: i64, notes: &str) -> Value {
    let claimed = claim(app, token, campaign).await;
    assert!(claimed.status.is_success(), "{}", claimed.body);
    let claimed = claimed.json();
    let lease = claimed["lease_id"].as_i64().unwrap();
    let body = json!({"outcome": "spoke", "answers": {"q1": "no"}, "notes": notes});
    let recorded = outcome(app, token, lease, Some(&format!("call-{lease}")), body).await;
    assert!(recorded.status.is_success(), "{}", recorded.body);
    claimed
}

/// The campaign's figures that an erasure must not change.
async fn totals(app: &TestApp, organiser: &str, campaign: i64) -> Value {
    let path = format!("/api/v1/campaigns/{campaign}/stats");
    let s = app
        .api(Method::GET, &path, Some(organiser), None)
        .await
        .json();
    json!({"progress": s["progress"], "outcomes": s["outcomes"], "survey": s["survey"],
        "conversations": s["conversations"]})
}

async fn data_protection_officer(app: &TestApp) -> String {
    let dpo = app.user("dpo@example.org", "Dee Protection", false).await;
    app.store.set_data_protection(dpo.id, true).await.unwrap();
    app.token_for("dpo@example.org").await
}

async fn people(app: &TestApp, token: Option<&str>, action: &str, body: Value) -> TestResponse {
    app.api(
        Method::POST,
        &format!("/api/v1/people/{action}"),
        token,
        Some(body),
    )
    .await
}

async fn a_data_protection_officer_searches_exports_and_erases_with_confirmation(app: TestApp) {
    let t = team(&app).await;
    plant_sam(&app, &t).await;
    let dpo = data_protection_officer(&app).await;
    let by_phone = json!({"phone": "+44 (0)20 7946 0123"});

    let found = people(&app, Some(&dpo), "search", by_phone.clone()).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let found = found.json();
    assert_eq!(found["matched"], "one");
    assert_eq!(found["person"]["names"], json!(["Sam Example"]));
    assert_eq!(found["person"]["emails"], json!([SAM_EMAIL]));
    assert_eq!(found["person"]["campaigns"], json!(["Spring canvass"]));
    let kinds = found["person"]["kinds"].as_array().unwrap();
    let rows_of = |table: &str| {
        kinds
            .iter()
            .find(|k| k["table"] == table)
            .map(|k| k["rows"].clone())
    };
    assert_eq!(rows_of("users"), Some(json!(1)), "the account: {kinds:?}");
    assert_eq!(rows_of("contacts"), Some(json!(1)));
    assert_eq!(rows_of("call_attempts"), Some(json!(1)));

    let (status, content_type, zip) =
        api_bytes(&app, "/api/v1/people/export", &dpo, by_phone.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/zip");
    let person: Value =
        serde_json::from_slice(&zip_entry(&zip, "person.json").expect("person.json")).unwrap();
    assert_eq!(person["emails"], json!([SAM_EMAIL]));
    assert_eq!(person["phones"], json!(["+442079460123"]));
    let text = person.to_string();
    assert!(
        text.contains("Sam Example") && text.contains("walking the dog"),
        "{text}"
    );
    let audit = app.store.recent_audit(5).await.unwrap();
    let export = audit
        .iter()
        .find(|e| e.action == AuditAction::PersonExport)
        .expect("the export is audited");
    assert!(
        !export.subject.contains("Sam") && !export.detail.contains("Sam"),
        "{export:?}"
    );

    let unconfirmed = people(&app, Some(&dpo), "erase", by_phone.clone()).await;
    assert_eq!(
        unconfirmed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unconfirmed.body
    );
    assert_eq!(unconfirmed.error_code(), "confirmation_required");
    let would = &unconfirmed.json()["error"]["details"]["would_erase"];
    assert_eq!(would["names"], json!(["Sam Example"]));
    let still = people(&app, Some(&dpo), "search", by_phone.clone()).await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "nothing was erased without confirmation"
    );
    assert!(app.store.user_by_email(SAM_EMAIL).await.unwrap().is_some());

    let mut confirmed = by_phone.clone();
    confirmed["confirm"] = json!(true);
    let erased = people(&app, Some(&dpo), "erase", confirmed).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    assert!(erased.json()["deleted"].as_u64().unwrap() > 0);
    assert!(
        erased.json()["suppressed_digests"].as_u64().unwrap() >= 2,
        "number and address"
    );
    let gone = people(&app, Some(&dpo), "search", by_phone).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
    assert_eq!(gone.error_code(), "nobody_matches");
    let by_email = people(&app, Some(&dpo), "search", json!({"email": SAM_EMAIL})).await;
    assert_eq!(by_email.status, StatusCode::NOT_FOUND);
}

async fn only_admins_and_data_protection_may_find_people(app: TestApp) {
    let t = team(&app).await;
    plant_sam(&app, &t).await;
    app.user("admin@example.org", "Ada Admin", true).await;
    let admin = app.token_for("admin@example.org").await;
    let body = json!({"email": SAM_EMAIL});
    for action in ["search", "export", "erase"] {
        for (who, token) in [("organiser", &t.org), ("caller", &t.caller)] {
            let refused = people(&app, Some(token), action, body.clone()).await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{action} as {who}: {}",
                refused.body
            );
        }
        let anonymous = people(&app, None, action, body.clone()).await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{action} anonymously"
        );
    }
    let found = people(&app, Some(&admin), "search", body).await;
    assert_eq!(
        found.status,
        StatusCode::OK,
        "an administrator may: {}",
        found.body
    );

    assert!(
        app.get("/admin/people")
            .await
            .location()
            .starts_with("/login"),
        "anonymous visitors are sent to sign in"
    );
    let mut organiser = Browser::new(&app);
    organiser.sign_in("org@example.org").await;
    assert_eq!(
        organiser.get("/admin/people").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !organiser
            .get("/account")
            .await
            .body
            .contains("/admin/people")
    );
    let mut administrator = Browser::new(&app);
    administrator.sign_in("admin@example.org").await;
    let account = administrator.get("/account").await;
    assert!(
        account.body.contains("href=\"/admin/people\""),
        "linked for admins"
    );
}

async fn several_matches_list_candidates_and_nobody_says_so(app: TestApp) {
    let t = team(&app).await;
    let dpo = data_protection_officer(&app).await;
    // One household landline on two lists, under two names.
    for (name, list) in [("Spring", "Sam,Example"), ("Autumn", "Alex,Example")] {
        let campaign = live_campaign(&app, &t, json!({"name": name})).await;
        let csv = format!("First Name,Surname,Mobile\n{list},{SAM_PHONE}\n");
        assert_eq!(
            upload(&app, &t.org, campaign, "", &csv).await.json()["imported"],
            1
        );
    }
    let by_phone = json!({"phone": SAM_PHONE});
    let several = people(&app, Some(&dpo), "search", by_phone.clone()).await;
    assert_eq!(several.status, StatusCode::OK, "{}", several.body);
    assert_eq!(several.json()["matched"], "several");
    let names: Vec<Value> = several.json()["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&json!("Sam Example")) && names.contains(&json!("Alex Example")));
    for action in ["export", "erase"] {
        let mut body = by_phone.clone();
        body["confirm"] = json!(true);
        let refused = people(&app, Some(&dpo), action, body).await;
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            refused.body
        );
        assert_eq!(refused.error_code(), "several_match");
        assert_eq!(
            refused.json()["error"]["details"]["candidates"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
    let phone = normalise_phone(SAM_PHONE, Region::GB).unwrap();
    let campaigns = app.store.group_campaigns(t.group_id).await.unwrap();
    for campaign in &campaigns {
        assert!(
            app.store
                .contact_by_phone(campaign.id, phone.as_str())
                .await
                .unwrap()
                .is_some(),
            "nothing was erased while several matched"
        );
    }
    let mut alex = by_phone.clone();
    alex["candidate"] = json!("Alex Example");
    let one = people(&app, Some(&dpo), "search", alex).await;
    assert_eq!(one.json()["matched"], "one", "{}", one.body);
    assert_eq!(one.json()["person"]["names"], json!(["Alex Example"]));
    assert_eq!(one.json()["person"]["campaigns"], json!(["Autumn"]));

    let mut browser = Browser::new(&app);
    browser.sign_in("dpo@example.org").await;
    let form = browser.get("/admin/people").await;
    let listed = browser
        .submit(&form, "/admin/people", &[("phone", SAM_PHONE)])
        .await;
    assert!(
        listed.body.contains("Several people match") && listed.body.contains("Choose Alex Example"),
        "{}",
        listed.body
    );
    let chosen = browser
        .submit(
            &listed,
            "/admin/people",
            &[("phone", SAM_PHONE), ("candidate", "Alex Example")],
        )
        .await;
    assert!(
        chosen.body.contains("What is held")
            && chosen.body.contains("Autumn")
            && !chosen.body.contains("Spring"),
        "{}",
        chosen.body
    );

    let nobody = people(
        &app,
        Some(&dpo),
        "search",
        json!({"email": "nobody@example.org"}),
    )
    .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert!(
        nobody.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nobody matches")
    );
    let bad = people(&app, Some(&dpo), "search", json!({"phone": "not a number"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["details"]["field"], "phone");
}

async fn the_pages_answer_a_request_from_search_to_erasure(app: TestApp) {
    let t = team(&app).await;
    plant_sam(&app, &t).await;
    data_protection_officer(&app).await;
    let mut dpo = Browser::new(&app);
    dpo.sign_in("dpo@example.org").await;
    let home = dpo.get("/").await;
    assert!(
        home.body.contains("href=\"/admin/people\""),
        "the navigation links the pages"
    );
    let form = dpo.get("/admin/people").await;
    assert_eq!(form.status, StatusCode::OK);

    let nobody = dpo
        .submit(&form, "/admin/people", &[("email", "nobody@example.org")])
        .await;
    assert!(nobody.body.contains("Nobody matches"), "{}", nobody.body);
    let bad = dpo
        .submit(&form, "/admin/people", &[("name", "Sam Example")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("Postcode: is needed with a name"),
        "{}",
        bad.body
    );

    let who = [("phone", "02079460123")];
    let found = dpo.submit(&form, "/admin/people", &who).await;
    assert!(
        found.body.contains("What is held")
            && found.body.contains("Sam Example")
            && found.body.contains("Spring canvass")
            && found.body.contains("Download subject-access ZIP"),
        "{}",
        found.body
    );
    let download = dpo.submit(&found, "/admin/people/export", &who).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.headers[header::CONTENT_TYPE], "application/zip");
    assert!(download.body.contains("person.json") && download.body.contains(SAM_EMAIL));

    let confirm = dpo.submit(&found, "/admin/people/erase", &who).await;
    assert!(
        confirm.body.contains("What will be erased") && confirm.body.contains("Sam Example"),
        "{}",
        confirm.body
    );
    let mistyped = dpo
        .submit(
            &confirm,
            "/admin/people/erase/confirm",
            &[("phone", "02079460123"), ("confirmation", "yes")],
        )
        .await;
    assert_eq!(mistyped.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        mistyped.body.contains("nothing was erased"),
        "{}",
        mistyped.body
    );
    assert!(app.store.user_by_email(SAM_EMAIL).await.unwrap().is_some());

    let erased = dpo
        .submit(
            &confirm,
            "/admin/people/erase/confirm",
            &[("phone", "02079460123"), ("confirmation", "ERASE")],
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    assert!(erased.body.contains("Records deleted"), "{}", erased.body);
    assert!(app.store.user_by_email(SAM_EMAIL).await.unwrap().is_none());
    let again = dpo.submit(&form, "/admin/people", &who).await;
    assert!(again.body.contains("Nobody matches"), "{}", again.body);
}

async fn an_organiser_erases_one_contact_and_the_totals_stay(app: TestApp) {
    let t = team(&app).await;
    let campaign = live_campaign(&app, &t, json!({})).await;
    let list = "First Name,Surname,Mobile\nAda,Lovelace,020 7946 0001\nAlan,Turing,020 7946 0002\n";
    assert_eq!(
        upload(&app, &t.org, campaign, "", list).await.json()["imported"],
        2
    );
    let first = call_with_notes(&app, &t.caller, campaign, "first note").await;
    call_with_notes(&app, &t.caller, campaign, "second note").await;
    let erased_id = first["contact"]["id"].as_i64().unwrap();
    let erased_name = first["contact"]["first_name"].as_str().unwrap().to_owned();
    let before = totals(&app, &t.org, campaign).await;
    let path = format!("/api/v1/campaigns/{campaign}/contacts/{erased_id}");
    let refused = app.api(Method::DELETE, &path, Some(&t.caller), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let done = app.api(Method::DELETE, &path, Some(&t.org), None).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let again = app.api(Method::DELETE, &path, Some(&t.org), None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "erased already");
    assert_eq!(
        totals(&app, &t.org, campaign).await,
        before,
        "the campaign's totals are unchanged"
    );

    let attempts = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{campaign}/attempts.csv"),
            Some(&t.org),
            None,
        )
        .await;
    assert!(!attempts.body.contains("first note"), "{}", attempts.body);
    assert!(!attempts.body.contains(&erased_name), "{}", attempts.body);
    assert!(
        attempts.body.contains("second note"),
        "the other contact is untouched"
    );
    let audit = app.store.recent_audit(3).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == AuditAction::ContactErase),
        "{audit:?}"
    );

    let erased_phone = if erased_name == "Ada" {
        "020 7946 0001"
    } else {
        "020 7946 0002"
    };
    let reimport = upload(
        &app,
        &t.org,
        campaign,
        "",
        &format!("First Name,Mobile\n{erased_name},{erased_phone}\n"),
    )
    .await;
    assert_eq!(
        (
            reimport.json()["imported"].clone(),
            reimport.json()["suppressed"].clone()
        ),
        (json!(0), json!(1)),
        "{}",
        reimport.body
    );

    // The same from the campaign's page, for the other contact.
    let other_phone = if erased_name == "Ada" {
        "020 7946 0002"
    } else {
        "020 7946 0001"
    };
    let mut organiser = Browser::new(&app);
    organiser.sign_in("org@example.org").await;
    let page = organiser.get(&format!("/campaigns/{campaign}")).await;
    assert!(page.body.contains("Erase a contact"), "{}", page.body);
    let confirm = organiser
        .submit(
            &page,
            &format!("/campaigns/{campaign}/contacts/find"),
            &[("phone", other_phone)],
        )
        .await;
    assert!(
        confirm.body.contains("Erase this contact?"),
        "{}",
        confirm.body
    );
    let e164 = normalise_phone(other_phone, Region::GB).unwrap();
    let other = app
        .store
        .contact_by_phone(campaign, e164.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(confirm.body.contains(&other.first_name));
    let erased = organiser
        .submit(
            &confirm,
            &format!("/campaigns/{campaign}/contacts/{}/erase", other.id),
            &[],
        )
        .await;
    assert_eq!(erased.status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .contact_by_phone(campaign, e164.as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        totals(&app, &t.org, campaign).await,
        before,
        "still unchanged"
    );
}

async fn the_instance_two_factor_rule_covers_data_protection_officers(app: TestApp) {
    let dpo = data_protection_officer(&app).await;
    let strict = TestApp::with_config(app.store.clone(), |c| {
        c.require_two_factor = TwoFactorRequirement::Admins;
    });
    let body = json!({"email": "dpo@example.org"});
    let refused = people(&strict, Some(&dpo), "search", body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.error_code(), "two_factor_required");
    let mut browser = Browser::new(&strict);
    browser.sign_in("dpo@example.org").await;
    let page = browser.get("/admin/people").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Set up two-factor sign-in"),
        "{}",
        page.body
    );
    // The audit log names who was shown whom: the same rule.
    assert_eq!(
        browser.get("/admin/audit").await.status,
        StatusCode::FORBIDDEN
    );
    let audit = strict
        .api(Method::GET, "/api/v1/audit", Some(&dpo), None)
        .await;
    assert_eq!(audit.error_code(), "two_factor_required", "{}", audit.body);

    let user = app
        .store
        .user_by_email("dpo@example.org")
        .await
        .unwrap()
        .unwrap();
    turn_on_authenticator(&app.store, user.id).await;
    let allowed = people(&strict, Some(&dpo), "search", body).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    let audit = strict
        .api(Method::GET, "/api/v1/audit", Some(&dpo), None)
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
}

on_both! {
    the_instance_two_factor_rule_covers_data_protection_officers => the_instance_two_factor_rule_covers_data_protection_officers,
    a_data_protection_officer_searches_exports_and_erases_with_confirmation => a_data_protection_officer_searches_exports_and_erases_with_confirmation,
    only_admins_and_data_protection_may_find_people => only_admins_and_data_protection_may_find_people,
    several_matches_list_candidates_and_nobody_says_so => several_matches_list_candidates_and_nobody_says_so,
    the_pages_answer_a_request_from_search_to_erasure => the_pages_answer_a_request_from_search_to_erasure,
    an_organiser_erases_one_contact_and_the_totals_stay => an_organiser_erases_one_contact_and_the_totals_stay,
}
