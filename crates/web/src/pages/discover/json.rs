//! The map's JSON: `GET /events/map.json` (clusters, single markers and the list for a
//! viewport) and `GET /events/search.json` (events near a postcode or town, nearest first).
//! Bad parameters answer 400 naming the parameter; a place we cannot find answers 422
//! `unknown_place`. Public data only: no addresses, only postcode districts.

use super::cards::{EventCard, GroupScope, group_scope};
use super::query::{
    DEFAULT_RADIUS_KM, MAX_RADIUS_KM, ParamError, parse_day, parse_kinds, parse_radius,
    parse_viewport,
};
use super::search::{self, Filters, SearchError};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use barnstorm_domain::event::LocationPrecision;
use barnstorm_store::events::Cluster;
use barnstorm_store::now_millis;
use serde::{Deserialize, Serialize};

/// Results a search returns at most.
pub(crate) const SEARCH_LIMIT: usize = 200;

/// The filters every discovery endpoint takes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FilterParams {
    /// Comma-separated event types.
    pub types: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (included).
    pub to: Option<String>,
    /// A group's slug: only its events and those of the groups below it.
    pub group: Option<String>,
}

impl FilterParams {
    /// The filters, checked; `group` is resolved by [`FilterParams::scope`].
    pub(crate) fn filters(&self) -> Result<Filters, ParamError> {
        let now = now_millis();
        Ok(Filters {
            kinds: parse_kinds("types", self.types.as_deref())?,
            starts_after: parse_day("from", self.from.as_deref(), false)?
                .map_or(now, |from| from.max(now)),
            starts_before: parse_day("to", self.to.as_deref(), true)?,
            group_ids: None,
        })
    }

    /// The group named by `group=`, if given; an unknown slug is a parameter error.
    pub(crate) async fn scope(&self, state: &AppState) -> Result<Option<GroupScope>, SearchError> {
        let Some(slug) = self
            .group
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        match group_scope(&state.store, slug).await? {
            Some(scope) => Ok(Some(scope)),
            None => Err(SearchError::Param(ParamError::new(
                "group",
                format!("there is no group '{slug}'"),
            ))),
        }
    }
}

