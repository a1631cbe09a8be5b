//! A caller's phone session over the API, for campaigns that bridge calls: join by "call
//! me" (Barnstorm rings the caller's phone) or by dialling in with a PIN, see where the
//! line stands, have the held contact dialled, hang up their side, and leave. Nothing
//! here carries a phone number out: contacts are named by first name only.

use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_dispatch::{LineView, SwitchboardError};
use barnstorm_store::phonebank::JoinKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// How the caller joins.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Join {
    /// Barnstorm rings the caller's phone.
    CallMe,
    /// The caller rings the campaign's number and enters a PIN.
    DialIn,
}

/// Starting a phone session.
#[derive(Deserialize, ToSchema)]
pub(crate) struct OpenSession {
    join: Join,
    /// For `call_me`: the caller's phone number (saved for next time); omit to use the
    /// saved one.
    #[schema(max_length = 40)]
    phone: Option<String>,
}

/// Where the line stands.
#[derive(Serialize, ToSchema)]
#[schema(as = PhoneLine)]
pub(crate) struct LineBody {
    /// `ringing_you`, `waiting_for_you`, `ready`, `dialling`, `on_call` or `wrap_up`.
    #[schema(pattern = "^(ringing_you|waiting_for_you|ready|dialling|on_call|wrap_up)$")]
    stage: String,
    /// One sentence for the caller.
    message: String,
    /// The PIN to enter after dialling in (until the caller is on the line).
    pin: Option<String>,
    /// The number to dial in on, E.164.
    dial_in_number: Option<String>,
    /// The lease of the contact the line holds; record its outcome on it.
    lease_id: Option<i64>,
    /// The held contact's first name.
    contact: Option<String>,
    /// How the last call ended, e.g. "busy (486)".
    last_call: Option<String>,
    /// The outcome key proposed from how the last call ended.
    proposed_outcome: Option<String>,
}

impl From<LineView> for LineBody {
    fn from(view: LineView) -> Self {
        Self {
            stage: view.stage.to_string(),
            message: view.message,
            pin: view.pin,
            dial_in_number: view.dial_in_number,
            lease_id: view.lease_id,
            contact: view.contact,
            last_call: view.last_call,
            proposed_outcome: view.proposed_outcome,
        }
    }
}

/// The API's answer to a refused phone-session request.
pub(crate) fn switchboard_error(err: SwitchboardError) -> ApiError {
    let message = err.to_string();
    match err {
        SwitchboardError::Calling(calling) => super::calling_error(calling),
        SwitchboardError::Store(store) => store.into(),
        SwitchboardError::NoNumber | SwitchboardError::BadNumber(_) => {
            ApiError::invalid("phone", message)
        }
        SwitchboardError::NotOnLine => {
            ApiError::new(StatusCode::NOT_FOUND, "no_phone_session", message)
        }
        SwitchboardError::NoTrunk => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_trunk", message)
        }
        SwitchboardError::NotBridged
        | SwitchboardError::NotOffered(_)
        | SwitchboardError::NoCallerId
        | SwitchboardError::OtherNode
        | SwitchboardError::NotJoined
        | SwitchboardError::OnCall
        | SwitchboardError::NobodyToCall => {
            ApiError::new(StatusCode::CONFLICT, "phone_session_refused", message)
        }
    }
}

async fn campaign(
    state: &AppState,
    id: i64,
) -> Result<barnstorm_store::phonebank::Campaign, ApiError> {
    state
        .dispatcher
        .campaign(id)
        .await
        .map_err(super::calling_error)
}

/// Start a phone session on a campaign that bridges calls. `call_me` rings the caller's
/// phone (the number given, or the one saved last time); `dial_in` answers with the number
/// to ring and the PIN to enter. A new session replaces the caller's earlier one.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/phone-session", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = OpenSession,
    responses((status = 201, body = LineBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`phone_session_refused`: the campaign does not bridge calls, does not offer this way in, or has no caller ID"),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody, description = "`no_trunk`: this server has no SIP trunk")))]
async fn open(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<OpenSession>,
) -> Result<(StatusCode, Json<LineBody>), ApiError> {
    let campaign = campaign(&state, id).await?;
    let join = match body.join {
        Join::CallMe => JoinKind::CallMe,
        Join::DialIn => JoinKind::DialIn,
    };
    let view = state
        .switchboard
        .open(&user, &campaign, join, body.phone.as_deref())
        .await
        .map_err(switchboard_error)?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Where the caller's line stands.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/phone-session", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = LineBody), (status = 404, body = ErrorBody, description = "no phone session on this server"),
        (status = 409, body = ErrorBody, description = "the session is on another server")))]
async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<LineBody>, ApiError> {
    state
        .switchboard
        .view(&user, id)
        .await
        .map_err(switchboard_error)?
        .map(|view| Json(view.into()))
        .ok_or_else(|| switchboard_error(SwitchboardError::NotOnLine))
}

/// Dial the contact the line holds (claiming the next one if it holds none) with the
/// campaign's caller ID; they are bridged in when they answer.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/phone-session/call", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = LineBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn call(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<LineBody>, ApiError> {
    let view = state
        .switchboard
        .call(&user, id)
        .await
        .map_err(switchboard_error)?;
    Ok(Json(view.into()))
}

/// End the contact's side of the call; the caller stays on the line.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/phone-session/hang-up", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn hang_up(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .switchboard
        .hang_up(&user, id)
        .map_err(switchboard_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave: Barnstorm hangs up the caller's phone (and any call in it).
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/phone-session", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn end(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .switchboard
        .end(&user, id)
        .map_err(switchboard_error)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open, show, end))
        .routes(routes!(call))
        .routes(routes!(hang_up))
}
