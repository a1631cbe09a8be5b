//! Calendar and RSS feeds of public events: one event's `.ics`, a group's calendar and RSS
//! (the group and the groups below it), and a search or all upcoming events as `.ics` and
//! RSS. Only public (or, for a single event, unlisted) live or cancelled events appear, and
//! an address hidden until RSVP is given as its postcode district only. The text formats
//! are `barnstorm_domain::{calendar, feed}`'s; this module picks and shapes what goes in.

use crate::pages::discover::{
    EventCard, Filters, GroupScope, SearchError, SearchParams, group_scope, group_upcoming,
    postcode_district, run_search, when_short,
};
use crate::{AppState, PageError, WebConfig};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use barnstorm_domain::calendar::{CalendarEvent, calendar};
use barnstorm_domain::event::{EventStatus, Visibility};
use barnstorm_domain::feed::{FeedChannel, FeedItem, rss};
use barnstorm_domain::markdown::plain_summary;
use barnstorm_store::events::Event;
use barnstorm_store::{Store, StoreError, now_millis};

/// Events a feed holds at most.
const FEED_LIMIT: usize = 100;
/// Characters of description a feed entry carries.
const SUMMARY_CHARS: usize = 600;
const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";
const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";

/// Where an event is, as far as a feed may say: the address only when it is not hidden
/// until RSVP, otherwise its postcode district.
fn public_location(event: &Event) -> Option<String> {
    if event.address_after_rsvp {
        return event
            .postcode
            .as_deref()
            .and_then(postcode_district)
            .map(|district| format!("Near {district}"))
            .or_else(|| event.location.is_none().then(|| "Online".to_owned()));
    }
    let place = full_address(event);
    if place.is_empty() {
        event.location.is_none().then(|| "Online".to_owned())
    } else {
        Some(place)
    }
}

