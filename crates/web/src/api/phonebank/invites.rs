//! Caller invite links over the API: organisers make, list and withdraw them; a new
//! volunteer accepts one with a name and email (getting an account without a password
//! and an API token), and someone already signed in joins with the code.

use super::{find_campaign, organised_campaign};
use crate::api::{ApiJson, ErrorBody};
use crate::auth::{ApiUser, hash_secret, new_secret};
use crate::pages::plausible_email;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_store::phonebank::{CampaignInvite, InviteAcceptance};
use barnstorm_store::{StoreError, User, canonical_email, now_millis};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

const HOUR_MS: i64 = 3_600_000;
/// Characters of a code: 22 URL-safe base64 characters, about 131 random bits.
const CODE_LEN: usize = 22;

/// A new invite link.
#[derive(Deserialize, ToSchema, Default)]
pub(crate) struct NewInvite {
    /// Hours until the link stops working (1–2160); 168 (a week) if omitted.
    expires_in_hours: Option<i64>,
    /// How many people may use it; no limit if omitted.
    max_uses: Option<i64>,
}

/// An invite link.
#[derive(Serialize, ToSchema)]
pub(crate) struct InviteLink {
    id: i64,
    code: String,
    /// The link to give volunteers.
    url: String,
    /// Milliseconds since the Unix epoch.
    expires_at: i64,
    max_uses: Option<i64>,
    uses: i64,
    /// Why it cannot be used now, if it cannot.
    unusable_because: Option<String>,
}

/// A volunteer accepting an invite.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AcceptInvite {
    name: String,
    email: String,
}

/// A caller's new API token.
#[derive(Serialize, ToSchema)]
pub(crate) struct Accepted {
    /// Send as `Authorization: Bearer TOKEN`.
    token: String,
    campaign_id: i64,
}

/// A signed-in volunteer joining with a code.
#[derive(Deserialize, ToSchema)]
pub(crate) struct JoinRequest {
    code: String,
}

/// The campaign joined.
#[derive(Serialize, ToSchema)]
pub(crate) struct Joined {
    campaign_id: i64,
}

fn link(state: &AppState, invite: CampaignInvite) -> InviteLink {
    let unusable_because = invite.unusable_because(now_millis()).map(str::to_owned);
    InviteLink {
        id: invite.id,
        url: state
            .config
            .absolute(&format!("/call/join/{}", invite.code)),
        code: invite.code,
        expires_at: invite.expires_at,
        max_uses: invite.max_uses,
        uses: invite.uses,
        unusable_because,
    }
}

/// Make an invite link for callers (organisers).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/invites", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NewInvite,
    responses((status = 201, body = InviteLink), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_invite(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<(StatusCode, Json<InviteLink>), ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    // An empty body takes every default.
    let body: NewInvite = if body.iter().all(u8::is_ascii_whitespace) {
        NewInvite::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))?
    };
    let hours = body.expires_in_hours.unwrap_or(168);
    if !(1..=2160).contains(&hours) {
        return Err(ApiError::invalid(
            "expires_in_hours",
            "expires_in_hours must be between 1 and 2160",
        ));
    }
    if body.max_uses.is_some_and(|n| n < 1) {
        return Err(ApiError::invalid(
            "max_uses",
            "max_uses must be at least 1, or omitted for no limit",
        ));
    }
    let code: String = new_secret().chars().take(CODE_LEN).collect();
    let invite = state
        .store
        .create_campaign_invite(
            campaign.id,
            &code,
            user.id,
            now_millis() + hours * HOUR_MS,
            body.max_uses,
        )
        .await?;
    state
        .store
        .audit(
            Some(user.id),
            "campaign_invite.create",
            &format!("campaign {}", campaign.id),
            &format!("invite {}", invite.id),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(link(&state, invite))))
}

/// A campaign's invite links, newest first (organisers).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/invites", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = [InviteLink]), (status = 403, body = ErrorBody)))]
async fn list_invites(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<InviteLink>>, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    let invites = state.store.campaign_invites(campaign.id).await?;
    Ok(Json(invites.into_iter().map(|i| link(&state, i)).collect()))
}

