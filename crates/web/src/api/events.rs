//! Events over the API: create one (checked by the same `EventDraft` rules as the host
//! form, live or pending by the group's approval policy), list public events (nearest first
//! around a postcode, or by id for syncing, with the ids withdrawn since `updated_since`),
//! read one, and link a phonebank event to a call campaign. Addresses hidden until RSVP
//! are never returned; only the postcode district is. RSVPs are in `event_rsvps`.

use super::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::event_draft::{EventDraft, FieldErrors, check_links};
use crate::pages::discover::{
    ParamError, SearchError, given, parse_instant, parse_kinds, parse_radius, postcode_district,
    rfc3339, round_km,
};
use crate::pages::events::campaign_link::{link_refusal, linkable_campaigns, runs_event};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use barnstorm_domain::event::{EventKind, EventStatus, Visibility};
use barnstorm_store::events::{Event, PublicEventFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The radius used around `postcode` when none is given.
const DEFAULT_DISTANCE_KM: f64 = 25.0;
/// The largest radius.
const MAX_DISTANCE_KM: f64 = 200.0;
/// Page size when none is given.
const DEFAULT_LIMIT: usize = 50;
/// The largest page.
const MAX_LIMIT: usize = 200;

/// A time slot of an event.
#[derive(Serialize, ToSchema)]
pub(crate) struct ShiftView {
    id: i64,
    /// RFC 3339, UTC.
    starts_at: String,
    /// RFC 3339, UTC.
    ends_at: String,
    /// Places; null for no limit.
    capacity: Option<i64>,
}

/// Where an event is, as public as it may be.
#[derive(Serialize, ToSchema)]
pub(crate) struct LocationView {
    /// The postcode district ("SW1A"); null for an online event.
    postcode_district: Option<String>,
    /// The full postcode; null while the address is shown only after RSVP.
    postcode: Option<String>,
    /// The street address; null while it is shown only after RSVP.
    address: Option<String>,
    /// Latitude (rounded to about a kilometre while the address is hidden).
    lat: Option<f64>,
    /// Longitude, as `lat`.
    lon: Option<f64>,
    /// `exact`, `postcode`, `outcode` or `none`.
    precision: String,
    /// True when the address is shown only to people who RSVP.
    address_after_rsvp: bool,
}

/// A public event.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventView {
    id: i64,
    group_id: i64,
    /// `meetup`, `phonebank`, `canvass`, `street_stall`, `training`, `social` or `other`.
    kind: String,
    title: String,
    /// Markdown as the host wrote it (render it sanitised).
    description: String,
    /// RFC 3339, UTC.
    starts_at: String,
    /// RFC 3339, UTC.
    ends_at: String,
    /// IANA time zone the host chose.
    time_zone: String,
    /// Places; null for no limit.
    capacity: Option<i64>,
    location: LocationView,
    /// True for an event with an online link (the link is sent to people who RSVP).
    online: bool,
    accessibility: String,
    /// `public` or `unlisted`.
    visibility: String,
    /// `live`, `pending` (waiting for approval; only to its creator) or `cancelled`.
    status: String,
    /// The call campaign a phonebank event is linked to ("Start calling" during it); null
    /// for none.
    campaign_id: Option<i64>,
    /// The event page.
    url: String,
    shifts: Vec<ShiftView>,
    /// RFC 3339, UTC.
    created_at: String,
    /// RFC 3339, UTC.
    updated_at: String,
    /// Distance from `postcode` in km (one decimal), when the list was searched by postcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_km: Option<f64>,
}

impl EventView {
    pub(crate) fn new(state: &AppState, e: &Event) -> Self {
        let hidden = e.address_after_rsvp;
        let round = |v: f64| (v * 100.0).round() / 100.0;
        let (lat, lon) = match e.location {
            Some((lat, lon)) if hidden => (Some(round(lat)), Some(round(lon))),
            Some((lat, lon)) => (Some(lat), Some(lon)),
            None => (None, None),
        };
        Self {
            id: e.id,
            group_id: e.group_id,
            kind: e.kind.as_str().to_owned(),
            title: e.title.clone(),
            description: e.description.clone(),
            starts_at: rfc3339(e.starts_at),
            ends_at: rfc3339(e.ends_at),
            time_zone: e.time_zone.clone(),
            capacity: e.capacity,
            location: LocationView {
                postcode_district: e.postcode.as_deref().and_then(postcode_district),
                postcode: e.postcode.clone().filter(|_| !hidden),
                address: Some(e.address.clone()).filter(|a| !hidden && !a.is_empty()),
                lat,
                lon,
                precision: e.precision.as_str().to_owned(),
                address_after_rsvp: hidden,
            },
            online: e.online_url.is_some(),
            accessibility: e.accessibility.clone(),
            visibility: e.visibility.as_str().to_owned(),
            status: e.status.as_str().to_owned(),
            campaign_id: e.campaign_id,
            url: state.config.absolute(&format!("/events/{}", e.id)),
            shifts: e
                .shifts
                .iter()
                .map(|s| ShiftView {
                    id: s.id,
                    starts_at: rfc3339(s.starts_at),
                    ends_at: rfc3339(s.ends_at),
                    capacity: s.capacity,
                })
                .collect(),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
            distance_km: None,
        }
    }
}

