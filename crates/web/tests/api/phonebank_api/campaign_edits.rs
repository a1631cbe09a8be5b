//! Changing what a campaign asks: outcomes that require answers (and opt-outs that never
//! do), mistakes named in plain words, and edits of a live campaign, which are audited
//! and reach the next claim at once.

use super::{claim, live_campaign, outcome, team, upload};
use crate::app::TestApp;
use crate::on_both;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

const LIST: &str = "First Name,Mobile\nAda,020 7946 0011\nAlan,020 7946 0012\n";

/// Outcomes where "Spoke to them" needs q2 (the follow-up) answered when it is shown.
fn outcomes_requiring_q1() -> Value {
    json!([
        {"key": "spoke", "label": "Spoke to them", "effect": {"type": "completed"},
         "counts_as_conversation": true, "requires": ["q1"]},
        {"key": "no_answer", "label": "No answer",
         "effect": {"type": "retry_after", "cooldown_minutes": 60}},
        {"key": "do_not_call", "label": "Do not call", "effect": {"type": "do_not_call"},
         "counts_as_conversation": true}
    ])
}

async fn an_outcome_refuses_to_save_without_the_answers_it_requires(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({"outcomes": outcomes_requiring_q1()})).await;
    assert_eq!(
        upload(&app, &t.org, id, "", LIST).await.status,
        StatusCode::OK
    );
    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();

    let empty = outcome(
        &app,
        &t.caller,
        lease,
        Some("e1"),
        json!({"outcome": "spoke"}),
    )
    .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.body
    );
    let problem = &empty.json()["error"]["details"]["answers"][0];
    assert_eq!(problem["question"], "q1", "{}", empty.body);
    assert!(
        empty.body.contains("an answer is required"),
        "{}",
        empty.body
    );
    let answered = outcome(
        &app,
        &t.caller,
        lease,
        Some("e2"),
        json!({"outcome": "spoke", "answers": {"q1": "no"}}),
    )
    .await;
    assert_eq!(answered.status, StatusCode::CREATED, "{}", answered.body);

    // "Do not call" never waits for an answer.
    let next = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    let opted_out = outcome(
        &app,
        &t.caller,
        next,
        Some("e3"),
        json!({"outcome": "do_not_call"}),
    )
    .await;
    assert_eq!(opted_out.status, StatusCode::CREATED, "{}", opted_out.body);
}
on_both!(an_outcome_refuses_to_save_without_the_answers_it_requires => an_outcome_refuses_to_save_without_the_answers_it_requires);

