//! Result downloads for organisers in the browser: the same two CSV exports as the API
//! (one row per contact, one row per call), streamed, behind the session instead of a token.

use super::access::organiser_campaign;
use crate::auth::SignedIn;
use crate::exports::{CampaignExport, campaign_export};
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
    Ok(campaign_export(
        &state.store,
        campaign,
        signed_in.user.id,
        CampaignExport::Results,
    )
    .await?)
}

async fn attempts(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    Ok(campaign_export(
        &state.store,
        campaign,
        signed_in.user.id,
        CampaignExport::Attempts,
    )
    .await?)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/results.csv", get(results))
        .route("/campaigns/{id}/attempts.csv", get(attempts))
}
