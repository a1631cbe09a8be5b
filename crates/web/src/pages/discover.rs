//! Finding events: the public map page `/events` (filters, search by postcode or town, and
//! a server-rendered list so it works without JavaScript), the no-JavaScript search
//! results `/events/near`, the map's JSON, and the embeddable widget
//! `/embed/groups/{slug}` that other sites may frame. Shows public events only, placed no
//! more precisely than their postcode district.

mod cards;
mod json;
mod query;
mod search;

pub(crate) use cards::{
    EventCard, GroupScope, group_scope, postcode_district, rfc3339, round_km, when_short,
};
pub(crate) use json::{FilterParams, SearchParams, run_search, upcoming_cards};
pub(crate) use query::{ParamError, given, parse_instant, parse_kinds, parse_radius};
pub(crate) use search::{Filters, SearchError, geocoder, group_upcoming, locate};

use super::layout::{Layout, render};
use crate::auth::RequestContext;
use crate::{AppState, PageError, WebConfig};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_domain::event::EventKind;
use barnstorm_store::geocode::POSTCODE_ATTRIBUTION;
use query::{DEFAULT_RADIUS_KM, RADIUS_PRESETS};

/// How many upcoming events the page lists before the map takes over.
const PAGE_LIST: usize = 50;
/// How many results the no-JavaScript search lists.
const NEAR_LIST: usize = 100;

/// The markup that embeds a group's events widget in another site, for organisers to copy.
pub fn embed_snippet(config: &WebConfig, slug: &str) -> String {
    let src = config.absolute(&format!("/embed/groups/{slug}"));
    format!(
        "<iframe src=\"{src}\" title=\"Events\" width=\"100%\" height=\"600\" style=\"border:0\" loading=\"lazy\"></iframe>"
    )
}

/// An event type as the filter shows it.
struct TypeOption {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

/// The map's settings, written into `data-` attributes for map.js.
struct MapSettings {
    /// Tiles from a tile server; empty with a basemap or with tiles off.
    tile_url: String,
    tile_attribution: String,
    /// `vector` or `raster` when the operator's PMTiles archive is served; else empty.
    basemap_tiles: &'static str,
    basemap_path: &'static str,
    basemap_max_zoom: u8,
    /// Who the map background is credited to, under the map.
    credit: String,
    group: String,
    embed: bool,
}

/// The built-in outline's source, credited when there is no other background.
const OUTLINE_CREDIT: &str = "Natural Earth";

impl MapSettings {
    fn new(config: &WebConfig, group: &str, embed: bool) -> Self {
        let tile_url = config.map_tile_url().to_owned();
        let outline = tile_url.is_empty() && config.basemap.is_none();
        let tile_attribution = if outline {
            String::new()
        } else {
            config.tile_attribution.clone()
        };
        Self {
            tile_url,
            credit: if outline {
                OUTLINE_CREDIT.to_owned()
            } else {
                tile_attribution.clone()
            },
            tile_attribution,
            basemap_tiles: config.basemap.as_ref().map_or("", |b| b.tiles.as_str()),
            basemap_path: crate::BASEMAP_PATH,
            basemap_max_zoom: config.basemap.as_ref().map_or(0, |b| b.max_zoom),
            group: group.to_owned(),
            embed,
        }
    }
}

/// A search that ran.
struct SearchSummary {
    label: String,
    radius_km: String,
    host_url: String,
}

#[derive(Template)]
#[template(path = "events/map.html")]
struct MapPage {
    layout: Layout,
    map: MapSettings,
    attribution: &'static str,
    types: Vec<TypeOption>,
    from: String,
    to: String,
    q: String,
    radii: Vec<(u32, bool)>,
    problem: Option<String>,
    search: Option<SearchSummary>,
    cards: Vec<EventCard>,
}

/// The filter form's fields, as typed (`types` may repeat, as checkboxes send it).
#[derive(Debug, Default)]
struct PageParams {
    types: Vec<String>,
    from: String,
    to: String,
    q: String,
    radius_km: String,
}

impl PageParams {
    fn read(pairs: Vec<(String, String)>) -> Self {
        let mut params = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "types" => params.types.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned),
                ),
                "from" => params.from = value,
                "to" => params.to = value,
                "q" => params.q = value,
                "radius_km" => params.radius_km = value,
                _ => {}
            }
        }
        params
    }

    fn filter_params(&self) -> FilterParams {
        FilterParams {
            types: Some(self.types.join(",")),
            from: Some(self.from.clone()),
            to: Some(self.to.clone()),
            group: None,
        }
    }

    fn page(&self, layout: Layout, config: &WebConfig) -> MapPage {
        let chosen: Vec<EventKind> =
            parse_kinds("types", Some(&self.types.join(","))).unwrap_or_default();
        let radius = parse_radius("radius_km", Some(&self.radius_km), DEFAULT_RADIUS_KM, 200.0)
            .unwrap_or(DEFAULT_RADIUS_KM);
        MapPage {
            layout,
            map: MapSettings::new(config, "", false),
            attribution: POSTCODE_ATTRIBUTION,
            types: EventKind::ALL
                .iter()
                .map(|kind| TypeOption {
                    value: kind.as_str(),
                    label: kind.label(),
                    checked: chosen.contains(kind),
                })
                .collect(),
            from: self.from.clone(),
            to: self.to.clone(),
            q: self.q.clone(),
            radii: RADIUS_PRESETS
                .iter()
                .map(|r| (*r, (f64::from(*r) - radius).abs() < f64::EPSILON))
                .collect(),
            problem: None,
            search: None,
            cards: Vec::new(),
        }
    }
}

