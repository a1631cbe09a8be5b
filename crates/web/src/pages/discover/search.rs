//! The searches behind discovery: a map viewport (clustered by the store's index) and
//! "events near a place" (geocode, then the index's nearby search), each optionally limited
//! to a group and the groups below it. Shared by the JSON endpoints, the no-JavaScript
//! pages, the feeds and the API; answering in a format is the caller's job.

use super::cards::GroupScope;
use super::query::{ParamError, Viewport};
use crate::AppState;
use barnstorm_domain::event::EventKind;
use barnstorm_store::events::{EventSummary, MAP_LIST_LIMIT, MapQuery, MapView, NearbyQuery};
use barnstorm_store::{GeocodeError, Place, Store, StoreError};

/// Which events a search wants.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filters {
    /// Kinds; empty for all.
    pub kinds: Vec<EventKind>,
    /// Starting at or after this.
    pub starts_after: i64,
    /// Starting before this.
    pub starts_before: Option<i64>,
    /// Only these groups' events (a hub and the groups below it).
    pub group_ids: Option<Vec<i64>>,
}

impl Filters {
    /// Filters on a group scope, when there is one.
    pub(crate) fn in_scope(mut self, scope: Option<&GroupScope>) -> Self {
        self.group_ids = scope.map(|s| s.ids.clone());
        self
    }

    fn admits(&self, event: &EventSummary) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && event.starts_at >= self.starts_after
            && self
                .starts_before
                .is_none_or(|before| event.starts_at < before)
            && self
                .group_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&event.group_id))
    }
}

/// Why a search found nothing to show.
#[derive(Debug)]
pub(crate) enum SearchError {
    /// A parameter could not be used.
    Param(ParamError),
    /// The place typed is not one we can find; the message is for the person.
    Place(String),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for SearchError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<ParamError> for SearchError {
    fn from(err: ParamError) -> Self {
        Self::Param(err)
    }
}

/// The most events a group-limited viewport returns as markers (a hub has few).
const GROUP_MARKERS: usize = 1_000;
/// How far ahead a group's listings look when no end date is given (~2 years).
const GROUP_HORIZON_MS: i64 = 2 * 366 * 24 * 3_600_000;

/// What the map shows in `viewport`.
pub(crate) async fn map_view(
    store: &Store,
    viewport: Viewport,
    filters: &Filters,
) -> Result<MapView, StoreError> {
    let Some(group_ids) = &filters.group_ids else {
        return store
            .map_view(&MapQuery {
                south: viewport.south,
                west: viewport.west,
                north: viewport.north,
                east: viewport.east,
                zoom: viewport.zoom,
                kinds: filters.kinds.clone(),
                starts_after: filters.starts_after,
                starts_before: filters.starts_before,
            })
            .await;
    };
    // A hub's own events are few: list them from the table, unclustered.
    let until = filters
        .starts_before
        .unwrap_or_else(|| filters.starts_after.saturating_add(GROUP_HORIZON_MS));
    let events: Vec<EventSummary> = store
        .group_events(group_ids, false, filters.starts_after, until)
        .await?
        .into_iter()
        .filter(|e| filters.admits(e))
        .filter(|e| {
            e.location.is_some_and(|(lat, lon)| {
                (viewport.south..=viewport.north).contains(&lat)
                    && (viewport.west..=viewport.east).contains(&lon)
            })
        })
        .take(GROUP_MARKERS)
        .collect();
    Ok(MapView {
        clusters: Vec::new(),
        total: events.len(),
        list: events.iter().take(MAP_LIST_LIMIT).cloned().collect(),
        events,
    })
}

/// A group's upcoming public events by start, whatever their place (online included).
pub(crate) async fn group_upcoming(
    store: &Store,
    scope: &GroupScope,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<EventSummary>, StoreError> {
    let until = filters
        .starts_before
        .unwrap_or_else(|| filters.starts_after.saturating_add(GROUP_HORIZON_MS));
    Ok(store
        .group_events(&scope.ids, false, filters.starts_after, until)
        .await?
        .into_iter()
        // `group_events` also lists events under way; listings show those still to start.
        .filter(|e| filters.admits(e))
        .take(limit)
        .collect())
}

/// The instance's geocoder.
pub(crate) fn geocoder(state: &AppState) -> &crate::geocoder::Geocoder {
    &state.geocoder
}

/// Looks up what a person typed: a postcode, a district or a town (or, with an external
/// geocoder configured, any UK place).
pub(crate) async fn locate(state: &AppState, query: &str) -> Result<Place, SearchError> {
    if query.trim().is_empty() {
        return Err(SearchError::Place(
            "Enter a postcode (like SW1A 1AA), a postcode district (like SW1A) or a town."
                .to_owned(),
        ));
    }
    geocoder(state)
        .locate(query)
        .await
        .map_err(|err| match err {
            GeocodeError::Store(store) => SearchError::Store(store),
            other => SearchError::Place(other.to_string()),
        })
}

/// Events within `radius_km` of `place`, nearest first, at most `limit`.
pub(crate) async fn near(
    store: &Store,
    place: &Place,
    radius_km: f64,
    filters: &Filters,
    limit: usize,
) -> Result<Vec<(EventSummary, f64)>, StoreError> {
    let query = NearbyQuery {
        center: (place.location.lat, place.location.lon),
        radius_km,
        kinds: filters.kinds.clone(),
        starts_after: filters.starts_after,
        starts_before: filters.starts_before,
        limit: if filters.group_ids.is_some() {
            limit.saturating_mul(20)
        } else {
            limit
        },
        offset: 0,
    };
    let mut found = store.nearby_events(&query).await?;
    found.retain(|(event, _)| filters.admits(event));
    found.truncate(limit);
    Ok(found)
}
