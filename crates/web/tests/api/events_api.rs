//! The events API: creating events (checked like the host form, live or pending by the
//! group's policy), the public list (nearest first around a postcode, paging, sync with
//! `updated_since` and deleted ids) and reading one. RSVPs: `events_rsvp_api`.

use crate::app::TestApp;
use crate::discover::{
    OUTCODES, XSS, centroid, haversine_km, live, national, new_event, thirty_events,
};
use crate::on_both;
use axum::http::{Method, StatusCode};
use barnstorm_domain::event::{EventApproval, EventKind, EventStatus, Visibility};
use barnstorm_store::{Role, now_millis};
use serde_json::{Value, json};

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn valid_event(group_id: i64) -> Value {
    json!({
        "group_id": group_id,
        "kind": "canvass",
        "title": "Saturday canvass",
        "description": "Meet at the **library**.",
        "date": in_days(5),
        "start_time": "10:00",
        "end_time": "13:00",
        "postcode": "LS6",
        "address": "Headingley Library",
        "capacity": 20,
    })
}

/// The ids on every page of a list, following `next_cursor`.
async fn every_page(app: &TestApp, first: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut path = first.to_owned();
    loop {
        let page = app.get(&path).await.json();
        let data = page["data"].as_array().unwrap();
        ids.extend(data.iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(next) => path = format!("{first}&cursor={next}"),
            None => return ids,
        }
    }
}

