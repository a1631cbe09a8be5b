//! What every page shares: the navigation (who is signed in), the CSRF token for forms and
//! the flash message; and rendering a template into a response.

use crate::auth::{Flash, RequestContext};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// The signed-in person as the navigation shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    /// Display name.
    pub name: String,
    /// Instance administrator.
    pub is_admin: bool,
    /// May find, export and erase people (administrators and the data-protection role).
    pub handles_people: bool,
}

/// Data the base template needs on every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Who is signed in.
    pub user: Option<NavUser>,
    /// Token for forms.
    pub csrf: String,
    /// Message from the previous request.
    pub flash: Option<Flash>,
}

impl Layout {
    /// The layout for a request.
    pub fn new(context: &RequestContext) -> Self {
        Self {
            user: context.user().map(|u| NavUser {
                name: u.name.clone(),
                is_admin: u.is_admin,
                handles_people: u.may_handle_subject_requests(),
            }),
            csrf: context.csrf.clone(),
            flash: context.flash.clone(),
        }
    }

    /// A layout with nobody signed in (error pages rendered outside a request context).
    pub fn bare() -> Self {
        Self {
            user: None,
            csrf: String::new(),
            flash: None,
        }
    }
}

/// Renders a template, or a plain 500 if the template fails.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong rendering this page.",
            )
                .into_response()
        }
    }
}

/// Formats a stored time for people (UTC, until time zones per person exist).
pub fn format_time(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(String::new, |t| {
        t.format("%-d %b %Y, %H:%M UTC").to_string()
    })
}

/// Formats a stored time in the zone of what it belongs to (a campaign's calling hours),
/// naming the zone: "3 Dec 2026, 18:05 GMT".
pub fn format_time_in(millis: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(String::new, |t| {
        t.with_timezone(&tz)
            .format("%-d %b %Y, %H:%M %Z")
            .to_string()
    })
}
