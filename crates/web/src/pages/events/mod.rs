//! Event pages: hosting (create, edit, duplicate, cancel, "my events"), the public event
//! page with RSVP (the host's dashboard for those who run it), linking a call campaign,
//! the attendee's manage link, the host's attendee list, the organisers' approval queue
//! and the group calendar. Handlers check access here and call the store; checking
//! a host's input is `crate::event_draft`'s, mail text `crate::event_mails`'s.

mod attendees;
mod calendar;
pub(crate) mod campaign_link;
mod form;
mod host;
pub(crate) mod hub;
mod meetup;
mod moderation;
mod outreach;
mod outreach_text;
mod rsvp;
mod show;

pub(crate) use rsvp::check_rsvp;
pub(crate) use show::RsvpForm;

use crate::approval_mails::awaiting_approval;
use crate::auth::SignedIn;
use crate::auth::two_factor::OrganiserAccessError;
use crate::event_draft::initial_status;
use crate::pages::can_manage;
use crate::{AppState, PageError};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use barnstorm_domain::event::{EventStatus, Visibility};
use barnstorm_store::events::{Event, NewEvent};
use barnstorm_store::{Group, NewMail, StoreError, User};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(host::routes())
        .merge(show::routes())
        .merge(moderation::routes())
        .merge(rsvp::routes())
        .merge(attendees::routes())
        .merge(calendar::routes())
        .merge(hub::routes())
        .merge(meetup::routes())
        .merge(outreach::routes())
        .merge(campaign_link::routes())
}

/// The refusal an account gets for what needs a proven address (creating events,
/// outreach) until its owner opens the link we emailed them.
pub(crate) const CONFIRM_EMAIL_FIRST: &str = "Confirm your email address first: open the link we emailed you, or send a new one from your account page (/account).";

#[derive(askama::Template)]
#[template(path = "events/confirm_email.html")]
struct ConfirmEmailPage {
    layout: crate::pages::layout::Layout,
    doing: &'static str,
    email: String,
}

/// The 403 page for an account whose address is not proven yet, which may not `doing`
/// ("create events"), with the way to get a new link; `None` for a verified account.
pub(crate) fn confirm_email_first(signed_in: &SignedIn, doing: &'static str) -> Option<Response> {
    if signed_in.user.is_verified() {
        return None;
    }
    let page = ConfirmEmailPage {
        layout: crate::pages::layout::Layout::new(&signed_in.context),
        doing,
        email: signed_in.user.email.clone(),
    };
    Some((StatusCode::FORBIDDEN, crate::pages::layout::render(&page)).into_response())
}

/// What the person asking may do with one event.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EventAccess {
    /// They host it.
    pub is_host: bool,
    /// They organise its group (or one above it), or administer the instance.
    pub organises: bool,
    /// They hold any role in its group (or one above it).
    pub is_member: bool,
}

impl EventAccess {
    /// Host or organiser: may edit, cancel and see attendees.
    pub fn runs(self) -> bool {
        self.is_host || self.organises
    }
}

/// The event with this id, or a 404 page.
pub(crate) async fn find_event(state: &AppState, id: i64) -> Result<Event, PageError> {
    state.store.event(id).await?.ok_or_else(no_event)
}

/// The 404 for events that do not exist or that the person may not know about.
pub(crate) fn no_event() -> PageError {
    PageError::not_found("There is no such event. It may have been removed; check the link.")
}

/// The group an event belongs to.
pub(crate) async fn event_group(state: &AppState, event: &Event) -> Result<Group, PageError> {
    state
        .store
        .group_by_id(event.group_id)
        .await?
        .ok_or_else(no_event)
}

/// Works out what `user` may do with `event`.
pub(crate) async fn access(
    state: &AppState,
    user: Option<&User>,
    event: &Event,
) -> Result<EventAccess, PageError> {
    let Some(user) = user else {
        return Ok(EventAccess::default());
    };
    let role = state.store.effective_role(user.id, event.group_id).await?;
    // An organiser who must set up two-factor sign-in first is treated as a member here;
    // `run_event` tells them why they cannot run the event.
    let organises = match can_manage(state, user, event.group_id).await {
        Err(OrganiserAccessError::TwoFactorRequired) => false,
        other => other?,
    };
    Ok(EventAccess {
        is_host: event.host_user_id == Some(user.id),
        organises,
        is_member: user.is_admin || role.is_some(),
    })
}

