//! Unsubscribing from outreach mail. `GET /unsubscribe/{token}?group=ID` only shows the
//! choice (mail scanners prefetch links, so following a link must change nothing);
//! `POST /unsubscribe/{token}` does it: from one group, or from every group (which also
//! suppresses the address). Mail clients' RFC 8058 one-click POST carries no CSRF token;
//! the CSRF middleware exempts exactly this route.

use super::layout::{Layout, render};
use crate::auth::RequestContext;
use crate::{AppState, PageError};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use barnstorm_store::Group;
use serde::Deserialize;

#[derive(Deserialize)]
struct GroupQuery {
    group: Option<i64>,
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    layout: Layout,
    token: String,
    group: Option<Group>,
}

#[derive(Template)]
#[template(path = "unsubscribe_done.html")]
struct DonePage {
    layout: Layout,
    message: String,
}

/// Tokens are URL-safe base64; anything else cannot be one and is refused before any
/// lookup (it also keeps the token safe to put back into the form's action).
fn plausible_token(token: &str) -> bool {
    (20..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unknown_link() -> PageError {
    PageError::not_found(
        "This unsubscribe link is not one we know. If you copied it from an email, check that the whole link was copied.",
    )
}

async fn show(
    State(state): State<AppState>,
    context: RequestContext,
    Path(token): Path<String>,
    Query(query): Query<GroupQuery>,
) -> Result<Response, PageError> {
    if !plausible_token(&token) {
        return Err(unknown_link());
    }
    let group = match query.group {
        Some(id) => state.store.group_by_id(id).await?,
        None => None,
    };
    Ok(render(&UnsubscribePage {
        layout: Layout::new(&context),
        token,
        group,
    }))
}

/// Performs it. The body is the page's form (`scope=group|all`) or a mail client's
/// `List-Unsubscribe=One-Click` (either encoding), which leaves the group in the link.
async fn perform(
    State(state): State<AppState>,
    context: RequestContext,
    Path(token): Path<String>,
    Query(query): Query<GroupQuery>,
    body: Bytes,
) -> Result<Response, PageError> {
    if !plausible_token(&token) {
        return Err(unknown_link());
    }
    let everything = url::form_urlencoded::parse(&body).any(|(k, v)| k == "scope" && v == "all");
    let group_id = if everything { None } else { query.group };
    let Some(result) = state.store.unsubscribe(&token, group_id).await? else {
        return Err(unknown_link());
    };
    let message = match result.group_name {
        Some(group) if result.covering_groups.is_empty() => format!(
            "{} will get no more email from {group} about events nearby.",
            result.masked_email
        ),
        Some(group) => format!(
            "{} will get no more email from {group} about events nearby, nor from {}: that consent covered {group} too.",
            result.masked_email,
            result.covering_groups.join(" or ")
        ),
        None => format!(
            "{} will get no more email about events from any group on this Barnstorm.",
            result.masked_email
        ),
    };
    let page = render(&DonePage {
        layout: Layout::new(&context),
        message,
    });
    Ok((StatusCode::OK, page).into_response())
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(show).post(perform))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_url_safe_tokens_are_looked_up() {
        assert!(plausible_token(&crate::auth::new_secret()));
        assert!(!plausible_token("short"));
        assert!(!plausible_token(&format!("{}\"><script>", "a".repeat(30))));
    }
}
