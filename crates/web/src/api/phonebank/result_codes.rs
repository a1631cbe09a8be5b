//! The result code (NGP VAN) or tag (NationBuilder) each of a campaign's outcomes becomes
//! in that CRM's export, over the API: read with the defaults filled in, and replaced by
//! organisers. The defaults and checks are `barnstorm_domain::crm`'s.

use super::organised_campaign;
use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use barnstorm_domain::crm::{Crm, ResultCodes};
use barnstorm_store::phonebank::Campaign;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// One outcome and the code it becomes.
#[derive(Serialize, Deserialize, ToSchema)]
pub(crate) struct ResultCodeEntry {
    /// The outcome's key, e.g. `no_answer`.
    outcome: String,
    /// The CRM's result code or tag; blank for the default.
    code: String,
}

/// How a campaign's outcomes map to one CRM's codes.
#[derive(Serialize, ToSchema)]
pub(crate) struct ResultCodesView {
    /// `van` or `nationbuilder`.
    crm: String,
    /// Every outcome of the campaign, in button order.
    outcomes: Vec<ResultCodeRow>,
}

/// One outcome's code, and whether the campaign chose it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ResultCodeRow {
    /// The outcome's key.
    outcome: String,
    /// The outcome's button text.
    label: String,
    /// The code the export writes.
    code: String,
    /// The code it would get without the campaign's choice.
    default_code: String,
    /// Whether `code` is the campaign's choice rather than the default.
    chosen: bool,
}

/// The campaign's codes for some outcomes; the others go back to their defaults.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ResultCodesRequest {
    /// Outcome keys and their codes (each outcome at most once).
    codes: Vec<ResultCodeEntry>,
}

fn parse_crm(raw: &str) -> Result<Crm, ApiError> {
    raw.parse().map_err(|e: String| ApiError::invalid("crm", e))
}

fn view(campaign: &Campaign, crm: Crm, codes: &ResultCodes) -> ResultCodesView {
    ResultCodesView {
        crm: crm.as_str().to_owned(),
        outcomes: campaign
            .settings
            .outcomes
            .iter()
            .map(|o| ResultCodeRow {
                outcome: o.key.clone(),
                label: o.label.clone(),
                code: codes.code_for(crm, o),
                default_code: crm.default_code(o),
                chosen: codes.chosen().contains_key(&o.key),
            })
            .collect(),
    }
}

/// The code each outcome of the campaign becomes in `crm`'s export: `van` (NGP VAN
/// result codes) or `nationbuilder` (tags) (organisers).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/result-codes/{crm}", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("crm" = String, Path, description = "van or nationbuilder")),
    responses((status = 200, body = ResultCodesView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_result_codes(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, crm)): Path<(i64, String)>,
) -> Result<Json<ResultCodesView>, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let crm = parse_crm(&crm)?;
    let codes = state
        .store
        .campaign_result_codes(campaign.id, crm, &campaign.settings.outcomes)
        .await?;
    Ok(Json(view(&campaign, crm, &codes)))
}

/// Replace the campaign's codes for `crm`: outcomes left out, or given a blank code, use
/// the default (organisers; audited).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/result-codes/{crm}", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("crm" = String, Path, description = "van or nationbuilder")),
    request_body = ResultCodesRequest,
    responses((status = 200, body = ResultCodesView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_result_codes(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, crm)): Path<(i64, String)>,
    ApiJson(body): ApiJson<ResultCodesRequest>,
) -> Result<Json<ResultCodesView>, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let crm = parse_crm(&crm)?;
    let mut given = BTreeMap::new();
    for entry in body.codes {
        let key = entry.outcome.trim().to_owned();
        if given.insert(key.clone(), entry.code).is_some() {
            return Err(ApiError::invalid(
                "codes",
                format!("the outcome {key:?} is listed twice"),
            ));
        }
    }
    let codes = ResultCodes::new(given, &campaign.settings.outcomes)
        .map_err(|e| ApiError::invalid("codes", e.to_string()))?;
    state
        .store
        .set_campaign_result_codes(campaign.id, campaign.group_id, crm, &codes, Some(user.id))
        .await?;
    Ok(Json(view(&campaign, crm, &codes)))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_result_codes, put_result_codes))
}
