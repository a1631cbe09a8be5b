//! Retention as organisers and admins see it: a group's periods (its own or the
//! instance's), the form that sets its own, and the preview of what a run would remove now
//! (per campaign and event; for admins the whole instance, supporters and audit entries
//! included). The preview comes from `Store::retention_preview`, the selection the
//! housekeeping run applies, so the two cannot disagree.

use crate::auth::{Flash, SignedIn};
use crate::pages::layout::{Layout, format_time, render};
use crate::pages::require_manager;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_store::retention::{
    GroupRetention, RetentionPlan, RetentionPolicy, parse_retention_days,
};
use barnstorm_store::{Group, now_millis};
use serde::Deserialize;

/// A group's retention periods as its page shows them.
pub(crate) struct GroupPeriods {
    /// The periods that apply to the group.
    pub effective: RetentionPolicy,
    /// The group's own call-list period, as the form shows it (empty: the default).
    pub own_contact_days: String,
    /// The group's own RSVP period, as the form shows it.
    pub own_rsvp_days: String,
    /// The instance's defaults.
    pub instance: RetentionPolicy,
}

impl GroupPeriods {
    /// The periods of `group_id` under the instance's `policy`.
    pub(crate) async fn load(state: &AppState, group_id: i64) -> Result<Self, PageError> {
        let own = state.store.group_retention(group_id).await?;
        let shown = |days: Option<u32>| days.map(|d| d.to_string()).unwrap_or_default();
        Ok(Self {
            effective: own.effective(&state.config.retention),
            own_contact_days: shown(own.contact_days),
            own_rsvp_days: shown(own.rsvp_days),
            instance: state.config.retention,
        })
    }
}

#[derive(Template)]
#[template(path = "retention.html")]
struct RetentionPage {
    layout: Layout,
    /// The group previewed; none for the whole instance.
    group: Option<Group>,
    periods: RetentionPolicy,
    plan: RetentionPlan,
    /// When the last run happened and what it removed.
    last_run: Option<(String, String)>,
}

async fn last_run(state: &AppState) -> Result<Option<(String, String)>, PageError> {
    Ok(state
        .store
        .last_retention_run()
        .await?
        .map(|(at, summary)| (format_time(at), summary)))
}

async fn group_preview(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    let periods = GroupPeriods::load(&state, group.id).await?.effective;
    let plan = state
        .store
        .retention_preview(&state.config.retention, now_millis(), Some(group.id))
        .await?;
    Ok(render(&RetentionPage {
        layout: Layout::new(&signed_in.context),
        group: Some(group),
        periods,
        plan,
        last_run: last_run(&state).await?,
    }))
}

async fn instance_preview(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    if !signed_in.user.is_admin {
        return Err(PageError::forbidden(
            "Only instance admins see what retention removes across the instance.",
        ));
    }
    let plan = state
        .store
        .retention_preview(&state.config.retention, now_millis(), None)
        .await?;
    Ok(render(&RetentionPage {
        layout: Layout::new(&signed_in.context),
        group: None,
        periods: state.config.retention,
        plan,
        last_run: last_run(&state).await?,
    }))
}

#[derive(Deserialize)]
struct PeriodsForm {
    #[serde(default)]
    contact_days: String,
    #[serde(default)]
    rsvp_days: String,
}

async fn set_periods(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<PeriodsForm>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    let back = format!("/groups/{}", group.slug);
    let parsed = parse_retention_days("Call lists", &form.contact_days).and_then(|contact| {
        parse_retention_days("RSVP details", &form.rsvp_days).map(|rsvp| (contact, rsvp))
    });
    let (contact_days, rsvp_days) = match parsed {
        Ok(days) => days,
        Err(message) => return Ok(Flash::error(message).redirect(&back)),
    };
    let own = GroupRetention {
        contact_days,
        rsvp_days,
    };
    state
        .store
        .set_group_retention(group.id, &own, Some(signed_in.user.id))
        .await?;
    let periods = own.effective(&state.config.retention);
    Ok(Flash::ok(format!(
        "{}: call lists are deleted {} days after a campaign finishes; RSVP details {} days after the event.",
        group.name, periods.contact_days, periods.rsvp_days
    ))
    .redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/retention", get(instance_preview))
        .route(
            "/groups/{slug}/retention",
            get(group_preview).post(set_periods),
        )
}
