//! Erasing one contact from a campaign's list over the API, for its organisers: the row is
//! stripped, calls keep their outcome and answers without notes, a caller holding it loses
//! the lease, and the number and address stay suppressed as keyed digests. The erasure is
//! the store's (`Store::erase_campaign_contact`), the same code that erases a person.

use super::organised_campaign;
use crate::api::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_dispatch::CampaignEvent;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Erase one contact from the campaign's list (organisers). Totals stay the same; a
/// re-import of the number or address is suppressed. 404 when the list has no such
/// contact or it was erased already.
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/contacts/{contact_id}", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("contact_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn erase_contact(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, contact_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    erase_campaign_contact(&state, campaign.id, contact_id, user.id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("contact {contact_id} on this campaign")))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases the contact and tells the campaign's dashboards; `None` when there was none.
pub(crate) async fn erase_campaign_contact(
    state: &AppState,
    campaign_id: i64,
    contact_id: i64,
    actor: i64,
) -> Result<Option<barnstorm_store::subject::ErasureReport>, barnstorm_store::StoreError> {
    let report = state
        .store
        .erase_campaign_contact(campaign_id, contact_id, Some(actor))
        .await?;
    if report.is_some() {
        state
            .dispatcher
            .events()
            .publish(CampaignEvent::CampaignChanged { campaign_id });
    }
    Ok(report)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(erase_contact))
}
