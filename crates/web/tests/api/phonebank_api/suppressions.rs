//! "Numbers not called": every suppression shows where it came from and when. A "do not
//! call" outcome names its campaign and caller, a number an organiser adds names them, a
//! TPS or CTPS number names its file; a number can be checked; bad input names the field.

use super::{claim, outcome, team, with_contacts};
use crate::app::{Browser, TestApp};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::AuditAction;
use serde_json::json;

async fn every_suppression_shows_its_source_and_date(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let held = claim(&app, &t.caller, id).await.json();
    let called = held["contact"]["phone"].as_str().unwrap().to_owned();
    let recorded = outcome(
        &app,
        &t.caller,
        held["lease_id"].as_i64().unwrap(),
        Some("dnc-1"),
        json!({"outcome": "do_not_call"}),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    app.store
        .import_tps_numbers(
            &["+441134960555".to_owned()],
            "CTPS",
            "ctps-2026-12.csv",
            None,
        )
        .await
        .unwrap();

    let list = format!("/api/v1/groups/{}/suppressions", t.group_id);
    let view = app.api(Method::GET, &list, Some(&t.org), None).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let view = view.json();
    assert_eq!(view["do_not_call_total"], 1);
    let entry = &view["do_not_call"][0];
    assert_eq!(entry["phone"], called.as_str());
    assert_eq!(entry["reason"], "asked not to be called");
    assert_eq!(entry["campaign_id"], id);
    assert_eq!(entry["campaign_name"], "Spring canvass");
    assert_eq!(entry["added_by_name"], "Cal Caller");
    assert!(entry["created_at"].as_i64().unwrap() > 0);
    assert_eq!(view["national_lists"][0]["list"], "CTPS");
    assert_eq!(view["national_lists"][0]["last_source"], "ctps-2026-12.csv");

    let check = app
        .api(
            Method::GET,
            &format!("{list}?phone=0113%20496%200555"),
            Some(&t.org),
            None,
        )
        .await
        .json();
    assert_eq!(check["check"]["phone"], "+441134960555");
    assert_eq!(check["check"]["national"]["list"], "CTPS");
    assert_eq!(check["check"]["national"]["source"], "ctps-2026-12.csv");
    assert!(check["check"]["do_not_call"].is_null());
    let bad = app
        .api(
            Method::GET,
            &format!("{list}?phone=12345"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("phone"), "{}", bad.body);

    // The list's other contact is still queued: adding its number takes it out.
    let (queued, queued_e164) = if called == "+442079460001" {
        ("020 7946 0002", "+442079460002")
    } else {
        ("020 7946 0001", "+442079460001")
    };
    let add = format!("/api/v1/groups/{}/do-not-call", t.group_id);
    let added = app
        .api(
            Method::POST,
            &add,
            Some(&t.org),
            Some(json!({"phone": queued, "reason": "Asked by email"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let added = added.json();
    assert_eq!(added["entry"]["phone"], queued_e164);
    assert_eq!(added["entry"]["added_by_name"], "Olive Organiser");
    assert!(added["entry"]["campaign_id"].is_null());
    assert_eq!(added["contacts_suppressed"], 1, "{added}");
    let audited = app.store.recent_audit(5).await.unwrap();
    assert!(
        audited.iter().any(|e| e.action == AuditAction::DoNotCallAdd
            && e.subject == format!("group {}", t.group_id)),
        "{audited:?}"
    );
    let again = app
        .api(
            Method::POST,
            &add,
            Some(&t.org),
            Some(json!({"phone": queued_e164, "reason": "Again"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    for (body, field) in [
        (json!({"phone": "not a number", "reason": "x"}), "phone"),
        (json!({"phone": "020 7946 0003", "reason": "  "}), "reason"),
    ] {
        let refused = app.api(Method::POST, &add, Some(&t.org), Some(body)).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(
            refused.json()["error"]["details"]["field"],
            field,
            "{}",
            refused.body
        );
    }

    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let page = org.get("/groups/leeds/suppressions").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for shown in [
        "A call in Spring canvass, by Cal Caller",
        "Added by Olive Organiser",
        "Asked by email",
        queued,
        "<strong>CTPS</strong>: 1 number,",
        "from ctps-2026-12.csv",
    ] {
        assert!(
            page.body.contains(shown),
            "{shown} is not on the page: {}",
            page.body
        );
    }
    let checked = org
        .get("/groups/leeds/suppressions?phone=0113+496+0555")
        .await;
    assert!(
        checked
            .body
            .contains("On the CTPS list: imported from ctps-2026-12.csv"),
        "{}",
        checked.body
    );
    let free = org
        .get("/groups/leeds/suppressions?phone=0161+496+0999")
        .await;
    assert!(
        free.body.contains("is on none of the lists"),
        "{}",
        free.body
    );
    let typo = org.get("/groups/leeds/suppressions?phone=0161+496").await;
    assert!(
        typo.body
            .contains("Number: &#39;0161 496&#39; is too short"),
        "{}",
        typo.body
    );

    let by_hand = org
        .submit(
            &page,
            "/groups/leeds/suppressions",
            &[("phone", "020 7946 0099"), ("reason", "Wrote in")],
        )
        .await;
    assert_eq!(by_hand.status, StatusCode::SEE_OTHER, "{}", by_hand.body);
    let after = org.get("/groups/leeds/suppressions").await;
    assert!(
        after
            .body
            .contains("020 7946 0099 will not be called by Leeds"),
        "{}",
        after.body
    );
    assert!(after.body.contains("Wrote in"), "{}", after.body);
    let refused = org
        .submit(
            &page,
            "/groups/leeds/suppressions",
            &[("phone", "hello"), ("reason", "Wrote in")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let after = org.get("/groups/leeds/suppressions").await;
    assert!(
        after.body.contains("Number: &#39;hello&#39;"),
        "{}",
        after.body
    );
}

on_both!(sources => every_suppression_shows_its_source_and_date);
