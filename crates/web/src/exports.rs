//! The CSV exports of a campaign's results, shared by the API and the organiser pages:
//! one row per contact (latest outcome, one column per survey question) and one row per
//! call. Built in memory from pages of 1,000 rows (fine for lists of some hundred thousand
//! contacts; stream them if lists grow larger). Cells a spreadsheet would run as formulas
//! are defused, and every export is audited.

use crate::{ApiError, PageError};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use barnstorm_store::phonebank::Campaign;
use barnstorm_store::{Millis, Store, StoreError};
use serde_json::Value;

const PAGE: i64 = 1000;

/// Why an export could not be built.
#[derive(Debug)]
pub(crate) enum ExportError {
    /// Reading the results failed.
    Store(StoreError),
    /// Writing the CSV failed.
    Csv(String),
}

impl From<StoreError> for ExportError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl From<ExportError> for ApiError {
    fn from(err: ExportError) -> Self {
        match err {
            ExportError::Store(e) => e.into(),
            ExportError::Csv(e) => {
                tracing::error!(%e, "could not write a CSV export");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "could not build the export",
                )
            }
        }
    }
}

impl From<ExportError> for PageError {
    fn from(err: ExportError) -> Self {
        match err {
            ExportError::Store(e) => e.into(),
            ExportError::Csv(e) => {
                tracing::error!(%e, "could not write a CSV export");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Export failed",
                    "Could not build the export; try again.",
                )
            }
        }
    }
}

/// A CSV download named `file_name`.
pub(crate) fn csv_response(body: Vec<u8>, file_name: &str) -> Response {
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
pub(crate) fn cell(text: &str) -> String {
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

fn csv_error(err: &csv::Error) -> ExportError {
    ExportError::Csv(err.to_string())
}

/// One row per contact, audited as done by `actor_id`.
pub(crate) async fn results_csv(
    store: &Store,
    campaign: &Campaign,
    actor_id: i64,
) -> Result<Vec<u8>, ExportError> {
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
        let page = store
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
    finish(
        out,
        store,
        campaign,
        actor_id,
        "results.export",
        &format!("{rows} contacts"),
    )
    .await
}

/// One row per call, audited as done by `actor_id`.
pub(crate) async fn attempts_csv(
    store: &Store,
    campaign: &Campaign,
    actor_id: i64,
) -> Result<Vec<u8>, ExportError> {
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
        let page = store
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
    finish(
        out,
        store,
        campaign,
        actor_id,
        "attempts.export",
        &format!("{rows} calls"),
    )
    .await
}

/// Closes the CSV and records the export in the audit log.
async fn finish(
    out: csv::Writer<Vec<u8>>,
    store: &Store,
    campaign: &Campaign,
    actor_id: i64,
    action: &str,
    detail: &str,
) -> Result<Vec<u8>, ExportError> {
    let body = out
        .into_inner()
        .map_err(|e| csv_error(&e.into_error().into()))?;
    store
        .audit(
            Some(actor_id),
            action,
            &format!("campaign {}", campaign.id),
            detail,
        )
        .await?;
    Ok(body)
}
