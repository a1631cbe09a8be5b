//! Subject-access and erasure requests over the API, for instance administrators and the
//! data-protection role: find a person and see what is held, download the same ZIP as
//! `barnstorm person export`, and erase them (only with `"confirm": true`). Several matches
//! answer 409 with the candidates, nobody 404. The lookup and erasure are the store's.

use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::auth::two_factor::require_two_factor_for_subject_requests;
use crate::subject_access::request::{
    CandidateView, PersonRequest, PersonSummary, RequestProblem, summarise,
};
use crate::subject_access::write_person_export;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use barnstorm_store::subject::{
    Erasure, ErasureReport, PersonCandidate, PersonLookup, PersonQuery, PersonRecords,
};
use barnstorm_store::{User, now_millis};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// What a search found: one person and what is held on them, or several to choose from.
#[derive(Serialize, ToSchema)]
pub(crate) struct SearchAnswer {
    /// `one` or `several`.
    matched: String,
    /// What is held, when one person matched.
    person: Option<PersonSummary>,
    /// The people matched when several did; send one's name back as `candidate`.
    candidates: Vec<CandidateView>,
}

/// What an erasure did.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErasureAnswer {
    /// Rows deleted.
    deleted: u64,
    /// Rows kept without anything identifying the person (calls the totals count, an
    /// account that made calls, audit entries).
    anonymised: u64,
    /// Keyed digests stored so their number and address stay suppressed.
    suppressed_digests: u64,
}

impl From<ErasureReport> for ErasureAnswer {
    fn from(r: ErasureReport) -> Self {
        Self {
            deleted: r.deleted,
            anonymised: r.anonymised,
            suppressed_digests: r.suppressed_digests,
        }
    }
}

/// Refuses anyone who is neither an administrator nor holds the data-protection role, and
/// them too without two-factor sign-in when the instance requires it.
async fn require_data_protection(state: &AppState, user: &User) -> Result<(), ApiError> {
    if !user.may_handle_subject_requests() {
        return Err(ApiError::forbidden(
            "only administrators and the data-protection role can find, export or erase people",
        ));
    }
    Ok(require_two_factor_for_subject_requests(state, user).await?)
}

fn query_of(body: &PersonRequest) -> Result<PersonQuery, ApiError> {
    body.query().map_err(|problem| match problem {
        RequestProblem::TooLong(e) => ApiError::from(e),
        RequestProblem::Invalid(e) => ApiError::invalid(e.field, e.message),
    })
}

fn nobody() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "nobody_matches",
        "nobody matches: nothing is stored under what was given",
    )
}

fn several(people: Vec<PersonCandidate>) -> ApiError {
    let candidates: Vec<CandidateView> = people.into_iter().map(CandidateView::from).collect();
    ApiError::new(
        StatusCode::CONFLICT,
        "several_match",
        "several people match; send the name of the one meant as candidate",
    )
    .with_details(json!({ "candidates": candidates }))
}

/// The one person `body` describes, or the answer saying why not.
async fn one_person(
    state: &AppState,
    body: &PersonRequest,
) -> Result<Box<PersonRecords>, ApiError> {
    match state.store.find_person(&query_of(body)?).await? {
        PersonLookup::Nobody => Err(nobody()),
        PersonLookup::Several(people) => Err(several(people)),
        PersonLookup::Found(records) => Ok(records),
    }
}

/// Find a person and see what is held on them: rows per kind, the phone banks whose
/// lists hold them. Several matches list candidates (200); nobody is 404.
#[utoipa::path(post, path = "/api/v1/people/search", tag = "people", security(("bearer" = [])),
    request_body = PersonRequest,
    responses((status = 200, body = SearchAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn search_person(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<PersonRequest>,
) -> Result<Json<SearchAnswer>, ApiError> {
    require_data_protection(&state, &user).await?;
    let answer = match state.store.find_person(&query_of(&body)?).await? {
        PersonLookup::Nobody => return Err(nobody()),
        PersonLookup::Several(people) => SearchAnswer {
            matched: "several".into(),
            person: None,
            candidates: people.into_iter().map(CandidateView::from).collect(),
        },
        PersonLookup::Found(records) => SearchAnswer {
            matched: "one".into(),
            person: Some(summarise(&state.store, &records).await?),
            candidates: Vec::new(),
        },
    };
    Ok(Json(answer))
}

/// Download everything held on one person as the subject-access ZIP (`person.json`, a CSV
/// per kind and a README). Audited without naming them. Several matches are 409 with the
/// candidates; nobody is 404.
#[utoipa::path(post, path = "/api/v1/people/export", tag = "people", security(("bearer" = [])),
    request_body = PersonRequest,
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_person(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<PersonRequest>,
) -> Result<Response, ApiError> {
    require_data_protection(&state, &user).await?;
    let records = one_person(&state, &body).await?;
    subject_access_zip(&state, &user, &records).await
}

/// The ZIP of `records` as a download, audited as `person.export` by `user`.
pub(crate) async fn subject_access_zip(
    state: &AppState,
    user: &User,
    records: &PersonRecords,
) -> Result<Response, ApiError> {
    let zip = write_person_export(records, now_millis(), Vec::new()).map_err(|error| {
        tracing::error!(%error, "writing a subject-access export");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    })?;
    state
        .store
        .audit_person_export(Some(user.id), records)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subject-access.zip\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        zip,
    )
        .into_response())
}

/// Erase one person everywhere, in one transaction. Without `"confirm": true` nothing
/// changes and the 422 answer says what would be erased. Several matches are 409 with
/// the candidates; nobody is 404.
#[utoipa::path(post, path = "/api/v1/people/erase", tag = "people", security(("bearer" = [])),
    request_body = PersonRequest,
    responses((status = 200, body = ErasureAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn erase_person(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<PersonRequest>,
) -> Result<Json<ErasureAnswer>, ApiError> {
    require_data_protection(&state, &user).await?;
    if body.confirm != Some(true) {
        let records = one_person(&state, &body).await?;
        let summary = summarise(&state.store, &records).await?;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "confirmation_required",
            format!(
                "this would erase or anonymise {} records; nothing was changed: send \"confirm\": true to erase",
                summary.total_rows
            ),
        )
        .with_details(json!({ "field": "confirm", "would_erase": summary })));
    }
    match state
        .store
        .erase_person(&query_of(&body)?, Some(user.id))
        .await?
    {
        Erasure::Nobody => Err(nobody()),
        Erasure::Several(people) => Err(several(people)),
        Erasure::Erased(report) => Ok(Json(report.into())),
    }
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_person))
        .routes(routes!(export_person))
        .routes(routes!(erase_person))
}
