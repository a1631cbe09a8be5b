//! The in-memory discovery index: every discoverable event (live, public, not deleted,
//! with coordinates, not ended more than a day ago) in two R-trees, one over 3-D unit
//! vectors for nearby search and one over (longitude, latitude) for map viewports. It is
//! a per-node cache of the events table and never the source of truth: it is refreshed
//! from `events.updated_at` and rebuilt from scratch every few minutes.
//!
//! Pins of events that show their address only after RSVP are rounded to two decimal
//! places (see [`EventSummary`]), so neither the map nor a distance gives the address away.

use super::map::mercator_y;
use super::model::{EventSummary, SUMMARY_COLUMNS};
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::event::EventKind;
use barnstorm_domain::geo::{self, EARTH_RADIUS_KM, LatLon};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How stale the index may get before a query refreshes it.
const REFRESH_EVERY: Duration = Duration::from_secs(1);
/// How often the index is rebuilt from scratch (dropping events that have ended).
const REBUILD_EVERY: Duration = Duration::from_secs(300);
/// How far before the start of the previous read a refresh reads again, for writes on
/// other nodes that committed late or whose clock is a little behind.
const OVERLAP_MS: Millis = 10_000;
/// Events stay discoverable this long after they end.
const KEEP_AFTER_END_MS: Millis = 86_400_000;

/// A search for events within a radius, nearest first.
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyQuery {
    /// (latitude, longitude) to measure from.
    pub center: (f64, f64),
    /// Great-circle radius; events exactly on it are included.
    pub radius_km: f64,
    /// Kinds to include; empty for all.
    pub kinds: Vec<EventKind>,
    /// Only events starting at or after this.
    pub starts_after: Millis,
    /// Only events starting before this.
    pub starts_before: Option<Millis>,
    /// Results to return.
    pub limit: usize,
    /// Results to skip first (for paging).
    pub offset: usize,
}

type SpherePoint = GeomWithData<[f64; 3], i64>;
type PlanePoint = GeomWithData<[f64; 2], MapPoint>;

/// What the map needs to filter and cluster an event, kept in the R-tree itself so a
/// viewport of 100,000 events is handled without looking each one up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct MapPoint {
    pub(super) id: i64,
    pub(super) kind: EventKind,
    pub(super) starts_at: Millis,
    /// Web-Mercator y of the latitude, for square on-screen clusters.
    pub(super) mercator_y: f64,
}

fn plane_point(event: &EventSummary, lat: f64, lon: f64) -> PlanePoint {
    PlanePoint::new(
        [lon, lat],
        MapPoint {
            id: event.id,
            kind: event.kind,
            starts_at: event.starts_at,
            mercator_y: mercator_y(lat),
        },
    )
}

/// One consistent picture of the discoverable events.
pub(super) struct Snapshot {
    pub(super) entries: HashMap<i64, EventSummary>,
    sphere: RTree<SpherePoint>,
    pub(super) plane: RTree<PlanePoint>,
}

/// The index a [`Store`] keeps; see the module documentation.
pub(crate) struct EventIndex {
    snapshot: RwLock<Snapshot>,
    /// Held by the one task refreshing; queries never wait on it unless they must.
    refresher: tokio::sync::Mutex<Refresher>,
    /// Set by local writes so the next query sees them.
    dirty: AtomicBool,
    born: Instant,
    /// Milliseconds after `born` of the last refresh, plus one; 0 before the first.
    refreshed: AtomicU64,
}

struct Refresher {
    /// This node's clock when the previous read of the table began. Keyed on the clock,
    /// not on the newest `updated_at` seen, so a burst of writes is read again only
    /// for one overlap window, not on every refresh until the next write.
    read_started: Millis,
    last_rebuild: Option<Instant>,
}

/// A point on the unit sphere: chord length between two of them grows with their
/// great-circle distance, so nearest-by-chord is nearest-by-distance.
fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ]
}

/// The squared chord length of a great-circle distance.
fn chord_2(km: f64) -> f64 {
    let angle = (km / EARTH_RADIUS_KM).clamp(0.0, std::f64::consts::PI);
    let chord = 2.0 * (angle / 2.0).sin();
    chord * chord
}

/// Great-circle distance between two (latitude, longitude) pairs.
pub(super) fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    geo::distance_km(LatLon::new(a.0, a.1), LatLon::new(b.0, b.1))
}

/// Whether an event of `kind` starting at `starts_at` passes the kind and start-time
/// filters of a query.
pub(super) fn wanted(
    kind: EventKind,
    starts_at: Millis,
    kinds: &[EventKind],
    starts_after: Millis,
    starts_before: Option<Millis>,
) -> bool {
    (kinds.is_empty() || kinds.contains(&kind))
        && starts_at >= starts_after
        && starts_before.is_none_or(|before| starts_at < before)
}

impl Default for Snapshot {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            sphere: RTree::new(),
            plane: RTree::new(),
        }
    }
}

