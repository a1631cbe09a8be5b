//! Harvest-proof calling: the pace limit (a caller looping claim → outcome or release sees
//! at most the limit of contacts, gets 429 with Retry-After, and is suspended and
//! flagged), suspension and removal by organisers (refused at once, even on a node whose
//! cache remembers the caller, with the held contact given back), the limit on "do not
//! call" outcomes, the fields shown to callers, and the caller page's outcome form
//! refusing a lease of another campaign.

use super::{claim, live_campaign, outcome, team, upload};
use crate::app::{Browser, TestApp};
use crate::on_both;
use axum::http::{Method, StatusCode, header};
use barnstorm_store::AuditAction;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A list of `n` contacts (drama numbers 020 7946 0001…) with an unmapped "Ward" column.
fn list_of(n: usize) -> String {
    let mut csv = String::from("First Name,Surname,Mobile,Ward\n");
    for i in 1..=n {
        csv.push_str(&format!("Person,Number{i},020 7946 {i:04},Ward {i}\n"));
    }
    csv
}

pub(super) async fn campaign_with(
    app: &TestApp,
    t: &super::Team,
    contacts: usize,
    extra: Value,
) -> i64 {
    let id = live_campaign(app, t, extra).await;
    let imported = upload(app, &t.org, id, "", &list_of(contacts)).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    id
}

pub(super) async fn user_id(app: &TestApp, email: &str) -> i64 {
    app.store.user_by_email(email).await.unwrap().unwrap().id
}

fn retry_after(response: &crate::app::TestResponse) -> i64 {
    response
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", response.headers))
}

/// The attack: loop claim → "no answer" as fast as possible. The caller sees six
/// contacts, then 429 pace_limited with Retry-After; after ten refusals they are
/// suspended, flagged, and refused with 403 from then on.
async fn an_outcome_loop_sees_only_the_pace_limit(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 30, json!({})).await;
    let mut seen = HashSet::new();
    let mut refusals = Vec::new();
    for round in 0..40 {
        let claimed = claim(&app, &t.caller, id).await;
        if claimed.status == StatusCode::CREATED {
            let body = claimed.json();
            seen.insert(body["contact"]["phone"].as_str().unwrap().to_owned());
            let lease = body["lease_id"].as_i64().unwrap();
            let key = format!("loop-{round}");
            let recorded = outcome(
                &app,
                &t.caller,
                lease,
                Some(&key),
                json!({"outcome": "no_answer"}),
            )
            .await;
            assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
        } else {
            refusals.push(claimed);
        }
    }
    assert_eq!(seen.len(), 6, "contacts seen by one caller in a minute");
    let first = &refusals[0];
    assert_eq!(
        (first.status, first.error_code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "pace_limited")
    );
    let wait = retry_after(first);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(first.json()["error"]["details"]["suspended"], false);
    let codes: Vec<String> = refusals.iter().map(|r| r.error_code()).collect();
    assert_eq!(
        codes[..10],
        vec!["pace_limited"; 10],
        "ten refusals before the suspension"
    );
    assert_eq!(refusals[9].json()["error"]["details"]["suspended"], true);
    assert!(
        codes[10..].iter().all(|c| c == "caller_suspended"),
        "{codes:?}"
    );
    assert_eq!(refusals[10].status, StatusCode::FORBIDDEN);

    let callers = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/callers"),
            Some(&t.org),
            None,
        )
        .await;
    let cal = user_id(&app, "cal@example.org").await;
    let row = callers
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["user_id"] == cal)
        .cloned()
        .unwrap();
    assert!(row["suspended_at"].is_i64(), "{row}");
    assert!(row["flagged_at"].is_i64(), "{row}");
    let flagged = app.store.flagged_callers(id).await.unwrap();
    assert!(flagged.iter().any(|f| f.user_id == cal && f.suspended));
    let audit = app.store.recent_audit(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == AuditAction::CallerSuspend && e.actor_user_id.is_none()),
        "the automatic suspension is audited"
    );
    // Nobody else is held back.
    assert_eq!(
        claim(&app, &t.caller2, id).await.status,
        StatusCode::CREATED
    );
}

