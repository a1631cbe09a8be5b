//! Accepting an invitation to a group. A signed-in person accepts with one click; a
//! newcomer gives a name and a password and gets an account for the invited address; an
//! existing account is asked to sign in first. Links work once and expire. The link was
//! mailed to the invited address, so accepting it as that address's account proves the
//! address: the account becomes verified and its other sessions and tokens are revoked.

use super::layout::{Layout, render};
use super::login::sign_in_and_redirect;
use super::return_path::sign_in_then;
use crate::auth::{Flash, RequestContext, hash_password, hash_secret};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::limits;
use barnstorm_store::{Invite, InviteState, StoreError, canonical_email, now_millis};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    layout: Layout,
    invite: Invite,
    token: String,
    signed_in_as: Option<String>,
    has_account: bool,
    name: String,
}

async fn open_invite(state: &AppState, token: &str) -> Result<Invite, PageError> {
    let invite = state
        .store
        .invite_by_token(&hash_secret(token))
        .await?
        .ok_or_else(|| {
            PageError::not_found(
                "This invite link is not valid. Check that you copied the whole link.",
            )
        })?;
    let gone = |why: &str| {
        PageError::new(
            StatusCode::GONE,
            "Invite no longer valid",
            format!(
                "{why} Ask an organiser of {} for a new invite.",
                invite.group_name
            ),
        )
    };
    match invite.state(now_millis()) {
        InviteState::Open => Ok(invite),
        InviteState::Accepted => Err(gone("This invite has already been used.")),
        InviteState::Revoked => Err(gone("This invite was withdrawn.")),
        InviteState::Expired => Err(gone("This invite has expired.")),
    }
}

async fn invite_page(
    State(state): State<AppState>,
    context: RequestContext,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let invite = open_invite(&state, &token).await?;
    let has_account = state.store.user_by_email(&invite.email).await?.is_some();
    Ok(render(&InvitePage {
        layout: Layout::new(&context),
        signed_in_as: context.user().map(|u| u.email.clone()),
        invite,
        token,
        has_account,
        name: String::new(),
    }))
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

async fn accept(
    State(state): State<AppState>,
    context: RequestContext,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Result<Response, PageError> {
    let invite = open_invite(&state, &token).await?;
    let group_page = format!("/groups/{}", invite.group_slug);
    let welcome = Flash::ok(format!(
        "Welcome to {}! You joined as {}.",
        invite.group_name, invite.role
    ));
    let token_hash = hash_secret(&token);

    if let Some(user) = context.user() {
        state
            .store
            .accept_invite(&token_hash, user.id, "")
            .await
            .map_err(invite_race)?;
        if canonical_email(&invite.email) != user.email {
            return Ok(welcome.redirect(&group_page));
        }
        // The invitee proved the address: anyone else signed in to this account (who
        // may have made it for an address they do not own) is signed out, and the owner
        // gets a fresh session.
        state
            .store
            .confirm_address_owner(user.id, now_millis())
            .await?;
        state.tokens.forget_user(user.id);
        let user = state
            .store
            .user_by_id(user.id)
            .await?
            .ok_or_else(|| PageError::not_found("That account no longer exists."))?;
        return sign_in_and_redirect(&state, &user, &group_page, "group invite", Some(welcome))
            .await;
    }
    if state.store.user_by_email(&invite.email).await?.is_some() {
        return Ok(Flash::error(format!(
            "{} already has an account: sign in to accept the invite.",
            invite.email
        ))
        .redirect(&sign_in_then(&format!("/invites/{token}"))));
    }
    let retry = |message: String| {
        let mut context = context.clone();
        context.flash = Some(Flash::error(message));
        render(&InvitePage {
            layout: Layout::new(&context),
            invite: invite.clone(),
            token: token.clone(),
            signed_in_as: None,
            has_account: false,
            name: form.name.clone(),
        })
    };
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > limits::PERSON_NAME {
        return Ok(retry(format!(
            "Your name: tell us what to call you (up to {} characters).",
            limits::PERSON_NAME
        )));
    }
    let memory = state.config.password_memory_kib;
    let password = form.password.clone();
    let hashed = tokio::task::spawn_blocking(move || hash_password(&password, memory)).await;
    let hash = match hashed {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) => return Ok(retry(format!("Choose a password: {e}."))),
        Err(_) => return Ok(retry("Something went wrong; try again.".into())),
    };
    let user = match state
        .store
        .create_user(&invite.email, name, Some(&hash), false)
        .await
    {
        Ok(user) => user,
        Err(StoreError::Conflict(_)) => {
            return Ok(Flash::error(
                "An account for this address was just created: sign in to accept.",
            )
            .redirect(&sign_in_then(&format!("/invites/{token}"))));
        }
        Err(e) => return Err(e.into()),
    };
    state
        .store
        .accept_invite(&token_hash, user.id, "new account")
        .await
        .map_err(invite_race)?;
    sign_in_and_redirect(&state, &user, &group_page, "group invite", Some(welcome)).await
}

fn invite_race(err: StoreError) -> PageError {
    match err {
        StoreError::Conflict(_) => PageError::new(
            StatusCode::GONE,
            "Invite no longer valid",
            "This invite was used or withdrawn a moment ago.",
        ),
        other => other.into(),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/invites/{token}", get(invite_page))
        .route("/invites/{token}/accept", post(accept))
}
