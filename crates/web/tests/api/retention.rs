//! Retention as organisers and admins meet it: a group's page says how long its call lists
//! and RSVP details are kept and takes its own periods (a bad one is refused, naming the
//! field); the preview page and API list what a run would remove, each role seeing only
//! its share, and a run then removes exactly that.

use crate::app::{Browser, TestApp};
use axum::http::{Method, StatusCode};
use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{CampaignSettings, CampaignStatus};
use barnstorm_store::retention::RetentionRun;
use barnstorm_store::{GroupKind, Role, now_millis};
use std::collections::BTreeMap;

fn person(line: u64, first: &str, phone: &str) -> ImportedContact {
    ImportedContact {
        line,
        first_name: Some(first.into()),
        last_name: Some("Tester".into()),
        phone_e164: normalise_phone(phone, Region::GB).unwrap(),
        other_phone_e164: None,
        email: None,
        postcode: None,
        extra: BTreeMap::new(),
        external_ids: Default::default(),
        warnings: Vec::new(),
    }
}

/// A finished campaign of `group_id` with `people` on its list.
async fn finished(app: &TestApp, group_id: i64, name: &str, people: &[ImportedContact]) -> i64 {
    let c = app
        .store
        .create_campaign(group_id, &CampaignSettings::new(name), None)
        .await
        .unwrap();
    app.store
        .insert_contacts(c.id, group_id, people)
        .await
        .unwrap();
    app.store
        .set_campaign_status(c.id, CampaignStatus::Finished, None)
        .await
        .unwrap();
    c.id
}

async fn organisers_set_periods_and_see_what_goes(app: TestApp) {
    // Call lists are due as soon as a campaign finishes, unless a group keeps its own longer.
    let app = TestApp::with_config(app.store.clone(), |c| c.retention.contact_days = 0);
    let leeds = app
        .store
        .create_group(None, "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let hull = app
        .store
        .create_group(None, "Hull", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let organiser = app.user("org@example.org", "Organiser", false).await;
    app.user("admin@example.org", "Admin", true).await;
    for group in [&leeds, &hull] {
        app.store
            .set_membership(group.id, organiser.id, Role::Organiser, None)
            .await
            .unwrap();
    }
    let hull_org = app.user("hull@example.org", "Hull Organiser", false).await;
    app.store
        .set_membership(hull.id, hull_org.id, Role::Organiser, None)
        .await
        .unwrap();
    let spring = finished(
        &app,
        leeds.id,
        "Spring",
        &[
            person(2, "Ada", "020 7946 0001"),
            person(3, "Alan", "020 7946 0002"),
        ],
    )
    .await;
    finished(
        &app,
        hull.id,
        "Docks",
        &[person(2, "Grace", "020 7946 0003")],
    )
    .await;

    let mut browser = Browser::new(&app);
    browser.sign_in("org@example.org").await;
    let page = browser.get("/groups/hull").await;
    assert!(
        page.body
            .contains("Call lists are deleted 0 days after a campaign finishes")
    );
    let refused = browser
        .submit(
            &page,
            "/groups/hull/retention",
            &[("contact_days", "0"), ("rsvp_days", "")],
        )
        .await;
    let shown = browser.get(refused.location()).await;
    assert!(
        shown
            .body
            .contains("Call lists: enter a whole number of days from 1 to 3650"),
        "{}",
        shown.body
    );
    let saved = browser
        .submit(
            &page,
            "/groups/hull/retention",
            &[("contact_days", "30"), ("rsvp_days", "400")],
        )
        .await;
    let page = browser.get(saved.location()).await;
    assert!(
        page.body
            .contains("Call lists are deleted 30 days after a campaign finishes")
    );
    assert!(
        page.body
            .contains("RSVP details are removed 400 days after the event")
    );
    assert!(
        page.body.contains("value=\"30\""),
        "the form shows the group's own period"
    );

    let preview = browser.get("/groups/leeds/retention").await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("Spring</a></td><td>2</td>"),
        "{}",
        preview.body
    );
    assert!(
        !preview.body.contains("Supporters:"),
        "supporters are the instance's"
    );
    let hull_preview = browser.get("/groups/hull/retention").await;
    assert!(hull_preview.body.contains("No call list is due."));

    let admin = app.token_for("admin@example.org").await;
    let everything = app
        .api(Method::GET, "/api/v1/retention/preview", Some(&admin), None)
        .await;
    assert_eq!(everything.status, StatusCode::OK, "{}", everything.body);
    let json = everything.json();
    assert_eq!(json["contacts"], 2);
    assert_eq!(json["campaigns"][0]["campaign_id"], spring);
    assert_eq!(
        json["campaigns"].as_array().unwrap().len(),
        1,
        "Hull keeps its list 30 days"
    );
    assert!(json["supporters"].is_u64() && json["audit_entries"].is_u64());

    let hull_token = app.token_for("hull@example.org").await;
    let not_theirs = app
        .api(
            Method::GET,
            &format!("/api/v1/groups/{}/retention/preview", leeds.id),
            Some(&hull_token),
            None,
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
    let own = app
        .api(
            Method::GET,
            &format!("/api/v1/groups/{}/retention/preview", hull.id),
            Some(&hull_token),
            None,
        )
        .await
        .json();
    assert_eq!(own["periods"]["contact_days"], 30);
    assert_eq!(own["periods"]["rsvp_days"], 400);
    assert_eq!(
        (own["contacts"].clone(), own["supporters"].clone()),
        (0.into(), serde_json::Value::Null)
    );

    let policy = barnstorm_store::retention::RetentionPolicy {
        contact_days: 0,
        ..Default::default()
    };
    let RetentionRun::Ran(done) = app
        .store
        .run_retention(&policy, now_millis())
        .await
        .unwrap()
    else {
        panic!("the first run of the hour runs");
    };
    assert_eq!(
        done.contacts(),
        2,
        "the run removes what the preview listed"
    );
    let after = app
        .api(Method::GET, "/api/v1/retention/preview", Some(&admin), None)
        .await
        .json();
    assert_eq!(after["contacts"], 0);
    let admin_page = {
        let mut admin_browser = Browser::new(&app);
        admin_browser.sign_in("admin@example.org").await;
        let account = admin_browser.get("/account").await;
        assert!(
            account.body.contains("href=\"/admin/retention\""),
            "admins find the page"
        );
        admin_browser.get("/admin/retention").await
    };
    assert!(
        admin_page.body.contains("removed 2 contacts, 0 RSVPs"),
        "{}",
        admin_page.body
    );
}

crate::on_both! {
    retention_periods_and_preview => organisers_set_periods_and_see_what_goes,
}
