//! Map viewports served from the discovery index: the events inside a box, clustered on a
//! grid of about 60 screen pixels at the map's zoom so the browser never receives more
//! than a few hundred markers, plus the first events by start time for the list beside
//! the map. Reads only the in-memory index; never the events table.

use super::index::{MapPoint, Snapshot, wanted};
use super::model::EventSummary;
use crate::{Millis, Store, StoreError};
use barnstorm_domain::event::EventKind;
use rstar::AABB;
use std::collections::HashMap;

/// How many events [`MapView::list`] holds at most.
pub const MAP_LIST_LIMIT: usize = 100;
/// Width of a grid cell in screen pixels.
const CELL_PIXELS: f64 = 60.0;
/// Width of a Web-Mercator tile in pixels.
const TILE_PIXELS: f64 = 256.0;
/// From this zoom on, every event is its own marker.
const UNCLUSTERED_ZOOM: u8 = 15;
/// The latitude where Web-Mercator stops.
const MAX_MERCATOR_LAT: f64 = 85.051_128_78;

/// A map viewport and the events wanted in it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapQuery {
    /// Southern edge (latitude).
    pub south: f64,
    /// Western edge (longitude; may be less than -180 or more than 180 after panning).
    pub west: f64,
    /// Northern edge (latitude).
    pub north: f64,
    /// Eastern edge (longitude).
    pub east: f64,
    /// The map's zoom level (0 = the whole world in one 256-pixel tile).
    pub zoom: u8,
    /// Kinds to include; empty for all.
    pub kinds: Vec<EventKind>,
    /// Only events starting at or after this.
    pub starts_after: Millis,
    /// Only events starting before this.
    pub starts_before: Option<Millis>,
}

/// Several events close together on screen, drawn as one marker with a count.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Mean latitude of its events.
    pub lat: f64,
    /// Mean longitude of its events.
    pub lon: f64,
    /// How many events it stands for.
    pub count: usize,
    /// Southern edge of its events (zooming to these bounds splits it).
    pub south: f64,
    /// Western edge of its events.
    pub west: f64,
    /// Northern edge of its events.
    pub north: f64,
    /// Eastern edge of its events.
    pub east: f64,
}

/// What a map viewport shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapView {
    /// Grid cells holding more than one event, by position.
    pub clusters: Vec<Cluster>,
    /// Events alone in their cell (every event at zoom 15 and above), by start time.
    pub events: Vec<EventSummary>,
    /// Up to [`MAP_LIST_LIMIT`] events in the viewport by start time, for the list.
    pub list: Vec<EventSummary>,
    /// Every event in the viewport: the cluster counts plus the single events.
    pub total: usize,
}

/// Width of a grid cell in degrees of longitude at `zoom`.
fn cell_degrees(zoom: u8) -> f64 {
    360.0 / 2f64.powi(i32::from(zoom.min(30))) * CELL_PIXELS / TILE_PIXELS
}

/// Web-Mercator y in radians of longitude, so cells are square on screen.
pub(super) fn mercator_y(lat: f64) -> f64 {
    let phi = lat.clamp(-MAX_MERCATOR_LAT, MAX_MERCATOR_LAT).to_radians();
    (std::f64::consts::FRAC_PI_4 + phi / 2.0).tan().ln()
}

/// The boxes (one, or two across the antimeridian) a viewport covers, as (lon, lat).
fn boxes(query: &MapQuery) -> Vec<AABB<[f64; 2]>> {
    let south = query.south.min(query.north);
    let north = query.south.max(query.north);
    let span = query.east - query.west;
    if !span.is_finite() || span >= 360.0 {
        return vec![AABB::from_corners([-180.0, south], [180.0, north])];
    }
    if span < 0.0 {
        return Vec::new();
    }
    let west = (query.west + 180.0).rem_euclid(360.0) - 180.0;
    let east = west + span;
    if east <= 180.0 {
        vec![AABB::from_corners([west, south], [east, north])]
    } else {
        vec![
            AABB::from_corners([west, south], [180.0, north]),
            AABB::from_corners([-180.0, south], [east - 360.0, north]),
        ]
    }
}

struct Cell {
    first: i64,
    count: usize,
    sum_lat: f64,
    sum_lon: f64,
    south: f64,
    west: f64,
    north: f64,
    east: f64,
}

/// An event in the viewport: where it is and what the map knows of it.
type Placed<'a> = ([f64; 2], &'a MapPoint);

