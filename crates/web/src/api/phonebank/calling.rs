//! The calling session over the API: claim the next contact (or hear why there is
//! nobody to call), keep the lease alive, give the contact back, record the outcome with
//! survey answers under an `Idempotency-Key`, and change it within a minute. A caller
//! only ever sees the contact they hold; nothing here lists contacts.

use super::{CallingRefusal, calling_error};
use crate::api::schemas::{AnswerSchema, QueueCountsSchema};
use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use barnstorm_dispatch::{CallingError, Claim, QueueReport};
use barnstorm_domain::survey::Answers;
use barnstorm_store::phonebank::{Campaign, ClaimedContact, QueueCounts, RecordedOutcome};
use barnstorm_store::{Millis, now_millis};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The header that carries the queue-health sentence on a 204 claim.
pub(crate) const QUEUE_HEALTH_HEADER: &str = "Barnstorm-Queue-Health";
const MAX_KEY_LEN: usize = barnstorm_domain::limits::CODE;

/// The contact a caller holds: only what is needed to make the call, and of that only
/// the fields the organiser shows to callers (the rest are null, empty or absent).
#[derive(Serialize, ToSchema)]
pub(crate) struct ContactView {
    id: i64,
    first_name: String,
    last_name: String,
    /// E.164. Absent when the campaign's calls are bridged without phone links
    /// (`bridging.numbers_hidden`): Barnstorm places the call and callers never see the
    /// number.
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    /// The contact's other number (E.164), when the organiser shows it. Absent when the
    /// organiser does not show it or when the campaign hides numbers from callers.
    #[serde(skip_serializing_if = "Option::is_none")]
    other_phone: Option<String>,
    postcode: Option<String>,
    /// The columns of the imported list that the organiser shows to callers.
    extra: BTreeMap<String, String>,
    /// Calls recorded before this one.
    attempts: i64,
    last_outcome: Option<String>,
    /// For a callback: when the contact asked to be rung (milliseconds since the epoch).
    callback_at: Option<i64>,
}

/// A contact leased to the caller.
#[derive(Serialize, ToSchema)]
pub(crate) struct ClaimView {
    lease_id: i64,
    /// When the lease lapses without a heartbeat (milliseconds since the epoch).
    expires_at: i64,
    contact: ContactView,
    /// The campaign script filled in for this contact.
    script: String,
}

impl ClaimView {
    /// The claim as the caller sees it; with `numbers_hidden`, without any number.
    fn new(claimed: ClaimedContact, script: String, numbers_hidden: bool) -> Self {
        let c = claimed.contact;
        Self {
            lease_id: claimed.lease_id,
            expires_at: claimed.expires_at,
            contact: ContactView {
                id: c.id,
                first_name: c.first_name,
                last_name: c.last_name,
                phone: Some(c.phone).filter(|_| !numbers_hidden),
                other_phone: c.other_phone.filter(|_| !numbers_hidden),
                postcode: c.postcode,
                extra: c.extra,
                attempts: c.attempts,
                last_outcome: c.last_outcome,
                callback_at: c.callback_at,
            },
            script,
        }
    }
}

/// Why there is nobody to call (with `?explain=1`).
#[derive(Serialize, ToSchema)]
pub(crate) struct NobodyToCall {
    /// Always null.
    #[schema(value_type = Option<Object>)]
    contact: Option<Value>,
    /// One sentence, e.g. "312 in cooldown, first back at 18:00, 5 suppressed".
    reason: String,
    /// The list by queue state.
    #[schema(value_type = QueueCountsSchema)]
    counts: QueueCounts,
    calling_hours_open: bool,
    /// When calling hours next open, if closed (milliseconds since the epoch).
    opens_at: Option<i64>,
}

impl From<QueueReport> for NobodyToCall {
    fn from(report: QueueReport) -> Self {
        Self {
            contact: None,
            reason: report.summary,
            counts: report.counts,
            calling_hours_open: report.calling_hours_open,
            opens_at: report.opens_at,
        }
    }
}

/// Options of a claim.
#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct ClaimQuery {
    /// `1` to answer 200 with the reason instead of 204 when nobody is callable.
    explain: Option<String>,
}

/// A lease's new expiry.
#[derive(Serialize, ToSchema)]
pub(crate) struct LeaseExpiry {
    /// Milliseconds since the epoch.
    expires_at: i64,
}

