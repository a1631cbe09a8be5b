//! The API's JSON request body: parse errors answer in the API's error shape, and a string
//! holding a NUL character (`\u0000`), which neither database can store as text, is refused
//! with 422 and the JSON path of the string, before any handler sees it.

use crate::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON body whose parse errors answer in the API's error shape and whose strings hold
/// no NUL character.
pub(crate) struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(&request) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_json",
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "invalid_body", e.body_text()))?;
        // Only a body that spells a NUL escape needs the slower walk over its values.
        if bytes.windows(6).any(|w| w == b"\\u0000")
            && let Ok(value) = serde_json::from_slice::<Value>(&bytes)
            && let Some(path) = path_of_nul(&value, "")
        {
            return Err(nul_refused(&path));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Self(value))
    }
}

fn is_json(request: &Request) -> bool {
    let Some(content_type) = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// 422 naming where in the body the NUL character is.
fn nul_refused(path: &str) -> ApiError {
    let field = if path.is_empty() { "body" } else { path };
    ApiError::invalid(
        field,
        format!("{field} contains a NUL character (\\u0000), which cannot be stored; remove it"),
    )
}

/// The path (`settings.script[2].text`) of the first string or key holding a NUL.
fn path_of_nul(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(|| at.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| path_of_nul(item, &format!("{at}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let here = if at.is_empty() {
                key.replace('\0', "\\u0000")
            } else {
                format!("{at}.{}", key.replace('\0', "\\u0000"))
            };
            if key.contains('\0') {
                Some(here)
            } else {
                path_of_nul(item, &here)
            }
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::path_of_nul;
    use serde_json::json;

    #[test]
    fn the_path_of_a_nul_names_the_field() {
        let body = json!({"name": "ok", "settings": {"script": ["a", "b\u{0}"]}});
        assert_eq!(
            path_of_nul(&body, "").as_deref(),
            Some("settings.script[1]")
        );
        assert_eq!(
            path_of_nul(&json!({"a\u{0}": 1}), "").as_deref(),
            Some("a\\u0000")
        );
        assert_eq!(path_of_nul(&json!("x\u{0}"), "").as_deref(), Some(""));
        assert_eq!(path_of_nul(&json!({"name": "fine \\u0000"}), ""), None);
    }
}
