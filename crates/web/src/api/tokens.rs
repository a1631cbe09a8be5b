//! API tokens: exchange an email and password for a bearer token, and say who a token
//! belongs to. Subject to the same sign-in rate limits as the sign-in page (each attempt
//! counted before the password is checked); "me" says whether the address is verified. Accounts with two-factor
//! sign-in also send a code.

use super::{ApiJson, ErrorBody};
use crate::auth::two_factor::{SecondFactorCheck, check_second_factor};
use crate::auth::{
    ApiUser, LoginThrottle, client_ip, hash_secret, new_secret, record_login_result,
    reserve_login_attempt, verify_password,
};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, http::Extensions};
use barnstorm_domain::limits;
use barnstorm_store::now_millis;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Credentials to exchange for a token.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenRequest {
    /// Account email.
    email: String,
    /// Account password.
    password: String,
    /// For accounts with two-factor sign-in: the current six-digit code from the
    /// authenticator app, or an unused recovery code (which is then used up).
    #[serde(default)]
    code: Option<String>,
    /// A name for the token, shown on the account page.
    #[serde(default)]
    label: Option<String>,
}

/// A new bearer token; shown once.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenResponse {
    /// Send as `Authorization: Bearer TOKEN`.
    token: String,
}

/// Who a token belongs to.
#[derive(Serialize, ToSchema)]
pub(crate) struct Me {
    id: i64,
    email: String,
    name: String,
    is_admin: bool,
    /// Whether the owner proved the address; unverified accounts may only call for the
    /// phone bank they joined.
    email_verified: bool,
    groups: Vec<MyGroup>,
}

/// A group the account belongs to directly.
#[derive(Serialize, ToSchema)]
pub(crate) struct MyGroup {
    id: i64,
    slug: String,
    name: String,
    role: String,
}

/// Exchange email and password for an API token. Accounts with two-factor sign-in also
/// send `code`; without it the answer is 401 `two_factor_required`, with a wrong or
/// reused one 401 `bad_code` (counted as a failed sign-in).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse),
        (status = 401, description = "`bad_credentials`, `two_factor_required` (send `code`) or `bad_code`", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    request_extensions: Extensions,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    limits::check_length("email", &body.email, limits::EMAIL)?;
    limits::check_length("password", &body.password, limits::PASSWORD)?;
    if let Some(label) = &body.label {
        limits::check_length("label", label.trim(), limits::LABEL)?;
    }
    let ip = client_ip(&headers, &request_extensions, state.config.trust_proxy);
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_login_attempt(&state.store, &body.email, ip, now_millis()).await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed sign-ins; retry in {retry_after_minutes} minutes"),
        ));
    }
    let user = state.store.user_by_email(&body.email).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let memory = state.config.password_memory_kib;
    let password = body.password;
    let ok =
        tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref(), memory))
            .await
            .unwrap_or(false);
    record_login_result(&state.store, &body.email, ip, ok).await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "that email and password do not match an account",
        ));
    };
    if state.store.two_factor_status(user.id).await?.enabled() {
        check_code(&state, &user, body.code.as_deref(), ip).await?;
    }
    let token = new_secret();
    let label = body
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or("API");
    state
        .store
        .create_api_token(user.id, &hash_secret(&token), label)
        .await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}

/// Refuses a token to an account with two-factor sign-in unless `code` is a current
/// authenticator code or an unused recovery code.
async fn check_code(
    state: &AppState,
    user: &barnstorm_store::User,
    code: Option<&str>,
    ip: Option<std::net::IpAddr>,
) -> Result<(), ApiError> {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "two_factor_required",
            "this account has two-factor sign-in: send 'code' with a current code from the authenticator app or a recovery code",
        )
        .with_details(serde_json::json!({ "field": "code" })));
    };
    match check_second_factor(state, user, code, ip, now_millis()).await? {
        check if check.accepted() => Ok(()),
        SecondFactorCheck::Blocked {
            retry_after_minutes,
        } => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many failed sign-ins; retry in {retry_after_minutes} minutes"),
        )),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_code",
            "'code' is not a current authenticator code (each works once) or an unused recovery code",
        )
        .with_details(serde_json::json!({ "field": "code" }))),
    }
}

/// The account behind the token, with its groups.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Me>, ApiError> {
    let groups = state
        .store
        .memberships_of(user.id)
        .await?
        .into_iter()
        .map(|(g, role)| MyGroup {
            id: g.id,
            slug: g.slug,
            name: g.name,
            role: role.as_str().to_owned(),
        })
        .collect();
    let email_verified = user.is_verified();
    Ok(Json(Me {
        id: user.id,
        email: user.email,
        name: user.name,
        is_admin: user.is_admin,
        email_verified,
        groups,
    }))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_token))
        .routes(routes!(me))
}
