//! The account page: who you are, your groups, your password and your API tokens. A new
//! token is shown once, right after it is made; only its hash is kept.

use super::layout::{Layout, format_time, render};
use crate::auth::{Flash, SignedIn, hash_password, hash_secret, new_secret, verify_password};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_store::{ApiTokenInfo, Group, Role};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    email: String,
    is_admin: bool,
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
    if label.is_empty() || label.chars().count() > 80 {
        return Ok(Flash::error(
            "Token name: give the token a name of up to 80 characters, e.g. \"laptop\".",
        )
        .redirect("/account"));
    }
    let token = new_secret();
    state
        .store
        .create_api_token(signed_in.user.id, &hash_secret(&token), label)
        .await?;
    state
        .store
        .audit(
            Some(signed_in.user.id),
            "api_token.create",
            &format!("user {}", signed_in.user.id),
            label,
        )
        .await?;
    page(&state, &signed_in, Some(token)).await
}

async fn revoke_token(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    state.store.revoke_api_token(signed_in.user.id, id).await?;
    crate::auth::token_cache::forget_user(signed_in.user.id);
    state
        .store
        .audit(
            Some(signed_in.user.id),
            "api_token.revoke",
            &format!("token {id}"),
            "",
        )
        .await?;
    Ok(Flash::ok("Token revoked. Programs using it can no longer sign in.").redirect("/account"))
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
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
            state
                .store
                .audit(
                    Some(signed_in.user.id),
                    "password.change",
                    &format!("user {}", signed_in.user.id),
                    "",
                )
                .await?;
            Ok(Flash::ok("Password changed.").redirect("/account"))
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
}
