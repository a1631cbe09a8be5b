//! The caller safeguards on the organiser's campaign page: the Callers section suspends
//! (releasing the held contact), lifts and removes a caller as the API does, the pace
//! limits form and the "shown to callers" form check what is typed and name the field,
//! and someone who does not organise the campaign is refused every one of them.

use super::safeguards::{campaign_with, user_id};
use super::{claim, release, team};
use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::AuditAction;
use serde_json::{Value, json};

/// The flash message a redirect left, read from the page it leads to.
async fn follow(browser: &mut Browser<'_>, response: &TestResponse) -> TestResponse {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let to = response.location().split('#').next().unwrap().to_owned();
    browser.get(&to).await
}

async fn campaign_json(app: &TestApp, token: &str, id: i64) -> Value {
    app.api(
        Method::GET,
        &format!("/api/v1/campaigns/{id}"),
        Some(token),
        None,
    )
    .await
    .json()
}

/// The part of the campaign page about one caller.
fn caller_item<'a>(html: &'a str, email: &str) -> &'a str {
    let start = html
        .find(&format!("data-caller=\"{email}\""))
        .unwrap_or_else(|| panic!("{email} is not listed: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</li>").unwrap()]
}

async fn the_callers_section_suspends_lifts_and_removes(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 5, json!({})).await;
    let held = claim(&app, &t.caller, id).await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    let held_contact = held.json()["contact"]["id"].as_i64().unwrap();
    let cal = user_id(&app, "cal@example.org").await;
    let org_id = user_id(&app, "org@example.org").await;

    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let page = org.get(&format!("/campaigns/{id}")).await;
    let item = caller_item(&page.body, "cal@example.org");
    assert!(
        item.contains("Cal Caller") && item.contains(">active<"),
        "{item}"
    );

    let suspend = format!("/campaigns/{id}/callers/{cal}/suspend");
    let empty = org.submit(&page, &suspend, &[("reason", "  ")]).await;
    let shown = follow(&mut org, &empty).await;
    assert!(
        shown
            .body
            .contains("Reason: say why the caller is suspended"),
        "{}",
        shown.body
    );
    assert_eq!(claim(&app, &t.caller, id).await.status, StatusCode::CREATED);

    let done = org
        .submit(&page, &suspend, &[("reason", "Copying numbers down")])
        .await;
    assert_eq!(done.location(), format!("/campaigns/{id}#callers"));
    let shown = follow(&mut org, &done).await;
    assert!(
        shown.body.contains("Cal Caller is suspended"),
        "{}",
        shown.body
    );
    let item = caller_item(&shown.body, "cal@example.org");
    assert!(item.contains(">suspended<"), "{item}");
    assert!(
        item.contains("Suspended by you on") && item.contains("Copying numbers down"),
        "{item}"
    );
    let refused = claim(&app, &t.caller, id).await;
    assert_eq!(refused.error_code(), "caller_suspended", "{}", refused.body);
    // The contact the caller held went back: the next caller can be given it.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let next = claim(&app, &t.caller2, id).await;
        assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);
        let body = next.json();
        seen.push(body["contact"]["id"].as_i64().unwrap());
        let lease = body["lease_id"].as_i64().unwrap();
        release(&app, &t.caller2, lease).await;
        if seen.contains(&held_contact) {
            break;
        }
    }
    assert!(seen.contains(&held_contact), "{seen:?} vs {held_contact}");
    let audit = app.store.recent_audit(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == AuditAction::CallerSuspend && e.actor_user_id == Some(org_id)),
        "suspension audited as the organiser's"
    );

    let lifted = org
        .submit(&shown, &format!("/campaigns/{id}/callers/{cal}/lift"), &[])
        .await;
    let shown = follow(&mut org, &lifted).await;
    assert!(
        shown.body.contains("Cal Caller may call again"),
        "{}",
        shown.body
    );
    assert!(caller_item(&shown.body, "cal@example.org").contains(">active<"));
    assert_eq!(claim(&app, &t.caller, id).await.status, StatusCode::CREATED);

    let removed = org
        .submit(
            &shown,
            &format!("/campaigns/{id}/callers/{cal}/remove"),
            &[],
        )
        .await;
    let shown = follow(&mut org, &removed).await;
    assert!(caller_item(&shown.body, "cal@example.org").contains(">removed<"));
    let refused = claim(&app, &t.caller, id).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        app.store
            .recent_audit(20)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == AuditAction::CallerRemove && e.actor_user_id == Some(org_id))
    );
}

