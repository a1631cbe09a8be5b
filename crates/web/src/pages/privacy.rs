//! The privacy notice: the public page every form and mail links to, and the page where
//! administrators and data-protection officers publish a new version (every version is
//! kept; consents record the one in force when they were given).

use super::layout::{Layout, format_time, render};
use crate::auth::{Flash, RequestContext, SignedIn};
use crate::privacy_notice::default_notice;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_domain::markdown::render_markdown;
use serde::Deserialize;

/// The longest notice accepted, in characters.
pub const MAX_NOTICE: usize = 20_000;

#[derive(Template)]
#[template(path = "privacy.html")]
struct NoticePage {
    layout: Layout,
    body_html: String,
    /// "Version 3, published 2 Dec 2026", or empty for the default text.
    version: String,
}

/// The notice in force, as Markdown, with its version in words.
async fn notice_text(state: &AppState) -> Result<(String, String), PageError> {
    Ok(match state.store.privacy_notice().await? {
        Some(notice) => (
            notice.body,
            format!(
                "Version {}, published {}",
                notice.id,
                format_time(notice.created_at)
            ),
        ),
        None => (default_notice(&state.config.retention), String::new()),
    })
}

async fn notice(
    State(state): State<AppState>,
    context: RequestContext,
) -> Result<Response, PageError> {
    let (body, version) = notice_text(&state).await?;
    Ok(render(&NoticePage {
        layout: Layout::new(&context),
        body_html: render_markdown(&body),
        version,
    }))
}

/// One published version, as the editing page lists them.
struct VersionLine {
    id: i64,
    published: String,
}

#[derive(Template)]
#[template(path = "admin_privacy.html")]
struct EditPage {
    layout: Layout,
    body: String,
    versions: Vec<VersionLine>,
    max: usize,
}

fn require_editor(signed_in: &SignedIn) -> Result<(), PageError> {
    if signed_in.user.may_handle_subject_requests() {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "Only administrators and data-protection officers can change the privacy notice.",
        ))
    }
}

async fn edit(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, PageError> {
    require_editor(&signed_in)?;
    let (body, _) = notice_text(&state).await?;
    let versions = state
        .store
        .privacy_notices()
        .await?
        .into_iter()
        .map(|n| VersionLine {
            id: n.id,
            published: format_time(n.created_at),
        })
        .collect();
    Ok(render(&EditPage {
        layout: Layout::new(&signed_in.context),
        body,
        versions,
        max: MAX_NOTICE,
    }))
}

#[derive(Deserialize)]
struct NoticeForm {
    #[serde(default)]
    body: String,
}

async fn publish(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<NoticeForm>,
) -> Result<Response, PageError> {
    require_editor(&signed_in)?;
    let body = form.body.trim();
    let length = body.chars().count();
    if length == 0 || length > MAX_NOTICE {
        return Ok(Flash::error(format!(
            "Notice: write the privacy notice, in 1 to {MAX_NOTICE} characters (this one has {length})."
        ))
        .redirect("/admin/privacy"));
    }
    let version = state
        .store
        .publish_privacy_notice(body, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok(format!(
        "Version {version} of the privacy notice is published: every form and mail links to it, and consents given from now on record it."
    ))
    .redirect("/admin/privacy"))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(notice))
        .route("/admin/privacy", get(edit).post(publish))
}
