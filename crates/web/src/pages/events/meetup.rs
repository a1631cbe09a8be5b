//! Campaign meetups ("barnstorms"): `/events/{id}/meetup` lists the meetup's breakout
//! groups and everything planned from them ("20 phonebanking sessions planned, 143
//! sign-ups"); its host and the group's organisers add breakout groups and plan sessions
//! from templates in a few clicks. A session is an ordinary event made from the meetup
//! through `EventDraft`, so it is checked exactly like one typed into the host form.

mod templates;

use super::campaign_link::{link_refusal, may_link};
use super::{EventAccess, access, event_group, find_event, may_see, no_event};
use crate::auth::{Flash, RequestContext, SignedIn};
use crate::event_draft::{FieldErrors, check_links, millis_to_local, parse_time_zone};
use crate::event_mails::when_text;
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::event::{EventKind, EventStatus, LocationPrecision};
use barnstorm_store::events::{Breakout, Event, PlannedSession};
use barnstorm_store::phonebank::CampaignStatus;
use barnstorm_store::{Group, User, now_millis};
use serde::Deserialize;
use templates::{
    SessionForm, SessionTemplate, TEMPLATES, field_messages, plan_summary, session_draft,
};

/// One planned session as the page lists it.
pub(crate) struct SessionRow {
    id: i64,
    kind: &'static str,
    title: String,
    when: String,
    place: String,
    going: i64,
    pending: bool,
}

impl SessionRow {
    fn new(session: &PlannedSession) -> Self {
        let event = &session.event;
        let place = match (&event.postcode_district, event.precision) {
            (_, LocationPrecision::None) => "Online".to_owned(),
            (Some(district), _) => district.clone(),
            (None, _) => String::new(),
        };
        Self {
            id: event.id,
            kind: event.kind.label(),
            title: event.title.clone(),
            when: when_text(event.starts_at, event.ends_at, &event.time_zone),
            place,
            going: session.going,
            pending: event.status == EventStatus::Pending,
        }
    }
}

/// A breakout group with what it planned.
pub(crate) struct BreakoutView {
    breakout: Breakout,
    summary: String,
    sessions: Vec<SessionRow>,
}

/// A call campaign the phonebank template can link.
pub(crate) struct CampaignChoice {
    id: i64,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "events/meetup.html")]
struct MeetupPage {
    layout: Layout,
    event: Event,
    group: Group,
    when: String,
    summary: String,
    breakouts: Vec<BreakoutView>,
    /// Sessions planned from the meetup outside any breakout group.
    other_sessions: Vec<SessionRow>,
    can_plan: bool,
    campaigns: Vec<CampaignChoice>,
    templates: &'static [SessionTemplate],
}

/// The meetup for someone who may see it; 404 when it is not a meetup.
async fn find_meetup(
    state: &AppState,
    user: Option<&User>,
    id: i64,
) -> Result<(Event, EventAccess), PageError> {
    let event = find_event(state, id).await?;
    let access = access(state, user, &event).await?;
    if !may_see(&event, access) {
        return Err(no_event());
    }
    if event.kind != EventKind::Meetup {
        return Err(PageError::not_found(
            "This event is not a campaign meetup, so it has no breakout groups.",
        ));
    }
    Ok((event, access))
}

/// The meetup for someone who runs it (its host, the group's organisers).
async fn plannable_meetup(state: &AppState, user: &User, id: i64) -> Result<Event, PageError> {
    let (event, access) = find_meetup(state, Some(user), id).await?;
    if !access.runs() {
        return Err(PageError::forbidden(
            "Only the host of this meetup and the organisers of its group can plan from it.",
        ));
    }
    Ok(event)
}

/// Campaigns of the meetup's group and the groups above it that are not finished and that
/// `user` may link (they organise them); the first live one of the meetup's own group
/// (else any live one) is preselected.
async fn campaign_choices(
    state: &AppState,
    user: &User,
    group_id: i64,
) -> Result<Vec<CampaignChoice>, PageError> {
    let mut groups = vec![group_id];
    groups.extend(
        state
            .store
            .ancestor_groups(group_id)
            .await?
            .iter()
            .rev()
            .map(|g| g.id),
    );
    let mut campaigns = Vec::new();
    for id in groups {
        campaigns.extend(
            state
                .store
                .group_campaigns(id)
                .await?
                .into_iter()
                .filter(|c| c.status != CampaignStatus::Finished),
        );
    }
    let mut linkable = Vec::new();
    for campaign in campaigns {
        if may_link(state, user, &campaign).await? {
            linkable.push(campaign);
        }
    }
    let campaigns = linkable;
    let chosen = campaigns
        .iter()
        .find(|c| c.status == CampaignStatus::Live)
        .map(|c| c.id);
    Ok(campaigns
        .into_iter()
        .map(|c| CampaignChoice {
            selected: Some(c.id) == chosen,
            name: match c.status {
                CampaignStatus::Live => c.settings.name,
                other => format!("{} ({})", c.settings.name, other.as_str()),
            },
            id: c.id,
        })
        .collect())
}

