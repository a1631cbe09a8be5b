//! The audit log over the API: who viewed, exported, imported, erased or changed personal
//! data, filtered by group, campaign, caller, person (email or phone), action and time, as
//! JSON pages or one CSV. Administrators and data-protection officers see every entry;
//! organisers only entries about the groups they organise, never another group's.

use super::ErrorBody;
use crate::auth::ApiUser;
use crate::auth::two_factor::require_two_factor_for_subject_requests;
use crate::exports::{cell, csv_response};
use crate::pages::can_manage;
use crate::pages::discover::{given, parse_instant, rfc3339};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use barnstorm_store::subject::{PersonLookup, PersonQuery};
use barnstorm_store::{AuditAction, AuditEntry, AuditFilter, PersonIds, User};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Page size when none is given.
const DEFAULT_LIMIT: i64 = 100;
/// The largest page.
const MAX_LIMIT: i64 = 500;
/// The most rows one CSV holds; narrow the filters for more.
const MAX_CSV_ROWS: i64 = 100_000;

/// Filters of the audit log; every one left out matches everything.
#[derive(Deserialize, IntoParams, Default, Clone)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditParams {
    /// Only entries about this group (one you organise, unless you see every group).
    pub(crate) group: Option<String>,
    /// Only entries about this campaign.
    pub(crate) campaign: Option<String>,
    /// Only entries made by this account id (a caller, an organiser).
    pub(crate) caller: Option<String>,
    /// Only this action, by its dotted name: `contact.view`, `attempts.export`,
    /// `contacts.import`, `person.erase`, `campaign.update`, …
    pub(crate) action: Option<String>,
    /// Only entries about the person with this address.
    pub(crate) email: Option<String>,
    /// Only entries about the person with this number (any spelling).
    pub(crate) phone: Option<String>,
    /// RFC 3339; only entries at or after this.
    pub(crate) from: Option<String>,
    /// RFC 3339; only entries before this.
    pub(crate) to: Option<String>,
    /// Page size (default 100, at most 500).
    pub(crate) limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// One audit entry.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditEntryView {
    /// RFC 3339, UTC.
    pub(crate) at: String,
    /// The dotted action name.
    pub(crate) action: String,
    /// Who did it; null for the system or an anonymous visitor.
    pub(crate) actor_user_id: Option<i64>,
    /// Their name, when the account still exists.
    pub(crate) actor_name: Option<String>,
    /// What it was done to, in words ("campaign 4", "contact 1932").
    pub(crate) subject: String,
    pub(crate) detail: String,
    pub(crate) group_id: Option<i64>,
    pub(crate) campaign_id: Option<i64>,
    pub(crate) contact_id: Option<i64>,
    /// The account it was done to.
    pub(crate) subject_user_id: Option<i64>,
    pub(crate) supporter_id: Option<i64>,
}

/// A page of audit entries, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuditPageView {
    data: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

fn whole(field: &'static str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| ApiError::invalid(field, format!("'{raw}' is not a whole number")))
}

/// The groups whose entries `user` may read: `None` for every entry (administrators and
/// data-protection officers), or the groups they organise. Refused for anyone else.
pub(crate) async fn readable_groups(
    state: &AppState,
    user: &User,
) -> Result<Option<Vec<i64>>, ApiError> {
    if user.may_handle_subject_requests() {
        require_two_factor_for_subject_requests(state, user).await?;
        return Ok(None);
    }
    let mut organised = Vec::new();
    for group in state.store.groups().await? {
        if can_manage(state, user, group.id).await? {
            organised.push(group.id);
        }
    }
    if organised.is_empty() {
        return Err(ApiError::forbidden(
            "only organisers, data-protection officers and administrators can read the audit log",
        ));
    }
    Ok(Some(organised))
}

/// The filter `params` ask for, within what `user` may read.
pub(crate) async fn filter_for(
    state: &AppState,
    user: &User,
    params: &AuditParams,
) -> Result<AuditFilter, ApiError> {
    let readable = readable_groups(state, user).await?;
    let groups = match whole("group", params.group.as_deref())? {
        Some(group) if readable.as_ref().is_some_and(|g| !g.contains(&group)) => {
            return Err(ApiError::forbidden(
                "you can read the audit log only of groups you organise",
            ));
        }
        Some(group) => Some(vec![group]),
        None => readable,
    };
    let actions = match given(params.action.as_deref()) {
        Some(name) => vec![name.parse::<AuditAction>().map_err(|e| {
            ApiError::invalid(
                "action",
                format!("{e}; use a dotted name such as contact.view"),
            )
        })?],
        None => Vec::new(),
    };
    let bad = |e: crate::pages::discover::ParamError| e.api(StatusCode::UNPROCESSABLE_ENTITY);
    let person = person(state, params).await?;
    Ok(AuditFilter {
        groups,
        campaign_id: whole("campaign", params.campaign.as_deref())?,
        actor_user_id: whole("caller", params.caller.as_deref())?,
        person,
        actions,
        from: parse_instant("from", params.from.as_deref()).map_err(bad)?,
        to: parse_instant("to", params.to.as_deref()).map_err(bad)?,
    })
}

