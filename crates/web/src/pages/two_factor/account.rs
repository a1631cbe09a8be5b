//! The account's two-factor page: set up an authenticator app (QR code, secret, URI,
//! confirmed with a code before it counts), recovery codes shown once and regenerated on
//! request, and turning two-factor sign-in off. Regenerating and turning off ask for the
//! password or a current code, so an unattended session cannot do either.

use super::client_ip;
use crate::auth::two_factor::{
    SecondFactorCheck, check_second_factor, new_recovery_codes, new_totp_secret, otpauth_uri,
    qr_svg, step_of,
};
use crate::auth::{
    Flash, LoginThrottle, SignedIn, hash_secret, record_login_result, reserve_login_attempt,
    verify_password,
};
use crate::pages::layout::{Layout, format_time, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_store::{PasskeyInfo, StoreError, TwoFactorStatus, now_millis};
use serde::Deserialize;

const PAGE: &str = "/account/two-factor";

#[derive(Template)]
#[template(path = "two_factor/account.html")]
struct TwoFactorPage {
    layout: Layout,
    status: TwoFactorStatus,
    passkeys: Vec<PasskeyRow>,
    needs_confirmation: bool,
}

struct PasskeyRow {
    id: i64,
    name: String,
    created: String,
    last_used: String,
}

impl From<PasskeyInfo> for PasskeyRow {
    fn from(p: PasskeyInfo) -> Self {
        Self {
            id: p.id,
            name: p.name,
            created: format_time(p.created_at),
            last_used: p
                .last_used_at
                .map_or_else(|| "never".to_owned(), format_time),
        }
    }
}

#[derive(Template)]
#[template(path = "two_factor/set_up_app.html")]
struct SetUpAppPage {
    layout: Layout,
    secret: String,
    uri: String,
    qr: String,
}

#[derive(Template)]
#[template(path = "two_factor/recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    password_or_code: String,
}

async fn page(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, PageError> {
    let user = &signed_in.user;
    let status = state.store.two_factor_status(user.id).await?;
    Ok(render(&TwoFactorPage {
        layout: Layout::new(&signed_in.context),
        status,
        passkeys: state
            .store
            .passkeys(user.id)
            .await?
            .into_iter()
            .map(PasskeyRow::from)
            .collect(),
        needs_confirmation: user.password_hash.is_some() || status.totp,
    }))
}

fn set_up_page(
    signed_in: &SignedIn,
    secret: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let uri = otpauth_uri(secret, "Barnstorm", &signed_in.user.email);
    let qr = qr_svg(&uri).ok_or_else(|| {
        PageError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The QR code could not be made. Please try again.",
        )
    })?;
    let mut context = signed_in.context.clone();
    if let Some(message) = error {
        context.flash = Some(Flash::error(message));
    }
    Ok(render(&SetUpAppPage {
        layout: Layout::new(&context),
        secret: secret.to_owned(),
        uri,
        qr,
    }))
}

async fn start_app_set_up(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    let secret = new_totp_secret();
    match state
        .store
        .begin_totp_setup(signed_in.user.id, &secret, now_millis())
        .await
    {
        Err(StoreError::Conflict(_)) => Ok(Flash::error(
            "An authenticator app is already set up. Turn two-factor sign-in off first to use another.",
        )
        .redirect(PAGE)),
        other => {
            other?;
            set_up_page(&signed_in, &secret, None)
        }
    }
}

fn codes_page(signed_in: &SignedIn, codes: Vec<String>) -> Response {
    render(&RecoveryCodesPage {
        layout: Layout::new(&signed_in.context),
        codes,
    })
}

fn hashed(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|c| hash_secret(&c.replace('-', "")))
        .collect()
}

async fn confirm_app(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    let Some(app) = state.store.totp_authenticator(user.id).await? else {
        return Ok(Flash::error("Start setting up the authenticator app again.").redirect(PAGE));
    };
    if app.confirmed {
        return Ok(Flash::ok("Your authenticator app is already set up.").redirect(PAGE));
    }
    let now = now_millis();
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = step_of(&app.secret, &code, now) else {
        let message = "Code: that is not the current code. Check the app shows Barnstorm and the phone's clock is right, then try the newest code.";
        return set_up_page(&signed_in, &app.secret, Some(message.into()));
    };
    let codes = new_recovery_codes();
    if !state
        .store
        .confirm_totp(user.id, step, &hashed(&codes), now)
        .await?
    {
        return Ok(Flash::error("Start setting up the authenticator app again.").redirect(PAGE));
    }
    Ok(codes_page(&signed_in, codes))
}

/// Whether `input` is the account's password or a current code (rate-limited like
/// sign-in). Accounts with neither a password nor an app need nothing more than their
/// session.
async fn identity_confirmed(
    state: &AppState,
    signed_in: &SignedIn,
    input: &str,
) -> Result<Result<(), String>, PageError> {
    let user = &signed_in.user;
    let status = state.store.two_factor_status(user.id).await?;
    if user.password_hash.is_none() && !status.totp {
        return Ok(Ok(()));
    }
    let input = input.trim();
    if input.is_empty() {
        return Ok(Err(
            "Password or code: enter your password or a code from your app.".into(),
        ));
    }
    let ip = client_ip(&signed_in.context);
    let digits = input.len() == 6 && input.chars().all(|c| c.is_ascii_digit());
    if digits && status.totp {
        return Ok(
            match check_second_factor(state, user, input, ip, now_millis()).await? {
                check if check.accepted() => Ok(()),
                SecondFactorCheck::Blocked {
                    retry_after_minutes,
                } => Err(format!(
                    "Too many failed attempts. Try again in {retry_after_minutes} minutes."
                )),
                _ => Err("Password or code: that code is not current, or was already used.".into()),
            },
        );
    }
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_login_attempt(&state.store, &user.email, ip, now_millis()).await?
    {
        return Ok(Err(format!(
            "Too many failed attempts. Try again in {retry_after_minutes} minutes."
        )));
    }
    let memory = state.config.password_memory_kib;
    let stored = user.password_hash.clone();
    let password = input.to_owned();
    let ok =
        tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref(), memory))
            .await
            .unwrap_or(false);
    record_login_result(&state.store, &user.email, ip, ok).await?;
    Ok(if ok {
        Ok(())
    } else {
        Err("Password or code: that is neither your password nor a current code.".into())
    })
}

async fn regenerate_codes(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    let user = &signed_in.user;
    if !state.store.two_factor_status(user.id).await?.enabled() {
        return Ok(Flash::error("Turn two-factor sign-in on first.").redirect(PAGE));
    }
    if let Err(message) = identity_confirmed(&state, &signed_in, &form.password_or_code).await? {
        return Ok(Flash::error(message).redirect(PAGE));
    }
    let codes = new_recovery_codes();
    state
        .store
        .replace_recovery_codes(user.id, &hashed(&codes), now_millis())
        .await?;
    Ok(codes_page(&signed_in, codes))
}

async fn turn_off(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, PageError> {
    if let Err(message) = identity_confirmed(&state, &signed_in, &form.password_or_code).await? {
        return Ok(Flash::error(message).redirect(PAGE));
    }
    state.store.disable_two_factor(signed_in.user.id).await?;
    Ok(Flash::ok(
        "Two-factor sign-in is off: your authenticator app, passkeys and recovery codes are removed.",
    )
    .redirect(PAGE))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route("/account/two-factor/app", post(start_app_set_up))
        .route("/account/two-factor/app/confirm", post(confirm_app))
        .route("/account/two-factor/recovery-codes", post(regenerate_codes))
        .route("/account/two-factor/off", post(turn_off))
}
