//! The organisers' side of events: the approval queue of a group (and the groups below
//! it; each event with when, where and whose it is), approving (optionally trusting the host, whose events then skip the queue here
//! and below), turning an event down with a note, and the group's approval policy. Hosts
//! are told by mail.

use super::{event_group, find_event, organises, with_descendants};
use crate::approval_mails::place_text;
use crate::auth::{Flash, SignedIn};
use crate::event_mails::{moderation_decision, when_text};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::event::{EventApproval, EventStatus};
use barnstorm_domain::markdown::plain_summary;
use barnstorm_store::{Group, Role};
use serde::Deserialize;

/// A pending event as the queue shows it.
struct PendingRow {
    id: i64,
    title: String,
    when: String,
    /// Address and postcode (or online), as organisers judging it need them.
    place: String,
    group_name: String,
    host_name: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "events/pending.html")]
struct PendingPage {
    layout: Layout,
    group: Group,
    rows: Vec<PendingRow>,
}

async fn managed_group(
    state: &AppState,
    signed_in: &SignedIn,
    slug: &str,
) -> Result<Group, PageError> {
    let group = state
        .store
        .group_by_slug(slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))?;
    if !organises(state, &signed_in.user, group.id).await? {
        return Err(PageError::forbidden(format!(
            "Only organisers of {} can do that.",
            group.name
        )));
    }
    Ok(group)
}

async fn pending(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = managed_group(&state, &signed_in, &slug).await?;
    let groups = with_descendants(&state, &group).await?;
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let mut rows = Vec::new();
    for event in state.store.pending_events(&ids).await? {
        let host_name = match event.host_user_id {
            Some(id) => state
                .store
                .user_by_id(id)
                .await?
                .map_or_else(String::new, |u| u.name),
            None => String::new(),
        };
        rows.push(PendingRow {
            id: event.id,
            when: when_text(event.starts_at, event.ends_at, &event.time_zone),
            place: place_text(
                &event.address,
                event.postcode.as_deref(),
                event.online_url.is_some(),
            ),
            group_name: groups
                .iter()
                .find(|g| g.id == event.group_id)
                .map_or_else(String::new, |g| g.name.clone()),
            summary: plain_summary(&event.description, 280),
            title: event.title,
            host_name,
        });
    }
    Ok(render(&PendingPage {
        layout: Layout::new(&signed_in.context),
        group,
        rows,
    }))
}

#[derive(Deserialize)]
struct DecisionForm {
    /// `approve`, `trust` (approve and make the host a trusted host of the group) or
    /// `reject`.
    decision: String,
    #[serde(default)]
    note: String,
}

async fn decide(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, PageError> {
    let event = find_event(&state, id).await?;
    let group = event_group(&state, &event).await?;
    if !organises(&state, &signed_in.user, group.id).await? {
        return Err(PageError::forbidden(format!(
            "Only organisers of {} can approve its events.",
            group.name
        )));
    }
    let back = format!("/groups/{}/events/pending", group.slug);
    if event.status != EventStatus::Pending {
        return Ok(Flash::error(format!(
            "'{}' is no longer waiting for approval (it is {}).",
            event.title,
            event.status.label().to_lowercase()
        ))
        .redirect(&back));
    }
    let (status, approved) = match form.decision.as_str() {
        "approve" | "trust" => (EventStatus::Live, true),
        "reject" => (EventStatus::Rejected, false),
        _ => return Ok(Flash::error("Choose approve or reject.").redirect(&back)),
    };
    let note: String = form.note.trim().chars().take(1000).collect();
    let actor = Some(signed_in.user.id);
    let changed = state
        .store
        .set_event_status(id, status, &note, actor, &|_| None)
        .await?;
    let host = match event.host_user_id {
        Some(host_id) => state.store.user_by_id(host_id).await?,
        None => None,
    };
    let mut message = if approved {
        format!("'{}' is live.", event.title)
    } else {
        format!("'{}' was turned down.", event.title)
    };
    if let Some(host) = &host {
        let mail = moderation_decision(&state.config, host, &changed, &group.name, approved, &note);
        state.store.enqueue_mail(&mail).await?;
        state.mail_queued();
        message.push_str(&format!(" We've emailed {}.", host.name));
        if form.decision == "trust" {
            trust_host(&state, &group, host, actor).await?;
            message.push_str(&format!(
                " {} is now a trusted host of {} and their events go live at once.",
                host.name, group.name
            ));
        }
    }
    Ok(Flash::ok(message).redirect(&back))
}

/// Makes `host` a trusted host of `group`: a member there (as a host, unless they hold a
/// stronger role on the group itself) with the trusted flag set. Audited.
async fn trust_host(
    state: &AppState,
    group: &Group,
    host: &barnstorm_store::User,
    actor: Option<i64>,
) -> Result<(), PageError> {
    let own_role = state
        .store
        .members(group.id)
        .await?
        .into_iter()
        .find(|m| m.user_id == host.id)
        .map(|m| m.role);
    if own_role.is_none_or(|r| r < Role::Host) {
        state
            .store
            .set_membership(group.id, host.id, Role::Host, actor)
            .await?;
    }
    state
        .store
        .set_trusted_host(group.id, host.id, true, actor)
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct PolicyForm {
    policy: String,
}

async fn set_policy(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<PolicyForm>,
) -> Result<Response, PageError> {
    let group = managed_group(&state, &signed_in, &slug).await?;
    let back = format!("/groups/{slug}");
    let Ok(policy) = form.policy.parse::<EventApproval>() else {
        return Ok(
            Flash::error("Events: choose 'publish at once' or 'organisers approve first'.")
                .redirect(&back),
        );
    };
    state
        .store
        .set_group_event_approval(group.id, policy, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok(format!(
        "Events from supporters: {}.",
        policy.label().to_lowercase()
    ))
    .redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups/{slug}/events/pending", get(pending))
        .route("/groups/{slug}/event-approval", post(set_policy))
        .route("/events/{id}/decision", post(decide))
}
