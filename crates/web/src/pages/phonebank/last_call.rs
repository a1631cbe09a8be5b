//! "Edit my last call": for a minute after saving a call, its caller can open it again
//! (the same page, filled with what they saved) and save a different outcome, answers or
//! notes. The dispatcher checks the change like a new call and the store applies it; this
//! only shows the form and says plainly when the minute is over.

use super::access::caller_campaign;
use super::call::{
    Confirmation, Entered, PostedOutcome, ShownContact, outcome_label, outcome_page, place_problem,
    refusal_page,
};
use crate::auth::{Flash, SignedIn};
use crate::{AppState, PageError};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_dispatch::CallingError;
use barnstorm_domain::survey::Answers;
use barnstorm_store::now_millis;
use barnstorm_store::phonebank::{Campaign, LastCall, LeaseProblem};

/// What a caller is told once their last call can no longer be changed.
const TOO_LATE: &str = "Your last call can no longer be changed: that is possible for a minute after saving it, until the contact is called again. Ask an organiser if it needs correcting.";

/// The caller's latest call, if it may still be changed.
async fn changeable_call(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
) -> Result<Option<LastCall>, PageError> {
    let last = state
        .store
        .last_call(campaign.id, signed_in.user.id)
        .await?;
    Ok(last.filter(|call| now_millis() < call.changeable_until()))
}

fn shown(campaign: &Campaign, call: &LastCall) -> ShownContact {
    ShownContact {
        lease_id: call.lease_id,
        first_name: call.first_name.clone(),
        last_name: call.last_name.clone(),
        phone: call.phone.clone(),
        other_phone: None,
        details: Vec::new(),
        history: Some(format!(
            "You saved “{}”. Choose what it should have been.",
            outcome_label(campaign, &call.outcome)
        )),
        script: String::new(),
    }
}

/// What the caller saved, to fill the form with.
fn as_saved(campaign: &Campaign, call: &LastCall) -> Entered {
    let tz = campaign.settings.calling_hours.time_zone();
    Entered {
        answers: serde_json::from_value::<Answers>(serde_json::Value::Object(call.answers.clone()))
            .unwrap_or_default(),
        notes: call.notes.clone(),
        callback_at: call
            .callback_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|at| at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
        ..Entered::default()
    }
}

fn too_late(campaign: &Campaign) -> Response {
    Flash::error(TOO_LATE).redirect(&format!("/call/{}", campaign.id))
}

async fn edit_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    let Some(call) = changeable_call(&state, &signed_in, &campaign).await? else {
        return Ok(too_late(&campaign));
    };
    let entered = as_saved(&campaign, &call);
    outcome_page(
        &state,
        &signed_in,
        &campaign,
        shown(&campaign, &call),
        entered,
        true,
    )
    .await
}

async fn change(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(confirmation): Query<Confirmation>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    let mut posted = PostedOutcome::read(&campaign, pairs);
    let ask_again = posted.has_problem() || posted.asks_to_confirm(&campaign, confirmation.given());
    let result = if ask_again {
        None
    } else {
        Some(
            state
                .dispatcher
                .correct_outcome(
                    &signed_in.user,
                    &campaign,
                    posted.lease_id,
                    &posted.outcome,
                    &posted.answers,
                    &posted.entered.notes,
                    posted.callback_at,
                    now_millis(),
                )
                .await,
        )
    };
    let mut entered = posted.entered;
    match result {
        Some(Ok(corrected)) => {
            let label = outcome_label(&campaign, &corrected.outcome);
            return Ok(Flash::ok(format!("Changed your last call to: {label}."))
                .redirect(&format!("/call/{}", campaign.id)));
        }
        Some(Err(CallingError::Lease(
            LeaseProblem::TooLateToChange
            | LeaseProblem::CalledSince
            | LeaseProblem::NotRecordedYet,
        ))) => return Ok(too_late(&campaign)),
        Some(Err(CallingError::Lease(LeaseProblem::NotYours | LeaseProblem::NotFound))) => {
            return Err(PageError::forbidden(
                "That call is not yours to change, so nothing was changed.",
            ));
        }
        Some(Err(error)) => {
            if let Err(error) = place_problem(&campaign, error, &mut entered) {
                return refusal_page(&state, &signed_in, &campaign, error).await;
            }
        }
        None => {}
    }
    let Some(call) = changeable_call(&state, &signed_in, &campaign).await? else {
        return Ok(too_late(&campaign));
    };
    if call.lease_id != posted.lease_id {
        return Ok(too_late(&campaign));
    }
    let status = if entered.confirming.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = outcome_page(
        &state,
        &signed_in,
        &campaign,
        shown(&campaign, &call),
        entered,
        true,
    )
    .await?;
    *page.status_mut() = status;
    Ok(page)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/call/{id}/last", get(edit_page).post(change))
}
