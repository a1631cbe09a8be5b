//! The audit log as pages: `/groups/{slug}/audit` for a group's organisers and
//! `/admin/audit` for administrators and data-protection officers, each with the filter
//! form and a CSV download of what it shows. Who may read what is decided by the same code
//! as the API (`api::audit`), so the pages cannot show more.

use crate::api::audit::{AuditEntryView, AuditParams, audit_csv_body, filter_for, views};
use crate::auth::SignedIn;
use crate::auth::two_factor::require_two_factor_for_subject_requests;
use crate::exports::csv_response;
use crate::pages::layout::{Layout, render};
use crate::pages::require_manager;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_store::Group;

/// How many entries one page shows.
const PAGE_ROWS: i64 = 200;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    /// The group; none for the whole instance.
    group: Option<Group>,
    params: AuditParams,
    entries: Vec<AuditEntryView>,
    /// What was wrong with the filters, in words.
    error: Option<String>,
    /// The query string of the filters, for the CSV link.
    query: String,
}

fn refused(error: &crate::ApiError) -> PageError {
    PageError::new(error.status(), "Audit log", error.message().to_owned())
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    group: Option<Group>,
    mut params: AuditParams,
    query: String,
) -> Result<Response, PageError> {
    if let Some(g) = &group {
        params.group = Some(g.id.to_string());
    }
    let (entries, error) = match filter_for(state, &signed_in.user, &params).await {
        Ok(filter) => {
            let found = state.store.list_audit(&filter, 0, PAGE_ROWS).await?;
            let shown = views(state, found.entries).await.map_err(|e| refused(&e))?;
            (shown, None)
        }
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            (Vec::new(), Some(e.message().to_owned()))
        }
        Err(e) => return Err(refused(&e)),
    };
    Ok(render(&AuditPage {
        layout: Layout::new(&signed_in.context),
        group,
        params,
        entries,
        error,
        query,
    }))
}

async fn csv(
    state: &AppState,
    signed_in: &SignedIn,
    group: Option<&Group>,
    mut params: AuditParams,
) -> Result<Response, PageError> {
    if let Some(g) = group {
        params.group = Some(g.id.to_string());
    }
    let filter = filter_for(state, &signed_in.user, &params)
        .await
        .map_err(|e| refused(&e))?;
    let body = audit_csv_body(state, &filter)
        .await
        .map_err(|e| refused(&e))?;
    Ok(csv_response(body, "audit.csv"))
}

fn query_of(uri: &axum::http::Uri) -> String {
    uri.query().map(|q| format!("?{q}")).unwrap_or_default()
}

async fn group_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    uri: axum::http::Uri,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    page(&state, &signed_in, Some(group), params, query_of(&uri)).await
}

async fn group_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    csv(&state, &signed_in, Some(&group), params).await
}

/// Administrators and data-protection officers, with two-factor sign-in when the instance
/// requires it of them (as for the people pages).
async fn require_instance_reader(state: &AppState, signed_in: &SignedIn) -> Result<(), PageError> {
    if signed_in.user.may_handle_subject_requests() {
        Ok(require_two_factor_for_subject_requests(state, &signed_in.user).await?)
    } else {
        Err(PageError::forbidden(
            "Only administrators and data-protection officers read the whole audit log; organisers read their group's from the group page.",
        ))
    }
}

async fn instance_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    uri: axum::http::Uri,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    require_instance_reader(&state, &signed_in).await?;
    page(&state, &signed_in, None, params, query_of(&uri)).await
}

async fn instance_csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(params): Query<AuditParams>,
) -> Result<Response, PageError> {
    require_instance_reader(&state, &signed_in).await?;
    csv(&state, &signed_in, None, params).await
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(instance_page))
        .route("/admin/audit.csv", get(instance_csv))
        .route("/groups/{slug}/audit", get(group_page))
        .route("/groups/{slug}/audit.csv", get(group_csv))
}
