//! Discovery: the map's JSON, search near a place (checked against distances computed
//! here), the no-JavaScript pages, the embeddable widget and the calendar/RSS feeds.

use crate::app::TestApp;
use crate::on_both;
use axum::http::{StatusCode, header};
use barnstorm_domain::event::{EventKind, EventStatus, LocationPrecision, Visibility};
use barnstorm_store::events::{Event, NewEvent};
use barnstorm_store::{Group, GroupKind, now_millis, outcode_centroid};

pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;
pub const XSS: &str = "<script>alert('x')</script> & <b>bold</b>";

/// Thirty postcode districts across Britain, most of them around Leeds.
pub const OUTCODES: [&str; 30] = [
    "LS1", "LS2", "LS6", "LS11", "LS17", "BD1", "BD7", "HX1", "HD1", "WF1", "WF10", "YO1", "HG1",
    "S1", "S10", "M1", "M13", "M20", "OL1", "BB1", "PR1", "L1", "SK1", "DN1", "HU1", "NG1", "DE1",
    "B1", "SW1A", "EH1",
];

/// Great-circle distance in km, written here so the app's own arithmetic is not trusted.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6371.0088_f64;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

pub fn centroid(outcode: &str) -> (f64, f64) {
    let p = outcode_centroid(outcode).unwrap_or_else(|| panic!("no centroid for {outcode}"));
    (p.lat, p.lon)
}

pub async fn national(app: &TestApp, name: &str) -> Group {
    app.store
        .create_group(None, name, GroupKind::National, "", None)
        .await
        .unwrap()
}

/// An in-person event in `outcode`, starting `days` days from now.
pub fn new_event(
    group_id: i64,
    title: &str,
    outcode: &str,
    days: i64,
    kind: EventKind,
) -> NewEvent {
    let starts_at = now_millis() + days * DAY + HOUR;
    NewEvent {
        description: format!("All welcome. {XSS}"),
        postcode: Some(format!("{outcode} 9ZZ")),
        address: "12 Market Street".to_owned(),
        location: Some(centroid(outcode)),
        precision: LocationPrecision::Outcode,
        ..NewEvent::new(group_id, kind, title, starts_at, starts_at + 2 * HOUR)
    }
}

pub async fn live(app: &TestApp, event: NewEvent) -> Event {
    app.store
        .create_event(&event, EventStatus::Live)
        .await
        .unwrap()
}

/// One event per outcode in [`OUTCODES`], the i-th starting i+1 days from now, kinds in turn.
pub async fn thirty_events(app: &TestApp, group: &Group) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, outcode) in OUTCODES.iter().enumerate() {
        let kind = EventKind::ALL[i % EventKind::ALL.len()];
        let days = i64::try_from(i).unwrap() + 1;
        events.push(
            live(
                app,
                new_event(
                    group.id,
                    &format!("Event in {outcode}"),
                    outcode,
                    days,
                    kind,
                ),
            )
            .await,
        );
    }
    events
}

const UK: &str = "south=49&west=-8&north=61&east=2";

async fn the_map_clusters_and_lists_every_event_in_view(app: TestApp) {
    let group = national(&app, "Barnstorm UK").await;
    let events = thirty_events(&app, &group).await;
    let map = app.get(&format!("/events/map.json?{UK}&zoom=5")).await;
    assert_eq!(map.status, StatusCode::OK, "{}", map.body);
    let json = map.json();
    assert_eq!(json["total"], 30);
    let clustered: u64 = json["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            for edge in ["lat", "lon", "south", "west", "north", "east"] {
                assert!(c[edge].is_f64(), "cluster without {edge}: {c}");
            }
            c["count"].as_u64().unwrap()
        })
        .sum();
    let single = json["events"].as_array().unwrap().len() as u64;
    assert_eq!(
        clustered + single,
        30,
        "every event is in a cluster or a marker: {json}"
    );
    let list = json["list"].as_array().unwrap();
    assert_eq!(list.len(), 30);
    let starts: Vec<&str> = list
        .iter()
        .map(|e| e["starts_at"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "the list is by start time");
    let first = &list[0];
    assert_eq!(first["id"], events[0].id);
    assert_eq!(first["kind"], "meetup");
    assert_eq!(first["kind_label"], "Campaign meetup");
    assert_eq!(first["title"], "Event in LS1");
    assert_eq!(first["place"], "Near LS1");
    assert_eq!(first["url"], format!("/events/{}", events[0].id));
    assert!(first["starts_at"].as_str().unwrap().ends_with('Z'));
    assert!(!first["when"].as_str().unwrap().is_empty());
    assert!(first["lat"].is_f64() && first["lon"].is_f64());

    // Zoomed right in, every event in view is its own marker.
    let (lat, lon) = centroid("LS1");
    let close = app
        .get(&format!(
            "/events/map.json?south={}&west={}&north={}&east={}&zoom=16",
            lat - 0.002,
            lon - 0.002,
            lat + 0.002,
            lon + 0.002
        ))
        .await
        .json();
    assert_eq!(close["total"], 1);
    assert_eq!(close["events"][0]["title"], "Event in LS1");

    // Filters: types and dates.
    let canvasses = app
        .get(&format!(
            "/events/map.json?{UK}&zoom=5&types=canvass,phonebank"
        ))
        .await
        .json();
    for e in canvasses["list"].as_array().unwrap() {
        assert!(
            ["canvass", "phonebank"].contains(&e["kind"].as_str().unwrap()),
            "{e}"
        );
    }
    assert_eq!(canvasses["total"], 9, "30 events over 7 kinds: 5 + 4");
    let in_a_week = chrono::Utc::now() + chrono::Duration::days(7);
    let to = in_a_week.format("%Y-%m-%d");
    let soon = app
        .get(&format!("/events/map.json?{UK}&zoom=5&to={to}"))
        .await
        .json();
    let total = soon["total"].as_u64().unwrap();
    assert!(
        (5..=8).contains(&total),
        "about a week of events, got {total}"
    );
}

