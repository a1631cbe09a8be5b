//! Two-factor sign-in pages: the second step of signing in, setting up an authenticator
//! app and recovery codes, passkeys, turning it off, and a group's requirement of it.
//! The rules (who must have it, checking codes) live in `auth::two_factor`.

mod account;
mod group_setting;
mod passkeys;
mod sign_in;

pub(crate) use sign_in::ask_for_second_step;

use crate::AppState;
use crate::auth::RequestContext;
use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use barnstorm_store::Millis;

/// How long someone has for the second step after the first.
const SECOND_STEP_TTL_MS: Millis = 10 * 60 * 1000;

/// A JSON error for the passkey scripts, in the API's shape.
fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message, "details": null } })),
    )
        .into_response()
}

/// The client address of the request, for the sign-in rate limits.
fn client_ip(context: &RequestContext) -> Option<std::net::IpAddr> {
    context.client_ip
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .merge(sign_in::routes())
        .merge(account::routes())
        .merge(passkeys::routes())
        .merge(group_setting::routes())
}
