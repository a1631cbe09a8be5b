//! Previewing a contact list before it is uploaded, for the API and the campaign page's
//! column-mapping step alike: the start of the file and the chosen column roles go in;
//! each column's role, the first rows with what the import would do with each, and the
//! mapping's problem in plain words come out. Nothing is stored, so any node can answer.
//! The rules are the domain's `preview_import`, the same code the import runs.

use super::imports::{ImportQuery, RowNote, parse_map, refused_file, require_csv};
use super::organised_campaign;
use crate::api::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use barnstorm_domain::contact_import::{
    ColumnRole, ImportError, ImportPreview, PREVIEW_BYTES, PreviewRow, preview_import,
};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A column of the file and the role it would be imported with.
#[derive(Serialize, ToSchema)]
pub(crate) struct PreviewColumn {
    header: String,
    /// `first_name`, `last_name`, `phone`, `other_phone`, `email`, `postcode`, `van_id`,
    /// `nationbuilder_id`, `action_network_id`, `external_id` (another system's id, named
    /// by the header), `extra`
    /// (kept for the script under its header) or `ignore`.
    role: String,
    /// Whether `map` gave the role; otherwise it is guessed from the header.
    chosen: bool,
}

/// One of the file's first rows and what the import would do with it.
#[derive(Serialize, ToSchema)]
pub(crate) struct PreviewRowBody {
    /// Line in the file (the header is line 1).
    line: u64,
    /// The row's cells as read, in file order.
    cells: Vec<String>,
    /// Why the row would be rejected; null when it would be imported, or while the roles
    /// have a problem.
    rejected: Option<RowNote>,
    /// The fields that would be left empty, and why.
    warnings: Vec<RowNote>,
}

/// What uploading the file with these column roles would do, judged from its start.
#[derive(Serialize, ToSchema)]
pub(crate) struct ImportPreviewBody {
    /// Every column, in file order.
    columns: Vec<PreviewColumn>,
    /// The first five data rows.
    rows: Vec<PreviewRowBody>,
    /// Data rows in the part of the file read.
    rows_in_sample: u64,
    /// Whether that part was the whole file, so `rows_in_sample` counts every row.
    whole_file: bool,
    /// Whether the file can be uploaded with these roles.
    ok: bool,
    /// Why not, in plain words ("No column is the phone number: choose one.").
    problem: Option<String>,
}

impl ImportPreviewBody {
    fn new(preview: ImportPreview, overrides: &[(String, ColumnRole)]) -> Self {
        let columns = preview
            .headers
            .into_iter()
            .zip(preview.roles)
            .map(|(header, role)| PreviewColumn {
                chosen: overrides.iter().any(|(h, _)| h.trim() == header),
                role: role.as_str().to_owned(),
                header,
            })
            .collect();
        let row = |row: PreviewRow| PreviewRowBody {
            line: row.line,
            cells: row.cells,
            rejected: row.rejected.map(RowNote::of),
            warnings: row.warnings.into_iter().map(RowNote::of).collect(),
        };
        Self {
            columns,
            rows: preview.rows.into_iter().map(row).collect(),
            rows_in_sample: preview.rows_in_sample,
            whole_file: preview.whole_file,
            ok: preview.problem.is_none(),
            problem: preview.problem,
        }
    }
}

/// Reads the first [`PREVIEW_BYTES`] of `body` (a little more, up to the end of the chunk
/// that reaches them); the rest is never read.
pub(crate) async fn read_sample(body: Body) -> Result<Vec<u8>, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut sample = Vec::new();
    while sample.len() < PREVIEW_BYTES {
        let Some(chunk) = stream.next().await else {
            break;
        };
        sample.extend_from_slice(&chunk?);
    }
    Ok(sample)
}

/// The preview of `sample` with the organiser's `overrides`; an error only when the
/// header row cannot be read.
pub(crate) fn preview_answer(
    sample: &[u8],
    overrides: &[(String, ColumnRole)],
) -> Result<ImportPreviewBody, ImportError> {
    preview_import(sample, overrides).map(|preview| ImportPreviewBody::new(preview, overrides))
}

/// Preview a contact list before uploading it (organisers): send the start of the file
/// as `text/csv` with the `map` you mean to upload with. Up to 64 KiB are read; a body of
/// 64 KiB or more is taken to be the start of a longer file, so its last row, which may be
/// cut, is left out. The answer gives each column's role (guessed unless given in `map`),
/// the first five rows with what the upload would do with each, and whether the roles
/// fit. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/imports/preview", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportPreviewBody), (status = 403, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn preview_contacts(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportPreviewBody>, ApiError> {
    organised_campaign(&state, &user, id).await?;
    require_csv(&headers)?;
    let overrides = parse_map(query.map.as_deref().unwrap_or(""))?;
    let sample = read_sample(body).await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "upload_failed",
            format!("the upload broke off: {e}"),
        )
    })?;
    let answer = preview_answer(&sample, &overrides).map_err(|e| refused_file(&e))?;
    Ok(Json(answer))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview_contacts))
}
