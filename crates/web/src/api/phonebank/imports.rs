//! Contact-list uploads over the API. The CSV body is read as it arrives: up to
//! [`SYNC_LIMIT`] bytes stay in memory and are imported before answering (200 with the
//! totals, rejected rows, warnings and merges); a larger body spills to a temporary file
//! and is imported in the background (202 with a progress URL). The import itself is the
//! dispatch crate's [`ListUpload`], shared with the page and the command line.

use super::{find_campaign, organised_campaign, require_organiser};
use crate::api::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use barnstorm_dispatch::import::report::{Report, ReportPages};
use barnstorm_dispatch::import::{ImportFailure, ImportSummary, ListUpload};
use barnstorm_domain::contact_import::{ColumnRole, ImportError, RowWarning, parse_overrides};
use barnstorm_store::StoreError;
use barnstorm_store::User;
use barnstorm_store::phonebank::ImportJob;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Seek;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Bodies up to this size are imported before the response.
pub(crate) const SYNC_LIMIT: usize = 20 * 1024 * 1024;
/// The largest upload accepted.
pub(crate) const UPLOAD_LIMIT: usize = 512 * 1024 * 1024;

/// Options of an upload.
#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct ImportQuery {
    /// Column roles as `Header:role,Header2:role`; roles are `first_name`, `last_name`,
    /// `phone`, `other_phone`, `email`, `postcode`, `extra`, `ignore`. Unlisted columns
    /// are guessed from their headers. A header may contain a comma
    /// (`Address, line 1:extra`).
    pub(super) map: Option<String>,
}

/// A note about one row: why it was rejected, what was wrong with one of its fields, or
/// which line it was merged into.
#[derive(Serialize, ToSchema)]
pub(crate) struct RowNote {
    /// Line in the file (the header is line 1).
    line: u64,
    /// Header of the column concerned; empty when the whole row is.
    column: String,
    reason: String,
}

impl RowNote {
    pub(super) fn of(note: RowWarning) -> Self {
        Self {
            line: note.line,
            column: note.column,
            reason: note.reason,
        }
    }
}

/// What a finished upload did. Rows with a callable number are imported (or merged, or
/// suppressed); a problem with another field is a warning and that field is left empty.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportResult {
    job_id: i64,
    imported: u64,
    /// Rows merged into the contact with their number (earlier in the file, or from an
    /// earlier upload): missing fields filled, extra fields kept.
    duplicates: u64,
    suppressed: u64,
    /// The first 1,000 rejected rows (no callable number, or unreadable); all are at
    /// `/api/v1/imports/{job_id}/rejections.csv` with their original columns.
    rejected: Vec<RowNote>,
    rejected_total: u64,
    /// The first 1,000 warnings; all are at `/api/v1/imports/{job_id}/warnings.csv`.
    warnings: Vec<RowNote>,
    warnings_total: u64,
    /// The first 1,000 merges, each "merged into line N" (or into an existing contact).
    merged: Vec<RowNote>,
}

/// An upload running in the background.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportStarted {
    job_id: i64,
    /// Where to follow its progress.
    status_url: String,
}

/// An import's progress.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportStatus {
    job_id: i64,
    campaign_id: i64,
    /// `running`, `done` or `failed`.
    status: String,
    rows_read: u64,
    imported: u64,
    duplicates: u64,
    suppressed: u64,
    rejected: u64,
    warnings: u64,
    /// Why it failed, if it did.
    error: Option<String>,
}

fn result_of(job_id: i64, summary: ImportSummary) -> ImportResult {
    let notes = |notes: Vec<RowWarning>| notes.into_iter().map(RowNote::of).collect();
    ImportResult {
        job_id,
        imported: summary.imported,
        duplicates: summary.duplicates,
        suppressed: summary.suppressed,
        rejected: summary
            .rejected
            .into_iter()
            .map(|r| RowNote {
                line: r.line,
                column: r.column,
                reason: r.reason,
            })
            .collect(),
        rejected_total: summary.rejected_total,
        warnings: notes(summary.warnings),
        warnings_total: summary.warnings_total,
        merged: notes(summary.merges),
    }
}

/// Parses `Header:role,Header2:role` (or `Header=role`).
pub(super) fn parse_map(text: &str) -> Result<Vec<(String, ColumnRole)>, ApiError> {
    parse_overrides(text).map_err(|e| ApiError::invalid("map", e))
}

/// The name an upload is kept under: the given one without control characters, at most
/// 200 characters, or `fallback`.
pub(crate) fn upload_file_name(given: Option<&str>, fallback: &str) -> String {
    let name: String = given
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if name.trim().is_empty() {
        fallback.to_owned()
    } else {
        name.trim().to_owned()
    }
}