/// The person `email` and `phone` name, found as a subject-access request finds them.
async fn person(state: &AppState, params: &AuditParams) -> Result<Option<PersonIds>, ApiError> {
    let (email, phone) = (
        given(params.email.as_deref()),
        given(params.phone.as_deref()),
    );
    if email.is_none() && phone.is_none() {
        return Ok(None);
    }
    let query = PersonQuery::parse(email, phone, None, None)
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let field = if email.is_some() { "email" } else { "phone" };
    match state.store.find_person(&query).await? {
        PersonLookup::Found(records) => Ok(Some(PersonIds::from(records.as_ref()))),
        PersonLookup::Nobody => Err(ApiError::invalid(field, "nobody matches that")),
        PersonLookup::Several(candidates) => Err(ApiError::invalid(
            field,
            format!(
                "{} people match; give both the address and the number of the one meant",
                candidates.len()
            ),
        )),
    }
}

/// The entries as shown, with the names of who did each.
pub(crate) async fn views(
    state: &AppState,
    entries: Vec<AuditEntry>,
) -> Result<Vec<AuditEntryView>, ApiError> {
    let mut names: BTreeMap<i64, Option<String>> = BTreeMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let actor_name = match e.actor_user_id {
            Some(id) => match names.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = state.store.user_by_id(id).await?.map(|u| u.name);
                    names.insert(id, name.clone());
                    name
                }
            },
            None => None,
        };
        out.push(AuditEntryView {
            at: rfc3339(e.at),
            action: e.action.as_str().to_owned(),
            actor_user_id: e.actor_user_id,
            actor_name,
            subject: e.subject,
            detail: e.detail,
            group_id: e.about.group_id,
            campaign_id: e.about.campaign_id,
            contact_id: e.about.contact_id,
            subject_user_id: e.about.subject_user_id,
            supporter_id: e.about.supporter_id,
        });
    }
    Ok(out)
}

/// Every entry `filter` matches (up to [`MAX_CSV_ROWS`]) as a CSV file.
pub(crate) async fn audit_csv_body(
    state: &AppState,
    filter: &AuditFilter,
) -> Result<Vec<u8>, ApiError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| {
        tracing::error!(error = %e, "could not write the audit CSV");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "could not build the download",
        )
    };
    out.write_record([
        "at",
        "action",
        "actor_user_id",
        "actor_name",
        "subject",
        "detail",
        "group_id",
        "campaign_id",
        "contact_id",
        "subject_user_id",
        "supporter_id",
    ])
    .map_err(failed)?;
    let id = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut offset = Some(0);
    while let Some(at) = offset.filter(|at| *at < MAX_CSV_ROWS) {
        let page = state.store.list_audit(filter, at, MAX_LIMIT).await?;
        offset = page.next_offset;
        for v in views(state, page.entries).await? {
            out.write_record([
                v.at,
                v.action,
                id(v.actor_user_id),
                cell(v.actor_name.as_deref().unwrap_or("")),
                cell(&v.subject),
                cell(&v.detail),
                id(v.group_id),
                id(v.campaign_id),
                id(v.contact_id),
                id(v.subject_user_id),
                id(v.supporter_id),
            ])
            .map_err(failed)?;
        }
    }
    out.into_inner().map_err(|e| failed(e.into_error().into()))
}

/// Audit entries, newest first: administrators and data-protection officers see all,
/// organisers those about the groups they organise. Contact views are the leases.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = AuditPageView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPageView>, ApiError> {
    let filter = filter_for(&state, &user, &params).await?;
    let limit = whole("limit", params.limit.as_deref())?
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_LIMIT);
    let offset = whole("cursor", params.cursor.as_deref())?.unwrap_or(0);
    let page = state.store.list_audit(&filter, offset, limit).await?;
    Ok(Json(AuditPageView {
        next_cursor: page.next_offset.map(|n| n.to_string()),
        data: views(&state, page.entries).await?,
    }))
}

/// The same entries as `/api/v1/audit` (without paging, up to 100,000 rows) as CSV.
#[utoipa::path(get, path = "/api/v1/audit.csv", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn audit_csv(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(params): Query<AuditParams>,
) -> Result<Response, ApiError> {
    let filter = filter_for(&state, &user, &params).await?;
    Ok(csv_response(
        audit_csv_body(&state, &filter).await?,
        "audit.csv",
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(audit_csv))
}
