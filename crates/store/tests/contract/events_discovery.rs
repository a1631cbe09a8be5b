//! The discovery index: nearby search checked against distances computed here, map
//! viewport clustering, hidden-address rounding and freshness across two nodes.

use crate::events::{DAY, HOUR, event, group};
use barnstorm_domain::event::{EventKind, EventStatus, Visibility};
use barnstorm_store::events::{
    EventAudience, EventSummary, MAP_LIST_LIMIT, MapQuery, NearbyQuery, NewEvent, PublicEventFilter,
};
use barnstorm_store::{DatabaseUrl, NewMail, Store, StoreOptions, both_backends, now_millis};
use std::collections::HashSet;

/// Written here, apart from the store's, so the two check each other.
fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6371.0088_f64;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const KINDS: [EventKind; 4] = [
    EventKind::Canvass,
    EventKind::Phonebank,
    EventKind::Social,
    EventKind::StreetStall,
];

fn no_notice(_: &EventAudience) -> Option<NewMail> {
    None
}

/// Three hundred public live events at random places in Great Britain, four at one
/// spot (equal distances, told apart by start time), and events that must never be
/// found. Returns what the index should hold, read back through the plain listing.
async fn seed(store: &Store) -> Vec<EventSummary> {
    let g = group(store, "Everywhere").await;
    let now = now_millis();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut batch: Vec<NewEvent> = (0..300)
        .map(|n| {
            let lat = 50.0 + rng.unit() * 8.5;
            let lon = -5.5 + rng.unit() * 7.2;
            let start = now + DAY + (rng.next() % 1440) as i64 * HOUR;
            event(g, KINDS[n % KINDS.len()], start, Some((lat, lon)))
        })
        .collect();
    for n in 0..4 {
        batch.push(event(
            g,
            EventKind::Training,
            now + (9 - n) * DAY,
            Some((52.5, -1.5)),
        ));
    }
    store
        .insert_events_bulk(&batch, EventStatus::Live)
        .await
        .unwrap();

    let spot = Some((52.51, -1.49));
    let mut unlisted = event(g, EventKind::Canvass, now + DAY, spot);
    unlisted.visibility = Visibility::Unlisted;
    store
        .create_event(&unlisted, EventStatus::Live)
        .await
        .unwrap();
    store
        .create_event(
            &event(g, EventKind::Canvass, now + DAY, spot),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    let cancelled = store
        .create_event(
            &event(g, EventKind::Canvass, now + DAY, spot),
            EventStatus::Live,
        )
        .await
        .unwrap();
    store
        .set_event_status(cancelled.id, EventStatus::Cancelled, "", None, &no_notice)
        .await
        .unwrap();
    let deleted = store
        .create_event(
            &event(g, EventKind::Canvass, now + DAY, spot),
            EventStatus::Live,
        )
        .await
        .unwrap();
    store.delete_event(deleted.id, None).await.unwrap();
    store
        .create_event(
            &event(g, EventKind::Canvass, now - 3 * DAY, spot),
            EventStatus::Live,
        )
        .await
        .unwrap();
    store
        .create_event(
            &event(g, EventKind::Canvass, now + DAY, None),
            EventStatus::Live,
        )
        .await
        .unwrap();

    let all = store
        .list_public_events(&PublicEventFilter {
            limit: 1_000,
            ..PublicEventFilter::default()
        })
        .await
        .unwrap();
    let expected: Vec<EventSummary> = all
        .into_iter()
        .filter(|e| e.location.is_some() && e.ends_at >= now - DAY)
        .map(|e| EventSummary {
            id: e.id,
            group_id: e.group_id,
            kind: e.kind,
            title: e.title,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            time_zone: e.time_zone,
            location: e.location,
            precision: e.precision,
            postcode_district: Some("LS1".into()),
            capacity: e.capacity,
            status: e.status,
        })
        .collect();
    assert_eq!(expected.len(), 304);
    expected
}

fn query(center: (f64, f64), radius_km: f64) -> NearbyQuery {
    NearbyQuery {
        center,
        radius_km,
        kinds: Vec::new(),
        starts_after: 0,
        starts_before: None,
        limit: 10_000,
        offset: 0,
    }
}

fn expect_nearby(all: &[EventSummary], q: &NearbyQuery) -> Vec<(i64, f64)> {
    let mut found: Vec<(i64, f64, i64)> = all
        .iter()
        .filter(|e| q.kinds.is_empty() || q.kinds.contains(&e.kind))
        .filter(|e| e.starts_at >= q.starts_after)
        .filter(|e| q.starts_before.is_none_or(|b| e.starts_at < b))
        .filter_map(|e| {
            let km = haversine_km(q.center, e.location?);
            (km <= q.radius_km).then_some((e.id, km, e.starts_at))
        })
        .collect();
    found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
    found
        .into_iter()
        .skip(q.offset)
        .take(q.limit)
        .map(|(id, km, _)| (id, km))
        .collect()
}

async fn check_nearby(store: &Store, all: &[EventSummary], q: &NearbyQuery) {
    let got = store.nearby_events(q).await.unwrap();
    let want = expect_nearby(all, q);
    let got_ids: Vec<i64> = got.iter().map(|(e, _)| e.id).collect();
    let want_ids: Vec<i64> = want.iter().map(|(id, _)| *id).collect();
    assert_eq!(got_ids, want_ids, "{q:?}");
    for ((_, got_km), (_, want_km)) in got.iter().zip(&want) {
        assert!((got_km - want_km).abs() < 1e-6, "{got_km} vs {want_km}");
    }
}

async fn nearby_search_matches_independent_distances(store: Store) {
    let all = seed(&store).await;
    let centres = [
        (51.5074, -0.1278),
        (53.7997, -1.5492),
        (52.5, -1.5),
        (55.9533, -3.1883),
        (50.3755, -4.1427),
    ];
    for centre in centres {
        for radius in [10.0, 50.0, 120.0, 300.0, 2_000.0] {
            check_nearby(&store, &all, &query(centre, radius)).await;
        }
    }
    let ties = store
        .nearby_events(&query((52.5, -1.5), 0.001))
        .await
        .unwrap();
    let starts: Vec<i64> = ties.iter().map(|(e, _)| e.starts_at).collect();
    assert_eq!(ties.len(), 4);
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "equal distance: by start"
    );

    let mut paged = query((52.5, -1.5), 200.0);
    for (offset, limit) in [(0, 1), (0, 6), (3, 4), (5, 7), (40, 10), (1_000, 5)] {
        paged.offset = offset;
        paged.limit = limit;
        check_nearby(&store, &all, &paged).await;
    }
    paged.limit = 0;
    assert!(store.nearby_events(&paged).await.unwrap().is_empty());

    let now = now_millis();
    let mut filtered = query((53.0, -2.0), 250.0);
    filtered.kinds = vec![EventKind::Canvass, EventKind::Training];
    filtered.starts_after = now + 10 * DAY;
    filtered.starts_before = Some(now + 40 * DAY);
    check_nearby(&store, &all, &filtered).await;
    filtered.limit = 3;
    filtered.offset = 2;
    check_nearby(&store, &all, &filtered).await;
    let got = store.nearby_events(&filtered).await.unwrap();
    assert!(got.iter().all(|(e, _)| filtered.kinds.contains(&e.kind)
        && e.starts_at >= filtered.starts_after
        && e.starts_at < now + 40 * DAY));
}