/// Refuses a body that is not sent as CSV.
pub(super) fn require_csv(headers: &HeaderMap) -> Result<(), ApiError> {
    require_content_type(headers, &["text/csv", "application/csv"], "text/csv")
}

/// Refuses a body whose `Content-Type` starts with none of `accepted`; `expected` names
/// them for the client ("text/csv or text/plain").
pub(super) fn require_content_type(
    headers: &HeaderMap,
    accepted: &[&str],
    expected: &str,
) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accepted.iter().any(|a| content_type.starts_with(a)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the list as Content-Type: {expected}"),
        ))
    }
}

/// Refuses a body whose declared `Content-Length` is over [`UPLOAD_LIMIT`] before any of
/// it is read (`receive` counts what actually arrives).
pub(super) fn refuse_declared_too_large(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > UPLOAD_LIMIT) {
        Err(too_large())
    } else {
        Ok(())
    }
}

pub(super) fn refused_file(problem: &ImportError) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_file",
        problem.to_string(),
    )
    .with_details(json!({ "field": "body" }))
}

fn failure(job_id: i64, err: ImportFailure) -> ApiError {
    match err {
        ImportFailure::File(problem) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_file",
            problem.to_string(),
        )
        .with_details(json!({ "field": "body", "job_id": job_id })),
        ImportFailure::Interrupted { reason, summary } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_interrupted",
            reason,
        )
        .with_details(
            json!({ "job_id": job_id, "rows_read": summary.rows, "imported": summary.imported }),
        ),
        ImportFailure::Store(store) => store.into(),
    }
}

/// The upload, in memory or (past [`SYNC_LIMIT`]) in a temporary file.
pub(crate) enum Upload {
    Memory(Vec<u8>),
    File(std::fs::File),
}

fn io_error(err: &std::io::Error) -> ApiError {
    tracing::error!(%err, "could not buffer an upload");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "could not store the upload; try again",
    )
}

pub(crate) fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the largest list accepted is {} MB; split the file",
            UPLOAD_LIMIT / 1024 / 1024
        ),
    )
}

/// Reads the body as it arrives, refusing more than [`UPLOAD_LIMIT`] bytes (the raw body
/// is not covered by `DefaultBodyLimit`, so the limit is counted here).
pub(crate) async fn receive(body: Body) -> Result<Upload, ApiError> {
    let mut stream = body.into_data_stream();
    let mut memory = Vec::new();
    let mut file: Option<tokio::fs::File> = None;
    let mut received = 0_usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "upload_failed",
                format!("the upload broke off: {e}"),
            )
        })?;
        received += chunk.len();
        if received > UPLOAD_LIMIT {
            return Err(too_large());
        }
        if let Some(file) = file.as_mut() {
            file.write_all(&chunk).await.map_err(|e| io_error(&e))?;
        } else if memory.len() + chunk.len() > SYNC_LIMIT {
            let spill = tempfile::tempfile().map_err(|e| io_error(&e))?;
            let mut spill = tokio::fs::File::from_std(spill);
            spill.write_all(&memory).await.map_err(|e| io_error(&e))?;
            spill.write_all(&chunk).await.map_err(|e| io_error(&e))?;
            memory = Vec::new();
            file = Some(spill);
        } else {
            memory.extend_from_slice(&chunk);
        }
    }
    match file {
        Some(mut file) => {
            file.flush().await.map_err(|e| io_error(&e))?;
            let mut file = file.into_std().await;
            file.rewind().map_err(|e| io_error(&e))?;
            Ok(Upload::File(file))
        }
        None => Ok(Upload::Memory(memory)),
    }
}

