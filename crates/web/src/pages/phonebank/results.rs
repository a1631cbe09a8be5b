//! Result downloads for organisers in the browser: the same two CSV exports as the API
//! (one row per contact, one row per call), behind the session instead of a token.

use super::access::organiser_campaign;
use crate::auth::SignedIn;
use crate::exports::{attempts_csv, csv_response, results_csv};
use crate::{AppState, PageError};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Router, routing::get};

async fn results(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let body = results_csv(&state.store, &campaign, signed_in.user.id).await?;
    Ok(csv_response(body, &format!("campaign-{id}-results.csv")))
}

async fn attempts(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let body = attempts_csv(&state.store, &campaign, signed_in.user.id).await?;
    Ok(csv_response(body, &format!("campaign-{id}-attempts.csv")))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/results.csv", get(results))
        .route("/campaigns/{id}/attempts.csv", get(attempts))
}
