//! Uploading a contact list from the campaign page: the browser first posts the start of
//! the file with the organiser's column roles for a preview (answered like the API's),
//! then the whole CSV as the raw request body with the same roles (`map=`, CSRF header),
//! which is streamed to a temporary file and imported by
//! `barnstorm_dispatch::import::ListUpload` in a background task, while the page polls
//! the job's progress and finally offers the rejected rows (to fix and upload again) and
//! the warnings as CSV. No CSV is read here.

use super::access::organiser_campaign;
use crate::api::phonebank::import_preview::{preview_answer, read_sample};
use crate::api::phonebank::imports::{report_download, upload_file_name};
use crate::auth::{SignedIn, new_secret};
use crate::{AppState, PageError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_dispatch::import::ListUpload;
use barnstorm_dispatch::import::report::Report;
use barnstorm_domain::contact_import::{ColumnRole, parse_overrides};
use barnstorm_store::now_millis;
use barnstorm_store::phonebank::{Campaign, ImportJob, ImportJobStatus};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Largest list accepted through the browser (the command line has no limit).
const MAX_UPLOAD_BYTES: u64 = 200 * 1024 * 1024;

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(default)]
    name: Option<String>,
    /// The organiser's column roles, as the API's `map=` writes them.
    #[serde(default)]
    map: Option<String>,
}

impl UploadQuery {
    /// The column roles chosen in the mapping step, or what is wrong with them.
    fn overrides(&self) -> Result<Vec<(String, ColumnRole)>, String> {
        parse_overrides(self.map.as_deref().unwrap_or(""))
            .map_err(|problem| format!("Column roles: {problem}."))
    }
}

/// An upload refused before any row was imported, as JSON for the page script.
fn refused(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Removes the temporary copy when the upload handler or the import ends, however.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Streams the body to a temporary file; returns the file and the number of lines seen.
async fn save_body(body: Body) -> Result<(TempFile, u64), Response> {
    let temp =
        TempFile(std::env::temp_dir().join(format!("barnstorm-upload-{}.csv", new_secret())));
    let internal = |error: std::io::Error| {
        tracing::error!(%error, "could not store an uploaded list");
        refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The upload could not be stored on the server; try again.",
        )
    };
    let mut file = tokio::fs::File::create(&temp.0).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    let (mut bytes, mut lines, mut last) = (0_u64, 0_u64, b'\n');
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            refused(
                StatusCode::BAD_REQUEST,
                "The upload was interrupted; try again.",
            )
        })?;
        bytes += chunk.len() as u64;
        if bytes > MAX_UPLOAD_BYTES {
            return Err(refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The file is larger than 200 MB: split it, or import it with `barnstorm import`.",
            ));
        }
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        last = chunk.last().copied().unwrap_or(last);
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    if bytes == 0 {
        return Err(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The file is empty.",
        ));
    }
    Ok((temp, lines + u64::from(last != b'\n')))
}

async fn upload(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let overrides = match query.overrides() {
        Ok(overrides) => overrides,
        Err(problem) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, problem)),
    };
    let (temp, lines) = match save_body(body).await {
        Ok(saved) => saved,
        Err(response) => return Ok(response),
    };
    let file_name = upload_file_name(query.name.as_deref(), "upload.csv");
    let source = match std::fs::File::open(&temp.0) {
        Ok(file) => file,
        Err(error) => {
            tracing::error!(%error, "could not reopen an uploaded list");
            return Ok(refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The upload was lost on the server; try again.",
            ));
        }
    };
    let user_id = signed_in.user.id;
    let list = match ListUpload::new(campaign, Some(user_id), &file_name, source, &overrides) {
        Ok(list) => list,
        Err(problem) => {
            return Ok(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("The file could not be read: {problem}."),
            ));
        }
    };
    let started = list.start(&state.store).await?;
    let job_id = started.job().id;
    let (store, events) = (state.store.clone(), state.dispatcher.events().clone());
    tokio::spawn(async move {
        // The temporary file lives until the import ends.
        let _temp = temp;
        if let Err(error) = started.run(&store, &events, |_| {}).await {
            tracing::warn!(job_id, %error, "a list import stopped");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "job_id": job_id,
            "progress_url": format!("/campaigns/{id}/imports/{job_id}"),
            "estimated_rows": lines.saturating_sub(1),
        })),
    )
        .into_response())
}

