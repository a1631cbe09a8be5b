//! Phonebanks over the API: campaigns and their settings, caller invite links, contact
//! list previews and imports, callers (suspend, lift, remove), the calling session (claim, heartbeat,
//! release, outcome) and results
//! (live figures, CSV exports and the CRM result codes they write). Handlers parse and check access; the calling rules
//! live in `barnstorm_dispatch` and the SQL in `barnstorm_store::phonebank`.

pub(crate) mod callers;
mod calling;
pub(crate) mod campaign_content;
pub(crate) mod campaigns;
pub(crate) mod contacts;
pub(crate) mod import_preview;
pub(crate) mod imports;
pub(crate) mod invites;
mod phone;
mod result_codes;
pub(crate) mod results;
pub(crate) mod suppression_uploads;
pub(crate) mod suppressions;

use crate::pages::can_manage;
use crate::{ApiError, AppState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use barnstorm_dispatch::{CallingError, seconds_until};
use barnstorm_store::phonebank::{CallerBar, Campaign, LeaseProblem};
use barnstorm_store::{User, now_millis};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;

/// The campaign with this id, or a 404.
async fn find_campaign(state: &AppState, id: i64) -> Result<Campaign, ApiError> {
    state
        .store
        .campaign(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("campaign {id}")))
}

/// The campaign, if `user` organises its group (or is an administrator); 403 otherwise.
async fn organised_campaign(state: &AppState, user: &User, id: i64) -> Result<Campaign, ApiError> {
    let campaign = find_campaign(state, id).await?;
    require_organiser(state, user, campaign.group_id).await?;
    Ok(campaign)
}

/// Refuses anyone who does not organise the group.
async fn require_organiser(state: &AppState, user: &User, group_id: i64) -> Result<(), ApiError> {
    if can_manage(state, user, group_id).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only organisers of the campaign's group can do that",
        ))
    }
}

/// A refused calling request as the API answers it: the error body, and a `Retry-After`
/// header when the refusal is a rate limit that ends at a known time.
pub(crate) struct CallingRefusal {
    error: ApiError,
    retry_after_seconds: Option<i64>,
}

impl From<ApiError> for CallingRefusal {
    fn from(error: ApiError) -> Self {
        Self {
            error,
            retry_after_seconds: None,
        }
    }
}

impl From<CallingError> for CallingRefusal {
    fn from(err: CallingError) -> Self {
        let retry_after_seconds = match &err {
            CallingError::PaceLimited { retry_at, now, .. } => Some(seconds_until(*retry_at, *now)),
            CallingError::Lease(LeaseProblem::DoNotCallLimited { retry_at }) => {
                Some(seconds_until(*retry_at, now_millis()))
            }
            _ => None,
        };
        Self {
            error: calling_error(err),
            retry_after_seconds,
        }
    }
}

impl IntoResponse for CallingRefusal {
    fn into_response(self) -> Response {
        let mut response = self.error.into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The API's answer to a refused calling request.
fn calling_error(err: CallingError) -> ApiError {
    let message = err.to_string();
    match err {
        CallingError::NoCampaign => ApiError::not_found("the campaign"),
        CallingError::NotACaller => ApiError::forbidden(message),
        CallingError::NotLive(_) => {
            ApiError::new(StatusCode::CONFLICT, "campaign_not_live", message)
        }
        CallingError::Throttled => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "throttled", message)
        }
        CallingError::PaceLimited {
            retry_at,
            now,
            suspended,
        } => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "pace_limited", message).with_details(
            json!({ "retry_after_seconds": seconds_until(retry_at, now), "retry_at": retry_at, "suspended": suspended }),
        ),
        CallingError::UnknownOutcome(_) => ApiError::invalid("outcome", message),
        CallingError::InvalidAnswers(problems) => {
            let answers: Vec<_> = problems
                .iter()
                .map(|p| json!({ "question": p.question_key, "problem": p.problem.to_string() }))
                .collect();
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_answers", message)
                .with_details(json!({ "field": "answers", "answers": answers }))
        }
        CallingError::BadCallbackTime(_) => ApiError::invalid("callback_at", message),
        CallingError::TooLong(too_long) => too_long.into(),
        CallingError::Lease(problem) => lease_error(problem),
        CallingError::Store(store) => store.into(),
        CallingError::Internal(detail) => {
            tracing::error!(%detail, "calling defect");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on our side",
            )
        }
    }
}

fn lease_error(problem: LeaseProblem) -> ApiError {
    let message = problem.to_string();
    match problem {
        LeaseProblem::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
        LeaseProblem::NotYours => ApiError::forbidden(message),
        LeaseProblem::Expired => ApiError::new(StatusCode::CONFLICT, "lease_expired", message),
        LeaseProblem::Released => ApiError::new(StatusCode::CONFLICT, "lease_released", message),
        LeaseProblem::AlreadyRecorded => {
            ApiError::new(StatusCode::CONFLICT, "already_recorded", message)
        }
        LeaseProblem::KeyReused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            message,
        ),
        LeaseProblem::MissingCallbackTime => ApiError::invalid("callback_at", message),
        LeaseProblem::OtherCampaign => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
        LeaseProblem::Barred(CallerBar::Suspended) => {
            ApiError::new(StatusCode::FORBIDDEN, "caller_suspended", message)
        }
        LeaseProblem::Barred(CallerBar::Removed) => {
            ApiError::new(StatusCode::FORBIDDEN, "caller_removed", message)
        }
        LeaseProblem::DoNotCallLimited { retry_at } => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "do_not_call_limited",
            message,
        )
        .with_details(json!({ "field": "outcome", "retry_at": retry_at })),
        LeaseProblem::NotRecordedYet => {
            ApiError::new(StatusCode::CONFLICT, "not_recorded", message)
        }
        LeaseProblem::TooLateToChange => {
            ApiError::new(StatusCode::CONFLICT, "too_late_to_change", message)
        }
        LeaseProblem::CalledSince => ApiError::new(StatusCode::CONFLICT, "called_since", message),
        LeaseProblem::Store(store) => store.into(),
    }
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(campaigns::routes())
        .merge(callers::routes())
        .merge(contacts::routes())
        .merge(invites::routes())
        .merge(imports::routes())
        .merge(import_preview::routes())
        .merge(calling::routes())
        .merge(phone::routes())
        .merge(results::routes())
        .merge(result_codes::routes())
        .merge(suppressions::routes())
        .merge(suppression_uploads::routes())
}
