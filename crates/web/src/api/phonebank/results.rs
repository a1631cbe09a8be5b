//! A campaign's results for organisers: the live figures a dashboard shows, and two CSV
//! exports — one row per contact with its latest answers, one row per call. The exports
//! are built in memory from pages of 1,000 rows (fine for lists of some hundred thousand
//! contacts; stream them if lists grow larger) and every download is audited.

use super::organised_campaign;
use crate::api::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use barnstorm_dispatch::QueueReport;
use barnstorm_store::phonebank::CampaignStats;
use barnstorm_store::{Millis, now_millis};
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

const PAGE: i64 = 1000;

/// The dashboard figures: the store's statistics plus the queue report.
#[derive(Serialize)]
struct StatsView {
    #[serde(flatten)]
    stats: CampaignStats,
    queue: QueueReport,
}

/// A CSV download named `file_name`.
pub(super) fn csv_response(body: Vec<u8>, file_name: &str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A cell a spreadsheet would run as a formula gets a leading `'`.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn time(millis: Option<Millis>) -> String {
    millis
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn answer_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => cell(s),
        Some(Value::Array(items)) => cell(
            &items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(other) => cell(&other.to_string()),
        None => String::new(),
    }
}

fn csv_error(err: &csv::Error) -> ApiError {
    tracing::error!(%err, "could not write a CSV export");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "could not build the export",
    )
}

/// Live figures of a campaign (organisers): callers online, calls per hour over the last
/// 24 hours, outcome and survey tallies, progress through the list, the queue and each
/// caller's calls. Times are milliseconds since the epoch.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/stats", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Object, description = "callers_online, calls_last_hour, calls_per_hour [{hour, calls}], outcomes {key: n}, conversations, progress {total, called, remaining, finished, suppressed}, queue {counts, calling_hours_open, opens_at, summary}, survey {question: {option: n}}, callers [{user_id, name, calls, conversations, last_call_at}]"),
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
    Ok(Json(StatsView { stats, queue }).into_response())
}

/// One row per contact with its attempts, latest outcome and latest answers, one column
/// per survey question (organisers; audited).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/results.csv", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn results_csv(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let questions: Vec<String> = campaign
        .settings
        .survey
        .questions
        .iter()
        .map(|q| q.key.clone())
        .collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "contact_id",
        "first_name",
        "last_name",
        "phone",
        "other_phone",
        "email",
        "postcode",
        "extra",
        "attempts",
        "last_outcome",
        "last_called_at",
        "callback_at",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    header.extend(questions.iter().cloned());
    out.write_record(&header).map_err(|e| csv_error(&e))?;
    let mut after = 0;
    let mut rows = 0_u64;
    loop {
        let page = state
            .store
            .campaign_results_page(campaign.id, after, PAGE)
            .await?;
        for result in &page {
            let c = &result.contact;
            after = c.id;
            rows += 1;
            let extra = if c.extra.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&c.extra).unwrap_or_default()
            };
            let mut record = vec![
                c.id.to_string(),
                cell(&c.first_name),
                cell(&c.last_name),
                c.phone.clone(),
                c.other_phone.clone().unwrap_or_default(),
                cell(c.email.as_deref().unwrap_or("")),
                c.postcode.clone().unwrap_or_default(),
                cell(&extra),
                c.attempts.to_string(),
                c.last_outcome.clone().unwrap_or_default(),
                time(result.last_called_at),
                time(c.callback_at),
            ];
            record.extend(questions.iter().map(|q| answer_text(result.answers.get(q))));
            out.write_record(&record).map_err(|e| csv_error(&e))?;
        }
        if i64::try_from(page.len()).unwrap_or(0) < PAGE {
            break;
        }
    }
    let body = out
        .into_inner()
        .map_err(|e| csv_error(&e.into_error().into()))?;
    state
        .store
        .audit(
            Some(user.id),
            "results.export",
            &format!("campaign {}", campaign.id),
            &format!("{rows} contacts"),
        )
        .await?;
    Ok(csv_response(
        body,
        &format!("campaign-{}-results.csv", campaign.id),
    ))
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
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "time",
        "attempt_id",
        "contact_id",
        "phone",
        "caller",
        "outcome",
        "answers",
        "notes",
    ])
    .map_err(|e| csv_error(&e))?;
    let mut after = 0;
    let mut rows = 0_u64;
    loop {
        let page = state
            .store
            .campaign_attempts_page(campaign.id, after, PAGE)
            .await?;
        for a in &page {
            after = a.id;
            rows += 1;
            out.write_record([
                time(Some(a.created_at)),
                a.id.to_string(),
                a.contact_id.to_string(),
                a.phone.clone(),
                cell(&a.caller_name),
                a.outcome.clone(),
                a.answers.clone(),
                cell(&a.notes),
            ])
            .map_err(|e| csv_error(&e))?;
        }
        if i64::try_from(page.len()).unwrap_or(0) < PAGE {
            break;
        }
    }
    let body = out
        .into_inner()
        .map_err(|e| csv_error(&e.into_error().into()))?;
    state
        .store
        .audit(
            Some(user.id),
            "attempts.export",
            &format!("campaign {}", campaign.id),
            &format!("{rows} calls"),
        )
        .await?;
    Ok(csv_response(
        body,
        &format!("campaign-{}-attempts.csv", campaign.id),
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(results_csv))
        .routes(routes!(attempts_csv))
}
