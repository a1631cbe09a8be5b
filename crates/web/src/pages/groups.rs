//! Group pages: the tree of groups, one group's page (its place in the tree, sub-groups,
//! members), and what organisers do there: add sub-groups, invite people, change roles,
//! trust hosts (their events skip approval) and remove members. Organisers of a group
//! also run every group below it.

use super::events::hub::{HubEvents, hub_events};
use super::layout::{Layout, format_time, render};
use crate::auth::two_factor::{OrganiserAccessError, require_two_factor_for_organiser};
use crate::auth::{Flash, RequestContext, SignedIn, hash_secret, new_secret};
use crate::{AppState, PageError, mails};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::limits;
use barnstorm_store::{
    Group, GroupKind, Invite, Member, NewInvite, Role, Store, StoreError, User, now_millis,
};
use serde::Deserialize;

/// How long an invite link works.
pub(crate) const INVITE_TTL_MS: i64 = 14 * 24 * 3600 * 1000;

/// One line of the group tree.
pub(crate) struct TreeRow {
    pub group: Group,
    pub depth: usize,
}

/// Arranges groups into depth-first order under their parents.
pub(crate) fn tree_rows(groups: Vec<Group>) -> Vec<TreeRow> {
    fn visit(parent: Option<i64>, depth: usize, all: &[Group], out: &mut Vec<TreeRow>) {
        for group in all.iter().filter(|g| g.parent_id == parent) {
            out.push(TreeRow {
                group: group.clone(),
                depth,
            });
            if depth < 32 {
                visit(Some(group.id), depth + 1, all, out);
            }
        }
    }
    let mut rows = Vec::with_capacity(groups.len());
    visit(None, 0, &groups, &mut rows);
    rows
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    layout: Layout,
    rows: Vec<TreeRow>,
    is_admin: bool,
}

async fn groups(
    State(state): State<AppState>,
    context: RequestContext,
) -> Result<Response, PageError> {
    let rows = tree_rows(state.store.groups().await?);
    let is_admin = context.user().is_some_and(|u| u.is_admin);
    Ok(render(&GroupsPage {
        layout: Layout::new(&context),
        rows,
        is_admin,
    }))
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    layout: Layout,
    group: Group,
    ancestors: Vec<Group>,
    children: Vec<Group>,
    members: Vec<Member>,
    invites: Vec<InviteRow>,
    can_manage: bool,
    is_member: bool,
    child_kind: &'static str,
    roles: [Role; 4],
    signed_in: bool,
    hub: HubEvents,
    /// The visitor organises this group but must set up two-factor sign-in first.
    two_factor_needed: bool,
    /// The group requires two-factor sign-in of its organisers.
    requires_two_factor: bool,
    /// How long the group's call lists and RSVP details are kept.
    retention: super::retention::GroupPeriods,
    /// When the group has no organisers of its own: the nearest group above it that has,
    /// whose organisers run it.
    run_by: Option<(Group, Vec<Member>)>,
    /// The `<iframe>` that shows the group's events on another site, for organisers.
    embed_snippet: String,
}

struct InviteRow {
    id: i64,
    email: String,
    role: Role,
    expires: String,
}

impl From<Invite> for InviteRow {
    fn from(i: Invite) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role,
            expires: format_time(i.expires_at),
        }
    }
}

/// Whether `user` organises `group_id` (or a group above it) or administers the
/// instance; `TwoFactorRequired` when they do but two-factor sign-in is required there
/// and they have none.
pub(crate) async fn can_manage(
    state: &AppState,
    user: &User,
    group_id: i64,
) -> Result<bool, OrganiserAccessError> {
    let organises = user.is_admin
        || state.store.effective_role(user.id, group_id).await? == Some(Role::Organiser);
    if organises {
        require_two_factor_for_organiser(state, user, group_id).await?;
    }
    Ok(organises)
}

async fn find_group(store: &Store, slug: &str) -> Result<Group, PageError> {
    store
        .group_by_slug(slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))
}