fn viewport(zoom: u8) -> MapQuery {
    MapQuery {
        south: 51.0,
        west: -3.0,
        north: 54.0,
        east: 0.5,
        zoom,
        kinds: Vec::new(),
        starts_after: 0,
        starts_before: None,
    }
}

async fn map_view_accounts_for_every_event_once(store: Store) {
    let all = seed(&store).await;
    for (zoom, kinds) in [
        (3, vec![]),
        (5, vec![]),
        (7, vec![]),
        (9, vec![EventKind::Canvass]),
        (12, vec![]),
        (15, vec![]),
    ] {
        let q = MapQuery {
            kinds,
            ..viewport(zoom)
        };
        let view = store.map_view(&q).await.unwrap();
        let inside: Vec<&EventSummary> = all
            .iter()
            .filter(|e| q.kinds.is_empty() || q.kinds.contains(&e.kind))
            .filter(|e| {
                let (lat, lon) = e.location.unwrap();
                (q.south..=q.north).contains(&lat) && (q.west..=q.east).contains(&lon)
            })
            .collect();
        assert_eq!(view.total, inside.len(), "zoom {zoom}");
        let clustered: usize = view.clusters.iter().map(|c| c.count).sum();
        assert_eq!(clustered + view.events.len(), view.total, "zoom {zoom}");
        let singles: HashSet<i64> = view.events.iter().map(|e| e.id).collect();
        assert_eq!(singles.len(), view.events.len(), "no event twice");
        let wanted: HashSet<i64> = inside.iter().map(|e| e.id).collect();
        assert!(singles.is_subset(&wanted));
        for e in inside.iter().filter(|e| !singles.contains(&e.id)) {
            let (lat, lon) = e.location.unwrap();
            assert!(
                view.clusters.iter().any(|c| (c.south..=c.north).contains(&lat)
                    && (c.west..=c.east).contains(&lon)),
                "event {} is in no cluster at zoom {zoom}",
                e.id
            );
        }
        for c in &view.clusters {
            assert!(c.count >= 2);
            assert!(
                c.south >= q.south && c.north <= q.north && c.west >= q.west && c.east <= q.east
            );
            assert!((c.south..=c.north).contains(&c.lat) && (c.west..=c.east).contains(&c.lon));
        }
        if zoom >= 15 {
            assert!(view.clusters.is_empty());
        }
        if zoom <= 5 {
            assert!(view.clusters.len() < 10, "zoomed out, few markers");
        }
        let mut by_start = inside.clone();
        by_start.sort_by_key(|e| (e.starts_at, e.id));
        let list: Vec<i64> = view.list.iter().map(|e| e.id).collect();
        let first: Vec<i64> = by_start.iter().take(MAP_LIST_LIMIT).map(|e| e.id).collect();
        assert_eq!(list, first, "zoom {zoom}");
    }
    let empty = MapQuery {
        south: 10.0,
        west: 10.0,
        north: 11.0,
        east: 11.0,
        ..viewport(8)
    };
    let view = store.map_view(&empty).await.unwrap();
    assert_eq!(
        (view.total, view.clusters.len(), view.list.len()),
        (0, 0, 0)
    );
}