/// The event's address and postcode as its attendees see them ("Civic Hall, LS1 4AP"),
/// empty when it has neither.
pub(crate) fn full_address(event: &Event) -> String {
    [
        event.address.as_str(),
        event.postcode.as_deref().unwrap_or(""),
    ]
    .into_iter()
    .map(str::trim)
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// Coordinates a feed may carry: rounded to about a kilometre when the address is hidden.
fn public_geo(event: &Event) -> Option<(f64, f64)> {
    let round = |v: f64| (v * 100.0).round() / 100.0;
    event.location.map(|(lat, lon)| {
        if event.address_after_rsvp {
            (round(lat), round(lon))
        } else {
            (lat, lon)
        }
    })
}

/// One event's calendar as its attendees may see it: the full address and exact place,
/// for the mails sent to them.
pub(crate) fn attendee_calendar(config: &WebConfig, event: &Event) -> String {
    let place = [
        full_address(event),
        event.online_url.clone().unwrap_or_default(),
    ]
    .into_iter()
    .filter(|p| !p.trim().is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let entry = CalendarEvent {
        location: (!place.is_empty()).then_some(place),
        geo: event.location,
        ..calendar_event(config, event)
    };
    calendar(&event.title, &[entry])
}

fn calendar_event(config: &WebConfig, event: &Event) -> CalendarEvent {
    let host = url::Url::parse(&config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "barnstorm".to_owned());
    CalendarEvent {
        uid: format!("event-{}@{host}", event.id),
        title: event.title.clone(),
        description: plain_summary(&event.description, SUMMARY_CHARS),
        starts_at: event.starts_at,
        ends_at: event.ends_at,
        time_zone: event.time_zone.clone(),
        location: public_location(event),
        url: Some(config.absolute(&format!("/events/{}", event.id))),
        geo: public_geo(event),
        cancelled: event.status == EventStatus::Cancelled,
        updated_at: event.updated_at,
        // Grows with every change: seconds between creation and the last change.
        sequence: (event.updated_at - event.created_at).max(0) / 1000,
    }
}

fn feed_item(config: &WebConfig, event: &Event) -> FeedItem {
    let link = config.absolute(&format!("/events/{}", event.id));
    let card = when_short(event.starts_at, &event.time_zone);
    let place = public_location(event).unwrap_or_default();
    let summary = plain_summary(&event.description, SUMMARY_CHARS);
    let description = [
        event.kind.label(),
        card.as_str(),
        place.as_str(),
        summary.as_str(),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    FeedItem {
        title: event.title.clone(),
        guid: link.clone(),
        link,
        description,
        published_at: event.created_at,
    }
}

fn typed(content_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The full events behind listed cards, in the same order, public and live only.
async fn full_events(
    store: &Store,
    ids: impl Iterator<Item = i64>,
) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for id in ids.take(FEED_LIMIT) {
        if let Some(event) = store.event(id).await?
            && event.visibility == Visibility::Public
            && event.status == EventStatus::Live
        {
            events.push(event);
        }
    }
    Ok(events)
}

/// One event as iCalendar: public or unlisted, live or cancelled; anything else is 404.
pub(crate) async fn event_ics(state: &AppState, id: i64) -> Response {
    let found = match state.store.event(id).await {
        Ok(found) => found,
        Err(err) => return PageError::from(err).into_response(),
    };
    let Some(event) = found.filter(|e| {
        matches!(e.visibility, Visibility::Public | Visibility::Unlisted)
            && matches!(e.status, EventStatus::Live | EventStatus::Cancelled)
    }) else {
        return PageError::not_found("There is no such event, or it is not public.")
            .into_response();
    };
    let body = calendar(&event.title, &[calendar_event(&state.config, &event)]);
    let mut response = typed(CALENDAR_TYPE, body);
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"event-{id}.ics\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `GET /events/{id}/calendar.ics` (the event page links to `/events/{id}.ics` too).
async fn event_calendar(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match id.trim_end_matches(".ics").parse::<i64>() {
        Ok(id) => event_ics(&state, id).await,
        Err(_) => PageError::not_found("There is no such event.").into_response(),
    }
}

async fn group_feed_events(
    state: &AppState,
    slug: &str,
) -> Result<(GroupScope, Vec<Event>), PageError> {
    let scope = group_scope(&state.store, slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))?;
    let filters = Filters {
        starts_after: now_millis(),
        ..Filters::default()
    };
    let upcoming = group_upcoming(&state.store, &scope, &filters, FEED_LIMIT).await?;
    let events = full_events(&state.store, upcoming.iter().map(|e| e.id)).await?;
    Ok((scope, events))
}

/// `GET /groups/{slug}/events.ics`: a group's upcoming public events.
async fn group_ics(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let (scope, events) = group_feed_events(&state, &slug).await?;
    let entries: Vec<CalendarEvent> = events
        .iter()
        .map(|e| calendar_event(&state.config, e))
        .collect();
    Ok(typed(
        CALENDAR_TYPE,
        calendar(&format!("{} events", scope.group.name), &entries),
    ))
}

/// `GET /groups/{slug}/events.rss`.
async fn group_rss(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let (scope, events) = group_feed_events(&state, &slug).await?;
    let channel = FeedChannel {
        title: format!("{} events", scope.group.name),
        link: state
            .config
            .absolute(&format!("/groups/{}", scope.group.slug)),
        description: format!(
            "Upcoming events of {} and the groups within it.",
            scope.group.name
        ),
    };
    let items: Vec<FeedItem> = events.iter().map(|e| feed_item(&state.config, e)).collect();
    Ok(typed(RSS_TYPE, rss(&channel, &items)))
}

/// The events a search feed lists: near `q` when given, else the first upcoming anywhere.
async fn searched_events(
    state: &AppState,
    params: &SearchParams,
) -> Result<(String, Vec<Event>), Response> {
    let q = params.q.as_deref().unwrap_or("").trim();
    let cards: Vec<EventCard> = if q.is_empty() {
        crate::pages::discover::upcoming_cards(state, &params.filters, FEED_LIMIT)
            .await
            .map_err(feed_problem)?
    } else {
        run_search(state, params, FEED_LIMIT)
            .await
            .map_err(feed_problem)?
            .results
    };
    let events = full_events(&state.store, cards.iter().map(|c| c.id))
        .await
        .map_err(|e| PageError::from(e).into_response())?;
    let name = if q.is_empty() {
        "Upcoming events".to_owned()
    } else {
        format!("Events near {q}")
    };
    Ok((name, events))
}

fn feed_problem(err: SearchError) -> Response {
    match err {
        SearchError::Param(p) => (
            StatusCode::BAD_REQUEST,
            format!("{}: {}", p.field, p.message),
        )
            .into_response(),
        SearchError::Place(message) => (StatusCode::UNPROCESSABLE_ENTITY, message).into_response(),
        SearchError::Store(store) => PageError::from(store).into_response(),
    }
}

/// `GET /events/search.ics?q&radius_km&types`.
async fn search_ics(State(state): State<AppState>, Query(params): Query<SearchParams>) -> Response {
    match searched_events(&state, &params).await {
        Ok((name, events)) => {
            let entries: Vec<CalendarEvent> = events
                .iter()
                .map(|e| calendar_event(&state.config, e))
                .collect();
            typed(CALENDAR_TYPE, calendar(&name, &entries))
        }
        Err(response) => response,
    }
}

/// `GET /events.rss[?q&radius_km&types]`.
async fn events_rss(State(state): State<AppState>, Query(params): Query<SearchParams>) -> Response {
    match searched_events(&state, &params).await {
        Ok((name, events)) => {
            let channel = FeedChannel {
                title: name,
                link: state.config.absolute("/events"),
                description: "Public events on this Barnstorm instance.".to_owned(),
            };
            let items: Vec<FeedItem> = events.iter().map(|e| feed_item(&state.config, e)).collect();
            typed(RSS_TYPE, rss(&channel, &items))
        }
        Err(response) => response,
    }
}

/// The feed routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/calendar.ics", get(event_calendar))
        .route("/groups/{slug}/events.ics", get(group_ics))
        .route("/groups/{slug}/events.rss", get(group_rss))
        .route("/events/search.ics", get(search_ics))
        .route("/events.rss", get(events_rss))
}