async fn group_page(
    State(state): State<AppState>,
    context: RequestContext,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    let mut two_factor_needed = false;
    let (can_manage, is_member) = match context.user() {
        Some(user) => (
            match can_manage(&state, user, group.id).await {
                Err(OrganiserAccessError::TwoFactorRequired) => {
                    two_factor_needed = true;
                    false
                }
                other => other?,
            },
            state
                .store
                .effective_role(user.id, group.id)
                .await?
                .is_some(),
        ),
        None => (false, false),
    };
    let members = state.store.members(group.id).await?;
    // Only organisers see the whole member list; everyone sees who organises the group.
    let members = if can_manage {
        members
    } else {
        members
            .into_iter()
            .filter(|m| m.role == Role::Organiser)
            .collect()
    };
    let invites = if can_manage {
        state
            .store
            .pending_invites(group.id)
            .await?
            .into_iter()
            .map(InviteRow::from)
            .collect()
    } else {
        Vec::new()
    };
    let ancestors = state.store.ancestor_groups(group.id).await?;
    let run_by = if members.iter().any(|m| m.role == Role::Organiser) {
        None
    } else {
        nearest_organisers(&state, &ancestors).await?
    };
    let hub = hub_events(&state, &group, is_member, can_manage).await?;
    let requires_two_factor = state.store.group_requires_two_factor(group.id).await?;
    let retention = super::retention::GroupPeriods::load(&state, group.id).await?;
    Ok(render(&GroupPage {
        layout: Layout::new(&context),
        signed_in: context.user().is_some(),
        hub,
        ancestors,
        run_by,
        embed_snippet: super::discover::embed_snippet(&state.config, &group.slug),
        children: state.store.child_groups(group.id).await?,
        child_kind: group.kind.child_kind().as_str(),
        group,
        members,
        invites,
        can_manage,
        is_member,
        roles: Role::ALL,
        two_factor_needed,
        requires_two_factor,
        retention,
    }))
}

/// The organisers of the last of `chain` (groups listed from the top down) that has any,
/// with that group: they run the groups below it that have none of their own.
pub(crate) async fn nearest_organisers(
    state: &AppState,
    chain: &[Group],
) -> Result<Option<(Group, Vec<Member>)>, StoreError> {
    for group in chain.iter().rev() {
        let organisers: Vec<Member> = state
            .store
            .members(group.id)
            .await?
            .into_iter()
            .filter(|m| m.role == Role::Organiser)
            .collect();
        if !organisers.is_empty() {
            return Ok(Some((group.clone(), organisers)));
        }
    }
    Ok(None)
}

/// The group `slug` names, when the signed-in person may manage it.
pub(crate) async fn require_manager(
    state: &AppState,
    signed_in: &SignedIn,
    slug: &str,
) -> Result<Group, PageError> {
    let group = find_group(&state.store, slug).await?;
    if !can_manage(state, &signed_in.user, group.id).await? {
        return Err(PageError::forbidden(format!(
            "Only organisers of {} can do that.",
            group.name
        )));
    }
    Ok(group)
}

#[derive(Deserialize)]
struct NewGroupForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// Checks a new group's description against its limit.
fn check_group_description(description: &str) -> Result<(), String> {
    limits::check_length("description", description, limits::GROUP_DESCRIPTION)
        .map_err(|e| format!("Description: {e}."))
}

fn check_group_name(name: &str) -> Result<(), String> {
    match name.trim().chars().count() {
        0 => Err("Name: give the group a name.".into()),
        n if n > limits::GROUP_NAME => Err(format!(
            "Name: keep it to {} characters.",
            limits::GROUP_NAME
        )),
        _ => Ok(()),
    }
}

async fn create_child(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<NewGroupForm>,
) -> Result<Response, PageError> {
    let parent = require_manager(&state, &signed_in, &slug).await?;
    if let Err(message) =
        check_group_name(&form.name).and_then(|()| check_group_description(&form.description))
    {
        return Ok(Flash::error(message).redirect(&format!("/groups/{slug}")));
    }
    let kind = parent.kind.child_kind();
    let child = state
        .store
        .create_group(
            Some(parent.id),
            &form.name,
            kind,
            &form.description,
            Some(signed_in.user.id),
        )
        .await?;
    let what = if kind == GroupKind::Region {
        "Region"
    } else {
        "Branch"
    };
    Ok(Flash::ok(format!("{what} created: {}.", child.name))
        .redirect(&format!("/groups/{}", child.slug)))
}