async fn the_map_refuses_bad_viewports_naming_the_parameter(app: TestApp) {
    for (query, field) in [
        ("west=-8&north=61&east=2&zoom=5", "south"),
        ("south=62&west=-8&north=61&east=2&zoom=5", "north"),
        ("south=49&west=-8&north=61&east=2&zoom=99", "zoom"),
        ("south=49&west=-8&north=61&east=2", "zoom"),
        ("south=abc&west=-8&north=61&east=2&zoom=5", "south"),
        (
            "south=49&west=-8&north=61&east=2&zoom=5&types=rave",
            "types",
        ),
        (
            "south=49&west=-8&north=61&east=2&zoom=5&from=31/12/2025",
            "from",
        ),
        ("south=49&west=-8&north=61&east=2&zoom=5&to=tomorrow", "to"),
        (
            "south=49&west=-8&north=61&east=2&zoom=5&group=nobody",
            "group",
        ),
    ] {
        let response = app.get(&format!("/events/map.json?{query}")).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "invalid_parameter");
        assert_eq!(
            response.json()["error"]["details"]["field"],
            field,
            "{query}"
        );
    }
}

async fn search_finds_events_nearest_first_within_the_radius(app: TestApp) {
    let group = national(&app, "Barnstorm UK").await;
    let events = thirty_events(&app, &group).await;
    let center = centroid("LS1");
    for radius in [5.0, 25.0, 50.0] {
        let mut expected: Vec<(i64, f64)> = events
            .iter()
            .map(|e| (e.id, haversine_km(center, e.location.unwrap())))
            .filter(|(_, km)| *km <= radius)
            .collect();
        expected.sort_by(|a, b| a.1.total_cmp(&b.1));
        let response = app
            .get(&format!("/events/search.json?q=ls1&radius_km={radius}"))
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let json = response.json();
        assert_eq!(json["place"]["label"], "LS1");
        assert!((json["place"]["lat"].as_f64().unwrap() - center.0).abs() < 1e-9);
        let results = json["results"].as_array().unwrap();
        let got: Vec<i64> = results.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        let want: Vec<i64> = expected.iter().map(|(id, _)| *id).collect();
        assert_eq!(got, want, "within {radius} km, nearest first");
        for (result, (_, km)) in results.iter().zip(&expected) {
            let shown = result["distance_km"].as_f64().unwrap();
            assert!((shown - km).abs() <= 0.051, "{shown} vs {km}");
        }
        assert!(
            json["host_url"]
                .as_str()
                .unwrap()
                .starts_with("/events/new?postcode=ls1")
        );
    }
    let wide = app
        .get("/events/search.json?q=LS1&radius_km=50")
        .await
        .json();
    assert!(wide["results"].as_array().unwrap().len() >= 8, "{wide}");

    // Type filter applies to search too.
    let training = app
        .get("/events/search.json?q=LS1&radius_km=200&types=training")
        .await
        .json();
    for r in training["results"].as_array().unwrap() {
        assert_eq!(r["kind"], "training");
    }
}

async fn search_explains_places_it_cannot_find(app: TestApp) {
    for q in ["ZZ99%209ZZ", "Atlantis%20Under%20Sea", "%21%21%21", ""] {
        let response = app.get(&format!("/events/search.json?q={q}")).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{q}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "unknown_place", "{q}");
        assert!(
            !response.json()["error"]["message"]
                .as_str()
                .unwrap()
                .is_empty()
        );
    }
    for radius in ["0", "-5", "500", "far"] {
        let response = app
            .get(&format!("/events/search.json?q=LS1&radius_km={radius}"))
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{radius}");
        assert_eq!(response.json()["error"]["details"]["field"], "radius_km");
    }
}