/// Withdraw an invite link (organisers).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/invites/{invite_id}/revoke", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path), ("invite_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_invite(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, invite_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let campaign = organised_campaign(&state, &user, id).await?;
    state
        .store
        .revoke_campaign_invite(campaign.id, invite_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found(&format!("live invite {invite_id} of this campaign"))
            }
            other => other.into(),
        })?;
    state
        .store
        .audit(
            Some(user.id),
            "campaign_invite.revoke",
            &format!("campaign {}", campaign.id),
            &format!("invite {invite_id}"),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The usable invite with this code: 404 when unknown, 410 when it cannot be used.
async fn usable_invite(state: &AppState, code: &str) -> Result<CampaignInvite, ApiError> {
    let invite = state
        .store
        .campaign_invite(code)
        .await?
        .ok_or_else(|| ApiError::not_found("the invite link"))?;
    match invite.unusable_because(now_millis()) {
        Some(reason) => Err(ApiError::new(StatusCode::GONE, "invite_unusable", reason)),
        None => Ok(invite),
    }
}

/// An invite that was used up, withdrawn or expired while it was being used.
fn invite_unusable() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "invite_unusable",
        "this invite link can no longer be used",
    )
}

/// Makes `user` a caller through the invite `code`.
async fn join(state: &AppState, user: &User, code: &str) -> Result<i64, ApiError> {
    usable_invite(state, code).await?;
    let joined = state
        .store
        .join_campaign_by_invite(code, user.id, now_millis())
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => invite_unusable(),
            other => other.into(),
        })?;
    Ok(joined.campaign_id)
}

/// Accept an invite as a new volunteer: makes an account (no password) and returns an
/// API token. An email that has an account already gets 409 `account_exists`.
#[utoipa::path(post, path = "/api/v1/invites/{code}/accept", tag = "phonebank", params(("code" = String, Path)),
    request_body = AcceptInvite,
    responses((status = 201, body = Accepted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn accept_invite(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<AcceptInvite>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let invite = usable_invite(&state, &code).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        return Err(ApiError::invalid(
            "name",
            "give your name (1 to 120 characters)",
        ));
    }
    let email = canonical_email(&body.email);
    if !plausible_email(&email) {
        return Err(ApiError::invalid(
            "email",
            format!("'{}' is not an email address", body.email),
        ));
    }
    let exists = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "account_exists",
            format!(
                "{email} already has an account: sign in and open the link, or use POST /api/v1/campaigns/{}/join with your token",
                invite.campaign_id
            ),
        )
    };
    if state.store.user_by_email(&email).await?.is_some() {
        return Err(exists());
    }
    let token = new_secret();
    let accepted = state
        .store
        .accept_campaign_invite(
            &code,
            &email,
            name,
            Some((&hash_secret(&token), "Phonebank")),
            now_millis(),
        )
        .await?;
    let campaign_id = match accepted {
        InviteAcceptance::Accepted { invite, .. } => invite.campaign_id,
        InviteAcceptance::AccountExists => return Err(exists()),
        InviteAcceptance::InviteUnusable => return Err(invite_unusable()),
    };
    Ok((StatusCode::CREATED, Json(Accepted { token, campaign_id })))
}

/// Join a campaign as a caller with an invite code, as the token's account.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/join", tag = "phonebank", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = JoinRequest,
    responses((status = 200, body = Joined), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
async fn join_campaign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<JoinRequest>,
) -> Result<Json<Joined>, ApiError> {
    let campaign = find_campaign(&state, id).await?;
    let invite = usable_invite(&state, body.code.trim()).await?;
    if invite.campaign_id != campaign.id {
        return Err(ApiError::not_found(
            "an invite link for this campaign with that code",
        ));
    }
    let campaign_id = join(&state, &user, body.code.trim()).await?;
    Ok(Json(Joined { campaign_id }))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invite, list_invites))
        .routes(routes!(revoke_invite))
        .routes(routes!(accept_invite))
        .routes(routes!(join_campaign))
}