fn api_error(err: SearchError) -> ApiError {
    match err {
        SearchError::Param(param) => param.api(StatusCode::BAD_REQUEST),
        SearchError::Place(message) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_place",
            message.clone(),
        )
        .with_details(serde_json::json!({ "field": "q", "problem": message })),
        SearchError::Store(store) => store.into(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MapParams {
    south: Option<String>,
    west: Option<String>,
    north: Option<String>,
    east: Option<String>,
    zoom: Option<String>,
    #[serde(flatten)]
    filters: FilterParams,
}

/// A cluster marker.
#[derive(Debug, Serialize)]
pub(crate) struct ClusterJson {
    lat: f64,
    lon: f64,
    count: usize,
    south: f64,
    west: f64,
    north: f64,
    east: f64,
}

impl From<&Cluster> for ClusterJson {
    fn from(c: &Cluster) -> Self {
        Self {
            lat: c.lat,
            lon: c.lon,
            count: c.count,
            south: c.south,
            west: c.west,
            north: c.north,
            east: c.east,
        }
    }
}

/// What the map draws for a viewport.
#[derive(Debug, Serialize)]
pub(crate) struct MapJson {
    clusters: Vec<ClusterJson>,
    events: Vec<EventCard>,
    list: Vec<EventCard>,
    total: usize,
}

/// `GET /events/map.json?south&west&north&east&zoom[&types][&from][&to][&group]`.
pub(crate) async fn map_json(
    State(state): State<AppState>,
    Query(params): Query<MapParams>,
) -> Result<Json<MapJson>, ApiError> {
    let viewport = parse_viewport(
        params.south.as_deref(),
        params.west.as_deref(),
        params.north.as_deref(),
        params.east.as_deref(),
        params.zoom.as_deref(),
    )
    .map_err(|e| e.api(StatusCode::BAD_REQUEST))?;
    let filters = params
        .filters
        .filters()
        .map_err(|e| e.api(StatusCode::BAD_REQUEST))?;
    let scope = params.filters.scope(&state).await.map_err(api_error)?;
    let filters = filters.in_scope(scope.as_ref());
    let view = search::map_view(&state.store, viewport, &filters).await?;
    Ok(Json(MapJson {
        clusters: view.clusters.iter().map(ClusterJson::from).collect(),
        events: view.events.iter().map(EventCard::new).collect(),
        list: view.list.iter().map(EventCard::new).collect(),
        total: view.total,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchParams {
    /// A postcode, district or town.
    pub q: Option<String>,
    /// Radius in km (default 10).
    pub radius_km: Option<String>,
    #[serde(flatten)]
    pub filters: FilterParams,
}

/// The place a search is centred on.
#[derive(Debug, Serialize)]
pub(crate) struct PlaceJson {
    label: String,
    lat: f64,
    lon: f64,
}

/// Events near a place.
#[derive(Debug, Serialize)]
pub(crate) struct SearchJson {
    place: PlaceJson,
    radius_km: f64,
    results: Vec<EventCard>,
    /// Where to host an event here ("nothing near you — host one").
    host_url: String,
}

/// The "host an event" link, with the place searched for filled in.
pub(crate) fn host_url(query: &str) -> String {
    let query = query.trim();
    if query.is_empty() {
        "/events/new".to_owned()
    } else {
        format!(
            "/events/new?{}",
            serde_urlencoded::to_string([("postcode", query)]).unwrap_or_default()
        )
    }
}

/// A search, run: the place found, the radius and the cards nearest first.
pub(crate) struct SearchOutcome {
    pub place: barnstorm_store::Place,
    pub radius_km: f64,
    pub results: Vec<EventCard>,
}

/// Runs a search from its parameters.
pub(crate) async fn run_search(
    state: &AppState,
    params: &SearchParams,
    limit: usize,
) -> Result<SearchOutcome, SearchError> {
    let radius_km = parse_radius(
        "radius_km",
        params.radius_km.as_deref(),
        DEFAULT_RADIUS_KM,
        MAX_RADIUS_KM,
    )?;
    let filters = params.filters.filters()?;
    let scope = params.filters.scope(state).await?;
    let filters = filters.in_scope(scope.as_ref());
    let place = search::locate(state, params.q.as_deref().unwrap_or("")).await?;
    let found = search::near(&state.store, &place, radius_km, &filters, limit).await?;
    let results = found
        .iter()
        .map(|(event, km)| {
            let approximate =
                [place.precision, event.precision].contains(&LocationPrecision::Outcode);
            EventCard::new(event).at_distance(*km, approximate)
        })
        .collect();
    Ok(SearchOutcome {
        place,
        radius_km,
        results,
    })
}

/// The first upcoming events anywhere (or in the `group`), by start, at most `limit`
/// (and at most [`barnstorm_store::events::MAP_LIST_LIMIT`]).
pub(crate) async fn upcoming_cards(
    state: &AppState,
    params: &FilterParams,
    limit: usize,
) -> Result<Vec<EventCard>, SearchError> {
    let filters = params.filters()?;
    let scope = params.scope(state).await?;
    let filters = filters.in_scope(scope.as_ref());
    let world = super::query::Viewport {
        south: -90.0,
        west: -180.0,
        north: 90.0,
        east: 180.0,
        zoom: 0,
    };
    let view = search::map_view(&state.store, world, &filters).await?;
    Ok(view.list.iter().take(limit).map(EventCard::new).collect())
}

/// `GET /events/search.json?q&radius_km[&types][&from][&to][&group]`.
pub(crate) async fn search_json(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchJson>, ApiError> {
    let outcome = run_search(&state, &params, SEARCH_LIMIT)
        .await
        .map_err(api_error)?;
    Ok(Json(SearchJson {
        place: PlaceJson {
            label: outcome.place.label.clone(),
            lat: outcome.place.location.lat,
            lon: outcome.place.location.lon,
        },
        radius_km: outcome.radius_km,
        results: outcome.results,
        host_url: host_url(params.q.as_deref().unwrap_or("")),
    }))
}
