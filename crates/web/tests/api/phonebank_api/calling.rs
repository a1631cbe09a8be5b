//! The calling session: claims, leases, outcomes, throttling.

use super::{claim, live_campaign, outcome, team, upload, with_contacts};
use crate::app::TestApp;
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::Backend;
use serde_json::json;

async fn a_call_is_claimed_checked_and_recorded_once(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let first = claim(&app, &t.caller, id).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let first = first.json();
    assert_eq!(first["contact"]["first_name"], "Ada");
    assert!(
        first["contact"]["extra"].get("Ward").is_none(),
        "an unmapped column is not shown to callers unless marked"
    );
    assert_eq!(first["script"], "Hello Ada");
    assert!(first["contact"].get("email").is_none());
    let lease = first["lease_id"].as_i64().unwrap();
    let second = claim(&app, &t.caller2, id).await.json();
    assert_ne!(
        second["contact"]["id"], first["contact"]["id"],
        "no contact is leased twice"
    );
    let again = claim(&app, &t.caller, id).await.json();
    assert_eq!(
        again["lease_id"], lease,
        "a caller holds one contact at a time"
    );

    let beat = app
        .api(
            Method::POST,
            &format!("/api/v1/leases/{lease}/heartbeat"),
            Some(&t.caller),
            None,
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK);
    assert!(beat.json()["expires_at"].as_i64().unwrap() >= first["expires_at"].as_i64().unwrap());

    let yes = json!({"outcome": "spoke", "answers": {"q1": "yes", "q2": "Buses"}, "notes": "keen"});
    let theirs = outcome(&app, &t.caller2, lease, Some("k-other"), yes.clone()).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let missing_key = outcome(&app, &t.caller, lease, None, yes.clone()).await;
    assert_eq!(
        (missing_key.status, missing_key.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "missing_idempotency_key")
    );
    let unknown = outcome(
        &app,
        &t.caller,
        lease,
        Some("k1"),
        json!({"outcome": "maybe"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["error"]["details"]["field"], "outcome");
    let hidden = outcome(
        &app,
        &t.caller,
        lease,
        Some("k1"),
        json!({"outcome": "spoke", "answers": {"q1": "no", "q2": "Buses"}}),
    )
    .await;
    assert_eq!(
        hidden.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        hidden.body
    );
    assert_eq!(
        hidden.json()["error"]["details"]["answers"][0]["question"],
        "q2"
    );
    let bad_time = outcome(
        &app,
        &t.caller,
        lease,
        Some("k1"),
        json!({"outcome": "callback", "callback_at": "tomorrow"}),
    )
    .await;
    assert_eq!(bad_time.json()["error"]["details"]["field"], "callback_at");

    let recorded = outcome(&app, &t.caller, lease, Some("k1"), yes.clone()).await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    let replay = outcome(&app, &t.caller, lease, Some("k1"), yes.clone()).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json(), recorded.json());
    assert_eq!(
        app.store.attempt_ids(id).await.unwrap().len(),
        1,
        "the replay stored nothing"
    );
    let twice = outcome(&app, &t.caller, lease, Some("k2"), yes).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    let lease2 = second["lease_id"].as_i64().unwrap();
    let released = app
        .api(
            Method::POST,
            &format!("/api/v1/leases/{lease2}/release"),
            Some(&t.caller2),
            None,
        )
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT);
    let after_release = outcome(
        &app,
        &t.caller2,
        lease2,
        Some("k3"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(after_release.error_code(), "lease_released");
    let reclaimed = claim(&app, &t.caller, id).await.json();
    assert_eq!(
        reclaimed["contact"]["id"], second["contact"]["id"],
        "a released contact is claimable again"
    );
    let dnc = outcome(
        &app,
        &t.caller,
        reclaimed["lease_id"].as_i64().unwrap(),
        Some("k4"),
        json!({"outcome": "do_not_call"}),
    )
    .await;
    assert_eq!(dnc.status, StatusCode::CREATED, "{}", dnc.body);
    let phone = reclaimed["contact"]["phone"].as_str().unwrap();
    assert!(app.store.is_do_not_call(t.group_id, phone).await.unwrap());
    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/leases/999999/heartbeat",
            Some(&t.caller),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let empty = claim(&app, &t.caller, id).await;
    assert_eq!(empty.status, StatusCode::NO_CONTENT);
    let health = empty
        .headers
        .get("Barnstorm-Queue-Health")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!health.is_empty());
    let explained = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/claims?explain=1"),
            Some(&t.caller),
            None,
        )
        .await;
    assert_eq!(explained.status, StatusCode::OK);
    let explained = explained.json();
    assert!(explained["contact"].is_null());
    assert_eq!(explained["reason"], health.as_str());
    assert_eq!(
        (
            explained["counts"]["finished"].as_i64(),
            explained["counts"]["suppressed"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(explained["calling_hours_open"], true);

    assert_eq!(
        claim(&app, &t.stranger, id).await.status,
        StatusCode::FORBIDDEN
    );
    app.api(
        Method::PATCH,
        &format!("/api/v1/campaigns/{id}"),
        Some(&t.org),
        Some(json!({"status": "paused"})),
    )
    .await;
    let paused = claim(&app, &t.caller, id).await;
    assert_eq!(
        (paused.status, paused.error_code().as_str()),
        (StatusCode::CONFLICT, "campaign_not_live")
    );
}

async fn an_expired_lease_loses_its_contact(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({"lease_seconds": 1})).await;
    upload(&app, &t.org, id, "", "Phone\n020 7946 0001\n").await;
    let first = claim(&app, &t.caller, id).await.json();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = claim(&app, &t.caller2, id).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.json()["contact"]["id"], first["contact"]["id"]);
    let late = outcome(
        &app,
        &t.caller,
        first["lease_id"].as_i64().unwrap(),
        Some("late"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(
        (late.status, late.error_code().as_str()),
        (StatusCode::CONFLICT, "lease_expired")
    );
    let beat = app
        .api(
            Method::POST,
            &format!("/api/v1/leases/{}/heartbeat", first["lease_id"]),
            Some(&t.caller),
            None,
        )
        .await;
    assert_eq!(beat.error_code(), "lease_expired");
}

/// A caller who comes back to the contact they hold (a reload, a lost connection) gets a
/// renewed lease, so it does not lapse before their next heartbeat.
async fn coming_back_renews_the_lease(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({"lease_seconds": 2})).await;
    upload(&app, &t.org, id, "", "Phone\n020 7946 0001\n").await;
    let first = claim(&app, &t.caller, id).await.json();
    let lease = first["lease_id"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let again = claim(&app, &t.caller, id).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let again = again.json();
    assert_eq!(again["lease_id"], lease, "the same contact comes back");
    assert!(
        again["expires_at"].as_i64().unwrap() >= first["expires_at"].as_i64().unwrap() + 1000,
        "renewed: {again} after {first}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let taken = claim(&app, &t.caller2, id).await;
    assert_eq!(
        taken.status,
        StatusCode::NO_CONTENT,
        "the first lease's time has passed, but the renewed lease still holds the contact: {}",
        taken.body
    );
    let recorded = outcome(
        &app,
        &t.caller,
        lease,
        Some("back"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
}

async fn skipping_too_fast_is_throttled(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({"skip_limit": 1})).await;
    for _ in 0..2 {
        let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
            .as_i64()
            .unwrap();
        app.api(
            Method::POST,
            &format!("/api/v1/leases/{lease}/release"),
            Some(&t.caller),
            None,
        )
        .await;
    }
    let throttled = claim(&app, &t.caller, id).await;
    assert_eq!(
        (throttled.status, throttled.error_code().as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "throttled")
    );
}

/// Claims and outcomes run on the queue (the writer thread on SQLite, the batcher on
/// PostgreSQL), whose timings an operator reads in `/metrics`; only SQLite flushes apart
/// from the commit.
async fn metrics_show_the_queue_writer(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    let recorded = outcome(
        &app,
        &t.caller,
        lease,
        Some("m1"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    let metrics = app.get("/metrics").await.body;
    for series in [
        "barnstorm_queue_jobs_total 2\n",
        "barnstorm_queue_job_seconds_count 2\n",
        "barnstorm_queue_wait_seconds_count 2\n",
        "barnstorm_queue_stage_seconds_bucket{stage=\"commit\",le=\"+Inf\"} ",
    ] {
        assert!(metrics.contains(series), "no {series} in {metrics}");
    }
    let flush = "barnstorm_queue_stage_seconds_bucket{stage=\"flush\"";
    assert_eq!(
        metrics.contains(flush),
        app.store.backend() == Backend::Sqlite,
        "{metrics}"
    );
}

/// A caller honours "don't call me again", a refusal or a call-back request without
/// inventing an answer to a required question; "Spoke to them" still needs it.
async fn opting_out_never_demands_a_survey_answer(app: TestApp) {
    let t = team(&app).await;
    let survey = json!({"questions": [
        {"key": "intent", "label": "How will you vote?", "required": true,
         "kind": {"type": "single_choice", "options": [
            {"key": "us", "label": "For us"}, {"key": "other", "label": "Someone else"}]}}
    ]});
    let id = with_contacts(&app, &t, json!({"survey": survey})).await;
    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    let spoke = outcome(
        &app,
        &t.caller,
        lease,
        Some("o1"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(
        spoke.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        spoke.body
    );
    assert_eq!(
        spoke.json()["error"]["details"]["answers"][0]["question"],
        "intent"
    );
    let bad = outcome(
        &app,
        &t.caller,
        lease,
        Some("o2"),
        json!({"outcome": "do_not_call", "answers": {"intent": "maybe"}}),
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an answer given is still checked: {}",
        bad.body
    );
    let opted_out = outcome(
        &app,
        &t.caller,
        lease,
        Some("o3"),
        json!({"outcome": "do_not_call"}),
    )
    .await;
    assert_eq!(opted_out.status, StatusCode::CREATED, "{}", opted_out.body);

    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    let refused = outcome(
        &app,
        &t.caller,
        lease,
        Some("o4"),
        json!({"outcome": "refused"}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CREATED, "{}", refused.body);
}

on_both! {
    calling_session => a_call_is_claimed_checked_and_recorded_once,
    queue_metrics => metrics_show_the_queue_writer,
    expired_lease => an_expired_lease_loses_its_contact,
    renewal => coming_back_renews_the_lease,
    throttling => skipping_too_fast_is_throttled,
    opt_outs => opting_out_never_demands_a_survey_answer,
}