/// Where a page's search or filters went wrong, for the person.
fn problem_text(err: SearchError) -> Result<String, PageError> {
    match err {
        SearchError::Param(param) => Ok(format!("{}: {}", param.field, param.message)),
        SearchError::Place(message) => Ok(message),
        SearchError::Store(store) => Err(store.into()),
    }
}

/// `GET /events`: the map, its filters and the first upcoming events.
async fn map_page(
    State(state): State<AppState>,
    context: RequestContext,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = PageParams::read(pairs);
    let mut page = params.page(Layout::new(&context), &state.config);
    match upcoming_cards(&state, &params.filter_params(), PAGE_LIST).await {
        Ok(cards) => page.cards = cards,
        Err(err) => page.problem = Some(problem_text(err)?),
    }
    Ok(render(&page))
}

/// `GET /events/near?q&radius_km`: search results without JavaScript, nearest first.
async fn near_page(
    State(state): State<AppState>,
    context: RequestContext,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let params = PageParams::read(pairs);
    let mut page = params.page(Layout::new(&context), &state.config);
    let search = SearchParams {
        q: Some(params.q.clone()),
        radius_km: Some(params.radius_km.clone()),
        filters: params.filter_params(),
    };
    match run_search(&state, &search, NEAR_LIST).await {
        Ok(outcome) => {
            page.search = Some(SearchSummary {
                label: outcome.place.label,
                radius_km: format!("{}", round_km(outcome.radius_km)),
                host_url: json::host_url(&params.q),
            });
            page.cards = outcome.results;
        }
        Err(err) => page.problem = Some(problem_text(err)?),
    }
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "embed.html")]
struct EmbedPage {
    group_name: String,
    map: MapSettings,
    attribution: &'static str,
    cards: Vec<EventCard>,
    base_url: String,
}

/// `GET /embed/groups/{slug}`: a group's map and list, without site chrome, for other
/// sites to frame.
async fn embed_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let scope = group_scope(&state.store, &slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))?;
    let filters = Filters {
        starts_after: barnstorm_store::now_millis(),
        ..Filters::default()
    };
    let events = group_upcoming(&state.store, &scope, &filters, NEAR_LIST).await?;
    let page = EmbedPage {
        group_name: scope.group.name.clone(),
        map: MapSettings::new(&state.config, &scope.group.slug, true),
        attribution: POSTCODE_ATTRIBUTION,
        cards: events.iter().map(EventCard::new).collect(),
        base_url: state.config.base_url.clone(),
    };
    // Any site may frame the widget (see `security_headers`); nothing else may be framed.
    Ok(render(&page))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events", get(map_page))
        .route("/events/near", get(near_page))
        .route("/events/map.json", get(json::map_json))
        .route("/events/search.json", get(json::search_json))
        .route("/embed/groups/{slug}", get(embed_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embed_snippet_frames_the_widget() {
        let config = WebConfig::new("https://organise.example.org/");
        assert_eq!(
            embed_snippet(&config, "leeds"),
            "<iframe src=\"https://organise.example.org/embed/groups/leeds\" title=\"Events\" width=\"100%\" height=\"600\" style=\"border:0\" loading=\"lazy\"></iframe>"
        );
    }
}