async fn meetup_page(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (event, access) = find_meetup(&state, context.user(), id).await?;
    let group = event_group(&state, &event).await?;
    let can_plan = access.runs();
    let mut plan = state.store.meetup_plan(event.id).await?;
    if !can_plan {
        // Sessions waiting for approval are shown only to those who run the meetup.
        plan.sessions
            .retain(|s| s.event.status != EventStatus::Pending);
    }
    let breakouts = state
        .store
        .breakouts(event.id)
        .await?
        .into_iter()
        .map(|breakout| {
            let mine: Vec<&PlannedSession> = plan
                .sessions
                .iter()
                .filter(|s| s.breakout_id == Some(breakout.id))
                .collect();
            BreakoutView {
                summary: summary_of(&mine),
                sessions: mine.into_iter().map(SessionRow::new).collect(),
                breakout,
            }
        })
        .collect::<Vec<_>>();
    let other_sessions = plan
        .sessions
        .iter()
        .filter(|s| {
            !breakouts
                .iter()
                .any(|b| Some(b.breakout.id) == s.breakout_id)
        })
        .map(SessionRow::new)
        .collect();
    let all: Vec<&PlannedSession> = plan.sessions.iter().collect();
    let campaigns = match context.user() {
        Some(user) if can_plan => campaign_choices(&state, user, event.group_id).await?,
        _ => Vec::new(),
    };
    Ok(render(&MeetupPage {
        layout: Layout::new(&context),
        when: when_text(event.starts_at, event.ends_at, &event.time_zone),
        summary: summary_of(&all),
        event,
        group,
        breakouts,
        other_sessions,
        can_plan,
        campaigns,
        templates: &TEMPLATES,
    }))
}

/// The summary line over some sessions, counted by kind in the usual order.
fn summary_of(sessions: &[&PlannedSession]) -> String {
    let by_kind: Vec<(EventKind, i64)> = EventKind::ALL
        .iter()
        .map(|kind| {
            let n = sessions.iter().filter(|s| s.event.kind == *kind).count();
            (*kind, i64::try_from(n).unwrap_or(i64::MAX))
        })
        .collect();
    plan_summary(&by_kind, sessions.iter().map(|s| s.going).sum())
}

#[derive(Deserialize)]
struct BreakoutForm {
    name: String,
    #[serde(default)]
    facilitator: String,
}

async fn add_breakout(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<BreakoutForm>,
) -> Result<Response, PageError> {
    let event = plannable_meetup(&state, &signed_in.user, id).await?;
    let back = format!("/events/{id}/meetup");
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Ok(Flash::error(
            "Breakout group name: give the group a name (up to 120 characters).",
        )
        .redirect(&back));
    }
    if form.facilitator.trim().chars().count() > 120 {
        return Ok(Flash::error("Facilitator: keep it under 120 characters.").redirect(&back));
    }
    let breakout = state
        .store
        .add_breakout(event.id, name, &form.facilitator, Some(signed_in.user.id))
        .await?;
    Ok(
        Flash::ok(format!("Breakout group added: {}.", breakout.name))
            .redirect(&format!("{back}#breakout-{}", breakout.id)),
    )
}

async fn plan_session(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, breakout_id)): Path<(i64, i64)>,
    Form(form): Form<SessionForm>,
) -> Result<Response, PageError> {
    if let Some(refusal) = super::confirm_email_first(&signed_in, "create events") {
        return Ok(refusal);
    }
    let user = &signed_in.user;
    let meetup = plannable_meetup(&state, user, id).await?;
    let back = format!("/events/{id}/meetup#breakout-{breakout_id}");
    let Some(breakout) = state
        .store
        .breakouts(meetup.id)
        .await?
        .into_iter()
        .find(|b| b.id == breakout_id)
    else {
        return Err(PageError::not_found(
            "That breakout group is not part of this meetup.",
        ));
    };
    let Some(template) = TEMPLATES.iter().find(|t| t.key == form.template.trim()) else {
        return Ok(Flash::error(
            "Template: choose a phonebank session, a canvass or a street stall.",
        )
        .redirect(&back));
    };
    let tz = parse_time_zone(&meetup.time_zone).unwrap_or(chrono_tz::Europe::London);
    let today = millis_to_local(now_millis(), tz)
        .map(|t| t.date())
        .unwrap_or_default();
    let draft = match session_draft(&meetup, &breakout, template, &form, today) {
        Ok(draft) => draft,
        Err(message) => return Ok(Flash::error(message).redirect(&back)),
    };
    let checked = match draft
        .validate(&state.geocoder, meetup.group_id, Some(user.id))
        .await
    {
        Ok(event) => match link_refusal(&state, user, event.campaign_id, None).await? {
            Some(refusal) => Err(FieldErrors::one("campaign_id", refusal)),
            None => check_links(&state.store, &event).await.map(|()| event),
        },
        Err(errors) => Err(errors),
    };
    let session = match checked {
        Ok(session) => session,
        Err(errors) => return Ok(Flash::error(field_messages(&errors)).redirect(&back)),
    };
    let status = super::new_event_status(&state, user, meetup.group_id).await?;
    let group = event_group(&state, &meetup).await?;
    let created = super::create_event(&state, user, &group, &session, status).await?;
    let when = when_text(created.starts_at, created.ends_at, &created.time_zone);
    let message = if status == EventStatus::Live {
        format!("{} planned: {when}. It is live.", template.kind.label())
    } else {
        format!(
            "{} planned: {when}. It waits for the organisers' approval.",
            template.kind.label()
        )
    };
    Ok(Flash::ok(message).redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/meetup", get(meetup_page))
        .route("/events/{id}/meetup/breakouts", post(add_breakout))
        .route(
            "/events/{id}/meetup/breakouts/{breakout_id}/sessions",
            post(plan_session),
        )
}
