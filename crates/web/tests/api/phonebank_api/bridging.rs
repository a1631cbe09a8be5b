//! How callers call, end to end: the campaign settings over the API and in the editor
//! (caller ID read as E.164, at least one way to call, no going live bridged without a
//! caller ID), contacts' numbers kept from callers of a campaign whose calls are bridged
//! without phone links (every page and API answer a caller gets, scanned for the number in
//! each way it is written), and talk time and connect rate on the dashboard.

use super::{claim, live_campaign, outcome, team, upload};
use crate::app::{Browser, TestApp, TestResponse};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_store::now_millis;
use barnstorm_store::phonebank::{CallEnd, CallStart, HungUpBy, JoinKind};
use serde_json::{Value, json};

/// Ada's numbers in every way they are written: E.164, digits only, national, local.
const TRACES: [&str; 10] = [
    "+442079460123",
    "442079460123",
    "02079460123",
    "020 7946 0123",
    "7946 0123",
    "79460123",
    "+441134960456",
    "0113 496 0456",
    "01134960456",
    "4960456",
];

const LIST: &str =
    "First Name,Surname,Mobile,Tel (home)\nAda,Lovelace,020 7946 0123,0113 496 0456\n";

/// The first of Ada's numbers `body` contains, if any.
fn trace_in(body: &str) -> Option<&'static str> {
    TRACES.into_iter().find(|t| body.contains(t))
}

fn assert_no_number(what: &str, response: &TestResponse) {
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{what}: {} {}",
        response.status,
        response.body
    );
    if let Some(found) = trace_in(&response.body) {
        panic!(
            "{what} shows the contact's number ({found}): {}",
            response.body
        );
    }
    assert!(!response.body.contains("tel:"), "{what} has a tel: link");
}

async fn patch(app: &TestApp, token: &str, id: i64, body: Value) -> TestResponse {
    app.api(
        Method::PATCH,
        &format!("/api/v1/campaigns/{id}"),
        Some(token),
        Some(body),
    )
    .await
}