impl Snapshot {
    fn build(events: Vec<EventSummary>) -> Self {
        let mut sphere = Vec::with_capacity(events.len());
        let mut plane = Vec::with_capacity(events.len());
        let mut entries = HashMap::with_capacity(events.len());
        for event in events {
            if let Some((lat, lon)) = event.location {
                sphere.push(SpherePoint::new(unit_vector(lat, lon), event.id));
                plane.push(plane_point(&event, lat, lon));
                entries.insert(event.id, event);
            }
        }
        Self {
            entries,
            sphere: RTree::bulk_load(sphere),
            plane: RTree::bulk_load(plane),
        }
    }

    fn remove(&mut self, id: i64) {
        if let Some(old) = self.entries.remove(&id)
            && let Some((lat, lon)) = old.location
        {
            self.sphere
                .remove(&SpherePoint::new(unit_vector(lat, lon), id));
            self.plane.remove(&plane_point(&old, lat, lon));
        }
    }

    fn upsert(&mut self, event: EventSummary) {
        self.remove(event.id);
        if let Some((lat, lon)) = event.location {
            self.sphere
                .insert(SpherePoint::new(unit_vector(lat, lon), event.id));
            self.plane.insert(plane_point(&event, lat, lon));
            self.entries.insert(event.id, event);
        }
    }

    fn nearby(&self, query: &NearbyQuery) -> Vec<(EventSummary, f64)> {
        let want = query.offset.saturating_add(query.limit);
        if query.limit == 0 || !query.radius_km.is_finite() || query.radius_km < 0.0 {
            return Vec::new();
        }
        let center = unit_vector(query.center.0, query.center.1);
        // A hair of slack so rounding never drops an event on the edge: the exact
        // haversine test below decides.
        let reach = chord_2(query.radius_km) * (1.0 + 1e-9) + 1e-15;
        let mut found: Vec<(&EventSummary, f64)> = Vec::new();
        // Once `want` events are found, keep going only through ties with the last one,
        // so the start-time order among equally distant events is honoured.
        let mut boundary: Option<f64> = None;
        for (point, d2) in self.sphere.nearest_neighbor_iter_with_distance_2(&center) {
            if d2 > reach || boundary.is_some_and(|b| d2 > b) {
                break;
            }
            let Some(event) = self.entries.get(&point.data) else {
                continue;
            };
            if !wanted(
                event.kind,
                event.starts_at,
                &query.kinds,
                query.starts_after,
                query.starts_before,
            ) {
                continue;
            }
            let Some(location) = event.location else {
                continue;
            };
            let km = distance_km(query.center, location);
            if km > query.radius_km {
                continue;
            }
            found.push((event, km));
            if found.len() == want {
                boundary = Some(d2 * (1.0 + 1e-9) + 1e-15);
            }
        }
        found.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then(a.0.starts_at.cmp(&b.0.starts_at))
                .then(a.0.id.cmp(&b.0.id))
        });
        found
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|(event, km)| (event.clone(), km))
            .collect()
    }
}

impl EventIndex {
    /// An empty index, filled at first use.
    pub(crate) fn new() -> Self {
        Self {
            snapshot: RwLock::new(Snapshot::default()),
            refresher: tokio::sync::Mutex::new(Refresher {
                read_started: 0,
                last_rebuild: None,
            }),
            dirty: AtomicBool::new(false),
            born: Instant::now(),
            refreshed: AtomicU64::new(0),
        }
    }

    /// Runs `f` on the current snapshot. The lock is held only while `f` runs, which
    /// never awaits.
    pub(super) fn read<R>(&self, f: impl FnOnce(&Snapshot) -> R) -> R {
        let guard = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        f(&guard)
    }

    fn write(&self, f: impl FnOnce(&mut Snapshot)) {
        let mut guard = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut guard);
    }

    fn built(&self) -> bool {
        self.refreshed.load(Ordering::Acquire) != 0
    }

    fn stale(&self) -> bool {
        let last = self.refreshed.load(Ordering::Acquire);
        let now = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        let every = u64::try_from(REFRESH_EVERY.as_millis()).unwrap_or(u64::MAX);
        last == 0
            || self.dirty.load(Ordering::Acquire)
            || now.saturating_add(1).saturating_sub(last) >= every
    }

    fn mark_refreshed(&self) {
        let now = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.refreshed
            .store(now.saturating_add(1).max(1), Ordering::Release);
    }
}

fn discoverable(row: &sqlx::any::AnyRow, now: Millis) -> Result<bool, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let visibility: String = row.try_get("visibility")?;
    let deleted_at: Option<Millis> = row.try_get("deleted_at")?;
    let latitude: Option<f64> = row.try_get("latitude")?;
    let longitude: Option<f64> = row.try_get("longitude")?;
    let ends_at: Millis = row.try_get("ends_at")?;
    Ok(status == "live"
        && visibility == "public"
        && deleted_at.is_none()
        && latitude.is_some()
        && longitude.is_some()
        && ends_at >= now - KEEP_AFTER_END_MS)
}

