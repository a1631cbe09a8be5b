//! The account page: who you are, whether your address is confirmed (with a resend
//! button), your groups, your password, your API tokens and "sign out everywhere". A new
//! token is shown once, right after it is made; only its hash is kept. A password change
//! or "sign out everywhere" ends every other session and revokes every API token.

use super::layout::{Layout, format_time, render};
use super::login::{LinkMail, mail_sign_in_link};
use crate::auth::{
    Flash, LoginThrottle, SignedIn, hash_password, hash_secret, new_secret, reserve_sign_in_link,
    session_token_hash, verify_password,
};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::limits;
use barnstorm_store::{ApiTokenInfo, Group, Role, now_millis};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    email: String,
    is_admin: bool,
    data_protection: bool,
    /// When the address was confirmed, or `None` while it is not.
    verified_on: Option<String>,
    memberships: Vec<(Group, Role)>,
    tokens: Vec<TokenRow>,
    new_token: Option<String>,
}

struct TokenRow {
    id: i64,
    label: String,
    created: String,
    last_used: String,
}

impl From<ApiTokenInfo> for TokenRow {
    fn from(t: ApiTokenInfo) -> Self {
        Self {
            id: t.id,
            label: t.label,
            created: format_time(t.created_at),
            last_used: t
                .last_used_at
                .map_or_else(|| "never".to_owned(), format_time),
        }
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    new_token: Option<String>,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    Ok(render(&AccountPage {
        layout: Layout::new(&signed_in.context),
        name: user.name.clone(),
        email: user.email.clone(),
        is_admin: user.is_admin,
        data_protection: user.data_protection,
        verified_on: user.email_verified_at.map(format_time),
        memberships: state.store.memberships_of(user.id).await?,
        tokens: state
            .store
            .api_tokens(user.id)
            .await?
            .into_iter()
            .map(TokenRow::from)
            .collect(),
        new_token,
    }))
}

async fn account(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    page(&state, &signed_in, None).await
}

#[derive(Deserialize)]
struct TokenForm {
    label: String,
}

async fn create_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > limits::LABEL {
        return Ok(Flash::error(format!(
            "Token name: give the token a name of up to {} characters, e.g. \"laptop\".",
            limits::LABEL
        ))
        .redirect("/account"));
    }
    let token = new_secret();
    state
        .store
        .create_api_token(signed_in.user.id, &hash_secret(&token), label)
        .await?;
    page(&state, &signed_in, Some(token)).await
}

async fn revoke_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.store.revoke_api_token(signed_in.user.id, id).await?;
    state.tokens.forget_user(signed_in.user.id);
    Ok(Flash::ok("Token revoked. Programs using it can no longer sign in.").redirect("/account"))
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

/// Ends every session of the signed-in account but this one and revokes all its API
/// tokens, on this node's token cache at once.
async fn revoke_others(
    state: &AppState,
    signed_in: &SignedIn,
    headers: &HeaderMap,
    why: &str,
) -> Result<(), PageError> {
    let user_id = signed_in.user.id;
    let keep = session_token_hash(headers);
    state
        .store
        .revoke_other_credentials(user_id, keep.as_deref(), now_millis(), why)
        .await?;
    state.tokens.forget_user(user_id);
    Ok(())
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    revoke_others(&state, &signed_in, &headers, "sign out everywhere").await?;
    Ok(Flash::ok(
        "Signed out everywhere else: every other session has ended and every API token is revoked.",
    )
    .redirect("/account"))
}

async fn resend_confirmation(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    if user.is_verified() {
        return Ok(Flash::ok("Your address is already confirmed.").redirect("/account"));
    }
    let ip = signed_in.context.client_ip;
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_sign_in_link(&state.store, &user.email, ip, now_millis()).await?
    {
        return Ok(Flash::error(format!(
            "Enough mails were sent to {} for now: use the newest one, or ask again in {retry_after_minutes} minutes.",
            user.email
        ))
        .redirect("/account"));
    }
    mail_sign_in_link(&state, user, LinkMail::ConfirmAddress, None).await?;
    Ok(Flash::ok(format!(
        "A new confirmation link is on its way to {}; earlier ones no longer work.",
        user.email
    ))
    .redirect("/account"))
}

async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let memory = state.config.password_memory_kib;
    let user = signed_in.user.clone();
    let result = tokio::task::spawn_blocking(move || {
        if user.password_hash.is_some()
            && !verify_password(
                &form.current_password,
                user.password_hash.as_deref(),
                memory,
            )
        {
            return Err("Current password: that is not your current password.".to_owned());
        }
        hash_password(&form.new_password, memory).map_err(|e| format!("New password: {e}."))
    })
    .await
    .unwrap_or_else(|_| Err("Something went wrong; try again.".to_owned()));
    match result {
        Ok(hash) => {
            state
                .store
                .set_password_hash(signed_in.user.id, &hash)
                .await?;
            revoke_others(&state, &signed_in, &headers, "password change").await?;
            Ok(Flash::ok(
                "Password changed. Every other session has ended and every API token is revoked.",
            )
            .redirect("/account"))
        }
        Err(message) => Ok(Flash::error(message).redirect("/account")),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/password", post(change_password))
        .route("/account/sign-out-everywhere", post(sign_out_everywhere))
        .route("/account/confirm", post(resend_confirmation))
}
