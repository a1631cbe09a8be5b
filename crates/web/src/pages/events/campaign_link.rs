//! Linking a phonebank event to a call campaign, whatever made the event (the host form,
//! the API, a meetup): the campaigns someone may link (of the event's group or a group
//! above it, and only those they organise: a campaign is not shown, nor linked, to anyone
//! who may not see it), the check every path shares, and the event page's link/unlink form.

use super::run_event;
use crate::auth::two_factor::OrganiserAccessError;
use crate::auth::{Flash, SignedIn};
use crate::pages::can_manage;
use crate::{AppState, PageError};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::post};
use barnstorm_domain::event::EventKind;
use barnstorm_store::events::Event;
use barnstorm_store::phonebank::Campaign;
use barnstorm_store::{StoreError, User};
use serde::Deserialize;

/// Why a campaign the person may not see is refused, in the form's words.
pub(crate) const NOT_YOUR_CAMPAIGN: &str = "Choose a phone bank you organise: only organisers of a phone bank's group can link events to it.";

/// Whether `user` organises `group_id` (or one above it) or administers; an organiser
/// who lacks the two-factor sign-in the group requires does not, here.
async fn organises(state: &AppState, user: &User, group_id: i64) -> Result<bool, StoreError> {
    match can_manage(state, user, group_id).await {
        Ok(organises) => Ok(organises),
        Err(OrganiserAccessError::TwoFactorRequired) => Ok(false),
        Err(OrganiserAccessError::Store(e)) => Err(e),
    }
}

/// Whether `user` may see (and so link) `campaign`: they organise its group or one above
/// it, or administer the instance.
pub(crate) async fn may_link(
    state: &AppState,
    user: &User,
    campaign: &Campaign,
) -> Result<bool, StoreError> {
    organises(state, user, campaign.group_id).await
}

/// Whether `user` runs `event` (hosts it, organises its group or one above it, or
/// administers), so may link it.
pub(crate) async fn runs_event(
    state: &AppState,
    user: &User,
    event: &Event,
) -> Result<bool, StoreError> {
    Ok(event.host_user_id == Some(user.id) || organises(state, user, event.group_id).await?)
}

/// Why `user` may not link an event to `wanted` when it is linked to `current` now; `None`
/// when they may (keeping the present link is always allowed, so a host can edit an event
/// an organiser linked). The campaign's group is checked by `check_links`.
pub(crate) async fn link_refusal(
    state: &AppState,
    user: &User,
    wanted: Option<i64>,
    current: Option<i64>,
) -> Result<Option<&'static str>, StoreError> {
    let Some(wanted) = wanted.filter(|w| Some(*w) != current) else {
        return Ok(None);
    };
    match state.store.campaign(wanted).await? {
        Some(campaign) if may_link(state, user, &campaign).await? => Ok(None),
        // An unknown id gets the same answer as one the person may not see.
        _ => Ok(Some(NOT_YOUR_CAMPAIGN)),
    }
}

/// The campaigns `user` may link an event of `group_id` to: those of the group and the
/// groups above it that they organise, each with its group's name.
pub(crate) async fn linkable_campaigns(
    state: &AppState,
    user: &User,
    group_id: i64,
) -> Result<Vec<(Campaign, String)>, StoreError> {
    let mut groups = state.store.ancestor_groups(group_id).await?;
    if let Some(group) = state.store.group_by_id(group_id).await? {
        groups.push(group);
    }
    let mut found = Vec::new();
    for group in groups {
        for campaign in state.store.group_campaigns(group.id).await? {
            if may_link(state, user, &campaign).await? {
                found.push((campaign, group.name.clone()));
            }
        }
    }
    Ok(found)
}

#[derive(Deserialize)]
struct LinkForm {
    /// The campaign's id; empty to unlink.
    #[serde(default)]
    campaign_id: String,
}

/// `POST /events/{id}/campaign`: the host or an organiser links the phonebank event to a
/// campaign they may see, or unlinks it.
async fn link(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let (event, _, _) = run_event(&state, &signed_in.user, id).await?;
    let back = format!("/events/{id}");
    if event.kind != EventKind::Phonebank {
        return Ok(
            Flash::error("Only phonebank events can be linked to a phone bank.").redirect(&back),
        );
    }
    let raw = form.campaign_id.trim();
    let wanted = if raw.is_empty() {
        None
    } else {
        match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return Ok(Flash::error(NOT_YOUR_CAMPAIGN).redirect(&back)),
        }
    };
    if let Some(refusal) = link_refusal(&state, &signed_in.user, wanted, event.campaign_id).await? {
        return Ok(Flash::error(refusal).redirect(&back));
    }
    if let Some(campaign_id) = wanted {
        let linkable = linkable_campaigns(&state, &signed_in.user, event.group_id).await?;
        if !linkable.iter().any(|(c, _)| c.id == campaign_id) {
            return Ok(Flash::error(
                "Choose a phone bank of this event's group (or of a group above it).",
            )
            .redirect(&back));
        }
    }
    state
        .store
        .set_event_campaign(id, wanted, signed_in.user.id)
        .await?;
    let message = if wanted.is_some() {
        "Linked. People who signed up get a \"Start calling\" button during the event."
    } else {
        "This event is no longer linked to a phone bank."
    };
    Ok(Flash::ok(message).redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/events/{id}/campaign", post(link))
}
