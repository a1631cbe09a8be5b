//! A caller's breaks: "Take a break" gives the held contact back and marks the caller as
//! on a break (so the dashboard does not count them online); "Resume calling" ends it and
//! goes on to the next contact. The break page itself is the calling page's.

use super::access::caller_campaign;
use crate::auth::SignedIn;
use crate::{AppState, PageError};
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::post};
use barnstorm_dispatch::CallingError;
use barnstorm_store::now_millis;
use serde::Deserialize;

#[derive(Deserialize)]
struct LeaseForm {
    #[serde(default)]
    lease_id: i64,
}

async fn take_break(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<LeaseForm>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    let now = now_millis();
    state
        .store
        .start_break(campaign.id, signed_in.user.id, now)
        .await?;
    match state
        .dispatcher
        .release(&signed_in.user, form.lease_id, campaign.id, now)
        .await
    {
        // Nothing held any more (already saved, expired, or never): a break all the same.
        Ok(()) | Err(CallingError::Lease(_)) => {}
        Err(CallingError::Store(e)) => return Err(e.into()),
        Err(other) => tracing::warn!(error = %other, "release for a break failed"),
    }
    Ok(Redirect::to(&format!("/call/{}?break=1", campaign.id)).into_response())
}

async fn resume(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    state
        .store
        .end_break(campaign.id, signed_in.user.id)
        .await?;
    Ok(Redirect::to(&format!("/call/{}", campaign.id)).into_response())
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/call/{id}/break", post(take_break))
        .route("/call/{id}/resume", post(resume))
}
