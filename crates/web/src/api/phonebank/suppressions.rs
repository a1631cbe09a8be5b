//! A group's suppressions over the API: its do-not-call list with where each entry came
//! from (the call, campaign and caller, or the organiser who added it, and when), the
//! national TPS and CTPS lists it is screened against, a check of one number, searching
//! and paging the list, adding a number by hand and taking one off. Organisers of the
//! group only; uploads of whole lists are in `suppression_uploads`.

use super::callers::MAX_REASON;
use super::require_organiser;
use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::phonebank::{DoNotCallEntry, DoNotCallSearch, TpsEntry, TpsListSummary};
use barnstorm_store::{Group, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The do-not-call entries one answer lists unless asked for fewer, newest first.
const ENTRIES_SHOWN: i64 = 200;
/// The most entries one answer lists.
const MAX_LIMIT: i64 = 500;

/// One number on the group's do-not-call list.
#[derive(Serialize, ToSchema)]
pub(crate) struct DoNotCallView {
    /// E.164.
    phone: String,
    /// Why, in words.
    reason: String,
    /// When it was added, in milliseconds since the Unix epoch.
    created_at: i64,
    /// The campaign whose call put it there; null when an organiser added it.
    campaign_id: Option<i64>,
    campaign_name: Option<String>,
    /// The caller who recorded the call, or the organiser who added it.
    added_by: Option<i64>,
    added_by_name: Option<String>,
}

impl From<DoNotCallEntry> for DoNotCallView {
    fn from(e: DoNotCallEntry) -> Self {
        Self {
            phone: e.phone,
            reason: e.reason,
            created_at: e.created_at,
            campaign_id: e.campaign_id,
            campaign_name: e.campaign_name,
            added_by: e.added_by,
            added_by_name: e.added_by_name,
        }
    }
}

/// A number on a national list.
#[derive(Serialize, ToSchema)]
pub(crate) struct NationalEntryView {
    phone: String,
    /// `TPS` or `CTPS`.
    list: String,
    /// The file it was imported from.
    source: String,
    /// Milliseconds since the Unix epoch.
    imported_at: i64,
}

impl From<TpsEntry> for NationalEntryView {
    fn from(e: TpsEntry) -> Self {
        Self {
            phone: e.phone,
            list: e.list,
            source: e.source,
            imported_at: e.imported_at,
        }
    }
}

/// A national list as a whole.
#[derive(Serialize, ToSchema)]
pub(crate) struct NationalListView {
    /// `TPS` or `CTPS`.
    list: String,
    numbers: i64,
    /// Milliseconds since the Unix epoch.
    last_imported_at: i64,
    /// The file of the latest import.
    last_source: String,
}

impl From<TpsListSummary> for NationalListView {
    fn from(s: TpsListSummary) -> Self {
        Self {
            list: s.list,
            numbers: s.numbers,
            last_imported_at: s.last_imported_at,
            last_source: s.last_source,
        }
    }
}

/// What holds one number.
#[derive(Serialize, ToSchema)]
pub(crate) struct NumberCheck {
    /// The number asked about, E.164.
    phone: String,
    /// Its entry on the group's do-not-call list, if any.
    do_not_call: Option<DoNotCallView>,
    /// Its entry on the TPS or CTPS list, if any.
    national: Option<NationalEntryView>,
}

/// The group's suppressions.
#[derive(Serialize, ToSchema)]
pub(crate) struct SuppressionsView {
    /// Numbers on the group's do-not-call list.
    do_not_call_total: i64,
    /// Numbers that `q` finds (all of them without `q`).
    do_not_call_matching: i64,
    /// The page of those, newest first: `limit` entries from `offset`.
    do_not_call: Vec<DoNotCallView>,
    /// The `offset` of the next page; null on the last.
    next_offset: Option<i64>,
    /// The national lists every campaign is screened against.
    national_lists: Vec<NationalListView>,
    /// The number asked about with `?phone=`, if one was.
    check: Option<NumberCheck>,
}

/// Paging is by offset: ask again with `offset` set to the answer's `next_offset`.
#[derive(Deserialize, IntoParams)]
pub(crate) struct SuppressionsQuery {
    /// A number to check, in any spelling.
    phone: Option<String>,
    /// Search the do-not-call list: a number in any spelling ("020 7946 0001"), part of
    /// one ("7946 00") or words of the reason.
    q: Option<String>,
    /// Entries per page, 1 to 500 (200 unless given).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// Entries to skip, newest first (0 unless given).
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// A number to put on the group's do-not-call list.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewDoNotCall {
    /// In any spelling; read as British unless it has a country code.
    phone: String,
    /// Why, in words ("asked by email not to be called").
    reason: String,
}

/// The number added.
#[derive(Serialize, ToSchema)]
pub(crate) struct AddedDoNotCall {
    entry: DoNotCallView,
    /// Queued contacts of the group's campaigns taken out of the queue.
    contacts_suppressed: u64,
}

/// A number typed by a person, as E.164, or what is wrong with it.
pub(crate) fn phone_field(raw: &str) -> Result<String, String> {
    normalise_phone(raw, Region::GB)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| format!("'{}' is {e}", raw.trim()))
}