async fn pages_work_without_javascript_and_render_titles_inert(app: TestApp) {
    let group = national(&app, "Barnstorm UK").await;
    live(&app, new_event(group.id, XSS, "LS6", 2, EventKind::Canvass)).await;
    live(
        &app,
        new_event(group.id, "Stall in Leeds", "LS2", 3, EventKind::StreetStall),
    )
    .await;

    let page = app.get("/events").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Stall in Leeds"));
    assert!(
        !page.body.contains("<script>alert"),
        "a title must not become markup"
    );
    assert!(
        page.body.contains("&#60;script&#62;"),
        "the title is shown escaped: {}",
        page.body
    );
    assert!(page.body.contains("Contains OS data © Crown copyright"));
    assert!(page.body.contains("href=\"/events/new\""), "Host an event");
    assert!(page.body.contains("id=\"event-map\""));
    assert!(page.body.contains("/assets/map.js"));

    let near = app.get("/events/near?q=LS1&radius_km=10").await;
    assert_eq!(near.status, StatusCode::OK);
    let stall = near.body.find("Stall in Leeds").unwrap();
    let canvass = near.body.find("&#60;script&#62;").unwrap();
    let (d_stall, d_canvass) = (
        haversine_km(centroid("LS1"), centroid("LS2")),
        haversine_km(centroid("LS1"), centroid("LS6")),
    );
    assert_eq!(stall < canvass, d_stall < d_canvass, "nearest first");
    assert!(near.body.contains("km away"));

    let far = app.get("/events/near?q=EH1&radius_km=5").await;
    assert_eq!(far.status, StatusCode::OK);
    assert!(far.body.contains("Nothing near you yet"), "{}", far.body);
    assert!(far.body.contains("/events/new?postcode=EH1"));

    let unknown = app.get("/events/near?q=ZZ99+9ZZ").await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(
        unknown.body.contains("ZZ99 9ZZ"),
        "the message names what was typed"
    );

    let home = app.get("/").await;
    assert!(
        home.body.contains("href=\"/events\""),
        "the home page links to the map"
    );
}

async fn the_widget_is_frameable_and_shows_the_hub_and_its_branches(app: TestApp) {
    let region = national(&app, "Yorkshire").await;
    let branch = app
        .store
        .create_group(Some(region.id), "Leeds", GroupKind::Branch, "", None)
        .await
        .unwrap();
    let other = national(&app, "Elsewhere").await;
    live(
        &app,
        new_event(region.id, "Regional meetup", "YO1", 2, EventKind::Meetup),
    )
    .await;
    live(
        &app,
        new_event(branch.id, "Leeds canvass", "LS6", 3, EventKind::Canvass),
    )
    .await;
    live(
        &app,
        new_event(
            other.id,
            "Someone else's stall",
            "LS2",
            3,
            EventKind::StreetStall,
        ),
    )
    .await;

    let widget = app.get(&format!("/embed/groups/{}", region.slug)).await;
    assert_eq!(widget.status, StatusCode::OK);
    assert!(
        widget.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .ends_with("; frame-ancestors *")
    );
    assert!(widget.headers.get(header::X_FRAME_OPTIONS).is_none());
    assert!(widget.body.contains("Regional meetup") && widget.body.contains("Leeds canvass"));
    assert!(!widget.body.contains("Someone else"));
    assert!(widget.body.contains("data-embed=\"1\""));
    assert!(!widget.body.contains("site-header"), "no site chrome");

    let scoped = app
        .get(&format!(
            "/events/map.json?{UK}&zoom=5&group={}",
            region.slug
        ))
        .await
        .json();
    assert_eq!(scoped["total"], 2, "{scoped}");
    let searched = app
        .get(&format!(
            "/events/search.json?q=LS1&radius_km=50&group={}",
            branch.slug
        ))
        .await
        .json();
    let titles: Vec<&str> = searched["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Leeds canvass"]);

    assert_eq!(
        app.get("/embed/groups/nobody").await.status,
        StatusCode::NOT_FOUND
    );
    let other_page = app.get("/events").await;
    assert!(
        other_page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .ends_with("; frame-ancestors 'none'")
    );
}