/// Whether the public may see an event by its id: public or unlisted, live or cancelled.
pub(crate) fn publicly_visible(e: &Event) -> bool {
    matches!(e.visibility, Visibility::Public | Visibility::Unlisted)
        && matches!(e.status, EventStatus::Live | EventStatus::Cancelled)
}

/// A new event: the host form's fields as JSON, plus the group.
#[derive(Deserialize)]
pub(crate) struct NewEventBody {
    /// The group it is for (required).
    group_id: Option<i64>,
    #[serde(flatten)]
    draft: EventDraft,
}

/// A new event as the document describes it: the host form's fields as JSON, plus the
/// group. Checked by the same rules as the form ([`EventDraft::validate`]).
#[derive(ToSchema)]
#[schema(as = NewEventBody)]
#[allow(
    dead_code,
    reason = "described in the document; the handler reads NewEventBody"
)]
pub(crate) struct NewEventFields {
    /// The group it is for.
    group_id: i64,
    /// `meetup`, `phonebank`, `canvass`, `street_stall`, `training`, `social` or `other`.
    kind: String,
    title: String,
    /// Markdown.
    #[schema(required = false)]
    description: String,
    /// Start: `2025-07-10T19:00` local to `time_zone`, or RFC 3339 with an offset
    /// (or give `date` + `start_time`).
    #[schema(required = false)]
    starts_at: String,
    /// End, as `starts_at` (or give `end_time`).
    #[schema(required = false)]
    ends_at: String,
    /// Day of the start, `YYYY-MM-DD`.
    #[schema(required = false)]
    date: String,
    /// Start, `HH:MM` on `date`.
    #[schema(required = false)]
    start_time: String,
    /// End, `HH:MM` on `end_date` (or on `date`).
    #[schema(required = false)]
    end_time: String,
    /// Day of the end when it is not `date`.
    #[schema(required = false)]
    end_date: String,
    /// IANA time zone; `Europe/London` if omitted.
    #[schema(required = false)]
    time_zone: String,
    /// Places; omit for no limit.
    #[schema(required = false, minimum = 1)]
    capacity: Option<i64>,
    /// Postcode (or district) of the place; omit for an online event.
    #[schema(required = false)]
    postcode: String,
    /// Street address.
    #[schema(required = false)]
    address: String,
    /// Show the address only to people who RSVP.
    #[schema(required = false)]
    address_after_rsvp: bool,
    /// `public`, `unlisted` or `group`; `public` if omitted.
    #[schema(required = false)]
    visibility: String,
    /// Online meeting link (`https://`), sent to people who RSVP.
    #[schema(required = false)]
    online_url: String,
    /// Accessibility notes.
    #[schema(required = false)]
    accessibility: String,
    /// Linked call campaign (phonebank events only): one of the event's group or a group
    /// above it, which the person creating the event organises.
    #[schema(required = false)]
    campaign_id: Option<i64>,
    /// Shifts, each `HH:MM-HH:MM` (on the start day) or `YYYY-MM-DD HH:MM-HH:MM`,
    /// optionally followed by a number of places.
    #[schema(required = false)]
    shifts: Vec<String>,
}

/// The 422 for a draft's mistakes: `details.field` is the first field at fault and
/// `details.fields` maps every field to its mistake.
pub(crate) fn field_errors(errors: &FieldErrors) -> ApiError {
    let first = errors
        .iter()
        .next()
        .map(|(f, _)| f.to_owned())
        .unwrap_or_default();
    let fields: serde_json::Map<String, serde_json::Value> = errors
        .iter()
        .map(|(f, m)| (f.to_owned(), json!(m)))
        .collect();
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        errors.to_string(),
    )
    .with_details(json!({ "field": first, "fields": fields }))
}