async fn create_top_level(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<NewGroupForm>,
) -> Result<Response, PageError> {
    if !signed_in.user.is_admin {
        return Err(PageError::forbidden(
            "Only instance administrators can create top-level groups.",
        ));
    }
    if let Err(message) =
        check_group_name(&form.name).and_then(|()| check_group_description(&form.description))
    {
        return Ok(Flash::error(message).redirect("/groups"));
    }
    let group = state
        .store
        .create_group(
            None,
            &form.name,
            GroupKind::National,
            &form.description,
            Some(signed_in.user.id),
        )
        .await?;
    Ok(Flash::ok(format!("Group created: {}.", group.name))
        .redirect(&format!("/groups/{}", group.slug)))
}

#[derive(Deserialize)]
struct InviteForm {
    email: String,
    role: String,
}

/// Checks an email address well enough to catch typing mistakes.
pub(crate) fn plausible_email(email: &str) -> bool {
    barnstorm_domain::email::normalise_email(email).is_some()
}

async fn invite(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<InviteForm>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    let back = format!("/groups/{slug}");
    let email = form.email.trim().to_lowercase();
    if !plausible_email(&email) {
        return Ok(Flash::error(format!(
            "Email address: '{}' is not an email address.",
            form.email.trim()
        ))
        .redirect(&back));
    }
    let Ok(role) = form.role.parse::<Role>() else {
        return Ok(Flash::error("Role: choose organiser, host, caller or member.").redirect(&back));
    };
    let token = new_secret();
    let mail = mails::group_invite(
        &state.config,
        &signed_in.user,
        &group.name,
        role,
        &email,
        &token,
    );
    state
        .store
        .create_invite(
            &NewInvite {
                group_id: group.id,
                email: &email,
                role,
                token_hash: &hash_secret(&token),
                invited_by: signed_in.user.id,
                expires_at: now_millis() + INVITE_TTL_MS,
            },
            &mail,
        )
        .await?;
    state.mail_queued();
    Ok(Flash::ok(format!("Invite sent to {email}.")).redirect(&back))
}

async fn revoke_invite(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    state
        .store
        .revoke_invite(group.id, id, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok("Invite withdrawn; its link no longer works.")
        .redirect(&format!("/groups/{slug}")))
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, user_id)): Path<(String, i64)>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    let back = format!("/groups/{slug}");
    let Ok(role) = form.role.parse::<Role>() else {
        return Ok(Flash::error("Role: choose organiser, host, caller or member.").redirect(&back));
    };
    if !state
        .store
        .members(group.id)
        .await?
        .iter()
        .any(|m| m.user_id == user_id)
    {
        return Err(PageError::not_found(
            "That person is not a member of this group.",
        ));
    }
    state
        .store
        .set_membership(group.id, user_id, role, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok(format!("Role changed to {role}.")).redirect(&back))
}

#[derive(Deserialize)]
struct TrustForm {
    /// Present (a ticked box) to trust, absent to take trust back.
    #[serde(default)]
    trusted: Option<String>,
}

async fn set_trusted(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, user_id)): Path<(String, i64)>,
    Form(form): Form<TrustForm>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    let trusted = form.trusted.is_some();
    let Some(member) = state
        .store
        .members(group.id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user_id)
    else {
        return Err(PageError::not_found(
            "That person is not a member of this group.",
        ));
    };
    state
        .store
        .set_trusted_host(group.id, user_id, trusted, Some(signed_in.user.id))
        .await?;
    let message = if trusted {
        format!(
            "{} is a trusted host: their events in {} and the groups below it go live without approval.",
            member.name, group.name
        )
    } else {
        format!(
            "{} is no longer a trusted host: their new events wait for approval where the group asks for it.",
            member.name
        )
    };
    Ok(Flash::ok(message).redirect(&format!("/groups/{slug}")))
}

async fn remove_member(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((slug, user_id)): Path<(String, i64)>,
) -> Result<Response, PageError> {
    let group = require_manager(&state, &signed_in, &slug).await?;
    state
        .store
        .remove_membership(group.id, user_id, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok("Removed from the group.").redirect(&format!("/groups/{slug}")))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/groups", get(groups).post(create_top_level))
        .route("/groups/{slug}", get(group_page))
        .route("/groups/{slug}/children", post(create_child))
        .route("/groups/{slug}/invites", post(invite))
        .route("/groups/{slug}/invites/{id}/revoke", post(revoke_invite))
        .route("/groups/{slug}/members/{user_id}/role", post(change_role))
        .route(
            "/groups/{slug}/members/{user_id}/trusted",
            post(set_trusted),
        )
        .route(
            "/groups/{slug}/members/{user_id}/remove",
            post(remove_member),
        )
}
