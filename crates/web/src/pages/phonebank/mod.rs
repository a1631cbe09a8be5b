//! Phonebank pages: the list of campaigns a person can call or runs, organisers' campaign
//! set-up and management (invites, list upload, live dashboard) and the caller's page that
//! shows one contact at a time. Handlers check access and call the dispatcher or store; the
//! rules of calling live in `barnstorm_dispatch`, never here.

mod access;
mod breaks;
mod call;
mod call_view;
mod campaign_build;
mod campaign_form;
mod campaigns;
mod contact_erasure;
mod dashboard;
mod imports;
mod join;
mod last_call;
mod manage;
mod phone_line;
mod results;
mod safeguards;
mod standing;
mod suppression_lists;
mod suppressions;

use super::layout::{Layout, render};
use crate::auth::SignedIn;
use crate::{AppState, PageError};
use access::{find_group, require_group_organiser};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_store::phonebank::{Campaign, CampaignStatus};
use barnstorm_store::{Group, Role, Store, StoreError, User};
use std::collections::HashMap;

/// A campaign as lists show it.
pub(super) struct CampaignRow {
    id: i64,
    name: String,
    status: &'static str,
    group_name: String,
    group_slug: String,
}

impl CampaignRow {
    fn new(campaign: &Campaign, group: &Group) -> Self {
        Self {
            id: campaign.id,
            name: campaign.settings.name.clone(),
            status: campaign.status.as_str(),
            group_name: group.name.clone(),
            group_slug: group.slug.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "phonebank/index.html")]
struct IndexPage {
    layout: Layout,
    callable: Vec<CampaignRow>,
    organised: Vec<CampaignRow>,
    /// The groups this person may start a phone bank for (name, slug), in tree order.
    new_for: Vec<(String, String)>,
}

/// Each group's role for `user`, counting roles held in groups above it.
async fn roles_by_group(
    store: &Store,
    user: &User,
    groups: &[Group],
) -> Result<HashMap<i64, Role>, StoreError> {
    let direct: HashMap<i64, Role> = store
        .memberships_of(user.id)
        .await?
        .into_iter()
        .map(|(group, role)| (group.id, role))
        .collect();
    let parents: HashMap<i64, Option<i64>> = groups.iter().map(|g| (g.id, g.parent_id)).collect();
    let mut effective = HashMap::new();
    for group in groups {
        let mut best: Option<Role> = None;
        let mut at = Some(group.id);
        // The tree is shallow; the bound only guards against a cycle in bad data.
        for _ in 0..32 {
            let Some(id) = at else { break };
            best = best.max(direct.get(&id).copied());
            at = parents.get(&id).copied().flatten();
        }
        if let Some(role) = best {
            effective.insert(group.id, role);
        }
    }
    Ok(effective)
}

async fn index(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, PageError> {
    let user = &signed_in.user;
    let groups = state.store.groups().await?;
    let roles = roles_by_group(&state.store, user, &groups).await?;
    let called = state.store.campaigns_called_by(user.id).await?;
    // Campaigns come newest first; organised ones are listed group by group, in the
    // groups' order.
    let groups_by_id: HashMap<i64, (usize, &Group)> = groups
        .iter()
        .enumerate()
        .map(|(position, g)| (g.id, (position, g)))
        .collect();
    let mut callable = Vec::new();
    let mut organised = Vec::new();
    for campaign in state.store.all_campaigns().await? {
        let Some(&(position, group)) = groups_by_id.get(&campaign.group_id) else {
            continue;
        };
        let role = roles.get(&group.id).copied();
        if user.is_admin || role == Some(Role::Organiser) {
            organised.push((position, CampaignRow::new(&campaign, group)));
        }
        let open = matches!(
            campaign.status,
            CampaignStatus::Live | CampaignStatus::Paused
        );
        let calls = user.is_admin
            || role.is_some_and(|r| r >= Role::Caller)
            || called.contains(&campaign.id);
        if open && calls {
            callable.push(CampaignRow::new(&campaign, group));
        }
    }
    callable.sort_by_key(|row| (row.status != "live", row.name.to_lowercase()));
    organised.sort_by_key(|(position, _)| *position);
    let organised = organised.into_iter().map(|(_, row)| row).collect();
    let new_for = groups
        .iter()
        .filter(|g| user.is_admin || roles.get(&g.id) == Some(&Role::Organiser))
        .map(|g| (g.name.clone(), g.slug.clone()))
        .collect();
    Ok(render(&IndexPage {
        layout: Layout::new(&signed_in.context),
        callable,
        organised,
        new_for,
    }))
}

#[derive(Template)]
#[template(path = "phonebank/group_campaigns.html")]
struct GroupCampaignsPage {
    layout: Layout,
    group: Group,
    campaigns: Vec<CampaignRow>,
}

async fn group_campaigns(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let campaigns = state
        .store
        .group_campaigns(group.id)
        .await?
        .iter()
        .map(|c| CampaignRow::new(c, &group))
        .collect();
    Ok(render(&GroupCampaignsPage {
        layout: Layout::new(&signed_in.context),
        group,
        campaigns,
    }))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/phonebank", get(index))
        .route("/groups/{slug}/campaigns", get(group_campaigns))
        .merge(campaigns::routes())
        .merge(manage::routes())
        .merge(contact_erasure::routes())
        .merge(safeguards::routes())
        .merge(imports::routes())
        .merge(dashboard::routes())
        .merge(join::routes())
        .merge(call::routes())
        .merge(phone_line::routes())
        .merge(breaks::routes())
        .merge(last_call::routes())
        .merge(results::routes())
        .merge(suppressions::routes())
        .merge(suppression_lists::routes())
}