/// Create an event in a group. It goes live at once for the group's trusted hosts and
/// organisers, administrators and groups that publish at once; otherwise it waits for
/// approval (`status: pending`). Accounts whose email address is not confirmed yet get
/// 403 `email_unverified`.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", security(("bearer" = [])), request_body = NewEventFields,
    responses((status = 201, body = EventView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_event(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewEventBody>,
) -> Result<(StatusCode, Json<EventView>), ApiError> {
    if !user.is_verified() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "email_unverified",
            crate::pages::events::CONFIRM_EMAIL_FIRST,
        )
        .with_details(json!({ "account_url": state.config.absolute("/account") })));
    }
    let Some(group_id) = body.group_id else {
        return Err(ApiError::invalid(
            "group_id",
            "give the group_id of the event's group",
        ));
    };
    let Some(group) = state.store.group_by_id(group_id).await? else {
        return Err(ApiError::invalid(
            "group_id",
            format!("there is no group {group_id}"),
        ));
    };
    let geocoder = crate::pages::discover::geocoder(&state);
    let event = body
        .draft
        .validate(geocoder, group.id, Some(user.id))
        .await
        .map_err(|e| field_errors(&e))?;
    if let Some(refusal) = link_refusal(&state, &user, event.campaign_id, None).await? {
        return Err(ApiError::invalid("campaign_id", refusal));
    }
    check_links(&state.store, &event)
        .await
        .map_err(|e| field_errors(&e))?;
    let status = crate::pages::events::new_event_status(&state, &user, group.id).await?;
    let created = crate::pages::events::create_event(&state, &user, &group, &event, status).await?;
    Ok((StatusCode::CREATED, Json(EventView::new(&state, &created))))
}

/// The call campaign to link an event to.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CampaignLinkBody {
    /// The campaign's id; null to unlink.
    campaign_id: Option<i64>,
}

/// Link a phonebank event (however it was made) to a call campaign, or unlink it with
/// `campaign_id: null`; during the event its attendees get "Start calling". For the
/// event's host and the organisers of its group. The campaign must belong to the event's
/// group or a group above it and be one the person organises: anything else is 422 with
/// `details.field` = `campaign_id`, including a campaign they may not see.
#[utoipa::path(put, path = "/api/v1/events/{id}/campaign", tag = "events", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CampaignLinkBody,
    responses((status = 200, body = EventView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn link_campaign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CampaignLinkBody>,
) -> Result<Json<EventView>, ApiError> {
    let missing = || ApiError::not_found(&format!("event {id}"));
    let event = state.store.event(id).await?.ok_or_else(missing)?;
    if !runs_event(&state, &user, &event).await? {
        return Err(if publicly_visible(&event) {
            ApiError::forbidden(
                "only the event's host and the organisers of its group can link it to a phone bank",
            )
        } else {
            missing()
        });
    }
    if body.campaign_id.is_some() && event.kind != EventKind::Phonebank {
        return Err(ApiError::invalid(
            "campaign_id",
            "only phonebank events can be linked to a phone bank",
        ));
    }
    if let Some(refusal) = link_refusal(&state, &user, body.campaign_id, event.campaign_id).await? {
        return Err(ApiError::invalid("campaign_id", refusal));
    }
    if let Some(wanted) = body.campaign_id.filter(|c| Some(*c) != event.campaign_id) {
        let linkable = linkable_campaigns(&state, &user, event.group_id).await?;
        if !linkable.iter().any(|(c, _)| c.id == wanted) {
            return Err(ApiError::invalid(
                "campaign_id",
                "choose a phone bank of the event's group or of a group above it",
            ));
        }
    }
    let updated = state
        .store
        .set_event_campaign(id, body.campaign_id, user.id)
        .await?;
    Ok(Json(EventView::new(&state, &updated)))
}

/// Filters of the public event list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Sort by distance from this postcode (or district, or town).
    postcode: Option<String>,
    /// Radius around `postcode` in km (default 25, at most 200).
    max_distance_km: Option<String>,
    /// Comma-separated event types.
    types: Option<String>,
    /// RFC 3339; only events starting at or after this.
    starts_after: Option<String>,
    /// RFC 3339; only events starting before this.
    starts_before: Option<String>,
    /// RFC 3339; only events changed since (and, in `deleted`, the ids withdrawn since).
    updated_since: Option<String>,
    /// Only this group's events.
    group_id: Option<String>,
    /// Page size (default 50, at most 200).
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// An event that is no longer public (cancelled, deleted, hidden), for syncing clients.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeletedView {
    id: i64,
    /// RFC 3339, UTC: when it was withdrawn.
    deleted_at: String,
}