async fn hidden_addresses_are_rounded_on_the_map(store: Store) {
    let g = group(&store, "London").await;
    let mut new = event(
        g,
        EventKind::Social,
        now_millis() + DAY,
        Some((51.50135, -0.14189)),
    );
    new.address_after_rsvp = true;
    let created = store.create_event(&new, EventStatus::Live).await.unwrap();
    assert_eq!(
        created.location,
        Some((51.50135, -0.14189)),
        "stored exactly"
    );
    let found = store
        .nearby_events(&query((51.5, -0.14), 5.0))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.location, Some((51.5, -0.14)));
    assert!(found[0].1 < 1e-9, "distance to the rounded pin");
    let view = store
        .map_view(&MapQuery {
            south: 51.4,
            west: -0.3,
            north: 51.6,
            east: 0.0,
            ..viewport(16)
        })
        .await
        .unwrap();
    assert_eq!(view.events[0].location, Some((51.5, -0.14)));
    assert_eq!(view.events[0].postcode_district.as_deref(), Some("LS1"));
}

async fn a_write_on_one_node_reaches_the_other(store: Store, url: DatabaseUrl) {
    let other = Store::connect(&url, &StoreOptions::default())
        .await
        .unwrap();
    let g = group(&store, "Leeds").await;
    let leeds = (53.7997, -1.5492);
    let near = query(leeds, 10.0);
    let ids =
        |found: Vec<(EventSummary, f64)>| found.into_iter().map(|(e, _)| e.id).collect::<Vec<_>>();
    assert!(other.nearby_events(&near).await.unwrap().is_empty());

    let pending = store
        .create_event(
            &event(g, EventKind::Canvass, now_millis() + DAY, Some(leeds)),
            EventStatus::Pending,
        )
        .await
        .unwrap();
    assert!(
        store.nearby_events(&near).await.unwrap().is_empty(),
        "pending is hidden"
    );
    store
        .set_event_status(pending.id, EventStatus::Live, "", None, &no_notice)
        .await
        .unwrap();
    assert_eq!(
        ids(store.nearby_events(&near).await.unwrap()),
        [pending.id],
        "own write at once"
    );
    other.refresh_event_index().await.unwrap();
    assert_eq!(ids(other.nearby_events(&near).await.unwrap()), [pending.id]);

    let mut moved = event(
        g,
        EventKind::Canvass,
        now_millis() + DAY,
        Some((51.5, -0.12)),
    );
    moved.title = "Moved to London".into();
    store
        .update_event(pending.id, &moved, &no_notice)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert!(
        other.nearby_events(&near).await.unwrap().is_empty(),
        "refreshed by itself after a second"
    );
    let london = other
        .nearby_events(&query((51.5, -0.12), 1.0))
        .await
        .unwrap();
    assert_eq!(london[0].0.title, "Moved to London");

    store.delete_event(pending.id, None).await.unwrap();
    other.refresh_event_index().await.unwrap();
    assert!(
        other
            .nearby_events(&query((51.5, -0.12), 1.0))
            .await
            .unwrap()
            .is_empty()
    );
    other.close().await;
}

both_backends!(
    nearby_search_matches_independent_distances => nearby_search_matches_independent_distances,
    map_view_accounts_for_every_event_once => map_view_accounts_for_every_event_once,
    hidden_addresses_are_rounded_on_the_map => hidden_addresses_are_rounded_on_the_map,
);

crate::with_url!(a_write_on_one_node_reaches_the_other => a_write_on_one_node_reaches_the_other);