impl Store {
    /// Tells this node's index that events changed here, so the next query reads them.
    pub(crate) fn events_changed(&self) {
        self.inner.event_index.dirty.store(true, Ordering::Release);
    }

    /// Brings the discovery index up to date now (reading what changed since the last
    /// refresh, or everything when a rebuild is due). Queries do this by themselves when
    /// the index is more than a second old; tests and bulk loads call it to be sure.
    pub async fn refresh_event_index(&self) -> Result<(), StoreError> {
        let mut refresher = self.inner.event_index.refresher.lock().await;
        self.refresh_locked(&mut refresher).await
    }

    /// Refreshes the index when it is stale. A query waits for a refresh in progress only
    /// when it must (first use, or a local write not yet read); otherwise it is served
    /// from the picture at hand while another task refreshes.
    pub(super) async fn fresh_event_index(&self) -> Result<&EventIndex, StoreError> {
        let index = &self.inner.event_index;
        if !index.stale() {
            return Ok(index);
        }
        let mut refresher = if !index.built() || index.dirty.load(Ordering::Acquire) {
            index.refresher.lock().await
        } else {
            match index.refresher.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(index),
            }
        };
        if index.stale() {
            self.refresh_locked(&mut refresher).await?;
        }
        Ok(index)
    }

    async fn refresh_locked(&self, refresher: &mut Refresher) -> Result<(), StoreError> {
        let index = &self.inner.event_index;
        index.dirty.store(false, Ordering::Release);
        let result = if refresher
            .last_rebuild
            .is_none_or(|at| at.elapsed() >= REBUILD_EVERY)
        {
            self.rebuild_index(refresher).await
        } else {
            self.catch_up_index(refresher).await
        };
        match result {
            Ok(()) => {
                index.mark_refreshed();
                Ok(())
            }
            Err(e) => {
                index.dirty.store(true, Ordering::Release);
                Err(e)
            }
        }
    }

    async fn rebuild_index(&self, refresher: &mut Refresher) -> Result<(), StoreError> {
        let now = now_millis();
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM events
             WHERE status = 'live' AND visibility = 'public' AND deleted_at IS NULL
               AND latitude IS NOT NULL AND longitude IS NOT NULL AND ends_at >= $1"
        ))
        .bind(now - KEEP_AFTER_END_MS)
        .fetch_all(self.reader())
        .await?;
        let events = rows
            .iter()
            .map(EventSummary::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let fresh = Snapshot::build(events);
        self.inner.event_index.write(|snapshot| *snapshot = fresh);
        refresher.read_started = now;
        refresher.last_rebuild = Some(Instant::now());
        Ok(())
    }

    async fn catch_up_index(&self, refresher: &mut Refresher) -> Result<(), StoreError> {
        let now = now_millis();
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS}, visibility, deleted_at FROM events WHERE updated_at >= $1"
        ))
        .bind(refresher.read_started - OVERLAP_MS)
        .fetch_all(self.reader())
        .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let keep = if discoverable(row, now)? {
                Some(EventSummary::from_row(row)?)
            } else {
                None
            };
            changes.push((id, keep));
        }
        self.inner.event_index.write(|snapshot| {
            for (id, keep) in changes {
                match keep {
                    Some(event) => snapshot.upsert(event),
                    None => snapshot.remove(id),
                }
            }
        });
        refresher.read_started = now;
        Ok(())
    }

    /// Discoverable events within `query.radius_km` of `query.center`, nearest first
    /// (then by start time), each with its great-circle distance in kilometres. Served
    /// from the in-memory index; never scans the events table.
    pub async fn nearby_events(
        &self,
        query: &NearbyQuery,
    ) -> Result<Vec<(EventSummary, f64)>, StoreError> {
        let index = self.fresh_event_index().await?;
        Ok(index.read(|snapshot| snapshot.nearby(query)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn chord_order_matches_distance_order() {
        let london = (51.5074, -0.1278);
        let places = [(53.4808, -2.2426), (52.4862, -1.8904), (55.9533, -3.1883)];
        let mut by_km: Vec<_> = places.iter().map(|p| distance_km(london, *p)).collect();
        let center = unit_vector(london.0, london.1);
        let mut by_chord: Vec<_> = places
            .iter()
            .map(|p| {
                let v = unit_vector(p.0, p.1);
                (0..3).map(|i| (v[i] - center[i]).powi(2)).sum::<f64>()
            })
            .collect();
        for (km, c2) in by_km.iter().zip(&by_chord) {
            assert!((chord_2(*km) - c2).abs() < 1e-12);
        }
        by_km.sort_by(f64::total_cmp);
        by_chord.sort_by(f64::total_cmp);
        assert!((by_km[0] - 162.0).abs() < 2.0, "{}", by_km[0]);
    }
}