/// The outcome of a call.
#[derive(Deserialize, ToSchema)]
pub(crate) struct OutcomeRequest {
    /// One of the campaign's outcome keys.
    outcome: String,
    /// Survey answers by question key: a string, or an array for multiple choice.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, AnswerSchema>)]
    answers: Answers,
    /// What the caller noted about the call.
    #[serde(default)]
    notes: String,
    /// For a callback outcome: an RFC 3339 time (preferred, e.g. `2025-05-01T18:30:00+01:00`)
    /// or milliseconds since the epoch.
    #[schema(value_type = Option<String>)]
    callback_at: Option<Value>,
}

/// A recorded call.
#[derive(Serialize, ToSchema)]
pub(crate) struct OutcomeView {
    attempt_id: i64,
    contact_id: i64,
    outcome: String,
}

impl From<RecordedOutcome> for OutcomeView {
    fn from(recorded: RecordedOutcome) -> Self {
        Self {
            attempt_id: recorded.attempt_id,
            contact_id: recorded.contact_id,
            outcome: recorded.outcome,
        }
    }
}

fn header_safe(text: &str) -> HeaderValue {
    let ascii: String = text
        .chars()
        .map(|c| match c {
            '…' => "...".to_owned(),
            '–' | '—' => "-".to_owned(),
            c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
            _ => "?".to_owned(),
        })
        .collect();
    HeaderValue::from_str(&ascii).unwrap_or_else(|_| HeaderValue::from_static("nobody to call"))
}

/// Whether the campaign hides contacts' numbers from callers, from the same cached
/// settings the claim used.
async fn hides_numbers(state: &AppState, campaign_id: i64) -> Result<bool, CallingError> {
    let campaign = state.dispatcher.campaign(campaign_id).await?;
    Ok(campaign.settings.bridging.hides_numbers())
}

/// Claim the next contact to call. 201 with the contact; 204 with a
/// `Barnstorm-Queue-Health` header saying why when nobody is callable (200 with the
/// reason when `?explain=1`). A caller who still holds a contact gets that one again,
/// its lease renewed once less than half of it remains.
///
/// A caller is handed new contacts no faster than the campaign's pace limit
/// (`pace_per_minute`, `pace_per_hour`); beyond it the claim answers 429 with code
/// `pace_limited` and a `Retry-After` header, and a caller refused ten times within an
/// hour is suspended (403 `caller_suspended` from then on). Skipping too fast answers 429
/// `throttled`.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/claims", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ClaimQuery),
    responses((status = 201, body = ClaimView), (status = 200, body = NobodyToCall), (status = 204, description = "nobody to call; see the Barnstorm-Queue-Health header"),
        (status = 403, body = ErrorBody, description = "not a caller, or `caller_suspended` / `caller_removed`"), (status = 409, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`pace_limited` (details: retry_after_seconds, retry_at, suspended) or `throttled`",
            headers(("Retry-After" = i64, description = "seconds until the caller may be handed the next contact (pace_limited)")))))]
async fn claim(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<ClaimQuery>,
) -> Result<Response, CallingRefusal> {
    let claim = state.dispatcher.claim(&user, id, now_millis()).await?;
    Ok(match claim {
        Claim::Contact { claimed, script } => {
            let hidden = hides_numbers(&state, id).await?;
            let view = ClaimView::new(claimed, script, hidden);
            (StatusCode::CREATED, Json(view)).into_response()
        }
        Claim::Nothing(report)
            if query
                .explain
                .as_deref()
                .is_some_and(|e| matches!(e, "1" | "true" | "yes")) =>
        {
            Json(NobodyToCall::from(report)).into_response()
        }
        Claim::Nothing(report) => {
            let mut headers = HeaderMap::new();
            headers.insert(QUEUE_HEALTH_HEADER, header_safe(&report.summary));
            (StatusCode::NO_CONTENT, headers).into_response()
        }
    })
}

/// The campaign a lease belongs to (as the dispatcher caches it for claims), or 404.
async fn lease_campaign(state: &AppState, lease_id: i64) -> Result<Campaign, ApiError> {
    let campaign_id = state
        .dispatcher
        .lease_campaign_id(lease_id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("lease {lease_id}")))?;
    state
        .dispatcher
        .campaign(campaign_id)
        .await
        .map_err(calling_error)
}

