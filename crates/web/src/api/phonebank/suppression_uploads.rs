//! Uploading number lists over the API: a group's do-not-call list (organisers of the
//! group) and the national TPS or CTPS file (site admins). The body is read with the
//! contact uploads' `receive` and loaded by the dispatch crate's readers, which answer
//! the counts and name the bad lines; this module only checks access and the request.
//! The page's uploads call [`load_do_not_call`] and [`load_national_list`] too.

use super::callers::MAX_REASON;
use super::imports::{
    UPLOAD_LIMIT, Upload, receive, refuse_declared_too_large, require_content_type,
    upload_file_name,
};
use super::suppressions::organised_group;
use crate::api::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use barnstorm_dispatch::do_not_call_upload::{DoNotCallReport, DoNotCallUpload};
use barnstorm_dispatch::national_lists::{
    ListFileError, NationalList, NationalListReport, import_national_list,
};
use barnstorm_store::{Group, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufReader, Cursor};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The file's name, kept with what it loads.
#[derive(Deserialize, IntoParams)]
pub(crate) struct UploadQuery {
    /// The uploaded file's name, such as `tps-2026-12.txt`.
    name: Option<String>,
}

/// A line of the file that was not loaded.
#[derive(Serialize, ToSchema)]
pub(crate) struct BadLineView {
    /// Line in the file, from 1 (a header is line 1).
    pub(crate) line: u64,
    /// What is wrong with it.
    pub(crate) reason: String,
}

/// What uploading a do-not-call list did.
#[derive(Serialize, ToSchema)]
pub(crate) struct DoNotCallUploadView {
    /// Numbers new to the list.
    pub(crate) added: u64,
    /// Numbers that were on the list already or repeated in the file.
    pub(crate) already_listed: u64,
    /// Lines that were not added.
    pub(crate) invalid: u64,
    /// The first ten of those lines, with why.
    pub(crate) invalid_lines: Vec<BadLineView>,
    /// Queued contacts of the group's campaigns taken out of the queue.
    pub(crate) contacts_suppressed: u64,
}

impl From<DoNotCallReport> for DoNotCallUploadView {
    fn from(r: DoNotCallReport) -> Self {
        Self {
            added: r.added,
            already_listed: r.already_listed,
            invalid: r.invalid,
            invalid_lines: r
                .invalid_lines
                .into_iter()
                .map(|bad| BadLineView {
                    line: bad.line,
                    reason: bad.reason,
                })
                .collect(),
            contacts_suppressed: r.contacts_suppressed,
        }
    }
}

/// What loading a TPS or CTPS file did.
#[derive(Serialize, ToSchema)]
pub(crate) struct NationalUploadView {
    /// `TPS` or `CTPS`.
    pub(crate) list: String,
    /// The file's name, kept with each number.
    pub(crate) source: String,
    /// Valid numbers read.
    pub(crate) read: u64,
    /// Numbers new to the list (the rest were listed already or repeated in the file).
    pub(crate) added: u64,
    /// Lines that were not phone numbers.
    pub(crate) skipped: u64,
    /// The first ten of those lines' numbers, from 1.
    pub(crate) skipped_lines: Vec<u64>,
    /// Numbers on the list in all, afterwards.
    pub(crate) on_list: u64,
}

/// Refuses a body that is not a text list, or that says it is too large.
fn check_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    require_content_type(
        headers,
        &["text/csv", "application/csv", "text/plain"],
        "text/csv or text/plain",
    )?;
    refuse_declared_too_large(headers)
}

fn empty_file() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_file",
        "the file is empty: send one number a line, or a CSV with a phone column",
    )
    .with_details(json!({ "field": "body" }))
}

fn unreadable(err: ListFileError) -> ApiError {
    match err {
        ListFileError::Store(store) => store.into(),
        ListFileError::Unreadable { line, source } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_file",
            format!("the file could not be read after line {line}: {source}"),
        )
        .with_details(json!({ "field": "body", "line": line })),
    }
}

