//! Retention over the API: what a run would remove now, for the whole instance (admins)
//! or one group's campaigns and events (its organisers). Computed by
//! `Store::retention_preview`, the selection the housekeeping run applies.

use super::ErrorBody;
use crate::auth::ApiUser;
use crate::pages::can_manage;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use barnstorm_store::now_millis;
use barnstorm_store::retention::{RetentionPlan, RetentionPolicy};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// How long each kind of data is kept.
#[derive(Serialize, ToSchema)]
struct PeriodsView {
    /// Days after a campaign finishes that its call list is kept.
    contact_days: u32,
    /// Days after an event ends that who RSVPed is kept.
    rsvp_days: u32,
    /// Months (of 30 days) a supporter with no consent and no activity is kept.
    supporter_months: u32,
    /// Months (of 30 days) an audit entry is kept.
    audit_months: u32,
}

/// A finished campaign whose call list a run would anonymise.
#[derive(Serialize, ToSchema)]
struct CampaignDueView {
    campaign_id: i64,
    group_id: i64,
    name: String,
    /// Contacts whose details go; their calls stay for the totals.
    contacts: u64,
}

/// A past event whose RSVPs would stop naming their supporters.
#[derive(Serialize, ToSchema)]
struct EventDueView {
    event_id: i64,
    group_id: i64,
    title: String,
    /// RSVPs that lose their supporter; counts and attendance stay.
    rsvps: u64,
}

/// What a retention run would remove now.
#[derive(Serialize, ToSchema)]
struct RetentionPreview {
    /// The periods that apply (a group's own where it set them).
    periods: PeriodsView,
    /// Contacts in every campaign listed.
    contacts: u64,
    /// RSVPs of every event listed.
    rsvps: u64,
    campaigns: Vec<CampaignDueView>,
    events: Vec<EventDueView>,
    /// Supporters with no consent and no activity; null for a group (supporters belong to
    /// the instance).
    supporters: Option<u64>,
    /// Audit entries past their period; null for a group.
    audit_entries: Option<u64>,
}

fn preview(periods: &RetentionPolicy, plan: RetentionPlan) -> RetentionPreview {
    RetentionPreview {
        periods: PeriodsView {
            contact_days: periods.contact_days,
            rsvp_days: periods.rsvp_days,
            supporter_months: periods.supporter_months,
            audit_months: periods.audit_months,
        },
        contacts: plan.contacts(),
        rsvps: plan.rsvps(),
        supporters: plan.supporters,
        audit_entries: plan.audit_entries,
        campaigns: plan
            .campaigns
            .into_iter()
            .map(|c| CampaignDueView {
                campaign_id: c.campaign_id,
                group_id: c.group_id,
                name: c.name,
                contacts: c.contacts,
            })
            .collect(),
        events: plan
            .events
            .into_iter()
            .map(|e| EventDueView {
                event_id: e.event_id,
                group_id: e.group_id,
                title: e.title,
                rsvps: e.rsvps,
            })
            .collect(),
    }
}

/// What retention would remove now across the instance (admins).
#[utoipa::path(get, path = "/api/v1/retention/preview", tag = "retention", security(("bearer" = [])),
    responses((status = 200, body = RetentionPreview), (status = 403, body = ErrorBody)))]
async fn instance_preview(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<RetentionPreview>, ApiError> {
    if !user.is_admin {
        return Err(ApiError::forbidden(
            "only instance admins see what retention removes across the instance".to_owned(),
        ));
    }
    let policy = state.config.retention;
    let plan = state
        .store
        .retention_preview(&policy, now_millis(), None)
        .await?;
    Ok(Json(preview(&policy, plan)))
}

/// What retention would remove now from a group you organise: its own campaigns' call
/// lists and its own events' RSVPs, under its periods.
#[utoipa::path(get, path = "/api/v1/groups/{id}/retention/preview", tag = "retention", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = RetentionPreview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn group_preview(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<RetentionPreview>, ApiError> {
    let group = state
        .store
        .group_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("group {id}")))?;
    if !can_manage(&state, &user, group.id).await? {
        return Err(ApiError::forbidden(format!(
            "only organisers of {} can do that",
            group.name
        )));
    }
    let periods = state
        .store
        .group_retention(group.id)
        .await?
        .effective(&state.config.retention);
    let plan = state
        .store
        .retention_preview(&state.config.retention, now_millis(), Some(group.id))
        .await?;
    Ok(Json(preview(&periods, plan)))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(instance_preview))
        .routes(routes!(group_preview))
}
