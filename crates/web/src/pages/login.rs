//! Signing in and out: email + password, or a one-time link sent by email. Failed
//! attempts are rate-limited per account and per address; answers never reveal whether
//! an email has an account.

use super::layout::{Layout, render};
use super::return_path::safe_return_path;
use crate::auth::{
    Flash, LoginThrottle, RequestContext, check_login_allowed, clear_session_cookie, hash_secret,
    new_secret, record_login_result, session_cookie, verify_password,
};
use crate::{AppState, PageError, mails};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_store::{User, now_millis};
use serde::Deserialize;

/// How long an emailed sign-in link works.
const SIGN_IN_LINK_TTL_MS: i64 = 30 * 60 * 1000;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    next: String,
    email: String,
}

#[derive(Template)]
#[template(path = "login_link.html")]
struct LinkPage {
    layout: Layout,
    token: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[derive(Deserialize)]
struct LinkForm {
    email: String,
}

/// Starts a session for `user` and redirects to `to`.
pub(crate) async fn sign_in_and_redirect(
    state: &AppState,
    user: &User,
    to: &str,
    flash: Option<Flash>,
) -> Result<Response, PageError> {
    let token = new_secret();
    let expires_at =
        now_millis() + i64::try_from(state.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
    state
        .store
        .create_session(&hash_secret(&token), user.id, &new_secret(), expires_at)
        .await?;
    let mut response = match flash {
        Some(flash) => flash.redirect(to),
        None => Redirect::to(to).into_response(),
    };
    if let Ok(cookie) = HeaderValue::from_str(&session_cookie(&token, state)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn login_page(context: RequestContext, Query(query): Query<NextQuery>) -> Response {
    let next = safe_return_path(query.next.as_deref());
    if context.user().is_some() {
        return Redirect::to(&next).into_response();
    }
    render(&LoginPage {
        layout: Layout::new(&context),
        next,
        email: String::new(),
    })
}

async fn login(
    State(state): State<AppState>,
    context: RequestContext,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_return_path(form.next.as_deref());
    let email = form.email.trim().to_owned();
    let retry = |message: String| {
        let mut context = context.clone();
        context.flash = Some(Flash::error(message));
        render(&LoginPage {
            layout: Layout::new(&context),
            next: next.clone(),
            email: email.clone(),
        })
    };
    if email.is_empty() || form.password.is_empty() {
        return Ok(retry("Enter your email address and your password.".into()));
    }
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = check_login_allowed(&state.store, &email, context.client_ip).await?
    {
        let mut response = retry(format!(
            "Too many failed sign-in attempts. Try again in {retry_after_minutes} minutes, or ask for a sign-in link by email."
        ));
        *response.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        return Ok(response);
    }
    let user = state.store.user_by_email(&email).await?;
    let memory = state.config.password_memory_kib;
    let password = form.password.clone();
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok =
        tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref(), memory))
            .await
            .unwrap_or(false);
    record_login_result(&state.store, &email, context.client_ip, ok).await?;
    match user.filter(|_| ok) {
        Some(user) => {
            state
                .store
                .audit(
                    Some(user.id),
                    "session.sign_in",
                    &format!("user {}", user.id),
                    "password",
                )
                .await?;
            sign_in_and_redirect(&state, &user, &next, None).await
        }
        None => Ok(retry(
            "That email and password do not match an account.".into(),
        )),
    }
}

async fn send_link(
    State(state): State<AppState>,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let email = form.email.trim();
    if !email.contains('@') {
        return Ok(
            Flash::error("Enter the email address of your account to get a sign-in link.")
                .redirect("/login"),
        );
    }
    if let Some(user) = state.store.user_by_email(email).await? {
        let token = new_secret();
        state
            .store
            .create_sign_in_link(
                &hash_secret(&token),
                user.id,
                now_millis() + SIGN_IN_LINK_TTL_MS,
            )
            .await?;
        state
            .store
            .enqueue_mail(&mails::sign_in_link(&state.config, &user, &token))
            .await?;
        state.mail_queued();
    }
    Ok(Flash::ok(format!(
        "If {email} has an account, a sign-in link is on its way. It works once, for 30 minutes."
    ))
    .redirect("/login"))
}

async fn link_page(context: RequestContext, Path(token): Path<String>) -> Response {
    render(&LinkPage {
        layout: Layout::new(&context),
        token,
    })
}

async fn redeem_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match state
        .store
        .redeem_sign_in_link(&hash_secret(&token))
        .await?
    {
        Some(link) => {
            state
                .store
                .audit(
                    Some(link.user.id),
                    "session.sign_in",
                    &format!("user {}", link.user.id),
                    "email link",
                )
                .await?;
            sign_in_and_redirect(
                &state,
                &link.user,
                "/",
                Some(Flash::ok(format!("Signed in as {}.", link.user.email))),
            )
            .await
        }
        None => Ok(Flash::error(
            "That sign-in link has expired or was already used. Ask for a new one below.",
        )
        .redirect("/login")),
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, PageError> {
    if let Some(hash) = crate::auth::session_token_hash(&headers) {
        state.store.delete_session(&hash).await?;
    }
    let mut response = Flash::ok("You are signed out.").redirect("/");
    if let Ok(cookie) = HeaderValue::from_str(&clear_session_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/link", post(send_link))
        .route("/login/link/{token}", get(link_page).post(redeem_link))
        .route("/logout", post(logout))
}