async fn creating_an_event_checks_input_and_follows_the_approval_policy(app: TestApp) {
    let group = national(&app, "Leeds Left").await;
    app.user("admin@example.org", "Ada", true).await;
    app.user("sam@example.org", "Sam Supporter", false).await;
    let admin = app.token_for("admin@example.org").await;
    let sam = app.token_for("sam@example.org").await;

    let anonymous = app
        .api(
            Method::POST,
            "/api/v1/events",
            None,
            Some(valid_event(group.id)),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.error_code(), "unauthorized");

    // New groups ask for approval; this one's organisers chose to publish at once.
    app.store
        .set_group_event_approval(group.id, EventApproval::Open, None)
        .await
        .unwrap();
    let created = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&sam),
            Some(valid_event(group.id)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let event = created.json();
    assert_eq!(event["status"], "live", "an open group publishes at once");
    assert_eq!(event["kind"], "canvass");
    assert_eq!(event["capacity"], 20);
    assert_eq!(event["location"]["postcode_district"], "LS6");
    assert_eq!(event["location"]["precision"], "outcode");
    assert!(event["starts_at"].as_str().unwrap().ends_with("Z"));
    assert!(
        event["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/events/{}", event["id"]))
    );

    app.store
        .set_group_event_approval(group.id, EventApproval::Approval, None)
        .await
        .unwrap();
    let pending = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&sam),
            Some(valid_event(group.id)),
        )
        .await;
    assert_eq!(pending.json()["status"], "pending", "{}", pending.body);
    let id = pending.json()["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/events/{id}")).await.status,
        StatusCode::NOT_FOUND,
        "a pending event is not public"
    );
    let by_admin = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&admin),
            Some(valid_event(group.id)),
        )
        .await;
    assert_eq!(by_admin.json()["status"], "live");
    let host = app.user("hana@example.org", "Hana Host", false).await;
    app.store
        .set_membership(group.id, host.id, Role::Host, None)
        .await
        .unwrap();
    let hana = app.token_for("hana@example.org").await;
    let by_host = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&hana),
            Some(valid_event(group.id)),
        )
        .await;
    assert_eq!(
        by_host.json()["status"],
        "pending",
        "a host the organisers have not trusted waits"
    );
    app.store
        .set_trusted_host(group.id, host.id, true, None)
        .await
        .unwrap();
    let by_trusted = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&hana),
            Some(valid_event(group.id)),
        )
        .await;
    assert_eq!(
        by_trusted.json()["status"],
        "live",
        "trusted hosts skip the queue"
    );

    let cases: Vec<(Value, &str)> = vec![
        (json!({"kind": "rave"}), "kind"),
        (json!({"title": ""}), "title"),
        (json!({"date": "next friday"}), "date"),
        (json!({"end_time": "09:00"}), "end_time"),
        (json!({"postcode": "ZZ99 9ZZ"}), "postcode"),
        (json!({"postcode": "", "online_url": ""}), "postcode"),
        (json!({"capacity": -3}), "capacity"),
        (json!({"online_url": "javascript:alert(1)"}), "online_url"),
        (json!({"visibility": "secret"}), "visibility"),
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"group_id": 999_999}), "group_id"),
    ];
    for (change, field) in cases {
        let mut body = valid_event(group.id);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let refused = app
            .api(Method::POST, "/api/v1/events", Some(&sam), Some(body))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            refused.body
        );
        assert_eq!(refused.error_code(), "invalid_input");
        assert_eq!(
            refused.json()["error"]["details"]["field"],
            field,
            "{}",
            refused.body
        );
    }
    let missing = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&sam),
            Some(json!({"group_id": group.id})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = missing.json()["error"]["details"]["fields"].clone();
    for field in [
        "kind",
        "title",
        "date",
        "start_time",
        "end_time",
        "postcode",
    ] {
        assert!(
            fields.get(field).is_some(),
            "missing {field} is named: {fields}"
        );
    }
    let no_group = app
        .api(
            Method::POST,
            "/api/v1/events",
            Some(&sam),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(
        no_group.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_group.body
    );
    assert_eq!(no_group.json()["error"]["details"]["field"], "group_id");
    let not_json = app
        .send(
            axum::http::Request::post("/api/v1/events")
                .header("authorization", format!("Bearer {sam}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.error_code(), "invalid_json");
}

async fn listing_near_a_postcode_is_nearest_first_within_the_radius(app: TestApp) {
    let group = national(&app, "Barnstorm UK").await;
    let events = thirty_events(&app, &group).await;
    let center = centroid("LS1");
    let mut expected: Vec<(i64, f64)> = events
        .iter()
        .map(|e| (e.id, haversine_km(center, e.location.unwrap())))
        .filter(|(_, km)| *km <= 25.0)
        .collect();
    expected.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert!(
        expected.len() >= 5,
        "the fixture puts several events near Leeds"
    );

    let page = app.get("/api/v1/events?postcode=LS1").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let json = page.json();
    let data = json["data"].as_array().unwrap();
    let got: Vec<i64> = data.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(
        got,
        expected.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        "default radius 25 km"
    );
    for (event, (_, km)) in data.iter().zip(&expected) {
        let shown = event["distance_km"].as_f64().unwrap();
        assert!((shown - km).abs() <= 0.051, "{shown} vs {km}");
    }
    assert!(
        json.get("deleted").is_none(),
        "deleted only with updated_since"
    );
    assert!(json["next_cursor"].is_null());

    // Paging around a place: two at a time, same order.
    let seen = every_page(
        &app,
        "/api/v1/events?postcode=LS1&max_distance_km=25&limit=2",
    )
    .await;
    assert_eq!(seen, got);

    let everywhere = app
        .get("/api/v1/events?postcode=LS1&max_distance_km=200")
        .await
        .json();
    let far: Vec<f64> = everywhere["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["distance_km"].as_f64().unwrap())
        .collect();
    assert!(
        far.windows(2).all(|w| w[0] <= w[1]),
        "sorted by distance: {far:?}"
    );
    assert!(far.iter().all(|km| *km <= 200.0));
    let training = app
        .get("/api/v1/events?postcode=LS1&max_distance_km=200&types=training,social")
        .await
        .json();
    for e in training["data"].as_array().unwrap() {
        assert!(["training", "social"].contains(&e["kind"].as_str().unwrap()));
    }

    // Without a postcode: every public event, by id, in pages.
    let ids = every_page(&app, "/api/v1/events?limit=7").await;
    let mut all: Vec<i64> = events.iter().map(|e| e.id).collect();
    all.sort_unstable();
    assert_eq!(ids, all);
    let soon = app
        .get(&format!(
            "/api/v1/events?starts_before={}",
            (chrono::Utc::now() + chrono::Duration::days(3))
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ))
        .await
        .json();
    assert_eq!(soon["data"].as_array().unwrap().len(), 2, "{soon}");
    assert_eq!(OUTCODES.len(), events.len());
}

async fn listing_refuses_bad_filters_naming_them(app: TestApp) {
    for (query, field, code) in [
        ("starts_after=yesterday", "starts_after", "invalid_input"),
        (
            "starts_before=2025-13-01T00:00:00Z",
            "starts_before",
            "invalid_input",
        ),
        ("updated_since=1700000000", "updated_since", "invalid_input"),
        ("types=canvass,rave", "types", "invalid_input"),
        (
            "postcode=LS1&max_distance_km=0",
            "max_distance_km",
            "invalid_input",
        ),
        (
            "postcode=LS1&max_distance_km=201",
            "max_distance_km",
            "invalid_input",
        ),
        (
            "postcode=LS1&max_distance_km=near",
            "max_distance_km",
            "invalid_input",
        ),
        ("postcode=ZZ99%209ZZ", "postcode", "unknown_place"),
        ("postcode=%3Cscript%3E", "postcode", "unknown_place"),
        ("limit=500", "limit", "invalid_input"),
        ("limit=0", "limit", "invalid_input"),
        ("group_id=abc", "group_id", "invalid_input"),
        ("cursor=-1", "cursor", "invalid_input"),
    ] {
        let response = app.get(&format!("/api/v1/events?{query}")).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            response.body
        );
        assert_eq!(response.error_code(), code, "{query}");
        assert_eq!(
            response.json()["error"]["details"]["field"],
            field,
            "{query}"
        );
    }
}

async fn syncing_returns_changed_events_and_withdrawn_ids(app: TestApp) {
    let group = national(&app, "Leeds Left").await;
    let keep = live(
        &app,
        new_event(group.id, "Stays", "LS6", 2, EventKind::Social),
    )
    .await;
    let change = live(
        &app,
        new_event(group.id, "Changes", "LS2", 3, EventKind::Canvass),
    )
    .await;
    let cancel = live(
        &app,
        new_event(group.id, "Called off", "LS1", 4, EventKind::Canvass),
    )
    .await;
    let delete = live(
        &app,
        new_event(group.id, "Deleted", "LS11", 5, EventKind::Canvass),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let since_ms = now_millis();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut changed = new_event(group.id, "Changed title", "LS2", 3, EventKind::Canvass);
    changed.starts_at = change.starts_at;
    changed.ends_at = change.ends_at;
    app.store
        .update_event(change.id, &changed, &|_| None)
        .await
        .unwrap();
    app.store
        .set_event_status(cancel.id, EventStatus::Cancelled, "", None, &|_| None)
        .await
        .unwrap();
    app.store.delete_event(delete.id, None).await.unwrap();

    let since = chrono::DateTime::from_timestamp_millis(since_ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let synced = app
        .get(&format!(
            "/api/v1/events?updated_since={}",
            since.replace('+', "%2B")
        ))
        .await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.body);
    let json = synced.json();
    let data: Vec<&str> = json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["Changed title"]);
    let mut deleted: Vec<i64> = json["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    deleted.sort_unstable();
    assert_eq!(deleted, [cancel.id, delete.id]);
    assert!(
        json["deleted"][0]["deleted_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(!deleted.contains(&keep.id));
    let near = app
        .get(&format!(
            "/api/v1/events?postcode=LS1&updated_since={}",
            since.replace('+', "%2B")
        ))
        .await
        .json();
    assert_eq!(near["data"].as_array().unwrap().len(), 1, "{near}");
    assert_eq!(near["deleted"].as_array().unwrap().len(), 2);
}

async fn one_event_is_public_without_its_hidden_address(app: TestApp) {
    let group = national(&app, "Leeds Left").await;
    let mut hidden = new_event(group.id, XSS, "LS6", 2, EventKind::Social);
    hidden.address = "Flat 9, Secret Street".to_owned();
    hidden.postcode = Some("LS6 1AB".to_owned());
    hidden.address_after_rsvp = true;
    hidden.online_url = Some("https://meet.example.org/secret-room".to_owned());
    let hidden = live(&app, hidden).await;
    let response = app.get(&format!("/api/v1/events/{}", hidden.id)).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(!response.body.contains("Secret"), "{}", response.body);
    assert!(!response.body.contains("secret-room"));
    assert!(!response.body.contains("LS6 1AB"));
    let json = response.json();
    assert_eq!(json["title"], XSS, "JSON carries the title as data");
    assert_eq!(json["location"]["postcode_district"], "LS6");
    assert!(json["location"]["address"].is_null());
    assert_eq!(json["online"], true);
    let (lat, _) = hidden.location.unwrap();
    let shown = json["location"]["lat"].as_f64().unwrap();
    assert!(
        (shown - lat).abs() < 0.006 && ((shown * 100.0).round() - shown * 100.0).abs() < 1e-6,
        "rounded: {shown}"
    );

    let mut members = new_event(group.id, "Members", "LS1", 2, EventKind::Social);
    members.visibility = Visibility::Group;
    let members = live(&app, members).await;
    let mut unlisted = new_event(group.id, "By link", "LS1", 2, EventKind::Social);
    unlisted.visibility = Visibility::Unlisted;
    let unlisted = live(&app, unlisted).await;
    assert_eq!(
        app.get(&format!("/api/v1/events/{}", members.id))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/events/{}", unlisted.id))
            .await
            .status,
        StatusCode::OK
    );
    let missing = app.get("/api/v1/events/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error_code(), "not_found");
    let listed = app.get("/api/v1/events").await.json();
    let ids: Vec<i64> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [hidden.id],
        "unlisted and group-only events are not listed"
    );
}

on_both! {
    creating_an_event_checks_input_and_follows_the_approval_policy => creating_an_event_checks_input_and_follows_the_approval_policy,
    listing_near_a_postcode_is_nearest_first_within_the_radius => listing_near_a_postcode_is_nearest_first_within_the_radius,
    listing_refuses_bad_filters_naming_them => listing_refuses_bad_filters_naming_them,
    syncing_returns_changed_events_and_withdrawn_ids => syncing_returns_changed_events_and_withdrawn_ids,
    one_event_is_public_without_its_hidden_address => one_event_is_public_without_its_hidden_address,
}