/// Upload a contact list (`text/csv`) to a campaign you organise. Up to 20 MB is imported
/// before answering (200); larger files are imported in the background (202).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/contacts", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResult), (status = 202, body = ImportStarted), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_contacts(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    require_csv(&headers)?;
    refuse_declared_too_large(&headers)?;
    let given = parse_map(query.map.as_deref().unwrap_or(""))?;
    let upload = receive(body).await?;
    let events = state.dispatcher.events().clone();
    match upload {
        Upload::Memory(bytes) => {
            let source = std::io::Cursor::new(bytes);
            let list = ListUpload::new(campaign, Some(user.id), "upload.csv", source, &given)
                .map_err(|e| refused_file(&e))?;
            let started = list.start(&state.store).await?;
            let job_id = started.job().id;
            let summary = started
                .run(&state.store, &events, |_| {})
                .await
                .map_err(|e| failure(job_id, e))?;
            Ok(Json(result_of(job_id, summary)).into_response())
        }
        Upload::File(file) => {
            let list = ListUpload::new(campaign, Some(user.id), "upload.csv", file, &given)
                .map_err(|e| refused_file(&e))?;
            let started = list.start(&state.store).await?;
            let job_id = started.job().id;
            let store = state.store.clone();
            tokio::spawn(async move {
                match started.run(&store, &events, |_| {}).await {
                    Ok(summary) => tracing::info!(
                        job_id,
                        imported = summary.imported,
                        "background import finished"
                    ),
                    Err(error) => tracing::warn!(job_id, %error, "background import failed"),
                }
            });
            let started = ImportStarted {
                job_id,
                status_url: format!("/api/v1/imports/{job_id}"),
            };
            Ok((StatusCode::ACCEPTED, Json(started)).into_response())
        }
    }
}

/// The job, if `user` organises its campaign.
async fn organised_job(state: &AppState, user: &User, job_id: i64) -> Result<ImportJob, ApiError> {
    let job = state
        .store
        .import_job(job_id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("import {job_id}")))?;
    let campaign = find_campaign(state, job.campaign_id).await?;
    require_organiser(state, user, campaign.group_id).await?;
    Ok(job)
}

/// An import's progress (organisers).
#[utoipa::path(get, path = "/api/v1/imports/{job_id}", tag = "phonebank", security(("bearer" = [])),
    params(("job_id" = i64, Path)), responses((status = 200, body = ImportStatus), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn import_status(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(job_id): Path<i64>,
) -> Result<Json<ImportStatus>, ApiError> {
    let job = organised_job(&state, &user, job_id).await?;
    Ok(Json(ImportStatus {
        job_id: job.id,
        campaign_id: job.campaign_id,
        status: job.status.as_str().to_owned(),
        rows_read: job.rows_read,
        imported: job.imported,
        duplicates: job.duplicates,
        suppressed: job.suppressed,
        rejected: job.rejected,
        warnings: job.warnings,
        error: job.error,
    }))
}

/// Every rejected row of an import as CSV: the file's own columns and cells, then
/// `Rejected on line`, `Rejected column` and `Rejection reason`. Fix the rows and upload
/// the file again: those three columns are recognised and ignored (organisers).
#[utoipa::path(get, path = "/api/v1/imports/{job_id}/rejections.csv", tag = "phonebank", security(("bearer" = [])),
    params(("job_id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn import_rejections(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(job_id): Path<i64>,
) -> Result<Response, ApiError> {
    let job = organised_job(&state, &user, job_id).await?;
    let name = format!("import-{job_id}-rejections.csv");
    Ok(report_download(&state, &job, Report::Rejections, &name).await?)
}

/// `report` of `job` as a CSV download named `file_name`, streamed from the store a
/// window of lines at a time (a job of a million rows is never held whole). A failure
/// mid-way ends the body with an error rather than a short file that looks complete.
pub(crate) async fn report_download(
    state: &AppState,
    job: &ImportJob,
    report: Report,
    file_name: &str,
) -> Result<Response, StoreError> {
    let pages = ReportPages::new(state.store.clone(), job, report).await?;
    let job_id = job.id;
    let pieces = futures_util::stream::unfold(Some(pages), move |pages| async move {
        let mut pages = pages?;
        match pages.next_piece().await {
            Ok(Some(piece)) => Some((Ok(Bytes::from(piece)), Some(pages))),
            Ok(None) => None,
            Err(error) => {
                tracing::error!(job_id, %error, "an import report failed mid-way");
                Some((Err(std::io::Error::other(error)), None))
            }
        }
    });
    Ok(crate::exports::csv_stream_response(
        Body::from_stream(pieces),
        file_name,
    ))
}

/// Every warning of an import (a field left empty) and every merge (with the values the
/// merged row gave differently), as CSV: `line,column,warning`, by line (organisers).
#[utoipa::path(get, path = "/api/v1/imports/{job_id}/warnings.csv", tag = "phonebank", security(("bearer" = [])),
    params(("job_id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn import_warnings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(job_id): Path<i64>,
) -> Result<Response, ApiError> {
    let job = organised_job(&state, &user, job_id).await?;
    let name = format!("import-{job_id}-warnings.csv");
    Ok(report_download(&state, &job, Report::Warnings, &name).await?)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_contacts))
        // For extractors that honour it; `receive` counts the raw body itself.
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .routes(routes!(import_status))
        .routes(routes!(import_rejections))
        .routes(routes!(import_warnings))
}