async fn the_pace_form_checks_and_saves_the_limits(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 5, json!({})).await;
    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let page = org.get(&format!("/campaigns/{id}")).await;
    assert!(
        page.body
            .contains("Defaults: 6 new contacts a minute, 120 an hour and 10")
    );
    assert!(page.body.contains(
        r#"name="per_minute" type="number" min="1" max="600" inputmode="numeric" value="6""#
    ));
    let action = format!("/campaigns/{id}/pace");
    for (fields, message) in [
        (
            [
                ("per_minute", "0"),
                ("per_hour", "120"),
                ("do_not_call_per_hour", "10"),
            ],
            "New contacts a minute must be a whole number between 1 and 600.",
        ),
        (
            [
                ("per_minute", "6"),
                ("per_hour", "lots"),
                ("do_not_call_per_hour", "10"),
            ],
            "New contacts an hour must be a whole number between 1 and 36000.",
        ),
        (
            [
                ("per_minute", "6"),
                ("per_hour", "120"),
                ("do_not_call_per_hour", "1001"),
            ],
            "&#34;Do not call&#34; outcomes an hour must be a whole number between 1 and 1000.",
        ),
    ] {
        let refused = org.submit(&page, &action, &fields).await;
        let shown = follow(&mut org, &refused).await;
        assert!(shown.body.contains(message), "{message}: {}", shown.body);
    }
    let unchanged = campaign_json(&app, &t.org, id).await;
    assert_eq!(unchanged["pace_per_minute"], 6);

    let saved = org
        .submit(
            &page,
            &action,
            &[
                ("per_minute", "1"),
                ("per_hour", "50"),
                ("do_not_call_per_hour", "3"),
            ],
        )
        .await;
    let shown = follow(&mut org, &saved).await;
    assert!(shown.body.contains("Pace limits saved"), "{}", shown.body);
    let campaign = campaign_json(&app, &t.org, id).await;
    assert_eq!(
        (
            &campaign["pace_per_minute"],
            &campaign["pace_per_hour"],
            &campaign["do_not_call_per_hour"]
        ),
        (&json!(1), &json!(50), &json!(3))
    );
    assert_eq!(claim(&app, &t.caller, id).await.status, StatusCode::CREATED);
    let first = claim(&app, &t.caller, id).await.json();
    let lease = first["lease_id"].as_i64().unwrap();
    release(&app, &t.caller, lease).await;
    let second = claim(&app, &t.caller, id).await;
    assert_eq!(second.error_code(), "pace_limited", "{}", second.body);
}

async fn the_shown_fields_form_lists_the_lists_columns(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 3, json!({})).await;
    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let page = org.get(&format!("/campaigns/{id}")).await;
    for (key, checked) in [
        ("first_name", true),
        ("last_name", true),
        ("postcode", false),
        ("ward", false),
    ] {
        let tag = format!(r#"name="field" value="{key}""#);
        assert!(page.body.contains(&tag), "{key}: {}", page.body);
        assert_eq!(
            page.body.contains(&format!("{tag} checked")),
            checked,
            "{key} ticked"
        );
    }
    assert!(
        page.body
            .contains("Unticked fields are never sent to callers' browsers")
    );

    let action = format!("/campaigns/{id}/shown-fields");
    let refused = org.submit(&page, &action, &[("field", "salary")]).await;
    let shown = follow(&mut org, &refused).await;
    assert!(
        shown
            .body
            .contains("Shown to callers: this list has no field called &#39;salary&#39;."),
        "{}",
        shown.body
    );

    let saved = org
        .submit(
            &page,
            &action,
            &[("field", "first_name"), ("field", "ward")],
        )
        .await;
    let shown = follow(&mut org, &saved).await;
    assert!(
        shown
            .body
            .contains("Saved: callers see the phone number and First name, Ward."),
        "{}",
        shown.body
    );
    assert!(shown.body.contains(r#"value="ward" checked"#));
    assert!(!shown.body.contains(r#"value="last_name" checked"#));
    let contact = claim(&app, &t.caller, id).await.json()["contact"].clone();
    assert_eq!(contact["first_name"], "Person");
    assert_eq!(contact["last_name"], "", "{contact}");
    assert!(contact["extra"]["Ward"].is_string(), "{contact}");
}

async fn someone_who_does_not_organise_it_is_refused(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 3, json!({})).await;
    let cal2 = user_id(&app, "cal2@example.org").await;
    assert_eq!(
        claim(&app, &t.caller2, id).await.status,
        StatusCode::CREATED
    );
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/campaigns/{id}")).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let home = caller.get("/").await;
    for (action, fields) in [
        (
            format!("/campaigns/{id}/callers/{cal2}/suspend"),
            vec![("reason", "no reason")],
        ),
        (format!("/campaigns/{id}/callers/{cal2}/remove"), vec![]),
        (
            format!("/campaigns/{id}/pace"),
            vec![
                ("per_minute", "600"),
                ("per_hour", "36000"),
                ("do_not_call_per_hour", "1000"),
            ],
        ),
        (
            format!("/campaigns/{id}/shown-fields"),
            vec![("field", "ward"), ("field", "postcode")],
        ),
    ] {
        let refused = caller.submit(&home, &action, &fields).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{action}: {}",
            refused.body
        );
    }
    let campaign = campaign_json(&app, &t.org, id).await;
    assert_eq!(campaign["pace_per_minute"], 6);
    assert_eq!(campaign["shown_to_callers_default"], true);
    assert_eq!(
        claim(&app, &t.caller2, id).await.status,
        StatusCode::CREATED
    );
}

on_both! {
    callers_section => the_callers_section_suspends_lifts_and_removes,
    pace_form => the_pace_form_checks_and_saves_the_limits,
    shown_fields_form => the_shown_fields_form_lists_the_lists_columns,
    refused_to_others => someone_who_does_not_organise_it_is_refused,
}
