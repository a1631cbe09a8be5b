//! Caller invites, and the results organisers read.

use super::{claim, outcome, team, with_contacts};
use crate::app::TestApp;
use crate::on_both;
use axum::http::{Method, StatusCode, header};
use serde_json::json;

async fn invites_make_callers(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let made = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/invites"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let code = made.json()["code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 16);
    assert_eq!(
        made.json()["url"],
        format!("http://barnstorm.test/call/join/{code}")
    );
    let listed = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/invites"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1);

    let accept = |code: String, email: &'static str| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/invites/{code}/accept"),
                None,
                Some(json!({"name": "Vol", "email": email})),
            )
            .await
        }
    };
    let accepted = accept(code.clone(), "new@example.org").await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    assert_eq!(accepted.json()["campaign_id"], id);
    let token = accepted.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(
        claim(&app, &token, id).await.status,
        StatusCode::CREATED,
        "the new caller can call"
    );

    let exists = accept(code.clone(), "Stranger@example.org").await;
    assert_eq!(
        (exists.status, exists.error_code().as_str()),
        (StatusCode::CONFLICT, "account_exists")
    );
    assert_eq!(
        exists.json()["error"]["message"],
        "sign in to join with this address",
        "nothing more about the account"
    );
    assert_eq!(
        claim(&app, &t.stranger, id).await.status,
        StatusCode::FORBIDDEN,
        "not a caller yet"
    );
    let joined = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/join"),
            Some(&t.stranger),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    assert_eq!(
        claim(&app, &t.stranger, id).await.status,
        StatusCode::CREATED
    );

    let invite_id = made.json()["id"].as_i64().unwrap();
    let revoked = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/invites/{invite_id}/revoke"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let gone = accept(code, "late@example.org").await;
    assert_eq!(
        (gone.status, gone.error_code().as_str()),
        (StatusCode::GONE, "invite_unusable")
    );
    assert!(
        gone.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("withdrawn")
    );
    assert!(
        app.store
            .user_by_email("late@example.org")
            .await
            .unwrap()
            .is_none(),
        "no account for a dead link"
    );
    assert_eq!(
        accept("nosuchcode".into(), "x@example.org").await.status,
        StatusCode::NOT_FOUND
    );

    let once = single_use_invite(&app, &t.org, id).await;
    assert_eq!(
        accept(once.clone(), "one@example.org").await.status,
        StatusCode::CREATED
    );
    let used_up = accept(once, "two@example.org").await;
    assert_eq!(used_up.status, StatusCode::GONE);
    assert!(
        used_up.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("used as often")
    );
    let bad = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/invites"),
            Some(&t.org),
            Some(json!({"expires_in_hours": 0})),
        )
        .await;
    assert_eq!(bad.json()["error"]["details"]["field"], "expires_in_hours");
}

/// The code of a new invite to campaign `id` that may be used once.
async fn single_use_invite(app: &TestApp, organiser: &str, id: i64) -> String {
    let made = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/invites"),
            Some(organiser),
            Some(json!({"max_uses": 1, "expires_in_hours": 2})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()["code"].as_str().unwrap().to_owned()
}

/// Five people open an invite with one use left at the same moment: one becomes a caller,
/// the others hear the link is used up, and none of them is left with an account.
async fn the_last_use_of_an_invite_goes_to_one_person(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let code = single_use_invite(&app, &t.org, id).await;
    let emails: Vec<String> = (0..5).map(|i| format!("racer{i}@example.org")).collect();
    let path = format!("/api/v1/invites/{code}/accept");
    let answers = futures_util::future::join_all(emails.iter().map(|email| {
        app.api(
            Method::POST,
            &path,
            None,
            Some(json!({"name": "Racer", "email": email})),
        )
    }))
    .await;
    let mut statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::GONE,
            StatusCode::GONE,
            StatusCode::GONE,
            StatusCode::GONE
        ],
        "{:?}",
        answers.iter().map(|a| &a.body).collect::<Vec<_>>()
    );
    for (email, answer) in emails.iter().zip(&answers) {
        let account = app.store.user_by_email(email).await.unwrap();
        if answer.status == StatusCode::CREATED {
            let token = answer.json()["token"].as_str().unwrap().to_owned();
            assert!(account.is_some());
            assert_eq!(claim(&app, &token, id).await.status, StatusCode::CREATED);
        } else {
            assert_eq!(answer.error_code(), "invite_unusable");
            assert!(account.is_none(), "{email} was left with an account");
        }
    }
}

async fn results_show_answers_and_calls(app: TestApp) {
    let t = team(&app).await;
    let id = with_contacts(&app, &t, json!({})).await;
    let first = claim(&app, &t.caller, id).await.json();
    let lease = first["lease_id"].as_i64().unwrap();
    let said = json!({"outcome": "spoke", "answers": {"q1": "yes", "q2": "=cmd"}, "notes": "Call after six"});
    assert_eq!(
        outcome(&app, &t.caller, lease, Some("r1"), said)
            .await
            .status,
        StatusCode::CREATED
    );
    let second = claim(&app, &t.caller2, id).await.json();
    let later = json!({"outcome": "callback", "callback_at": "2099-01-01T18:00:00Z"});
    let booked = outcome(
        &app,
        &t.caller2,
        second["lease_id"].as_i64().unwrap(),
        Some("r2"),
        later,
    )
    .await;
    assert_eq!(
        booked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "more than 90 days ahead: {}",
        booked.body
    );
    let soon = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let booked = outcome(
        &app,
        &t.caller2,
        second["lease_id"].as_i64().unwrap(),
        Some("r2"),
        json!({"outcome": "callback", "callback_at": soon}),
    )
    .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{}", booked.body);

    let stats = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/stats"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let stats = stats.json();
    assert_eq!(stats["outcomes"], json!({"spoke": 1, "callback": 1}));
    assert_eq!(stats["conversations"], 2);
    assert_eq!(stats["survey"]["q1"], json!({"yes": 1}));
    assert_eq!(stats["progress"]["total"], 2);
    assert_eq!(stats["callers_online"], 2);
    assert_eq!(stats["calls_last_hour"], 2);
    assert_eq!(stats["calls_per_hour"].as_array().unwrap().len(), 24);
    assert_eq!(stats["queue"]["counts"]["callbacks_scheduled"], 1);
    assert_eq!(stats["callers"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/stats"),
            Some(&t.caller),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let results = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/results.csv"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(
        results.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = results.body.lines().collect();
    assert_eq!(
        lines[0],
        "contact_id,first_name,last_name,phone,other_phone,email,postcode,extra,attempts,last_outcome,last_called_at,callback_at,q1,q2"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].contains(",Ada,Lovelace,+442079460001,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",1,spoke,") || lines[1].contains(",1,spoke,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",yes,'=cmd"),
        "answers flattened, formulas defused: {}",
        lines[1]
    );
    assert!(lines[2].contains(",callback,"), "{}", lines[2]);

    let attempts = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/attempts.csv"),
            Some(&t.org),
            None,
        )
        .await;
    let lines: Vec<&str> = attempts.body.lines().collect();
    assert_eq!(
        lines[0],
        "time,attempt_id,contact_id,phone,caller,outcome,answers,notes"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].contains("Cal Caller,spoke,") && lines[1].ends_with("Call after six"),
        "{}",
        lines[1]
    );
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/results.csv"),
            Some(&t.caller),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

on_both! {
    invites => invites_make_callers,
    invite_race => the_last_use_of_an_invite_goes_to_one_person,
    results => results_show_answers_and_calls,
}