/// Keep a lease alive while the call goes on.
#[utoipa::path(post, path = "/api/v1/leases/{id}/heartbeat", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = LeaseExpiry), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn heartbeat(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(lease_id): Path<i64>,
) -> Result<Json<LeaseExpiry>, ApiError> {
    let campaign = lease_campaign(&state, lease_id).await?;
    let expires_at = state
        .dispatcher
        .heartbeat(&user, lease_id, &campaign, now_millis())
        .await
        .map_err(calling_error)?;
    Ok(Json(LeaseExpiry { expires_at }))
}

/// Give the contact back without an outcome (a skip or a break).
#[utoipa::path(post, path = "/api/v1/leases/{id}/release", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn release(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(lease_id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let campaign = lease_campaign(&state, lease_id).await?;
    state
        .dispatcher
        .release(&user, lease_id, campaign.id, now_millis())
        .await
        .map_err(calling_error)?;
    Ok(StatusCode::NO_CONTENT)
}

fn callback_time(value: Option<Value>) -> Result<Option<Millis>, ApiError> {
    let bad = || {
        ApiError::invalid(
            "callback_at",
            "give callback_at as an RFC 3339 time (2025-05-01T18:30:00+01:00) or milliseconds since the epoch",
        )
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| bad()),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// Record the outcome of a call. Send a fresh `Idempotency-Key` header per call: the same
/// key again answers 200 with the first result instead of recording twice. Outcomes that
/// add the number to the do-not-call list are limited per caller (the campaign's
/// `do_not_call_per_hour`): beyond it 429 `do_not_call_limited` with `Retry-After`. A
/// suspended or removed caller is refused with 403.
#[utoipa::path(post, path = "/api/v1/leases/{id}/outcome", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = String, Header, description = "a unique key per call, e.g. a UUID")),
    request_body = OutcomeRequest,
    responses((status = 201, body = OutcomeView), (status = 200, body = OutcomeView, description = "a replay of an earlier identical request"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`do_not_call_limited`",
            headers(("Retry-After" = i64, description = "seconds until the caller may record another do-not-call outcome")))))]
async fn record_outcome(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(lease_id): Path<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<OutcomeRequest>,
) -> Result<(StatusCode, Json<OutcomeView>), CallingRefusal> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_idempotency_key",
                "send an Idempotency-Key header (1 to 200 characters, unique per call)",
            )
        })?;
    let callback_at = callback_time(body.callback_at)?;
    let campaign = lease_campaign(&state, lease_id).await?;
    let recorded = state
        .dispatcher
        .record_outcome(
            &user,
            &campaign,
            lease_id,
            key,
            &body.outcome,
            &body.answers,
            &body.notes,
            callback_at,
            now_millis(),
        )
        .await?;
    state
        .switchboard
        .outcome_recorded(&user, &campaign, lease_id)
        .await;
    let status = if recorded.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(recorded.into())))
}

/// Change the outcome of your latest call in its campaign, for a minute after recording
/// it: the outcome, answers and notes are replaced and the contact's place in the queue is
/// worked out again as if the new outcome had been chosen then (a number the call put on
/// the do-not-call list comes off it). 409 `too_late_to_change` after the minute or once
/// you have recorded another call, `called_since` when the contact was handed out again,
/// `not_recorded` when nothing was recorded on the lease.
#[utoipa::path(put, path = "/api/v1/leases/{id}/outcome", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = OutcomeRequest,
    responses((status = 200, body = OutcomeView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`do_not_call_limited`",
            headers(("Retry-After" = i64, description = "seconds until the caller may record another do-not-call outcome")))))]
async fn correct_outcome(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(lease_id): Path<i64>,
    ApiJson(body): ApiJson<OutcomeRequest>,
) -> Result<Json<OutcomeView>, CallingRefusal> {
    let campaign = lease_campaign(&state, lease_id).await?;
    let callback_at = callback_time(body.callback_at)?;
    let corrected = state
        .dispatcher
        .correct_outcome(
            &user,
            &campaign,
            lease_id,
            &body.outcome,
            &body.answers,
            &body.notes,
            callback_at,
            now_millis(),
        )
        .await?;
    Ok(Json(corrected.into()))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(claim))
        .routes(routes!(heartbeat))
        .routes(routes!(release))
        .routes(routes!(record_outcome, correct_outcome))
}
