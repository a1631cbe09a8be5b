//! The second step of signing in. After the password or emailed link, an account with
//! two-factor sign-in gets a short-lived "second step pending" cookie instead of a
//! session, and this page asks for a code, a recovery code or a passkey. Only a passed
//! second step creates the session; each pending step can finish once.

use super::{SECOND_STEP_TTL_MS, client_ip, json_error};
use crate::auth::two_factor::{
    PasskeyError, SecondFactorCheck, check_second_factor, finish_passkey_sign_in,
    start_passkey_sign_in,
};
use crate::auth::{Flash, RequestContext, hash_secret, new_secret, record_login_result};
use crate::pages::layout::{Layout, render};
use crate::pages::login::start_session;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router, routing::get, routing::post};
use barnstorm_store::{SecondStep, now_millis};
use serde::Deserialize;

const SECOND_STEP_COOKIE: &str = "barnstorm_second_step";
const PATH: &str = "/login/two-factor";

#[derive(Template)]
#[template(path = "two_factor/sign_in.html")]
struct SecondStepPage {
    layout: Layout,
    email: String,
    has_app: bool,
    has_passkeys: bool,
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

#[derive(Deserialize)]
struct PasskeyAnswer {
    credential: serde_json::Value,
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SECOND_STEP_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn clear_cookie(response: &mut Response) {
    set_cookie(
        response,
        &format!("{SECOND_STEP_COOKIE}=; Path=/login; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
}

/// Puts `user`, whose first step passed, on the second step: no session yet, a cookie
/// naming the pending step, and a redirect to the page that asks for it.
pub(crate) async fn ask_for_second_step(
    state: &AppState,
    user: &barnstorm_store::User,
    next: &str,
) -> Result<Response, PageError> {
    let token = new_secret();
    let now = now_millis();
    state
        .store
        .create_second_step(
            &hash_secret(&token),
            user.id,
            next,
            now,
            now + SECOND_STEP_TTL_MS,
        )
        .await?;
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let mut response = Redirect::to(PATH).into_response();
    set_cookie(
        &mut response,
        &format!(
            "{SECOND_STEP_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            SECOND_STEP_TTL_MS / 1000
        ),
    );
    Ok(response)
}

async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, SecondStep)>, PageError> {
    let Some(token) = cookie_value(headers) else {
        return Ok(None);
    };
    let hash = hash_secret(&token);
    Ok(state
        .store
        .second_step(&hash, now_millis())
        .await?
        .map(|step| (hash, step)))
}

fn start_again() -> Response {
    let mut response =
        Flash::error("Your sign-in took too long or was already finished. Sign in again.")
            .redirect("/login");
    clear_cookie(&mut response);
    response
}

async fn render_page(
    state: &AppState,
    context: &RequestContext,
    step: &SecondStep,
    error: Option<String>,
) -> Result<Response, PageError> {
    let status = state.store.two_factor_status(step.user.id).await?;
    let mut context = context.clone();
    if let Some(message) = error {
        context.flash = Some(Flash::error(message));
    }
    Ok(render(&SecondStepPage {
        layout: Layout::new(&context),
        email: step.user.email.clone(),
        has_app: status.totp,
        has_passkeys: status.passkeys > 0,
    }))
}

/// Ends the pending step and creates the session; `None` when another request finished
/// it first.
async fn finish(
    state: &AppState,
    hash: &str,
    step: &SecondStep,
    how: &str,
    flash: Option<Flash>,
) -> Result<Option<Response>, PageError> {
    if !state.store.finish_second_step(hash).await? {
        return Ok(None);
    }
    let how = format!("two-factor: {how}");
    let mut response = start_session(state, &step.user, &step.next_path, &how, flash).await?;
    clear_cookie(&mut response);
    Ok(Some(response))
}

async fn second_step_page(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match pending(&state, &headers).await? {
        Some((_, step)) => render_page(&state, &context, &step, None).await,
        None => Ok(start_again()),
    }
}

async fn submit_code(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    let Some((hash, step)) = pending(&state, &headers).await? else {
        return Ok(start_again());
    };
    if form.code.trim().is_empty() {
        let message = "Code: enter the six-digit code from your app, or a recovery code.";
        return render_page(&state, &context, &step, Some(message.into())).await;
    }
    let now = now_millis();
    let check =
        check_second_factor(&state, &step.user, &form.code, client_ip(&context), now).await?;
    let (how, flash) = match check {
        SecondFactorCheck::Code => ("authenticator code", None),
        SecondFactorCheck::RecoveryCode => {
            let left = state
                .store
                .two_factor_status(step.user.id)
                .await?
                .recovery_codes_left;
            let flash = Flash::ok(format!(
                "You signed in with a recovery code; it will not work again. {left} left. Make new ones on your account page if you are running low."
            ));
            ("recovery code", Some(flash))
        }
        SecondFactorCheck::Replayed => {
            let message = "Code: that code was already used. Wait for the next one in your app.";
            return render_page(&state, &context, &step, Some(message.into())).await;
        }
        SecondFactorCheck::Wrong => {
            let message =
                "Code: that is neither the current code from your app nor an unused recovery code.";
            return render_page(&state, &context, &step, Some(message.into())).await;
        }
        SecondFactorCheck::Blocked {
            retry_after_minutes,
        } => {
            let message = format!(
                "Too many failed sign-in attempts. Try again in {retry_after_minutes} minutes."
            );
            let mut response = render_page(&state, &context, &step, Some(message)).await?;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return Ok(response);
        }
    };
    Ok(finish(&state, &hash, &step, how, flash)
        .await?
        .unwrap_or_else(start_again))
}

fn passkey_error(err: PasskeyError) -> Response {
    match err {
        PasskeyError::Store(e) => PageError::from(e).into_response(),
        other => json_error(
            StatusCode::BAD_REQUEST,
            "passkey_failed",
            &other.to_string(),
        ),
    }
}

async fn passkey_options(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let step = match pending(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return json_error(
                StatusCode::GONE,
                "expired",
                "sign in again: this step expired",
            );
        }
        Err(e) => return e.into_response(),
    };
    match start_passkey_sign_in(&state, &step.1.user, &step.0).await {
        Ok(options) => Json(options).into_response(),
        Err(e) => passkey_error(e),
    }
}

async fn passkey_answer(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    Json(answer): Json<PasskeyAnswer>,
) -> Result<Response, PageError> {
    let Some((hash, step)) = pending(&state, &headers).await? else {
        return Ok(json_error(
            StatusCode::GONE,
            "expired",
            "sign in again: this step expired",
        ));
    };
    let now = now_millis();
    let verified = finish_passkey_sign_in(
        &state,
        &step.user,
        step.passkey_state.as_deref(),
        &answer.credential,
        now,
    )
    .await;
    let ip = client_ip(&context);
    match verified {
        Ok(()) => {
            record_login_result(&state.store, &step.user.email, ip, true).await?;
            Ok(finish(&state, &hash, &step, "passkey", None)
                .await?
                .unwrap_or_else(start_again))
        }
        Err(PasskeyError::Store(e)) => Err(e.into()),
        Err(e) => {
            record_login_result(&state.store, &step.user.email, ip, false).await?;
            Ok(passkey_error(e))
        }
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(second_step_page).post(submit_code))
        .route("/login/two-factor/passkey/options", post(passkey_options))
        .route("/login/two-factor/passkey", post(passkey_answer))
}