async fn feeds_have_the_right_types_and_hide_private_addresses(app: TestApp) {
    let group = national(&app, "Leeds Left").await;
    let mut hidden = new_event(group.id, XSS, "LS6", 2, EventKind::Social);
    hidden.address = "Flat 9, Secret Street".to_owned();
    hidden.postcode = Some("LS6 1AB".to_owned());
    hidden.address_after_rsvp = true;
    let hidden = live(&app, hidden).await;
    let open = live(
        &app,
        new_event(
            group.id,
            "Open stall; bring leaflets, please",
            "LS2",
            3,
            EventKind::StreetStall,
        ),
    )
    .await;
    let pending = app
        .store
        .create_event(
            &new_event(group.id, "Waiting", "LS1", 3, EventKind::Other),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    let mut members = new_event(group.id, "Members only", "LS1", 3, EventKind::Other);
    members.visibility = Visibility::Group;
    let members = live(&app, members).await;

    let ics = app
        .get(&format!("/events/{}/calendar.ics", hidden.id))
        .await;
    assert_eq!(ics.status, StatusCode::OK);
    assert_eq!(
        ics.headers[header::CONTENT_TYPE],
        "text/calendar; charset=utf-8"
    );
    assert!(ics.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(ics.body.contains("LOCATION:Near LS6"), "{}", ics.body);
    assert!(
        !ics.body.contains("Secret"),
        "the hidden address must not leak: {}",
        ics.body
    );
    assert!(!ics.body.contains("LS6 1AB"));
    for gone in [pending.id, members.id, 999_999] {
        assert_eq!(
            app.get(&format!("/events/{gone}/calendar.ics"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let open_ics = app
        .get(&format!("/events/{}/calendar.ics", open.id))
        .await
        .body;
    assert!(
        open_ics.contains("SUMMARY:Open stall\\; bring leaflets\\, please"),
        "{open_ics}"
    );
    assert!(
        open_ics.contains("12 Market Street\\, LS2 9ZZ"),
        "{open_ics}"
    );
    assert!(open_ics.contains("STATUS:CONFIRMED"));
    app.store
        .set_event_status(open.id, EventStatus::Cancelled, "rain", None, &|_| None)
        .await
        .unwrap();
    let cancelled = app
        .get(&format!("/events/{}/calendar.ics", open.id))
        .await
        .body;
    assert!(cancelled.contains("STATUS:CANCELLED"), "{cancelled}");

    let group_ics = app.get(&format!("/groups/{}/events.ics", group.slug)).await;
    assert_eq!(
        group_ics.headers[header::CONTENT_TYPE],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(
        group_ics.body.matches("BEGIN:VEVENT").count(),
        1,
        "public live upcoming only: {}",
        group_ics.body
    );
    assert!(!group_ics.body.contains("Secret"));

    let rss = app.get(&format!("/groups/{}/events.rss", group.slug)).await;
    assert_eq!(rss.status, StatusCode::OK);
    assert_eq!(
        rss.headers[header::CONTENT_TYPE],
        "application/rss+xml; charset=utf-8"
    );
    assert!(rss.body.contains("&lt;script&gt;"), "{}", rss.body);
    assert!(!rss.body.contains("<script>"));
    assert!(!rss.body.contains("Secret"));
    assert!(
        rss.body
            .contains(&format!("{}/events/{}", crate::app::BASE_URL, hidden.id))
    );

    let all = app.get("/events.rss").await;
    assert_eq!(
        all.headers[header::CONTENT_TYPE],
        "application/rss+xml; charset=utf-8"
    );
    assert_eq!(all.body.matches("<item>").count(), 1);
    let near = app.get("/events/search.ics?q=LS1&radius_km=10").await;
    assert_eq!(
        near.headers[header::CONTENT_TYPE],
        "text/calendar; charset=utf-8"
    );
    assert_eq!(near.body.matches("BEGIN:VEVENT").count(), 1);
    assert_eq!(
        app.get("/events/search.ics?q=ZZ99+9ZZ").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/groups/nobody/events.ics").await.status,
        StatusCode::NOT_FOUND
    );
}

on_both! {
    the_map_clusters_and_lists_every_event_in_view => the_map_clusters_and_lists_every_event_in_view,
    the_map_refuses_bad_viewports_naming_the_parameter => the_map_refuses_bad_viewports_naming_the_parameter,
    search_finds_events_nearest_first_within_the_radius => search_finds_events_nearest_first_within_the_radius,
    search_explains_places_it_cannot_find => search_explains_places_it_cannot_find,
    pages_work_without_javascript_and_render_titles_inert => pages_work_without_javascript_and_render_titles_inert,
    the_widget_is_frameable_and_shows_the_hub_and_its_branches => the_widget_is_frameable_and_shows_the_hub_and_its_branches,
    feeds_have_the_right_types_and_hide_private_addresses => feeds_have_the_right_types_and_hide_private_addresses,
}