fn field_of(response: &TestResponse) -> String {
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.body
    );
    response.json()["error"]["details"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A new campaign calls by phone links only; the caller ID is read as E.164, a way to
/// call is needed, and a bridged campaign goes live only with a caller ID.
async fn bridging_settings_over_the_api(app: TestApp) {
    let t = team(&app).await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(&t.org),
            Some(json!({"group_id": t.group_id, "name": "Bridged"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        created.json()["bridging"],
        json!({"caller_id": null, "call_me": false, "dial_in": false, "tel_links": true,
               "bridged": false, "numbers_hidden": false})
    );

    let bad = patch(
        &app,
        &t.org,
        id,
        json!({"bridging": {"caller_id": "ring us"}}),
    )
    .await;
    assert_eq!(field_of(&bad), "bridging.caller_id");
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Caller ID: not a phone number")
    );
    let none = patch(&app, &t.org, id, json!({"bridging": {"tel_links": false}})).await;
    assert_eq!(field_of(&none), "bridging");

    let bridged = patch(
        &app,
        &t.org,
        id,
        json!({"bridging": {"call_me": true, "tel_links": false}}),
    )
    .await;
    assert_eq!(bridged.status, StatusCode::OK, "{}", bridged.body);
    assert_eq!(bridged.json()["bridging"]["numbers_hidden"], true);
    let live = patch(&app, &t.org, id, json!({"status": "live"})).await;
    assert_eq!(field_of(&live), "bridging.caller_id");
    assert!(
        live.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Caller ID")
    );
    assert_eq!(
        app.store
            .campaign(id)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "draft"
    );

    let number = patch(
        &app,
        &t.org,
        id,
        json!({"bridging": {"caller_id": "020 7946 0000"}, "status": "live"}),
    )
    .await;
    assert_eq!(number.status, StatusCode::OK, "{}", number.body);
    assert_eq!(number.json()["bridging"]["caller_id"], "+442079460000");
    assert_eq!(number.json()["status"], "live");
    let cleared = patch(&app, &t.org, id, json!({"bridging": {"caller_id": ""}})).await;
    assert_eq!(field_of(&cleared), "bridging.caller_id");

    let doc = app.get("/api/v1/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    let contact = &schemas["ContactView"];
    let required: Vec<&str> = contact["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !required.contains(&"phone") && !required.contains(&"other_phone"),
        "{contact}"
    );
    assert!(
        contact["properties"]["phone"]["description"]
            .as_str()
            .unwrap()
            .contains("Absent when the campaign's calls are bridged without phone links"),
        "{contact}"
    );
    assert_eq!(
        schemas["BridgingFields"]["properties"]["caller_id"]["maxLength"],
        json!(barnstorm_domain::limits::PHONE)
    );
    assert!(
        schemas["CampaignView"]["properties"]["bridging"].is_object(),
        "{}",
        schemas["CampaignView"]
    );
}

/// The editor's "How callers call" fieldset: its mistakes are marked on their fields, and
/// the campaign page will not offer "Go live" to a bridged draft without a caller ID.
async fn bridging_settings_in_the_editor(app: TestApp) {
    let t = team(&app).await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/campaigns",
            Some(&t.org),
            Some(json!({"group_id": t.group_id, "name": "Bridged", "script": "Hello"})),
        )
        .await;
    let id = created.json()["id"].as_i64().unwrap();
    let imported = upload(&app, &t.org, id, "", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let edit = format!("/campaigns/{id}/edit");
    let form = org.get(&edit).await;
    assert!(form.body.contains("How callers call"), "{}", form.body);
    assert!(form.body.contains(
        "Phone links: shows callers the number on their own phone; numbers are not hidden"
    ));
    assert!(
        form.body
            .contains(r#"name="tel_links" value="on" aria-describedby="tel-links-hint" checked"#)
    );

    let outcomes: Vec<(String, String)> = app
        .store
        .campaign(id)
        .await
        .unwrap()
        .unwrap()
        .settings
        .outcomes
        .iter()
        .flat_map(|o| {
            let effect = serde_json::to_value(o.effect).unwrap();
            let mut fields = vec![
                ("o-key".to_owned(), o.key.clone()),
                ("o-label".to_owned(), o.label.clone()),
                (
                    "o-effect".to_owned(),
                    effect["type"].as_str().unwrap().to_owned(),
                ),
            ];
            if let Some(minutes) = effect["cooldown_minutes"].as_u64() {
                fields.push(("o-cooldown".to_owned(), minutes.to_string()));
            }
            fields
        })
        .collect();
    let post = |ways: &'static [(&'static str, &'static str)]| {
        let mut fields: Vec<(&str, &str)> = vec![
            ("name", "Bridged"),
            ("script", "Hello"),
            ("time_zone", "Europe/London"),
            ("day-monday-open", "on"),
            ("day-monday-start", "10:00"),
            ("day-monday-end", "20:00"),
            ("calling", "shown"),
            ("action", "save"),
        ];
        fields.extend_from_slice(ways);
        fields.extend(outcomes.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        fields
    };
    let bad = org
        .submit(&form, &edit, &post(&[("caller_id", "ring us")]))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains(r#"id="caller-id-error""#), "{}", bad.body);
    assert!(
        bad.body
            .contains("choose at least one of call me, dial in or phone links")
    );

    let saved = org
        .submit(&form, &edit, &post(&[("call_me", "on"), ("caller_id", "")]))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = app
        .store
        .campaign(id)
        .await
        .unwrap()
        .unwrap()
        .settings
        .bridging;
    assert!(stored.call_me && !stored.tel_links && stored.caller_id.is_none());

    let page = org.get(&format!("/campaigns/{id}")).await;
    assert!(page.body.contains("data-go-live-blocked"), "{}", page.body);
    assert!(!page.body.contains(r#"value="live""#), "{}", page.body);
    let refused = org
        .submit(
            &page,
            &format!("/campaigns/{id}/status"),
            &[("status", "live")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store
            .campaign(id)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "draft"
    );

    let numbered = org
        .submit(
            &form,
            &edit,
            &post(&[("call_me", "on"), ("caller_id", "+44 20 7946 0000")]),
        )
        .await;
    assert_eq!(numbered.status, StatusCode::SEE_OTHER, "{}", numbered.body);
    let page = org.get(&format!("/campaigns/{id}")).await;
    let live = org
        .submit(
            &page,
            &format!("/campaigns/{id}/status"),
            &[("status", "live")],
        )
        .await;
    assert_eq!(live.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.store
            .campaign(id)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "live"
    );
}

async fn masked_campaign(app: &TestApp, t: &super::Team, tel_links: bool) -> i64 {
    let id = live_campaign(
        app,
        t,
        json!({"bridging": {"call_me": true, "tel_links": tel_links, "caller_id": "+442079460000"},
               "shown_to_callers": ["first_name", "last_name", "other_phone"]}),
    )
    .await;
    let imported = upload(app, &t.org, id, "", LIST).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    id
}

/// A caller of a campaign bridged without phone links never receives the contact's
/// numbers: not in the claim, the calling page, the "do not call" confirmation, the page
/// to change the last call or the page after it; the invitation says Barnstorm connects
/// the calls. Organisers still see the numbers.
async fn callers_never_see_a_masked_number(app: TestApp) {
    let t = team(&app).await;
    let id = masked_campaign(&app, &t, false).await;

    let claimed = claim(&app, &t.caller, id).await;
    assert_eq!(claimed.status, StatusCode::CREATED, "{}", claimed.body);
    assert_no_number("the API claim", &claimed);
    let contact = &claimed.json()["contact"];
    assert_eq!(contact["first_name"], "Ada");
    assert!(
        contact.get("phone").is_none() && contact.get("other_phone").is_none(),
        "{contact}"
    );
    let lease = claimed.json()["lease_id"].as_i64().unwrap();

    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/call/{id}")).await;
    assert_no_number("the calling page", &page);
    assert!(page.body.contains("Ada Lovelace"), "{}", page.body);
    assert!(page.body.contains("data-how-you-call"), "{}", page.body);
    assert!(
        page.body.contains("Barnstorm will ring your phone"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Their number goes on the do-not-call list")
    );

    let saved = outcome(
        &app,
        &t.caller,
        lease,
        Some("k1"),
        json!({"outcome": "no_answer"}),
    )
    .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    assert_no_number("the recorded outcome", &saved);
    let after = caller.get(&format!("/call/{id}")).await;
    assert_no_number("the page after the call", &after);
    assert!(
        after.body.contains("Ada Lovelace"),
        "the last-call bar: {}",
        after.body
    );
    let last = caller.get(&format!("/call/{id}/last")).await;
    assert_no_number("the page to change the last call", &last);
    let campaign = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}"),
            Some(&t.caller),
            None,
        )
        .await;
    assert_no_number("the campaign as callers read it", &campaign);

    let invite = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/invites"),
            Some(&t.org),
            None,
        )
        .await;
    let code = invite.json()["code"].as_str().unwrap().to_owned();
    let join = Browser::new(&app).get(&format!("/call/join/{code}")).await;
    assert!(
        join.body
            .contains("talk to them on a call Barnstorm connects to your phone")
            && !join.body.contains("ring them from your own phone"),
        "{}",
        join.body
    );

    let org_export = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/attempts.csv"),
            Some(&t.org),
            None,
        )
        .await;
    assert!(
        org_export.body.contains("+442079460123"),
        "{}",
        org_export.body
    );
}

/// With phone links allowed as well, callers see the number and its link as before: the
/// scan above would catch it.
async fn phone_links_still_show_the_number(app: TestApp) {
    let t = team(&app).await;
    let id = masked_campaign(&app, &t, true).await;
    let claimed = claim(&app, &t.caller, id).await;
    assert_eq!(claimed.json()["contact"]["phone"], "+442079460123");
    assert_eq!(claimed.json()["contact"]["other_phone"], "+441134960456");
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/call/{id}")).await;
    assert_eq!(trace_in(&page.body), Some("+442079460123"));
    assert!(page.body.contains("href=\"tel:+442079460123\""));
    assert!(page.body.contains("020 7946 0123") && page.body.contains("0113 496 0456"));
    assert!(
        page.body
            .contains("You may also ring a contact from your own phone")
    );
}

/// Talk time and connect rate come from the calls Barnstorm placed, on the dashboard and
/// in the API's figures, and only for a bridged campaign.
async fn the_dashboard_shows_talk_time_and_connect_rate(app: TestApp) {
    let t = team(&app).await;
    let id = masked_campaign(&app, &t, false).await;
    let claimed = claim(&app, &t.caller, id).await;
    let lease_id = claimed.json()["lease_id"].as_i64().unwrap();
    let contact_id = claimed.json()["contact"]["id"].as_i64().unwrap();
    let caller_id = app
        .store
        .user_by_email("cal@example.org")
        .await
        .unwrap()
        .unwrap()
        .id;
    let now = now_millis();
    let session = app
        .store
        .open_phone_session(id, caller_id, JoinKind::CallMe, "node-a", now)
        .await
        .unwrap();
    let start = |at| CallStart {
        campaign_id: id,
        lease_id,
        contact_id,
        caller_id,
        session_id: session.id,
        node: "node-a".into(),
        now: at,
    };
    let busy = app.store.call_dialled(&start(now)).await.unwrap();
    let end = |at, status| CallEnd {
        now: at,
        hung_up_by: HungUpBy::Contact,
        sip_status: status,
        cause: None,
        proposed_outcome: None,
    };
    app.store
        .call_ended(busy, &end(now + 2_000, Some(486)))
        .await
        .unwrap();
    let talked = app.store.call_dialled(&start(now + 10_000)).await.unwrap();
    app.store.call_answered(talked, now + 15_000).await.unwrap();
    app.store
        .call_ended(talked, &end(now + 215_000, None))
        .await
        .unwrap();

    let stats = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{id}/stats"),
            Some(&t.org),
            None,
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let bridged = &stats.json()["bridged_calls"];
    assert_eq!(bridged["dialled"], 2);
    assert_eq!(bridged["answered"], 1);
    assert_eq!(bridged["talk_ms"], 200_000);
    assert_eq!(bridged["connect_rate"], 0.5);

    let mut org = Browser::new(&app);
    org.sign_in("org@example.org").await;
    let dashboard = org.get(&format!("/campaigns/{id}/dashboard")).await;
    assert!(
        dashboard
            .body
            .contains(r#"data-stat="talk-time">3 min 20 s<"#),
        "{}",
        dashboard.body
    );
    assert!(dashboard.body.contains(r#"data-stat="connect-rate">50%<"#));
    assert!(dashboard.body.contains("1 of 2 calls answered"));
    assert!(
        !dashboard.body.contains("data-call-problems"),
        "a busy line is no problem"
    );

    // Calls the network failed are listed for the organiser, with how many.
    for at in [now + 300_000, now + 310_000] {
        let failed = app.store.call_dialled(&start(at)).await.unwrap();
        let cause = "the trunk could not be reached: no reply at all within 8 s";
        let network = CallEnd {
            now: at + 8_000,
            hung_up_by: HungUpBy::Network,
            sip_status: None,
            cause: Some(cause.to_owned()),
            proposed_outcome: None,
        };
        app.store.call_ended(failed, &network).await.unwrap();
    }
    let dashboard = org.get(&format!("/campaigns/{id}/dashboard")).await;
    assert!(
        dashboard.body.contains("data-call-problems")
            && dashboard
                .body
                .contains("2 × the trunk could not be reached: no reply at all within 8 s"),
        "{}",
        dashboard.body
    );

    let plain = live_campaign(&app, &t, json!({})).await;
    let stats = app
        .api(
            Method::GET,
            &format!("/api/v1/campaigns/{plain}/stats"),
            Some(&t.org),
            None,
        )
        .await;
    assert!(
        stats.json().get("bridged_calls").is_none(),
        "{}",
        stats.body
    );
    let dashboard = org.get(&format!("/campaigns/{plain}/dashboard")).await;
    assert!(!dashboard.body.contains("talk time"), "{}", dashboard.body);
}

/// On a server without a SIP trunk, a bridged campaign's caller is told so and offered no
/// way to join; the API refuses a phone session with 503 `no_trunk` (and 409 for a
/// campaign that does not bridge calls), and there is no line to show, call or hang up.
async fn without_a_trunk_callers_are_told_and_no_line_opens(app: TestApp) {
    let t = team(&app).await;
    let id = masked_campaign(&app, &t, false).await;
    let mut caller = Browser::new(&app);
    caller.sign_in("cal@example.org").await;
    let page = caller.get(&format!("/call/{id}")).await;
    assert!(
        page.body.contains("data-line-unavailable") && page.body.contains("no SIP trunk"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("data-line-call-me"), "{}", page.body);
    let line = caller.get(&format!("/call/{id}/line")).await;
    assert_eq!(line.json()["line"], Value::Null, "{}", line.body);
    let path = format!("/api/v1/campaigns/{id}/phone-session");
    let join = json!({"join": "call_me", "phone": "0113 496 0999"});
    let refused = app
        .api(Method::POST, &path, Some(&t.caller), Some(join.clone()))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["error"]["code"], "no_trunk");
    let none = app.api(Method::GET, &path, Some(&t.caller), None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{}", none.body);
    let hang_up = app
        .api(
            Method::POST,
            &format!("{path}/hang-up"),
            Some(&t.caller),
            None,
        )
        .await;
    assert_eq!(hang_up.status, StatusCode::NOT_FOUND, "{}", hang_up.body);
    let plain = live_campaign(&app, &t, json!({})).await;
    let unbridged = app
        .api(
            Method::POST,
            &format!("/api/v1/campaigns/{plain}/phone-session"),
            Some(&t.caller),
            Some(join),
        )
        .await;
    assert_eq!(unbridged.status, StatusCode::CONFLICT, "{}", unbridged.body);
    assert!(
        unbridged.body.contains("does not use bridged calling"),
        "{}",
        unbridged.body
    );
}

on_both! {
    bridging_settings_over_the_api => bridging_settings_over_the_api,
    bridging_settings_in_the_editor => bridging_settings_in_the_editor,
    callers_never_see_a_masked_number => callers_never_see_a_masked_number,
    phone_links_still_show_the_number => phone_links_still_show_the_number,
    the_dashboard_shows_talk_time_and_connect_rate => the_dashboard_shows_talk_time_and_connect_rate,
    without_a_trunk_callers_are_told_and_no_line_opens => without_a_trunk_callers_are_told_and_no_line_opens,
}
