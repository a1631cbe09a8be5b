//! The caller page's phone line, for campaigns that bridge calls: join by "call me" or by
//! dialling in, have the held contact called, hang up their side, leave the line, and the
//! line's state as JSON for the page script to follow. No number of the contact is in any
//! of it; the caller's own number goes only to the switchboard.

use super::access::caller_campaign;
use crate::auth::{Flash, SignedIn};
use crate::{AppState, PageError};
use axum::extract::{Form, Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use barnstorm_dispatch::{LineView, Switchboard, SwitchboardError};
use barnstorm_store::phonebank::{Bridging, JoinKind};
use serde::Deserialize;
use serde_json::json;

/// What the "how you call" section shows of the line.
pub(super) struct PhoneLinePanel {
    /// Where the line stands, once the caller has one.
    pub line: Option<LineView>,
    /// Offered ways in (and this server has a trunk).
    pub call_me: bool,
    pub dial_in: bool,
    /// Why the caller cannot join, when the campaign bridges calls but this server cannot.
    pub unavailable: Option<String>,
}

impl PhoneLinePanel {
    /// The panel for a bridged campaign, `None` for one called from callers' own phones.
    pub(super) async fn new(
        switchboard: &Switchboard,
        bridging: &Bridging,
        user: &barnstorm_store::User,
        campaign_id: i64,
    ) -> Option<Self> {
        if !bridging.is_bridged() {
            return None;
        }
        let (line, unavailable) = match switchboard.view(user, campaign_id).await {
            Ok(line) => (line, None),
            Err(error) => (None, Some(error.to_string())),
        };
        let trunk = switchboard.has_trunk();
        let unavailable =
            unavailable.or_else(|| (!trunk).then(|| SwitchboardError::NoTrunk.to_string()));
        Some(Self {
            line,
            call_me: trunk && bridging.call_me,
            dial_in: trunk && bridging.dial_in && switchboard.dial_in_number().is_some(),
            unavailable,
        })
    }
}

/// The join buttons post the whole outcome form; only these two fields matter.
#[derive(Deserialize)]
struct JoinForm {
    #[serde(default)]
    join: String,
    #[serde(default)]
    phone: String,
}

fn back(campaign_id: i64, result: Result<String, SwitchboardError>) -> Response {
    let to = format!("/call/{campaign_id}");
    match result {
        Ok(message) => Flash::ok(message).redirect(&to),
        Err(error) => Flash::error(error.to_string()).redirect(&to),
    }
}

async fn join(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<JoinForm>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    let join = if form.join == "dial_in" {
        JoinKind::DialIn
    } else {
        JoinKind::CallMe
    };
    let phone = Some(form.phone.as_str()).filter(|p| !p.trim().is_empty());
    let result = state
        .switchboard
        .open(&signed_in.user, &campaign, join, phone)
        .await
        .map(|line| line.message);
    Ok(back(id, result))
}

/// "Call", "Hang up" or "Leave the line" (`action` is `call`, `hang-up` or `leave`).
async fn act(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    caller_campaign(&state, &signed_in.user, id).await?;
    let user = &signed_in.user;
    let result = match action.as_str() {
        "call" => state
            .switchboard
            .call(user, id)
            .await
            .map(|line| line.message),
        "hang-up" => state
            .switchboard
            .hang_up(user, id)
            .map(|()| "Hanging up. You stay on the line.".to_string()),
        "leave" => state
            .switchboard
            .end(user, id)
            .map(|()| "Barnstorm is hanging up your phone.".to_string()),
        _ => {
            return Err(PageError::not_found(
                "There is no such button on the phone line.",
            ));
        }
    };
    Ok(back(id, result))
}

/// The line as JSON, for the page script: `{"line": null}` when there is none.
async fn line(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    caller_campaign(&state, &signed_in.user, id).await?;
    let body = match state.switchboard.view(&signed_in.user, id).await {
        Ok(line) => json!({ "line": line }),
        Err(error) => json!({ "line": null, "error": error.to_string() }),
    };
    Ok(Json(body).into_response())
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/call/{id}/line", get(line).post(join))
        .route("/call/{id}/line/{action}", post(act))
}
