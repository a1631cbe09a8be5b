//! A campaign's results for organisers over the API: the live figures a dashboard shows,
//! and the two CSV exports streamed by [`crate::exports`] (one row per contact with its
//! latest answers, one row per call); every download is audited.

use super::organised_campaign;
use crate::api::ErrorBody;
use crate::auth::ApiUser;
use crate::exports::{CampaignExport, campaign_export};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use barnstorm_dispatch::QueueReport;
use barnstorm_domain::crm::ExportFormat;
use barnstorm_store::now_millis;
use barnstorm_store::phonebank::{CallFigures, CampaignStats};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The dashboard figures: the store's statistics plus the queue report, and the calls
/// Barnstorm placed when the campaign is bridged.
#[derive(Serialize)]
struct StatsView {
    #[serde(flatten)]
    stats: CampaignStats,
    queue: QueueReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    bridged_calls: Option<BridgedCalls>,
}

/// Calls Barnstorm placed for a bridged campaign.
#[derive(Serialize)]
struct BridgedCalls {
    dialled: u64,
    answered: u64,
    /// Answered calls over calls placed, from 0 to 1.
    connect_rate: f64,
    /// Time on answered calls, answer to hang-up, in milliseconds.
    talk_ms: i64,
    mean_talk_ms: i64,
}

impl From<CallFigures> for BridgedCalls {
    fn from(f: CallFigures) -> Self {
        Self {
            dialled: f.dialled,
            answered: f.answered,
            connect_rate: f.connect_rate,
            talk_ms: f.talk_ms,
            mean_talk_ms: f.mean_talk_ms,
        }
    }
}

/// Live figures of a campaign (organisers): callers online, calls per hour over the last
/// 24 hours, outcome and survey tallies, progress through the list, the queue and each
/// caller's calls; talk time and connect rate when Barnstorm places the calls. Times are
/// milliseconds since the epoch.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stats", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Object, description = "callers_online, calls_last_hour, calls_per_hour [{hour, calls}], outcomes {key: n}, conversations, progress {total, called, remaining, finished, suppressed}, queue {counts, calling_hours_open, opens_at, summary}, survey {question: {option: n}}, callers [{user_id, name, calls, conversations, last_call_at}]; for a campaign whose calls Barnstorm places (bridging.bridged), bridged_calls {dialled, answered, connect_rate (0 to 1), talk_ms, mean_talk_ms}"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let now = now_millis();
    let stats = state.store.campaign_stats(campaign.id, now).await?;
    let queue = state.dispatcher.report(&campaign, now).await?;
    let bridged_calls = if campaign.settings.bridging.is_bridged() {
        Some(state.store.call_figures(campaign.id, 0).await?.into())
    } else {
        None
    };
    Ok(Json(StatsView {
        stats,
        queue,
        bridged_calls,
    })
    .into_response())
}

/// Which shape of the results export to download.
#[derive(Deserialize, IntoParams)]
pub(crate) struct ResultsQuery {
    /// `standard` (the default: imported columns as one JSON cell), `generic` (a column
    /// per external id, imported column and survey question), `van` (NGP VAN bulk upload
    /// of contact history) or `nationbuilder` (NationBuilder people import).
    format: Option<String>,
}

impl ResultsQuery {
    /// The format asked for, or a 422 naming the parameter.
    pub(crate) fn parse(format: Option<&str>) -> Result<ExportFormat, String> {
        format
            .filter(|f| !f.trim().is_empty())
            .map_or(Ok(ExportFormat::Standard), str::parse)
    }
}

/// One row per contact with its attempts, latest outcome and latest answers, one column
/// per survey question; `format` picks a CRM's shape: `van` and `nationbuilder` write
/// the campaign's result codes (see `/result-codes/{crm}`) and only contacts that were
/// called and have that CRM's id (organisers; audited).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/results.csv", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ResultsQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn results_csv(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<ResultsQuery>,
) -> Result<Response, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let format =
        ResultsQuery::parse(query.format.as_deref()).map_err(|e| ApiError::invalid("format", e))?;
    Ok(campaign_export(
        &state.store,
        campaign,
        user.id,
        CampaignExport::Results(format),
    )
    .await?)
}

/// One row per call: time (RFC 3339), contact id, phone, caller name, outcome, answers
/// as JSON, notes (organisers; audited).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/attempts.csv", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn attempts_csv(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    Ok(campaign_export(&state.store, campaign, user.id, CampaignExport::Attempts).await?)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(results_csv))
        .routes(routes!(attempts_csv))
}
