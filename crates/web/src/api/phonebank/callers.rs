//! A campaign's callers over the API, for its organisers: the list (flagged, suspended,
//! removed), suspending a caller, lifting a suspension and removing a caller. Suspension
//! and removal take effect on every node at once (each claim and lease operation reads
//! them from the database) and give back the contact the caller holds; each is audited.

use super::organised_campaign;
use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_store::now_millis;
use barnstorm_store::phonebank::CallerRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The longest reason an organiser may give for a suspension.
pub(crate) const MAX_REASON: usize = 500;

/// A caller of a campaign.
#[derive(Serialize, ToSchema)]
pub(crate) struct CallerView {
    user_id: i64,
    name: String,
    email: String,
    /// Milliseconds since the Unix epoch.
    joined_at: i64,
    /// When the caller was flagged (milliseconds since the epoch), if they are.
    flagged_at: Option<i64>,
    flag_reason: Option<String>,
    /// When the caller was suspended, if they are.
    suspended_at: Option<i64>,
    suspended_reason: Option<String>,
    /// The organiser who suspended the caller; null with `suspended_at` set when the
    /// suspension was automatic.
    suspended_by: Option<i64>,
    /// When the caller was removed, if they were.
    removed_at: Option<i64>,
    /// Calls the caller has recorded on this campaign.
    calls_made: i64,
}

impl From<CallerRow> for CallerView {
    fn from(c: CallerRow) -> Self {
        Self {
            user_id: c.user_id,
            name: c.name,
            email: c.email,
            joined_at: c.joined_at,
            flagged_at: c.flagged_at,
            flag_reason: c.flag_reason,
            suspended_at: c.suspended_at,
            suspended_reason: c.suspended_reason,
            suspended_by: c.suspended_by,
            removed_at: c.removed_at,
            calls_made: c.calls_made,
        }
    }
}

/// Why a caller is suspended.
#[derive(Deserialize, ToSchema)]
pub(crate) struct SuspensionRequest {
    /// Shown to organisers and written to the audit log; 1 to 500 characters.
    reason: String,
}

/// The campaign's callers: everyone who joined or called, with flags, suspensions and
/// removals (organisers).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/callers", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = [CallerView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_callers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<CallerView>>, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let callers = state.store.campaign_callers(campaign.id).await?;
    Ok(Json(callers.into_iter().map(CallerView::from).collect()))
}

/// Checks that `user_id` is an account; 404 otherwise.
async fn existing_user(state: &AppState, user_id: i64) -> Result<(), ApiError> {
    state
        .store
        .user_by_id(user_id)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(&format!("user {user_id}")))
}

/// Suspend a caller: their claims, heartbeats and outcomes are refused at once on every
/// node, and the contact they hold goes back to the queue. 409 if already suspended.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/callers/{user_id}/suspension", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = SuspensionRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn suspend_caller(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, user_id)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<SuspensionRequest>,
) -> Result<StatusCode, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(ApiError::invalid(
            "reason",
            "say why the caller is suspended, in 1 to 500 characters",
        ));
    }
    existing_user(&state, user_id).await?;
    let suspended = state
        .dispatcher
        .suspend_caller(&campaign, user_id, user.id, reason, now_millis())
        .await?;
    if !suspended {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_suspended",
            "this caller is suspended or removed already",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a caller's suspension (and their flag): they may call again. 404 if they are not
/// suspended.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/callers/{user_id}/suspension", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn lift_suspension(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    if !state
        .dispatcher
        .lift_suspension(&campaign, user_id, user.id)
        .await?
    {
        return Err(ApiError::not_found(&format!(
            "a suspension of user {user_id} on this campaign"
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a caller from the campaign for good: refused at once on every node, their
/// contact goes back, and an invite link does not bring them back. 404 if removed
/// already.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/callers/{user_id}", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_caller(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    existing_user(&state, user_id).await?;
    if !state
        .dispatcher
        .remove_caller(&campaign, user_id, user.id, now_millis())
        .await?
    {
        return Err(ApiError::not_found(&format!(
            "caller {user_id} on this campaign"
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_callers))
        .routes(routes!(suspend_caller, lift_suspension))
        .routes(routes!(remove_caller))
}
