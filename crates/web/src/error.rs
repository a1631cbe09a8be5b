//! The two ways a request fails: `ApiError` answers JSON in the one error shape
//! `{"error":{"code","message","details"}}`; `PageError` answers an HTML page. Internal
//! errors are logged with context and never shown to the client.

use crate::pages::layout::{Layout, render};
use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use barnstorm_domain::limits::TooLong;
use barnstorm_store::StoreError;
use serde_json::{Value, json};

/// A failed API request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

impl ApiError {
    /// A failure with its status, a stable machine code and a human message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Adds structured details (field errors, rejected rows).
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    /// 400 for input that cannot be used; `field` names where.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            message.clone(),
        )
        .with_details(json!({ "field": field, "problem": message }))
    }

    /// 401: no or bad credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API token as 'Authorization: Bearer TOKEN'",
        )
    }

    /// 403: signed in but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for `what`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// What went wrong, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::not_found("the resource"),
            StoreError::Conflict(what) => {
                tracing::debug!(%what, "conflict");
                Self::new(StatusCode::CONFLICT, "conflict", "that already exists")
            }
            StoreError::Unavailable(ref detail) => {
                tracing::error!(%detail, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry shortly",
                )
            }
            other => {
                tracing::error!(error = %other, "database error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                )
            }
        }
    }
}

impl From<TooLong> for ApiError {
    fn from(err: TooLong) -> Self {
        Self::invalid(&err.field, err.to_string()).with_details(
            json!({ "field": err.field, "problem": err.to_string(), "max_length": err.max }),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, "invalid_json", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "details": self.details } });
        (self.status, axum::Json(body)).into_response()
    }
}

/// A failed page request, shown as a page.
#[derive(Debug, Clone)]
pub struct PageError {
    status: StatusCode,
    title: &'static str,
    message: String,
    /// A page that resolves the problem: its path and the words of the link.
    action: Option<(&'static str, &'static str)>,
}

impl PageError {
    /// A failure with a status, a title and an explanation for the person.
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            title,
            message: message.into(),
            action: None,
        }
    }

    /// Adds a link to the page that resolves the problem (`path`, link text).
    pub fn with_action(mut self, path: &'static str, text: &'static str) -> Self {
        self.action = Some((path, text));
        self
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", message)
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::not_found("We could not find that."),
            StoreError::Unavailable(ref detail) => {
                tracing::error!(%detail, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The database is unavailable. Please try again in a minute.",
                )
            }
            other => {
                tracing::error!(error = %other, "database error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. Please try again.",
                )
            }
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    title: &'a str,
    message: &'a str,
    action: Option<(&'a str, &'a str)>,
}

impl PageError {
    fn page(&self, layout: Layout) -> Response {
        let page = ErrorPage {
            layout,
            title: self.title,
            message: &self.message,
            action: self.action,
        };
        (self.status, render(&page)).into_response()
    }
}

impl IntoResponse for PageError {
    /// The page with the header of someone signed out; [`with_request_layout`] gives it
    /// the header of whoever asked once the request context is known.
    fn into_response(self) -> Response {
        let mut response = self.page(Layout::bare());
        response.extensions_mut().insert(self);
        response
    }
}

/// An error page rendered again with `layout` (who is signed in, the CSRF token), so a
/// signed-in person's 403 or 404 shows their own header rather than "Sign in". The
/// status and headers the handler set, cookies included, are kept; other responses pass
/// unchanged.
pub(crate) fn with_request_layout(response: Response, layout: Layout) -> Response {
    let Some(error) = response.extensions().get::<PageError>().cloned() else {
        return response;
    };
    let (parts, _) = response.into_parts();
    let (_, body) = error.page(layout).into_parts();
    Response::from_parts(parts, body)
}

/// Middleware: a request that axum's extractors or router refused (a malformed path
/// parameter or query string, a form with a missing field, a wrong method) answers in the
/// error shape of where it was sent: JSON under `/api`, a page that quotes what was wrong
/// elsewhere, instead of a bare line of text.
pub(crate) async fn rejections_as_pages(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let status = response.status();
    let refused = if api {
        status.is_client_error() && !content_type.starts_with("application/json")
    } else {
        status.is_client_error() && content_type.starts_with("text/plain")
    };
    if !refused {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).into_owned();
    if api {
        return api_rejection(status, detail).into_response();
    }
    PageError::new(
        status,
        "That form could not be read",
        format!("{detail}. Go back, check the form and try again."),
    )
    .into_response()
}

/// An API request refused before its handler ran, in the JSON error shape.
fn api_rejection(status: StatusCode, detail: String) -> ApiError {
    let (code, part) = if detail.starts_with("Invalid URL") {
        ("invalid_path", "path")
    } else if detail.contains("query string") {
        ("invalid_query", "query")
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        return ApiError::new(
            status,
            "method_not_allowed",
            "this endpoint does not answer that method",
        );
    } else {
        ("invalid_request", "request")
    };
    let message = if detail.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("the request was refused")
            .to_owned()
    } else {
        detail
    };
    ApiError::new(status, code, message.clone())
        .with_details(json!({ "field": part, "problem": message }))
}

/// The fallback for unknown paths: JSON under `/api`, a page elsewhere.
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no API endpoint at {}", uri.path()),
        )
        .into_response()
    } else {
        PageError::not_found(format!("There is no page at {}.", uri.path())).into_response()
    }
}
