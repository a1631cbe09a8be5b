//! The start page: "find events near you" with a postcode box (leading to the search
//! by place), what Barnstorm is, and for a signed-in person the groups they belong to.

use super::layout::{Layout, render};
use crate::auth::RequestContext;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_store::{Group, Role};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    memberships: Vec<(Group, Role)>,
}

async fn home(
    State(state): State<AppState>,
    context: RequestContext,
) -> Result<Response, PageError> {
    let memberships = match context.user() {
        Some(user) => state.store.memberships_of(user.id).await?,
        None => Vec::new(),
    };
    Ok(render(&HomePage {
        layout: Layout::new(&context),
        memberships,
    }))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}