/// What holds `phone` (E.164) for `group`.
pub(crate) async fn check_number(
    store: &Store,
    group: &Group,
    phone: &str,
) -> Result<(Option<DoNotCallEntry>, Option<TpsEntry>), StoreError> {
    Ok((
        store.do_not_call_entry(group.id, phone).await?,
        store.tps_entry(phone).await?,
    ))
}

/// The group, if `user` organises it; 404 or 403 otherwise.
pub(crate) async fn organised_group(
    state: &AppState,
    user: &barnstorm_store::User,
    id: i64,
) -> Result<Group, ApiError> {
    let group = state
        .store
        .group_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("group {id}")))?;
    require_organiser(state, user, group.id).await?;
    Ok(group)
}

/// A group's do-not-call list with the source and date of each entry, the national
/// lists, and optionally what holds one number.
#[utoipa::path(get, path = "/api/v1/groups/{id}/suppressions", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), SuppressionsQuery),
    responses((status = 200, body = SuppressionsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_suppressions(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<SuppressionsQuery>,
) -> Result<Json<SuppressionsView>, ApiError> {
    let group = organised_group(&state, &user, id).await?;
    let check = match query.phone.as_deref() {
        None => None,
        Some(raw) => {
            let phone = phone_field(raw).map_err(|e| ApiError::invalid("phone", e))?;
            let (do_not_call, national) = check_number(&state.store, &group, &phone).await?;
            Some(NumberCheck {
                phone,
                do_not_call: do_not_call.map(Into::into),
                national: national.map(Into::into),
            })
        }
    };
    let limit = query.limit.unwrap_or(ENTRIES_SHOWN);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "offset must be 0 or more"));
    }
    let search = DoNotCallSearch::new(query.q.as_deref().unwrap_or_default());
    let page = state
        .store
        .search_do_not_call(group.id, &search, limit, offset)
        .await?;
    let next_offset = (offset + limit < page.matching).then_some(offset + limit);
    Ok(Json(SuppressionsView {
        do_not_call_total: page.total,
        do_not_call_matching: page.matching,
        do_not_call: page.entries.into_iter().map(Into::into).collect(),
        next_offset,
        national_lists: state
            .store
            .tps_lists()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
        check,
    }))
}

/// The reason an organiser gives, trimmed, or what is wrong with it.
pub(crate) fn reason_field(raw: &str) -> Result<&str, String> {
    let reason = raw.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        Err(format!(
            "say why the number must not be called, in 1 to {MAX_REASON} characters"
        ))
    } else {
        Ok(reason)
    }
}

/// Put a number on the group's do-not-call list by hand: its queued contacts in the
/// group's campaigns leave the queue and later imports skip it.
#[utoipa::path(post, path = "/api/v1/groups/{id}/do-not-call", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NewDoNotCall,
    responses((status = 201, body = AddedDoNotCall), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_do_not_call(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewDoNotCall>,
) -> Result<(StatusCode, Json<AddedDoNotCall>), ApiError> {
    let group = organised_group(&state, &user, id).await?;
    let phone = phone_field(&body.phone).map_err(|e| ApiError::invalid("phone", e))?;
    let reason = reason_field(&body.reason).map_err(|e| ApiError::invalid("reason", e))?;
    if state.store.is_do_not_call(group.id, &phone).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_listed",
            format!("{phone} is on {}'s do-not-call list already", group.name),
        ));
    }
    let contacts_suppressed = state
        .store
        .add_do_not_call(group.id, &phone, reason, Some(user.id))
        .await?;
    let entry = state
        .store
        .do_not_call_entry(group.id, &phone)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("{phone} on the do-not-call list")))?;
    Ok((
        StatusCode::CREATED,
        Json(AddedDoNotCall {
            entry: entry.into(),
            contacts_suppressed,
        }),
    ))
}

/// Take a number off the group's do-not-call list (audited as `do_not_call.remove`): the
/// contacts of the group's campaigns it kept from the queue are called again, unless the
/// TPS or CTPS list holds their number. The number may be in any spelling.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/do-not-call/{phone}", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("phone" = String, Path, description = "The number, in any spelling (URL-encoded)")),
    responses((status = 204, description = "Taken off the list"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn remove_do_not_call(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, phone)): Path<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    let group = organised_group(&state, &user, id).await?;
    let phone = phone_field(&phone).map_err(|e| ApiError::invalid("phone", e))?;
    match state
        .store
        .remove_do_not_call(group.id, &phone, user.id)
        .await?
    {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::not_found(&format!(
            "{phone} on {}'s do-not-call list",
            group.name
        ))),
    }
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suppressions))
        .routes(routes!(add_do_not_call))
        .routes(routes!(remove_do_not_call))
}