/// Giving each contact back unrecorded is paced the same way.
async fn a_release_loop_sees_only_the_pace_limit(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 30, json!({"skip_limit": 1000})).await;
    let mut seen = HashSet::new();
    for _ in 0..7 {
        let claimed = claim(&app, &t.caller, id).await;
        if claimed.status != StatusCode::CREATED {
            assert_eq!(claimed.error_code(), "pace_limited");
            retry_after(&claimed);
            break;
        }
        let body = claimed.json();
        seen.insert(body["contact"]["id"].as_i64().unwrap());
        let lease = body["lease_id"].as_i64().unwrap();
        let released = app
            .api(
                Method::POST,
                &format!("/api/v1/leases/{lease}/release"),
                Some(&t.caller),
                None,
            )
            .await;
        assert_eq!(released.status, StatusCode::NO_CONTENT);
    }
    assert_eq!(seen.len(), 6);
}

/// Organisers set the pace; the caller page says why and when the caller can go on.
async fn the_pace_is_a_setting_and_the_page_explains_it(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 10, json!({"pace_per_minute": 2})).await;
    let bad = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            Some(json!({"pace_per_hour": 0})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["details"]["field"], "pace_per_hour");
    let view = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            view["pace_per_minute"].as_i64(),
            view["pace_per_hour"].as_i64()
        ),
        (Some(2), Some(120))
    );
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    for round in 0..2 {
        let page = caller.get(&format!("/call/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let lease = page
            .body
            .split("name=\"lease_id\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let key = format!("page-{round}");
        let saved = caller
            .submit(
                &page,
                &format!("/call/{id}/outcome"),
                &[
                    ("lease_id", &lease),
                    ("idempotency_key", &key),
                    ("outcome", "no_answer"),
                ],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    }
    let slow = caller.get(&format!("/call/{id}")).await;
    assert!(slow.body.contains("Slow down a little"), "{}", slow.body);
    assert!(slow.body.contains("at most 2 new contacts a minute"));
    assert!(slow.body.contains("You can go on at"));
    assert!(!slow.body.contains("name=\"lease_id\""));
}

/// An organiser suspends a caller who holds a contact: on another node whose cache says
/// the caller may call, their outcome, heartbeat and claim are refused at once and the
/// contact is back in the queue. Lifting lets them call again; removal is for good.
async fn a_suspended_caller_is_refused_at_once_everywhere(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 3, json!({})).await;
    let other_node = TestApp::new(app.store.clone());
    let held = claim(&other_node, &t.caller, id).await.json();
    assert!(held["contact"]["id"].is_i64());
    let lease = held["lease_id"].as_i64().unwrap();
    let cal = user_id(&app, "cal@example.org").await;
    let suspension = format!("/api/v1/campaigns/{id}/callers/{cal}/suspension");
    let no_reason = app
        .api(
            Method::POST,
            &suspension,
            Some(&t.org),
            Some(json!({"reason": " "})),
        )
        .await;
    assert_eq!(no_reason.json()["error"]["details"]["field"], "reason");
    let by_caller = app
        .api(
            Method::POST,
            &suspension,
            Some(&t.caller2),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(by_caller.status, StatusCode::FORBIDDEN);
    let suspended = app
        .api(
            Method::POST,
            &suspension,
            Some(&t.org),
            Some(json!({"reason": "reading out numbers"})),
        )
        .await;
    assert_eq!(
        suspended.status,
        StatusCode::NO_CONTENT,
        "{}",
        suspended.body
    );

    let recorded = outcome(
        &other_node,
        &t.caller,
        lease,
        Some("after"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(
        (recorded.status, recorded.error_code().as_str()),
        (StatusCode::FORBIDDEN, "caller_suspended")
    );
    let beat = other_node
        .api(
            Method::POST,
            &format!("/api/v1/leases/{lease}/heartbeat"),
            Some(&t.caller),
            None,
        )
        .await;
    assert_eq!(beat.error_code(), "caller_suspended");
    let again = claim(&other_node, &t.caller, id).await;
    assert_eq!(
        (again.status, again.error_code().as_str()),
        (StatusCode::FORBIDDEN, "caller_suspended")
    );
    let counts = app
        .store
        .queue_counts(id, barnstorm_store::now_millis())
        .await
        .unwrap();
    assert_eq!(
        (counts.leased, counts.ready),
        (0, 3),
        "the suspended caller's contact went back to the queue"
    );

    let lifted = app
        .api(Method::DELETE, &suspension, Some(&t.org), None)
        .await;
    assert_eq!(lifted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        claim(&other_node, &t.caller, id).await.status,
        StatusCode::CREATED
    );
    let removed = app
        .api(
            Method::DELETE,
            &format!("/api/v1/campaigns/{id}/callers/{cal}"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let after = claim(&other_node, &t.caller, id).await;
    assert_eq!(after.error_code(), "caller_removed");
    let actions: Vec<String> = app
        .store
        .recent_audit(20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str().to_owned())
        .collect();
    for action in ["caller.suspend", "caller.unsuspend", "caller.remove"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

/// "Do not call" outcomes beyond the campaign's limit are refused with 429, the number
/// stays callable, and the caller is flagged.
async fn do_not_call_outcomes_are_limited(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(&app, &t, 5, json!({"do_not_call_per_hour": 2})).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for round in 0..3 {
        let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
            .as_i64()
            .unwrap();
        let key = format!("dnc-{round}");
        let recorded = outcome(
            &app,
            &t.caller,
            lease,
            Some(&key),
            json!({"outcome": "do_not_call"}),
        )
        .await;
        statuses.push(recorded.status);
        last = Some(recorded);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let refused = last.unwrap();
    assert_eq!(refused.error_code(), "do_not_call_limited");
    assert!(retry_after(&refused) > 0);
    let counts = app
        .store
        .queue_counts(id, barnstorm_store::now_millis())
        .await
        .unwrap();
    assert_eq!(
        counts.suppressed, 2,
        "only two numbers went on the do-not-call list"
    );
    let cal = user_id(&app, "cal@example.org").await;
    assert!(
        app.store
            .flagged_callers(id)
            .await
            .unwrap()
            .iter()
            .any(|f| f.user_id == cal)
    );
}

/// An unmapped column is neither in the claim's JSON nor on the caller page, nor filled
/// into the script, until the organiser shows it to callers.
async fn callers_see_only_the_fields_shown_to_them(app: TestApp) {
    let t = team(&app).await;
    let id = campaign_with(
        &app,
        &t,
        3,
        json!({"script": "Hello {first_name}, you live in {ward|your area}"}),
    )
    .await;
    let claimed = claim(&app, &t.caller, id).await.json();
    assert_eq!(claimed["contact"]["first_name"], "Person");
    assert!(
        claimed["contact"]["extra"].get("Ward").is_none(),
        "{claimed}"
    );
    assert_eq!(claimed["script"], "Hello Person, you live in your area");
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/call/{id}")).await;
    assert!(page.body.contains("Number1"), "{}", page.body);
    assert!(!page.body.contains("Ward 1"), "{}", page.body);

    let shown = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            Some(json!({"shown_to_callers": ["first_name", "last_name", "Ward"]})),
        )
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(
        shown.json()["shown_to_callers"],
        json!(["first_name", "last_name", "ward"])
    );
    let claimed = claim(&app, &t.caller, id).await.json();
    assert_eq!(claimed["contact"]["extra"]["Ward"], "Ward 1");
    assert_eq!(claimed["script"], "Hello Person, you live in Ward 1");
    let page = caller.get(&format!("/call/{id}")).await;
    assert!(page.body.contains("Ward 1"), "{}", page.body);
    let bad = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            Some(json!({"shown_to_callers": ["--"]})),
        )
        .await;
    assert_eq!(bad.json()["error"]["details"]["field"], "shown_to_callers");
}

/// The caller page's outcome form refuses a lease of another campaign than the one in
/// its address: the other campaign's outcomes and do-not-call list must not apply.
async fn the_outcome_form_refuses_a_lease_of_another_campaign(app: TestApp) {
    let t = team(&app).await;
    let mine = campaign_with(&app, &t, 3, json!({})).await;
    let other = campaign_with(&app, &t, 3, json!({})).await;
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/call/{other}")).await;
    let lease = page
        .body
        .split("name=\"lease_id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let posted = caller
        .submit(
            &page,
            &format!("/call/{mine}/outcome"),
            &[
                ("lease_id", &lease),
                ("idempotency_key", "cross"),
                ("outcome", "do_not_call"),
            ],
        )
        .await;
    assert_ne!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    assert!(!posted.body.contains("Saved"), "{}", posted.body);
    let now = barnstorm_store::now_millis();
    for id in [mine, other] {
        let counts = app.store.queue_counts(id, now).await.unwrap();
        assert_eq!(
            (counts.called, counts.suppressed),
            (0, 0),
            "campaign {id}: nothing recorded"
        );
    }
}

on_both! {
    outcome_loop => an_outcome_loop_sees_only_the_pace_limit,
    release_loop => a_release_loop_sees_only_the_pace_limit,
    pace_setting => the_pace_is_a_setting_and_the_page_explains_it,
    suspension => a_suspended_caller_is_refused_at_once_everywhere,
    do_not_call_limit => do_not_call_outcomes_are_limited,
    shown_fields => callers_see_only_the_fields_shown_to_them,
    cross_campaign_outcome => the_outcome_form_refuses_a_lease_of_another_campaign,
}
