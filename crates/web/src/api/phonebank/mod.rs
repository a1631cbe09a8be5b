//! Phonebanks over the API: campaigns and their settings, caller invite links, contact
//! list imports, the calling session (claim, heartbeat, release, outcome) and results
//! (live figures and CSV exports). Handlers parse and check access; the calling rules
//! live in `barnstorm_dispatch` and the SQL in `barnstorm_store::phonebank`.

mod calling;
mod campaigns;
mod imports;
mod invites;
mod results;

use crate::pages::can_manage;
use crate::{ApiError, AppState};
use axum::http::StatusCode;
use barnstorm_dispatch::CallingError;
use barnstorm_store::User;
use barnstorm_store::phonebank::{Campaign, LeaseProblem};
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
    if can_manage(&state.store, user, group_id).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only organisers of the campaign's group can do that",
        ))
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
        LeaseProblem::Store(store) => store.into(),
    }
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(campaigns::routes())
        .merge(invites::routes())
        .merge(imports::routes())
        .merge(calling::routes())
        .merge(results::routes())
}
