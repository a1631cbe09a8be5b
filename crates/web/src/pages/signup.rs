//! Making an account: a name, an email and an optional password give an unverified
//! account and the mail whose link confirms the address and signs in (the same links as
//! the sign-in page). An address that already has an account gets the same answer on
//! screen and its owner a sign-in link, so the form reveals nothing. Counted per client
//! address and per mailed address like the other anonymous forms.

use super::layout::{Layout, render};
use super::login::{LinkMail, mail_sign_in_link};
use super::plausible_email;
use super::return_path::safe_return_path;
use crate::auth::{
    LoginThrottle, MIN_PASSWORD_LEN, RequestContext, hash_password, reserve_sign_in_link,
    reserve_sign_up,
};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get};
use barnstorm_domain::limits;
use barnstorm_store::{StoreError, now_millis};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    layout: Layout,
    next: String,
    /// The visitor is on the way to the new-event form.
    hosting: bool,
    name: String,
    email: String,
    name_error: Option<String>,
    email_error: Option<String>,
    password_error: Option<String>,
}

#[derive(Template)]
#[template(path = "signup_sent.html")]
struct CheckEmailPage {
    layout: Layout,
    email: String,
}

#[derive(Deserialize)]
struct SignUpQuery {
    email: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct SignUpForm {
    name: String,
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

fn is_hosting(next: &str) -> bool {
    next.starts_with("/events/new")
}

async fn sign_up_page(context: RequestContext, Query(query): Query<SignUpQuery>) -> Response {
    let next = safe_return_path(query.next.as_deref());
    if context.user().is_some() {
        return Redirect::to(&next).into_response();
    }
    render(&SignUpPage {
        layout: Layout::new(&context),
        hosting: is_hosting(&next),
        next,
        name: String::new(),
        email: query.email.unwrap_or_default(),
        name_error: None,
        email_error: None,
        password_error: None,
    })
}

async fn sign_up(
    State(state): State<AppState>,
    context: RequestContext,
    Form(form): Form<SignUpForm>,
) -> Result<Response, PageError> {
    let next = safe_return_path(form.next.as_deref());
    if context.user().is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let name = form.name.trim();
    let email = form.email.trim().to_lowercase();
    let name_error = (name.is_empty() || name.chars().count() > limits::PERSON_NAME).then(|| {
        format!(
            "Your name: tell us what to call you (up to {} characters).",
            limits::PERSON_NAME
        )
    });
    let email_error = (!plausible_email(&email))
        .then(|| "Email address: enter your address, like name@example.org.".to_owned());
    let password_error = (!form.password.is_empty()
        && form.password.chars().count() < MIN_PASSWORD_LEN)
        .then(|| {
            format!(
                "Password: use at least {MIN_PASSWORD_LEN} characters, or leave it empty to sign in by emailed link."
            )
        });
    if name_error.is_some() || email_error.is_some() || password_error.is_some() {
        let mut response = render(&SignUpPage {
            layout: Layout::new(&context),
            hosting: is_hosting(&next),
            next,
            name: form.name,
            email: form.email,
            name_error,
            email_error,
            password_error,
        });
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let now = now_millis();
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_sign_up(&state.store, context.client_ip, now).await?
    {
        return Err(PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-ups",
            format!(
                "Too many accounts were made from your network in the last hour. Try again in {retry_after_minutes} minutes."
            ),
        ));
    }
    // Hashed whether or not the address has an account, so the time taken says nothing.
    let password_hash = if form.password.is_empty() {
        None
    } else {
        let memory = state.config.password_memory_kib;
        let password = form.password.clone();
        match tokio::task::spawn_blocking(move || hash_password(&password, memory)).await {
            Ok(Ok(hash)) => Some(hash),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "hashing a new account's password");
                return Err(try_again());
            }
            Err(_) => return Err(try_again()),
        }
    };
    // Beyond the per-address link limit nothing more is mailed (or made), silently: the
    // page is the same either way.
    let throttle = reserve_sign_in_link(&state.store, &email, context.client_ip, now).await?;
    if throttle == LoginThrottle::Allowed {
        let existing = match state.store.user_by_email(&email).await? {
            Some(user) => Some(user),
            None => match state
                .store
                .create_unverified_user(&email, name, password_hash.as_deref())
                .await
            {
                Ok(user) => {
                    mail_sign_in_link(&state, &user, LinkMail::ConfirmAddress, Some(&next)).await?;
                    None
                }
                Err(StoreError::Conflict(_)) => state.store.user_by_email(&email).await?,
                Err(e) => return Err(e.into()),
            },
        };
        if let Some(owner) = existing {
            mail_sign_in_link(&state, &owner, LinkMail::SignIn, Some(&next)).await?;
        }
    }
    Ok(render(&CheckEmailPage {
        layout: Layout::new(&context),
        email,
    }))
}

fn try_again() -> PageError {
    PageError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Please try again.",
    )
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/signup", get(sign_up_page).post(sign_up))
}
