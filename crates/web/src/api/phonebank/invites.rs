//! Caller invite links over the API: organisers make, list and withdraw them (the code
//! is returned once, at creation: only its hash is stored); a new volunteer accepts one
//! with a name and email (getting an unverified account without a password, an API token
//! and a mail to confirm the address), and someone already signed in joins with the code.
//! An address that has an account is told only to sign in; anonymous accepts are counted
//! per client address.

use super::{find_campaign, organised_campaign};
use crate::api::{ApiJson, ErrorBody};
use crate::auth::{
    ApiUser, LoginThrottle, client_ip, hash_secret, new_secret, reserve_invite_join,
    reserve_sign_in_link,
};
use crate::pages::login::{LinkMail, mail_sign_in_link};
use crate::pages::plausible_email;
use crate::{ApiError, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use barnstorm_domain::limits;
use barnstorm_store::phonebank::{CampaignInvite, InviteAcceptance};
use barnstorm_store::{StoreError, User, canonical_email, now_millis};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

const HOUR_MS: i64 = 3_600_000;
/// Uses of a link when the organiser does not say.
pub(crate) const DEFAULT_MAX_USES: i64 = 1_000;
/// The most uses an organiser may allow one link.
pub(crate) const MAX_MAX_USES: i64 = 1_000_000;
/// New accounts one link may make in an hour when the organiser does not say: enough for
/// a 500-person meetup joining at once from one venue.
pub(crate) const DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR: i64 = 600;
/// The most new accounts per hour an organiser may allow one link.
pub(crate) const MAX_MAX_NEW_ACCOUNTS_PER_HOUR: i64 = 100_000;
/// Characters of a code: 22 URL-safe base64 characters, about 131 random bits.
const CODE_LEN: usize = 22;

/// A new invite link.
#[derive(Deserialize, ToSchema, Default)]
pub(crate) struct NewInvite {
    /// Hours until the link stops working (1–2160); 168 (a week) if omitted.
    expires_in_hours: Option<i64>,
    /// How many people may use it (1–1,000,000); 1,000 if omitted.
    max_uses: Option<i64>,
    /// How many new accounts it may make in any hour (1–100,000); 600 if omitted.
    max_new_accounts_per_hour: Option<i64>,
}

/// An invite link.
#[derive(Serialize, ToSchema)]
pub(crate) struct InviteLink {
    id: i64,
    /// The code, only in the answer that made the link: it is not stored.
    code: Option<String>,
    /// The link to give volunteers, only in the answer that made it.
    url: Option<String>,
    /// Milliseconds since the Unix epoch.
    expires_at: i64,
    max_uses: Option<i64>,
    max_new_accounts_per_hour: Option<i64>,
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

/// An invite as the API shows it; `code` only right after it was made.
fn link(state: &AppState, invite: CampaignInvite, code: Option<String>) -> InviteLink {
    let unusable_because = invite.unusable_because(now_millis()).map(str::to_owned);
    InviteLink {
        id: invite.id,
        url: code
            .as_ref()
            .map(|code| state.config.absolute(&format!("/call/join/{code}"))),
        code,
        expires_at: invite.expires_at,
        max_uses: invite.max_uses,
        max_new_accounts_per_hour: invite.max_new_accounts_per_hour,
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
    let max_uses = body.max_uses.unwrap_or(DEFAULT_MAX_USES);
    if !(1..=MAX_MAX_USES).contains(&max_uses) {
        return Err(ApiError::invalid(
            "max_uses",
            format!(
                "max_uses must be between 1 and {MAX_MAX_USES}, or omitted for {DEFAULT_MAX_USES}"
            ),
        ));
    }
    let per_hour = body
        .max_new_accounts_per_hour
        .unwrap_or(DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR);
    if !(1..=MAX_MAX_NEW_ACCOUNTS_PER_HOUR).contains(&per_hour) {
        return Err(ApiError::invalid(
            "max_new_accounts_per_hour",
            format!(
                "max_new_accounts_per_hour must be between 1 and {MAX_MAX_NEW_ACCOUNTS_PER_HOUR}, or omitted for {DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR}"
            ),
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
            Some(max_uses),
            Some(per_hour),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(link(&state, invite, Some(code)))))
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
    Ok(Json(
        invites.into_iter().map(|i| link(&state, i, None)).collect(),
    ))
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
        .revoke_campaign_invite(campaign.id, invite_id, Some(user.id))
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                ApiError::not_found(&format!("live invite {invite_id} of this campaign"))
            }
            other => other.into(),
        })?;
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

/// Accept an invite as a new volunteer: makes an unverified account (no password), mails
/// a link to confirm the address and returns an API token. An email that has an account
/// already gets 409 `account_exists` saying only "sign in to join with this address" (its
/// owner is mailed a sign-in link); 429 when too many joins came from the client's
/// address, or the link made its hourly allowance of new accounts.
#[utoipa::path(post, path = "/api/v1/invites/{code}/accept", tag = "phonebank", params(("code" = String, Path)),
    request_body = AcceptInvite,
    responses((status = 201, body = Accepted), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn accept_invite(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    request_extensions: Extensions,
    ApiJson(body): ApiJson<AcceptInvite>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let invite = usable_invite(&state, &code).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > limits::PERSON_NAME {
        return Err(ApiError::invalid(
            "name",
            format!("give your name (1 to {} characters)", limits::PERSON_NAME),
        ));
    }
    limits::check_length("email", body.email.trim(), limits::EMAIL)?;
    let email = canonical_email(&body.email);
    if !plausible_email(&email) {
        return Err(ApiError::invalid(
            "email",
            format!("'{}' is not an email address", body.email),
        ));
    }
    let ip = client_ip(&headers, &request_extensions, state.config.trust_proxy);
    let now = now_millis();
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_invite_join(
        &state.store,
        ip,
        invite.id,
        invite.max_new_accounts_per_hour,
        now,
    )
    .await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many joins from your network; retry in {retry_after_minutes} minutes"),
        ));
    }
    let exists = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "account_exists",
            "sign in to join with this address",
        )
    };
    let back = format!("/call/join/{code}");
    if let Some(existing) = state.store.user_by_email(&email).await? {
        mail_owner_a_way_in(&state, &existing, &back, ip).await?;
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
            now,
        )
        .await?;
    let (user, campaign_id) = match accepted {
        InviteAcceptance::Accepted { user, invite } => (user, invite.campaign_id),
        InviteAcceptance::AccountExists => return Err(exists()),
        InviteAcceptance::InviteUnusable => return Err(invite_unusable()),
        InviteAcceptance::HourlyAccountCapReached => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "invite_busy",
                "this invite link made as many new accounts this hour as its organiser allows; try again later",
            ));
        }
    };
    mail_sign_in_link(&state, &user, LinkMail::ConfirmAddress, None).await?;
    Ok((StatusCode::CREATED, Json(Accepted { token, campaign_id })))
}

/// Mails the owner of an address someone tried to join with a sign-in link back to the
/// invite, within the per-address link limits (beyond them, silently nothing).
async fn mail_owner_a_way_in(
    state: &AppState,
    owner: &User,
    back: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<(), ApiError> {
    let throttle = reserve_sign_in_link(&state.store, &owner.email, ip, now_millis()).await?;
    if throttle == LoginThrottle::Allowed {
        mail_sign_in_link(state, owner, LinkMail::SignIn, Some(back)).await?;
    }
    Ok(())
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
    limits::check_length("code", body.code.trim(), limits::CODE)?;
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
