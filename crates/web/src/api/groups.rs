//! Groups over the API: list, read, create under a group you organise, list members,
//! trust a member as a host (their events skip approval) and invite by email (the invite
//! mail goes through the outbox, as from the web page).

use super::{ApiJson, ErrorBody};
use crate::auth::{ApiUser, hash_secret, new_secret};
use crate::pages::{INVITE_TTL_MS, can_manage, plausible_email};
use crate::{ApiError, AppState, mails};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_domain::limits;
use barnstorm_store::{Group, GroupKind, NewInvite, Role, now_millis};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// A group (volunteer hub).
#[derive(Serialize, ToSchema)]
pub(crate) struct GroupView {
    id: i64,
    parent_id: Option<i64>,
    slug: String,
    name: String,
    /// `national`, `region` or `branch`.
    kind: String,
    description: String,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        Self {
            id: g.id,
            parent_id: g.parent_id,
            slug: g.slug,
            name: g.name,
            kind: g.kind.as_str().to_owned(),
            description: g.description,
        }
    }
}

/// A new group.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewGroup {
    name: String,
    /// The group to create it under; omit for a top-level group (administrators only).
    parent_id: Option<i64>,
    #[serde(default)]
    description: String,
}

/// A member of a group.
#[derive(Serialize, ToSchema)]
pub(crate) struct MemberView {
    user_id: i64,
    name: String,
    email: String,
    role: String,
    /// Their events go live without approval here and in the groups below.
    trusted_host: bool,
}

/// A change to a member.
#[derive(Deserialize, ToSchema)]
pub(crate) struct MemberChange {
    /// Trust them as a host (their events skip approval here and below), or take it back.
    trusted_host: Option<bool>,
}

/// An invitation to send.
#[derive(Deserialize, ToSchema)]
pub(crate) struct InviteRequest {
    email: String,
    /// `organiser`, `host`, `caller` or `member`.
    role: String,
}

/// A sent invitation.
#[derive(Serialize, ToSchema)]
pub(crate) struct InviteView {
    id: i64,
    email: String,
    role: String,
    /// Milliseconds since the Unix epoch.
    expires_at: i64,
}

async fn group(state: &AppState, id: i64) -> Result<Group, ApiError> {
    state
        .store
        .group_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("group {id}")))
}

async fn require_manager(
    state: &AppState,
    user: &barnstorm_store::User,
    group: &Group,
) -> Result<(), ApiError> {
    if can_manage(state, user, group.id).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "only organisers of {} can do that",
            group.name
        )))
    }
}

/// Every group.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", responses((status = 200, body = [GroupView])))]
async fn list_groups(State(state): State<AppState>) -> Result<Json<Vec<GroupView>>, ApiError> {
    Ok(Json(
        state
            .store
            .groups()
            .await?
            .into_iter()
            .map(GroupView::from)
            .collect(),
    ))
}

/// One group.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "groups", params(("id" = i64, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)))]
async fn get_group(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<GroupView>, ApiError> {
    Ok(Json(group(&state, id).await?.into()))
}

/// Create a group under one you organise (or a top-level group, for administrators).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", security(("bearer" = [])), request_body = NewGroup,
    responses((status = 201, body = GroupView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_group(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > limits::GROUP_NAME {
        return Err(ApiError::invalid(
            "name",
            format!(
                "give the group a name of 1 to {} characters",
                limits::GROUP_NAME
            ),
        ));
    }
    limits::check_length("description", &body.description, limits::GROUP_DESCRIPTION)?;
    let kind = match body.parent_id {
        Some(parent_id) => {
            let parent = group(&state, parent_id).await.map_err(|_| {
                ApiError::invalid("parent_id", format!("there is no group {parent_id}"))
            })?;
            require_manager(&state, &user, &parent).await?;
            parent.kind.child_kind()
        }
        None if user.is_admin => GroupKind::National,
        None => {
            return Err(ApiError::forbidden(
                "only administrators can create top-level groups; give parent_id",
            ));
        }
    };
    let created = state
        .store
        .create_group(body.parent_id, name, kind, &body.description, Some(user.id))
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// The members of a group you organise.
#[utoipa::path(get, path = "/api/v1/groups/{id}/members", tag = "groups", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = [MemberView]), (status = 403, body = ErrorBody)))]
async fn list_members(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MemberView>>, ApiError> {
    let group = group(&state, id).await?;
    require_manager(&state, &user, &group).await?;
    let members = state.store.members(group.id).await?;
    Ok(Json(
        members
            .into_iter()
            .map(|m| MemberView {
                user_id: m.user_id,
                name: m.name,
                email: m.email,
                role: m.role.as_str().to_owned(),
                trusted_host: m.trusted_host,
            })
            .collect(),
    ))
}

/// Change a member of a group you organise: `trusted_host` makes their events go live
/// without approval in the group and the groups below it (audited).
#[utoipa::path(patch, path = "/api/v1/groups/{id}/members/{user_id}", tag = "groups", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = MemberChange,
    responses((status = 200, body = MemberView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_member(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, user_id)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<MemberChange>,
) -> Result<Json<MemberView>, ApiError> {
    let group = group(&state, id).await?;
    require_manager(&state, &user, &group).await?;
    let Some(trusted) = body.trusted_host else {
        return Err(ApiError::invalid(
            "trusted_host",
            "give trusted_host: true or false",
        ));
    };
    let find = || async {
        let members = state.store.members(group.id).await?;
        Ok::<_, ApiError>(members.into_iter().find(|m| m.user_id == user_id))
    };
    if find().await?.is_none() {
        return Err(ApiError::not_found(&format!(
            "member {user_id} of group {id}"
        )));
    }
    state
        .store
        .set_trusted_host(group.id, user_id, trusted, Some(user.id))
        .await?;
    let member = find()
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("member {user_id} of group {id}")))?;
    Ok(Json(MemberView {
        user_id: member.user_id,
        name: member.name,
        email: member.email,
        role: member.role.as_str().to_owned(),
        trusted_host: member.trusted_host,
    }))
}

/// Invite someone to a group you organise; they receive the link by email.
#[utoipa::path(post, path = "/api/v1/groups/{id}/invites", tag = "groups", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = InviteRequest, responses((status = 201, body = InviteView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_invite(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<InviteView>), ApiError> {
    let group = group(&state, id).await?;
    require_manager(&state, &user, &group).await?;
    let email = body.email.trim().to_lowercase();
    if !plausible_email(&email) {
        return Err(ApiError::invalid(
            "email",
            format!("'{}' is not an email address", body.email),
        ));
    }
    let role: Role = body
        .role
        .parse()
        .map_err(|e: String| ApiError::invalid("role", e))?;
    let token = new_secret();
    let expires_at = now_millis() + INVITE_TTL_MS;
    let mail = mails::group_invite(&state.config, &user, &group.name, role, &email, &token);
    let invite_id = state
        .store
        .create_invite(
            &NewInvite {
                group_id: group.id,
                email: &email,
                role,
                token_hash: &hash_secret(&token),
                invited_by: user.id,
                expires_at,
            },
            &mail,
        )
        .await?;
    state.mail_queued();
    Ok((
        StatusCode::CREATED,
        Json(InviteView {
            id: invite_id,
            email,
            role: role.as_str().to_owned(),
            expires_at,
        }),
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group))
        .routes(routes!(list_members))
        .routes(routes!(change_member))
        .routes(routes!(create_invite))
}
