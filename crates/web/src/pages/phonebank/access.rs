//! Who may open which phonebank page: organisers of a campaign's group (or of a group
//! above it) manage it; callers the dispatcher accepts may call it. Every refusal says
//! why in words. It must not decide calling rules itself: `Dispatcher::may_call` does.

use crate::pages::can_manage;
use crate::{AppState, PageError};
use barnstorm_dispatch::CallingError;
use barnstorm_store::phonebank::Campaign;
use barnstorm_store::{Group, Store, User};

/// The group with this slug, or a 404 page.
pub(super) async fn find_group(store: &Store, slug: &str) -> Result<Group, PageError> {
    store
        .group_by_slug(slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))
}

/// Refuses anyone who does not organise `group`.
pub(super) async fn require_group_organiser(
    state: &AppState,
    user: &User,
    group: &Group,
) -> Result<(), PageError> {
    if can_manage(state, user, group.id).await? {
        Ok(())
    } else {
        Err(PageError::forbidden(format!(
            "Only organisers of {} can run its phone banks.",
            group.name
        )))
    }
}

/// The campaign and its group, for an organiser of the group; otherwise 404 or 403.
pub(super) async fn organiser_campaign(
    state: &AppState,
    user: &User,
    campaign_id: i64,
) -> Result<(Campaign, Group), PageError> {
    let campaign = state
        .store
        .campaign(campaign_id)
        .await?
        .ok_or_else(no_campaign)?;
    let group = state
        .store
        .group_by_id(campaign.group_id)
        .await?
        .ok_or_else(no_campaign)?;
    require_group_organiser(state, user, &group).await?;
    Ok((campaign, group))
}

/// The campaign (as the dispatcher caches it for calling), for someone allowed to call
/// it; otherwise 404 or 403.
pub(super) async fn caller_campaign(
    state: &AppState,
    user: &User,
    campaign_id: i64,
) -> Result<Campaign, PageError> {
    let campaign = match state.dispatcher.campaign(campaign_id).await {
        Ok(campaign) => campaign,
        Err(CallingError::Store(e)) => return Err(e.into()),
        Err(_) => return Err(no_campaign()),
    };
    if !state.dispatcher.may_call(user, &campaign).await? {
        return Err(PageError::forbidden(
            "You are not a caller on this phone bank. Ask an organiser for an invite link.",
        ));
    }
    Ok(campaign)
}

fn no_campaign() -> PageError {
    PageError::not_found("There is no such phone bank. Check the link you followed.")
}
