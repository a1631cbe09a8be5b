//! Signing in and out: email + password, or a one-time link sent by email. Password
//! attempts are counted before they are checked, per account and per client address;
//! link requests are limited per address; answers never reveal whether an email has an
//! account (an address without one is mailed a link to sign up instead). Redeeming a link proves the address: the account becomes verified and every
//! other session and API token it had is revoked. Each step ends in
//! [`sign_in_and_redirect`], which sends accounts with two-factor
//! sign-in on to the second step (`two_factor::sign_in`).

use super::layout::{Layout, render};
use super::return_path::safe_return_path;
use crate::auth::{
    Flash, LoginThrottle, RequestContext, clear_login_failures, clear_session_cookie, hash_secret,
    new_secret, record_login_result, reserve_login_attempt, reserve_sign_in_link, session_cookie,
    verify_password,
};
use crate::{AppState, PageError, mails};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_store::{StoreError, User, now_millis};
use serde::Deserialize;

/// How long an emailed sign-in link works.
const SIGN_IN_LINK_TTL_MS: i64 = 30 * 60 * 1000;
/// How long the link that confirms a new account's address works.
const CONFIRM_LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;

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
    /// Where the button posts: the link, with where to go afterwards.
    action: String,
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
    next: Option<String>,
}

/// Signs `user` in after their first step (password, link, invite) and redirects to
/// `to`, or first to the two-factor step when the account has it on.
pub(crate) async fn sign_in_and_redirect(
    state: &AppState,
    user: &User,
    to: &str,
    how: &str,
    flash: Option<Flash>,
) -> Result<Response, PageError> {
    if state.store.two_factor_status(user.id).await?.enabled() {
        return super::two_factor::ask_for_second_step(state, user, to).await;
    }
    start_session(state, user, to, how, flash).await
}

/// Starts a session for `user` (audited with `how` they signed in) and redirects to
/// `to`; every factor has been checked.
pub(crate) async fn start_session(
    state: &AppState,
    user: &User,
    to: &str,
    how: &str,
    flash: Option<Flash>,
) -> Result<Response, PageError> {
    let token = new_secret();
    let expires_at =
        now_millis() + i64::try_from(state.config.session_ttl.as_millis()).unwrap_or(i64::MAX);
    state
        .store
        .create_session(
            &hash_secret(&token),
            user.id,
            &new_secret(),
            expires_at,
            how,
        )
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

/// Which mail carries a new link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkMail {
    /// "Your sign-in link", asked for on the sign-in page; works for 30 minutes.
    SignIn,
    /// "Confirm your address", sent when an account is made and from the account page's
    /// resend button; works for 24 hours.
    ConfirmAddress,
}

/// Makes a one-time sign-in link for `user` (voiding any earlier unused one) and queues
/// the mail that carries it; once used, the link leads to `next`. Callers apply the
/// per-address limits first ([`reserve_sign_in_link`]) where a request could repeat.
pub(crate) async fn mail_sign_in_link(
    state: &AppState,
    user: &User,
    mail: LinkMail,
    next: Option<&str>,
) -> Result<(), StoreError> {
    let token = new_secret();
    let ttl = match mail {
        LinkMail::SignIn => SIGN_IN_LINK_TTL_MS,
        LinkMail::ConfirmAddress => CONFIRM_LINK_TTL_MS,
    };
    state
        .store
        .create_sign_in_link(&hash_secret(&token), user.id, now_millis() + ttl)
        .await?;
    let message = match mail {
        LinkMail::SignIn => mails::sign_in_link(&state.config, user, &token, next),
        LinkMail::ConfirmAddress => mails::confirm_address(&state.config, user, &token, next),
    };
    state.store.enqueue_mail(&message).await?;
    state.mail_queued();
    Ok(())
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
    // Counted before the password is checked, so parallel guesses cannot all get in
    // before the first failure is recorded.
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_login_attempt(&state.store, &email, context.client_ip, now_millis()).await?
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
        Some(user) => sign_in_and_redirect(&state, &user, &next, "password", None).await,
        None => Ok(retry(
            "That email and password do not match an account.".into(),
        )),
    }
}

async fn send_link(
    State(state): State<AppState>,
    context: RequestContext,
    Form(form): Form<LinkForm>,
) -> Result<Response, PageError> {
    let email = form.email.trim();
    if !email.contains('@') {
        return Ok(Flash::error(
            "Email address: enter the address of your account to get a sign-in link.",
        )
        .redirect("/login"));
    }
    let next = safe_return_path(form.next.as_deref());
    // Counted whether or not the address has an account, so being refused says nothing
    // about it either.
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_sign_in_link(&state.store, email, context.client_ip, now_millis()).await?
    {
        return Ok(Flash::error(format!(
            "Enough sign-in links were sent to {email} for now: use the newest one, or ask again in {retry_after_minutes} minutes."
        ))
        .redirect("/login"));
    }
    match state.store.user_by_email(email).await? {
        Some(user) => mail_sign_in_link(&state, &user, LinkMail::SignIn, Some(&next)).await?,
        None => {
            state
                .store
                .enqueue_mail(&mails::no_account_yet(&state.config, email, &next))
                .await?;
            state.mail_queued();
        }
    }
    Ok(Flash::ok(format!(
        "Check your email: a link is on its way to {email}. If the address has an account, it signs you in once, within 30 minutes (asking again voids it); if not, it leads to making one."
    ))
    .redirect("/login"))
}

async fn link_page(
    context: RequestContext,
    Path(token): Path<String>,
    Query(query): Query<NextQuery>,
) -> Response {
    let next = safe_return_path(query.next.as_deref());
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    let token: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    render(&LinkPage {
        layout: Layout::new(&context),
        action: format!("/login/link/{token}?next={next}"),
    })
}

async fn redeem_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<NextQuery>,
) -> Result<Response, PageError> {
    match state
        .store
        .redeem_sign_in_link(&hash_secret(&token))
        .await?
    {
        Some(link) => {
            let user_id = link.user.id;
            // Following the link proves the address: whoever else held a session or
            // token of this account (someone who made it for an address they do not
            // own) loses it, and the owner's failed password attempts are forgotten.
            state
                .store
                .confirm_address_owner(user_id, now_millis())
                .await?;
            state.tokens.forget_user(user_id);
            clear_login_failures(&state.store, &link.user.email).await?;
            let verified = if link.user.is_verified() {
                "email link"
            } else {
                "email link; address confirmed"
            };
            let user = state
                .store
                .user_by_id(user_id)
                .await?
                .ok_or_else(|| PageError::not_found("That account no longer exists."))?;
            sign_in_and_redirect(
                &state,
                &user,
                &safe_return_path(query.next.as_deref()),
                verified,
                Some(Flash::ok(format!("Signed in as {}.", user.email))),
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