/// A page of public events.
#[derive(Serialize, ToSchema)]
pub(crate) struct EventPage {
    data: Vec<EventView>,
    /// Present only when `updated_since` was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<Vec<DeletedView>>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

fn bad(err: ParamError) -> ApiError {
    err.api(StatusCode::UNPROCESSABLE_ENTITY)
}

fn parse_whole(
    field: &'static str,
    raw: Option<&str>,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    match raw.parse::<i64>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(bad(ParamError::new(
            field,
            format!(
                "'{raw}' is not a whole number from {} to {}",
                range.start(),
                range.end()
            ),
        ))),
    }
}

/// Public events: nearest first around `postcode` (each with `distance_km`), or by id.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(ListParams),
    responses((status = 200, body = EventPage), (status = 422, body = ErrorBody)))]
async fn list_events(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<Json<EventPage>, ApiError> {
    let kinds = parse_kinds("types", params.types.as_deref()).map_err(bad)?;
    let starts_after =
        parse_instant("starts_after", params.starts_after.as_deref()).map_err(bad)?;
    let starts_before =
        parse_instant("starts_before", params.starts_before.as_deref()).map_err(bad)?;
    let updated_since =
        parse_instant("updated_since", params.updated_since.as_deref()).map_err(bad)?;
    let group_id = parse_whole("group_id", params.group_id.as_deref(), 1..=i64::MAX)?;
    let limit = parse_whole("limit", params.limit.as_deref(), 1..=MAX_LIMIT as i64)?
        .map_or(DEFAULT_LIMIT, |n| {
            usize::try_from(n).unwrap_or(DEFAULT_LIMIT)
        });
    let cursor = parse_whole("cursor", params.cursor.as_deref(), 0..=i64::MAX)?;
    let deleted = match updated_since {
        Some(since) => Some(
            state
                .store
                .withdrawn_public_events(since)
                .await?
                .into_iter()
                .map(|(id, at)| DeletedView {
                    id,
                    deleted_at: rfc3339(at),
                })
                .collect(),
        ),
        None => None,
    };

    if let Some(postcode) = given(params.postcode.as_deref()) {
        let radius = parse_radius(
            "max_distance_km",
            params.max_distance_km.as_deref(),
            DEFAULT_DISTANCE_KM,
            MAX_DISTANCE_KM,
        )
        .map_err(bad)?;
        let place = crate::pages::discover::locate(&state, postcode)
            .await
            .map_err(|err| match err {
                SearchError::Place(message) => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_place",
                    message.clone(),
                )
                .with_details(json!({ "field": "postcode", "problem": message })),
                SearchError::Param(p) => bad(p),
                SearchError::Store(s) => s.into(),
            })?;
        let offset = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        let found = state
            .store
            .nearby_events(&barnstorm_store::events::NearbyQuery {
                center: (place.location.lat, place.location.lon),
                radius_km: radius,
                kinds,
                starts_after: starts_after.unwrap_or(i64::MIN),
                starts_before,
                limit,
                offset,
            })
            .await?;
        let next_cursor = (found.len() == limit).then(|| (offset + limit).to_string());
        let mut data = Vec::with_capacity(found.len());
        for (summary, km) in found {
            if group_id.is_some_and(|g| g != summary.group_id) {
                continue;
            }
            let Some(event) = state.store.event(summary.id).await? else {
                continue;
            };
            if event.visibility != Visibility::Public
                || event.status != EventStatus::Live
                || updated_since.is_some_and(|since| event.updated_at < since)
            {
                continue;
            }
            let mut view = EventView::new(&state, &event);
            view.distance_km = Some(round_km(km));
            data.push(view);
        }
        return Ok(Json(EventPage {
            data,
            deleted,
            next_cursor,
        }));
    }

    let events = state
        .store
        .list_public_events(&PublicEventFilter {
            kinds,
            starts_after,
            starts_before,
            updated_since,
            group_id,
            limit,
            after_id: cursor,
        })
        .await?;
    let next_cursor = (events.len() == limit)
        .then(|| events.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(EventPage {
        data: events.iter().map(|e| EventView::new(&state, e)).collect(),
        deleted,
        next_cursor,
    }))
}

/// One event (public or unlisted; live or cancelled).
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events", params(("id" = i64, Path)),
    responses((status = 200, body = EventView), (status = 404, body = ErrorBody)))]
async fn get_event(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<EventView>, ApiError> {
    let event = state
        .store
        .event(id)
        .await?
        .filter(publicly_visible)
        .ok_or_else(|| ApiError::not_found(&format!("event {id}")))?;
    Ok(Json(EventView::new(&state, &event)))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, create_event))
        .routes(routes!(get_event))
        .routes(routes!(link_campaign))
}