/// The mapping step's preview: the start of the file and the roles chosen so far in,
/// each column's role, the first rows and the mapping's problem out.
async fn preview(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Response, PageError> {
    organiser_campaign(&state, &signed_in.user, id).await?;
    let overrides = match query.overrides() {
        Ok(overrides) => overrides,
        Err(problem) => return Ok(refused(StatusCode::UNPROCESSABLE_ENTITY, problem)),
    };
    let Ok(sample) = read_sample(body).await else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "The file could not be sent; try again.",
        ));
    };
    Ok(match preview_answer(&sample, &overrides) {
        Ok(answer) => Json(answer).into_response(),
        Err(problem) => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The file could not be read: {problem}."),
        ),
    })
}

/// What the progress bar reads.
#[derive(Serialize)]
struct JobProgress {
    status: &'static str,
    done: bool,
    rows: u64,
    imported: u64,
    duplicates: u64,
    suppressed: u64,
    rejected: u64,
    warnings: u64,
    error: Option<String>,
    rejections_url: Option<String>,
    warnings_url: Option<String>,
    /// The campaign's contacts now, so the page's count is never stale.
    contacts: i64,
    /// The queue in words once the import is done (the page's "Queue:" line).
    queue: Option<String>,
}

impl JobProgress {
    fn new(job: &ImportJob, contacts: i64, queue: Option<String>) -> Self {
        let download = |what: &str| {
            format!(
                "/campaigns/{}/imports/{}/{what}.csv",
                job.campaign_id, job.id
            )
        };
        Self {
            status: job.status.as_str(),
            done: job.status != ImportJobStatus::Running,
            rows: job.rows_read,
            imported: job.imported,
            duplicates: job.duplicates,
            suppressed: job.suppressed,
            rejected: job.rejected,
            warnings: job.warnings,
            error: job.error.clone(),
            rejections_url: (job.rejected > 0).then(|| download("rejections")),
            warnings_url: (job.warnings + job.duplicates > 0).then(|| download("warnings")),
            contacts,
            queue,
        }
    }
}

async fn campaign_job(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
    job_id: i64,
) -> Result<(Campaign, ImportJob), PageError> {
    let (campaign, _) = organiser_campaign(state, &signed_in.user, id).await?;
    let job = state
        .store
        .import_job(job_id)
        .await?
        .filter(|job| job.campaign_id == campaign.id)
        .ok_or_else(|| PageError::not_found("There is no such upload for this phone bank."))?;
    Ok((campaign, job))
}

async fn progress(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, job_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (campaign, job) = campaign_job(&state, &signed_in, id, job_id).await?;
    let contacts = state.store.contact_count(job.campaign_id).await?;
    let queue = match job.status {
        ImportJobStatus::Running => None,
        _ => Some(
            state
                .dispatcher
                .report(&campaign, now_millis())
                .await?
                .summary,
        ),
    };
    Ok(Json(JobProgress::new(&job, contacts, queue)).into_response())
}

async fn rejections(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, job_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (_, job) = campaign_job(&state, &signed_in, id, job_id).await?;
    let name = format!("rejected-rows-{}.csv", job.id);
    Ok(report_download(&state, &job, Report::Rejections, &name).await?)
}

async fn warnings(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, job_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (_, job) = campaign_job(&state, &signed_in, id, job_id).await?;
    let name = format!("warnings-{}.csv", job.id);
    Ok(report_download(&state, &job, Report::Warnings, &name).await?)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/imports", post(upload))
        .route("/campaigns/{id}/imports/preview", post(preview))
        .route("/campaigns/{id}/imports/{job_id}", get(progress))
        .route(
            "/campaigns/{id}/imports/{job_id}/rejections.csv",
            get(rejections),
        )
        .route(
            "/campaigns/{id}/imports/{job_id}/warnings.csv",
            get(warnings),
        )
}
