//! What makes a group page a hub: its upcoming events (and those of the groups below it;
//! group-only ones for members), the approval policy and queue for organisers, and
//! joining the group as a member. The group page itself is `pages::groups`.

use super::with_descendants;
use crate::auth::{Flash, SignedIn};
use crate::event_mails::when_text;
use crate::{AppState, PageError};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Router, routing::post};
use barnstorm_domain::event::EventApproval;
use barnstorm_store::{Group, Role, now_millis};

/// How far ahead the group page lists events.
const UPCOMING_WINDOW_MS: i64 = 366 * 24 * 3600 * 1000;
/// How many upcoming events the group page lists.
const UPCOMING_SHOWN: usize = 20;

/// An upcoming event as the group page lists it.
pub(crate) struct UpcomingEvent {
    /// Its page is `/events/{id}`.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Type, for people.
    pub kind: &'static str,
    /// When, in its own zone.
    pub when: String,
    /// The group below this one it belongs to, if not this one.
    pub subgroup: Option<String>,
}

/// The events part of a group page.
pub(crate) struct HubEvents {
    /// The next events.
    pub upcoming: Vec<UpcomingEvent>,
    /// The group's approval policy (shown to organisers).
    pub policy: EventApproval,
    /// Every policy, for the organisers' select.
    pub policies: &'static [EventApproval],
    /// Events waiting for approval (counted for organisers only).
    pub pending: usize,
}

/// Loads the events part of `group`'s page for a member or not, an organiser or not.
pub(crate) async fn hub_events(
    state: &AppState,
    group: &Group,
    is_member: bool,
    can_manage: bool,
) -> Result<HubEvents, PageError> {
    let groups = with_descendants(state, group).await?;
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let now = now_millis();
    let upcoming = state
        .store
        .group_events(&ids, is_member || can_manage, now, now + UPCOMING_WINDOW_MS)
        .await?
        .into_iter()
        .take(UPCOMING_SHOWN)
        .map(|e| UpcomingEvent {
            id: e.id,
            kind: e.kind.label(),
            when: when_text(e.starts_at, e.ends_at, &e.time_zone),
            subgroup: groups
                .iter()
                .find(|g| g.id == e.group_id && g.id != group.id)
                .map(|g| g.name.clone()),
            title: e.title,
        })
        .collect();
    let pending = if can_manage {
        state.store.pending_events(&ids).await?.len()
    } else {
        0
    };
    Ok(HubEvents {
        upcoming,
        policy: state.store.group_event_approval(group.id).await?,
        policies: EventApproval::ALL,
        pending,
    })
}

/// Joins a group as a member (audited); a no-op for people already in it.
async fn join(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = state
        .store
        .group_by_slug(&slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))?;
    // Membership shows members-only events; an unproven address gets none of that.
    if let Some(page) = super::confirm_email_first(&signed_in, "join groups") {
        return Ok(page);
    }
    let back = format!("/groups/{slug}");
    let user = &signed_in.user;
    if state
        .store
        .effective_role(user.id, group.id)
        .await?
        .is_some()
    {
        return Ok(Flash::ok(format!("You are already in {}.", group.name)).redirect(&back));
    }
    state
        .store
        .set_membership(group.id, user.id, Role::Member, Some(user.id))
        .await?;
    Ok(Flash::ok(format!("Welcome to {}! You are now a member.", group.name)).redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/groups/{slug}/join", post(join))
}
