//! Text that neither database can store, refused at the edge of every request: a NUL
//! character in the path, in a query parameter or in a form field answers 422 naming the
//! parameter or field (JSON under `/api`, a page elsewhere) before any handler runs. JSON
//! bodies are checked by the API's `ApiJson` extractor, CSV rows by the importers.

use crate::{ApiError, PageError};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most a form body may hold, as axum's own form extractor allows by default.
const FORM_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// Where in a request a NUL character was found.
enum Place {
    Path,
    Query(String),
    Form(String),
}

/// Middleware: refuses NUL characters in the path, the query string and form bodies.
pub(crate) async fn refuse_nul_text(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    // A NUL can only reach a URL percent-encoded, so `%00` is the one spelling to look for.
    if has_encoded_nul(request.uri().path()) {
        return refused(api, &Place::Path);
    }
    if let Some(name) = request.uri().query().and_then(nul_field) {
        return refused(api, &Place::Query(name));
    }
    if !is_form(&request) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT_BYTES).await else {
        return too_large(api);
    };
    if let Some(name) = nul_field_in(&bytes) {
        return refused(api, &Place::Form(name));
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn has_encoded_nul(text: &str) -> bool {
    text.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

fn is_form(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The name of the first query parameter whose name or value holds a NUL.
fn nul_field(query: &str) -> Option<String> {
    has_encoded_nul(query)
        .then(|| nul_field_in(query.as_bytes()))
        .flatten()
}

/// The name of the first `application/x-www-form-urlencoded` pair holding a NUL.
fn nul_field_in(encoded: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(encoded).find_map(|(name, value)| {
        (name.contains('\0') || value.contains('\0')).then(|| name.replace('\0', "\\0"))
    })
}

fn refused(api: bool, place: &Place) -> Response {
    let (field, problem) = match place {
        Place::Path => ("path".to_owned(), "The address".to_owned()),
        Place::Query(name) => (format!("query.{name}"), format!("The parameter '{name}'")),
        Place::Form(name) => (name.clone(), format!("The field '{name}'")),
    };
    let message = format!(
        "{problem} contains a NUL character, which cannot be stored; remove it and try again"
    );
    if api {
        ApiError::invalid(&field, message).into_response()
    } else {
        PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "That form could not be read",
            format!("{message}."),
        )
        .into_response()
    }
}

fn too_large(api: bool) -> Response {
    let message = "the form is larger than 2 MB";
    if api {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message).into_response()
    } else {
        PageError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "That form is too large",
            "The form is larger than 2 MB. Shorten it and try again.",
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::{nul_field, nul_field_in};

    #[test]
    fn the_field_holding_a_nul_is_named() {
        assert_eq!(nul_field("a=1&name=x%00y").as_deref(), Some("name"));
        assert_eq!(nul_field("a=1&name=x%2500y"), None);
        assert_eq!(nul_field("a%00b=1").as_deref(), Some("a\\0b"));
        assert_eq!(
            nul_field_in(b"title=ok&body=raw\0nul").as_deref(),
            Some("body")
        );
        assert_eq!(nul_field_in(b"title=ok"), None);
    }
}