/// Adds every valid number of the uploaded `body` to `group`'s do-not-call list.
pub(crate) async fn load_do_not_call(
    state: &AppState,
    group: &Group,
    user: &User,
    name: Option<&str>,
    body: Body,
) -> Result<DoNotCallUploadView, ApiError> {
    let source = upload_file_name(name, "upload.csv");
    let default_reason = format!("On the uploaded list {source}");
    let upload = DoNotCallUpload {
        group_id: group.id,
        added_by: user.id,
        source: &source,
        default_reason: &default_reason,
        max_reason: MAX_REASON,
    };
    let report = match receive(body).await? {
        Upload::Memory(bytes) if bytes.is_empty() => return Err(empty_file()),
        Upload::Memory(bytes) => upload.run(&state.store, Cursor::new(bytes)).await,
        Upload::File(file) => upload.run(&state.store, BufReader::new(file)).await,
    }
    .map_err(unreadable)?;
    Ok(report.into())
}

/// Adds every number of the uploaded `body` to the national list `list`, audited as
/// `tps.import` by `admin`.
pub(crate) async fn load_national_list(
    state: &AppState,
    admin: &User,
    list: NationalList,
    name: Option<&str>,
    body: Body,
) -> Result<NationalUploadView, ApiError> {
    let source = upload_file_name(name, &format!("{}-upload.txt", list.as_str()));
    let report: NationalListReport = match receive(body).await? {
        Upload::Memory(bytes) if bytes.is_empty() => return Err(empty_file()),
        Upload::Memory(bytes) => {
            import_national_list(
                &state.store,
                Cursor::new(bytes),
                list,
                &source,
                Some(admin.id),
            )
            .await
        }
        Upload::File(file) => {
            import_national_list(
                &state.store,
                BufReader::new(file),
                list,
                &source,
                Some(admin.id),
            )
            .await
        }
    }
    .map_err(unreadable)?;
    Ok(NationalUploadView {
        list: list.as_str().to_owned(),
        source,
        read: report.read,
        added: report.added,
        skipped: report.skipped,
        skipped_lines: report.skipped_lines,
        on_list: report.on_list,
    })
}

/// Upload a do-not-call list to a group you organise: one number per line, or a CSV with
/// a phone column ("Phone", "Number"…) and an optional "Reason" column; the header is
/// optional (without one, the number is the first column and the reason the second).
/// Every valid number is added; the answer counts what was added, what was listed
/// already, and names the first bad lines.
#[utoipa::path(post, path = "/api/v1/groups/{id}/do-not-call/upload", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), UploadQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = DoNotCallUploadView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_do_not_call(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<DoNotCallUploadView>, ApiError> {
    let group = organised_group(&state, &user, id).await?;
    check_headers(&headers)?;
    let view = load_do_not_call(&state, &group, &user, query.name.as_deref(), body).await?;
    Ok(Json(view))
}

/// The national list a path names, `tps` or `ctps`.
pub(crate) fn national_list(raw: &str) -> Result<NationalList, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(&format!("national list {raw:?} (use tps or ctps)")))
}

/// Load a TPS or CTPS file (site admins): one number per line, or a CSV whose first column
/// (or the column headed "Phone" or "Number") is the number. Numbers already listed stay;
/// queued contacts of every campaign with a listed number leave the queue. Audited as
/// `tps.import`.
#[utoipa::path(post, path = "/api/v1/national-lists/{list}", tag = "phonebank", security(("bearer" = [])),
    params(("list" = String, Path, description = "`tps` or `ctps`"), UploadQuery),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 200, body = NationalUploadView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_national_list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(list): Path<String>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<NationalUploadView>, ApiError> {
    if !user.is_admin {
        return Err(ApiError::forbidden(
            "only site admins load the TPS and CTPS lists".to_owned(),
        ));
    }
    let list = national_list(&list)?;
    check_headers(&headers)?;
    let view = load_national_list(&state, &user, list, query.name.as_deref(), body).await?;
    Ok(Json(view))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_do_not_call))
        .routes(routes!(upload_national_list))
        // For extractors that honour it; `receive` counts the raw body itself.
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}