/// Whether someone with `access` may see `event` at all: pending and rejected events only
/// by those who run them, group-only events only by members.
pub(crate) fn may_see(event: &Event, access: EventAccess) -> bool {
    let published = matches!(event.status, EventStatus::Live | EventStatus::Cancelled);
    if !published {
        return access.runs();
    }
    event.visibility != Visibility::Group || access.is_member || access.runs()
}

/// The event for someone who runs it (host, organiser, admin); 404 for anyone who may
/// not see it, 403 for those who may see but not run it.
pub(crate) async fn run_event(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<(Event, Group, EventAccess), PageError> {
    let event = find_event(state, id).await?;
    let access = access(state, Some(user), &event).await?;
    if !may_see(&event, access) {
        return Err(no_event());
    }
    if !access.runs() {
        // Says "set up two-factor sign-in first" to an organiser who lacks it.
        can_manage(state, user, event.group_id).await?;
        return Err(PageError::forbidden(
            "Only the host of this event and the organisers of its group can do that.",
        ));
    }
    let group = event_group(state, &event).await?;
    Ok((event, group, access))
}

/// The status `user`'s new event in `group_id` starts in: live for organisers, trusted
/// hosts, administrators and in groups that publish at once; pending otherwise.
pub(crate) async fn new_event_status(
    state: &AppState,
    user: &User,
    group_id: i64,
) -> Result<EventStatus, StoreError> {
    let policy = state.store.group_event_approval(group_id).await?;
    let role = state.store.effective_role(user.id, group_id).await?;
    let trusted = state.store.is_trusted_host(user.id, group_id).await?;
    Ok(initial_status(policy, role, trusted, user.is_admin))
}

/// The mails telling organisers that `event` of `group`, from `host`, awaits their
/// approval: to the group's organisers, or where it has none of its own, those of the
/// nearest group above it that has (who run it), each with the link to their queue.
pub(crate) async fn approval_mails(
    state: &AppState,
    group: &Group,
    event: &NewEvent,
    host: &User,
) -> Result<Vec<NewMail>, StoreError> {
    let mut chain = state.store.ancestor_groups(group.id).await?;
    chain.push(group.clone());
    let Some((queue, organisers)) = crate::pages::groups::nearest_organisers(state, &chain).await?
    else {
        return Ok(Vec::new());
    };
    Ok(organisers
        .iter()
        .filter(|organiser| organiser.user_id != host.id)
        .map(|organiser| {
            awaiting_approval(&state.config, organiser, &queue, group, event, &host.name)
        })
        .collect())
}

/// Creates `event` of `group` from `user` in `status`; an event that waits for approval
/// is queued with the mails that tell the organisers, in the same transaction.
pub(crate) async fn create_event(
    state: &AppState,
    user: &User,
    group: &Group,
    event: &NewEvent,
    status: EventStatus,
) -> Result<Event, StoreError> {
    let mails = if status == EventStatus::Pending {
        approval_mails(state, group, event, user).await?
    } else {
        Vec::new()
    };
    let created = state
        .store
        .create_event_notifying(event, status, &mails)
        .await?;
    if !mails.is_empty() {
        state.mail_queued();
    }
    Ok(created)
}

/// Whether `user` organises `group` (or one above it), or administers the instance.
pub(crate) async fn organises(
    state: &AppState,
    user: &User,
    group_id: i64,
) -> Result<bool, PageError> {
    Ok(can_manage(state, user, group_id).await?)
}

/// `group` and every group below it (organisers of a group also run those).
pub(crate) async fn with_descendants(
    state: &AppState,
    group: &Group,
) -> Result<Vec<Group>, PageError> {
    let all = state.store.groups().await?;
    let mut found = vec![group.clone()];
    let mut next = 0;
    while next < found.len() && found.len() <= all.len() {
        let parent = found[next].id;
        found.extend(all.iter().filter(|g| g.parent_id == Some(parent)).cloned());
        next += 1;
    }
    Ok(found)
}
