//! Result downloads for organisers in the browser: the same two CSV exports as the API
//! (one row per contact, in the format chosen, and one row per call), streamed, and the
//! CRM result codes each outcome becomes, saved from the campaign page; behind the session instead of a token.

use super::access::organiser_campaign;
use crate::api::phonebank::results::ResultsQuery;
use crate::auth::Flash;
use crate::auth::SignedIn;
use crate::exports::{CampaignExport, campaign_export};
use crate::{AppState, PageError};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::crm::{CRMS, Crm, ResultCodes};
use barnstorm_store::StoreError;
use barnstorm_store::phonebank::Campaign;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The results download's `?format=`.
#[derive(Deserialize)]
struct ResultsForm {
    format: Option<String>,
}

async fn results(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(form): Query<ResultsForm>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let format = ResultsQuery::parse(form.format.as_deref())
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, "Unknown export format", e))?;
    Ok(campaign_export(
        &state.store,
        campaign,
        signed_in.user.id,
        CampaignExport::Results(format),
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

/// One CRM's codes as the campaign page shows them.
pub(super) struct CrmCodesTable {
    pub(super) crm: Crm,
    pub(super) rows: Vec<CrmCodeRow>,
}

/// One outcome's code: the campaign's choice (blank for the default) and the default.
pub(super) struct CrmCodeRow {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) code: String,
    pub(super) default_code: String,
}

/// The codes of both CRMs for the campaign page.
pub(super) async fn crm_tables(
    state: &AppState,
    campaign: &Campaign,
) -> Result<Vec<CrmCodesTable>, StoreError> {
    let mut tables = Vec::with_capacity(CRMS.len());
    for crm in CRMS {
        let codes = state
            .store
            .campaign_result_codes(campaign.id, crm, &campaign.settings.outcomes)
            .await?;
        let rows = campaign
            .settings
            .outcomes
            .iter()
            .map(|o| CrmCodeRow {
                key: o.key.clone(),
                label: o.label.clone(),
                code: codes.chosen().get(&o.key).cloned().unwrap_or_default(),
                default_code: crm.default_code(o),
            })
            .collect();
        tables.push(CrmCodesTable { crm, rows });
    }
    Ok(tables)
}

/// Saves one CRM's codes from the campaign page: a field `code:KEY` per outcome, blank
/// for the default.
async fn save_result_codes(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, crm)): Path<(i64, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let back = format!("/campaigns/{id}#crm");
    let Ok(crm) = crm.parse::<Crm>() else {
        return Ok(Flash::error("Choose NGP VAN or NationBuilder.").redirect(&back));
    };
    let given: BTreeMap<String, String> = fields
        .into_iter()
        .filter_map(|(name, value)| Some((name.strip_prefix("code:")?.to_owned(), value)))
        .collect();
    let codes = match ResultCodes::new(given, &campaign.settings.outcomes) {
        Ok(codes) => codes,
        Err(e) => return Ok(Flash::error(format!("{}: {e}.", crm.label())).redirect(&back)),
    };
    state
        .store
        .set_campaign_result_codes(
            campaign.id,
            campaign.group_id,
            crm,
            &codes,
            Some(signed_in.user.id),
        )
        .await?;
    Ok(Flash::ok(format!("Saved the {} {}s.", crm.label(), crm.code_name())).redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/campaigns/{id}/result-codes/{crm}",
            post(save_result_codes),
        )
        .route("/campaigns/{id}/results.csv", get(results))
        .route("/campaigns/{id}/attempts.csv", get(attempts))
}
