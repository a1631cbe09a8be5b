//! Adding, renaming and removing passkeys on the account's two-factor page. Adding one
//! needs the page script (the browser's WebAuthn API): it fetches the options, asks the
//! authenticator and posts the answer here as JSON. Renaming and removing are plain forms.

use super::json_error;
use crate::auth::Flash;
use crate::auth::SignedIn;
use crate::auth::two_factor::{
    PasskeyError, finish_passkey_registration, start_passkey_registration,
};
use crate::{AppState, PageError};
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use barnstorm_store::{StoreError, now_millis};
use serde::Deserialize;

const PAGE: &str = "/account/two-factor";

#[derive(Deserialize)]
struct NewPasskey {
    #[serde(default)]
    name: String,
    credential: serde_json::Value,
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

/// A passkey's name: 1 to 80 characters, or why not.
fn check_name(name: &str) -> Result<&str, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err("Passkey name: give it a name of up to 80 characters, e.g. \"laptop\".");
    }
    Ok(name)
}

fn failure(err: PasskeyError) -> Response {
    match err {
        PasskeyError::Store(e) => PageError::from(e).into_response(),
        other => json_error(
            StatusCode::BAD_REQUEST,
            "passkey_failed",
            &other.to_string(),
        ),
    }
}

async fn options(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    match start_passkey_registration(&state, &signed_in.user, now_millis()).await {
        Ok(options) => Json(options).into_response(),
        Err(e) => failure(e),
    }
}

async fn add(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Json(body): Json<NewPasskey>,
) -> Response {
    let name = match check_name(&body.name) {
        Ok(name) => name,
        Err(message) => {
            return json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message);
        }
    };
    let user = &signed_in.user;
    match finish_passkey_registration(&state, user, name, &body.credential, now_millis()).await {
        Ok(_) => Flash::ok(format!(
            "Passkey \"{name}\" added. You can use it to sign in."
        ))
        .redirect(PAGE),
        Err(e) => failure(e),
    }
}

async fn rename(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<NameForm>,
) -> Result<Response, PageError> {
    let name = match check_name(&form.name) {
        Ok(name) => name,
        Err(message) => return Ok(Flash::error(message).redirect(PAGE)),
    };
    match state
        .store
        .rename_passkey(signed_in.user.id, id, name)
        .await
    {
        Err(StoreError::NotFound) => Ok(Flash::error("That passkey is not yours.").redirect(PAGE)),
        other => {
            other?;
            Ok(Flash::ok("Passkey renamed.").redirect(PAGE))
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    match state.store.remove_passkey(signed_in.user.id, id).await {
        Err(StoreError::NotFound) => Ok(Flash::error("That passkey is not yours.").redirect(PAGE)),
        other => {
            other?;
            Ok(Flash::ok("Passkey removed. It can no longer sign you in.").redirect(PAGE))
        }
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/two-factor/passkeys/options", post(options))
        .route("/account/two-factor/passkeys", post(add))
        .route("/account/two-factor/passkeys/{id}/rename", post(rename))
        .route("/account/two-factor/passkeys/{id}/remove", post(remove))
}