async fn mistakes_in_outcomes_and_questions_name_them(app: TestApp) {
    let t = team(&app).await;
    let post = |body: Value| app.api(Method::POST, "/api/v1/campaigns", Some(&t.org), Some(body));
    let opt_out_requiring = post(json!({"group_id": t.group_id, "name": "X", "outcomes": [
        {"key": "dnc", "label": "Do not call", "effect": {"type": "do_not_call"},
         "counts_as_conversation": true, "requires": ["q1"]}]}))
    .await;
    assert_eq!(opt_out_requiring.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &opt_out_requiring.json()["error"];
    assert_eq!(error["details"]["field"], "outcomes");
    assert!(
        error["message"].as_str().unwrap().starts_with(
            "Outcome 'Do not call': call backs, refusals and do-not-call never require answers"
        ),
        "{error}"
    );
    let unknown_question = post(json!({"group_id": t.group_id, "name": "X",
        "outcomes": outcomes_requiring_q1()}))
    .await;
    assert_eq!(
        unknown_question.json()["error"]["message"],
        "Outcome 'Spoke to them': it requires the question \"q1\", which the survey does not have."
    );
    let zero_cooldown = post(json!({"group_id": t.group_id, "name": "X", "outcomes": [
        {"key": "later", "label": "Call back", "effect": {"type": "retry_after", "cooldown_minutes": 0}},
        {"key": "dnc", "label": "Do not call", "effect": {"type": "do_not_call"}}]}))
    .await;
    assert_eq!(
        zero_cooldown.json()["error"]["message"],
        "Outcome 'Call back': the cooldown must be at least one minute."
    );
    let no_options = post(
        json!({"group_id": t.group_id, "name": "X", "survey": {"questions": [
        {"key": "a", "label": "Fine?", "kind": {"type": "free_text", "max_len": 10}},
        {"key": "b", "label": "Why?", "kind": {"type": "single_choice", "options": []}}]}}),
    )
    .await;
    assert_eq!(no_options.json()["error"]["details"]["field"], "survey");
    assert_eq!(
        no_options.json()["error"]["message"],
        "Question 2: the option list is empty."
    );
}
on_both!(mistakes_in_outcomes_and_questions_name_them => mistakes_in_outcomes_and_questions_name_them);

async fn editing_a_live_campaign_is_audited_and_reaches_the_next_claim(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    assert_eq!(
        upload(&app, &t.org, id, "", LIST).await.status,
        StatusCode::OK
    );
    let before = claim(&app, &t.caller, id).await.json();
    assert_eq!(before["script"], "Hello Ada");
    let lease = before["lease_id"].as_i64().unwrap();
    outcome(
        &app,
        &t.caller,
        lease,
        Some("s1"),
        json!({"outcome": "no_answer"}),
    )
    .await;

    let edited = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            Some(json!({"script": "Good evening {first_name|there}, it's polling day"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.json()["status"], "live");
    let after = claim(&app, &t.caller, id).await.json();
    assert_eq!(
        after["script"], "Good evening Alan, it's polling day",
        "the next claim reads the new script, not a cached one"
    );

    let audit = app
        .api(
            Method::GET,
            &format!("/api/v1/audit?campaign={id}&action=campaign.update"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let entries = audit.json()["data"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{}", audit.body);
    assert_eq!(entries[0]["action"], "campaign.update");
}
on_both!(editing_a_live_campaign_is_audited_and_reaches_the_next_claim => editing_a_live_campaign_is_audited_and_reaches_the_next_claim);

async fn the_empty_queue_explanation_gives_each_wait_its_own_time(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    assert_eq!(
        upload(&app, &t.org, id, "", LIST).await.status,
        StatusCode::OK
    );
    // Ada asks to be rung in three hours; Alan does not answer (back in four hours).
    let now = barnstorm_store::now_millis();
    let callback_at = now + 3 * 3_600_000;
    let first = claim(&app, &t.caller, id).await.json();
    let recorded = outcome(
        &app,
        &t.caller,
        first["lease_id"].as_i64().unwrap(),
        Some("q1"),
        json!({"outcome": "callback", "callback_at": callback_at}),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::CREATED, "{}", recorded.body);
    let second = claim(&app, &t.caller, id).await.json();
    outcome(
        &app,
        &t.caller,
        second["lease_id"].as_i64().unwrap(),
        Some("q2"),
        json!({"outcome": "no_answer"}),
    )
    .await;

    let explained = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/claims?explain=1"),
            Some(&t.caller),
            None,
        )
        .await
        .json();
    let reason = explained["reason"].as_str().unwrap();
    let hh_mm = |millis: i64| {
        chrono::DateTime::from_timestamp_millis(millis)
            .unwrap()
            .format("%H:%M")
            .to_string()
    };
    let cooldown_end = now + 4 * 3_600_000;
    let part = |prefix: &str| {
        let start = reason
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix} in {reason}"));
        reason[start + prefix.len()..]
            .split(',')
            .next()
            .unwrap()
            .to_owned()
    };
    let callback_text = part("1 callback booked, first at ");
    assert!(
        callback_text.ends_with(&hh_mm(callback_at)),
        "the callback's own time: {reason}"
    );
    let cooldown_text = part("1 in cooldown, first back at ");
    assert!(
        cooldown_text.ends_with(&hh_mm(cooldown_end))
            || cooldown_text.ends_with(&hh_mm(cooldown_end + 60_000)),
        "the cooldown's own time, not the callback's: {reason}"
    );
}
on_both!(the_empty_queue_explanation_gives_each_wait_its_own_time => the_empty_queue_explanation_gives_each_wait_its_own_time);

async fn dashboard_times_are_in_the_campaigns_time_zone(app: TestApp) {
    let t = team(&app).await;
    let mut hours = super::always_open();
    hours["time_zone"] = json!("America/New_York");
    let id = live_campaign(&app, &t, json!({"calling_hours": hours})).await;
    assert_eq!(
        upload(&app, &t.org, id, "", LIST).await.status,
        StatusCode::OK
    );
    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    outcome(
        &app,
        &t.caller,
        lease,
        Some("t1"),
        json!({"outcome": "no_answer"}),
    )
    .await;

    let mut organiser = crate::app::Browser::new(&app);
    organiser.sign_in("org@example.org").await;
    let page = organiser.get(&format!("/campaigns/{id}/dashboard")).await;
    assert_eq!(page.status, StatusCode::OK);
    let zone = chrono::Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .format("%Z")
        .to_string();
    let table = &page.body[page.body.find("Cal Caller").expect("the caller's row")..];
    let row = &table[..table.find("</tr>").unwrap()];
    assert!(
        row.contains(&format!(" {zone}")) && !row.contains("UTC"),
        "the last call is shown in New York time: {row}"
    );
    assert!(!page.body.contains(" UTC"), "no time in UTC: {}", page.body);
}
on_both!(dashboard_times_are_in_the_campaigns_time_zone => dashboard_times_are_in_the_campaigns_time_zone);

async fn new_calling_hours_change_the_explanation_at_once(app: TestApp) {
    let t = team(&app).await;
    let id = live_campaign(&app, &t, json!({})).await;
    upload(
        &app,
        &t.org,
        id,
        "",
        "First Name,Mobile\nAda,020 7946 0013\n",
    )
    .await;
    let lease = claim(&app, &t.caller, id).await.json()["lease_id"]
        .as_i64()
        .unwrap();
    outcome(
        &app,
        &t.caller,
        lease,
        Some("h1"),
        json!({"outcome": "no_answer"}),
    )
    .await;
    let explain_path = format!("/api/v1/campaigns/{id}/claims?explain=1");
    let explain = || app.api(Method::POST, &explain_path, Some(&t.caller), None);
    assert_eq!(explain().await.json()["calling_hours_open"], true);

    // Open tomorrow only: closed now.
    use chrono::Datelike;
    let tomorrow = (chrono::Utc::now() + chrono::TimeDelta::days(1))
        .weekday()
        .to_string()
        .to_lowercase();
    let day = |short: &str| match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    };
    let hours =
        json!({"time_zone": "UTC", "days": {day(&tomorrow): {"start": "00:00", "end": "24:00"}}});
    let patched = app
        .api(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.org),
            Some(json!({"calling_hours": hours})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let after = explain().await.json();
    assert_eq!(
        after["calling_hours_open"], false,
        "the explanation follows the new hours at once, not after its cache: {after}"
    );
    assert!(
        after["reason"]
            .as_str()
            .unwrap()
            .starts_with("calling hours are closed until"),
        "{after}"
    );
}
on_both!(new_calling_hours_change_the_explanation_at_once => new_calling_hours_change_the_explanation_at_once);