fn by_start(a: &Placed, b: &Placed) -> std::cmp::Ordering {
    a.1.starts_at.cmp(&b.1.starts_at).then(a.1.id.cmp(&b.1.id))
}

impl Snapshot {
    fn summaries(&self, ids: impl Iterator<Item = i64>) -> Vec<EventSummary> {
        ids.filter_map(|id| self.entries.get(&id).cloned())
            .collect()
    }

    fn map_view(&self, query: &MapQuery) -> MapView {
        let mut inside: Vec<Placed> = Vec::new();
        for envelope in boxes(query) {
            for point in self.plane.locate_in_envelope(&envelope) {
                let data = &point.data;
                if wanted(
                    data.kind,
                    data.starts_at,
                    &query.kinds,
                    query.starts_after,
                    query.starts_before,
                ) {
                    inside.push((*point.geom(), data));
                }
            }
        }
        let total = inside.len();
        let mut view = MapView {
            total,
            ..MapView::default()
        };
        if query.zoom >= UNCLUSTERED_ZOOM {
            view.events = self.summaries(inside.iter().map(|(_, data)| data.id));
        } else {
            let size = cell_degrees(query.zoom);
            let size_y = size.to_radians();
            let mut cells: HashMap<(i64, i64), Cell> = HashMap::new();
            for ([lon, lat], data) in &inside {
                let (lat, lon) = (*lat, *lon);
                let key = (
                    ((lon + 180.0) / size).floor() as i64,
                    (data.mercator_y / size_y).floor() as i64,
                );
                let cell = cells.entry(key).or_insert(Cell {
                    first: data.id,
                    count: 0,
                    sum_lat: 0.0,
                    sum_lon: 0.0,
                    south: lat,
                    west: lon,
                    north: lat,
                    east: lon,
                });
                cell.count += 1;
                cell.sum_lat += lat;
                cell.sum_lon += lon;
                cell.south = cell.south.min(lat);
                cell.north = cell.north.max(lat);
                cell.west = cell.west.min(lon);
                cell.east = cell.east.max(lon);
            }
            let mut cells: Vec<_> = cells.into_iter().collect();
            cells.sort_by_key(|(key, _)| *key);
            let mut singles = Vec::new();
            for (_, cell) in cells {
                if cell.count == 1 {
                    singles.push(cell.first);
                } else {
                    let n = cell.count as f64;
                    view.clusters.push(Cluster {
                        lat: cell.sum_lat / n,
                        lon: cell.sum_lon / n,
                        count: cell.count,
                        south: cell.south,
                        west: cell.west,
                        north: cell.north,
                        east: cell.east,
                    });
                }
            }
            view.events = self.summaries(singles.into_iter());
        }
        view.events
            .sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.id.cmp(&b.id)));
        if inside.len() > MAP_LIST_LIMIT {
            inside.select_nth_unstable_by(MAP_LIST_LIMIT, by_start);
            inside.truncate(MAP_LIST_LIMIT);
        }
        inside.sort_by(by_start);
        view.list = self.summaries(inside.iter().map(|(_, data)| data.id));
        view
    }
}

impl Store {
    /// The discoverable events in a map viewport, clustered on a grid of about 60 screen
    /// pixels at `query.zoom` (cells holding one event, and every event from zoom 15 on,
    /// come back as events), with the first [`MAP_LIST_LIMIT`] by start time for the list.
    /// Served from the in-memory index.
    pub async fn map_view(&self, query: &MapQuery) -> Result<MapView, StoreError> {
        let index = self.fresh_event_index().await?;
        Ok(index.read(|snapshot| snapshot.map_view(query)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_sixty_pixels_wide() {
        assert!((cell_degrees(0) - 84.375).abs() < 1e-9);
        assert!((cell_degrees(10) - 84.375 / 1024.0).abs() < 1e-12);
        assert!(mercator_y(0.0).abs() < 1e-12);
    }

    #[test]
    fn a_viewport_across_the_antimeridian_is_two_boxes() {
        let query = MapQuery {
            south: -10.0,
            west: 170.0,
            north: 10.0,
            east: 200.0,
            zoom: 3,
            kinds: Vec::new(),
            starts_after: 0,
            starts_before: None,
        };
        assert_eq!(boxes(&query).len(), 2);
        let whole = MapQuery {
            west: -400.0,
            ..query
        };
        assert_eq!(boxes(&whole).len(), 1);
    }
}
