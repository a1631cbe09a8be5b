//! The security headers every response carries: a Content-Security-Policy that allows
//! scripts and styles from this site only and no framing (the embeddable events widget
//! alone may be framed), `nosniff`, a Referrer-Policy that sends nothing from pages whose
//! address holds a secret token, and HSTS when the site is served over https.

use crate::WebConfig;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Pages whose address carries a secret (sign-in links, invites, RSVP management,
/// unsubscribe and phonebank join links): the address must not leak to other sites.
const TOKEN_PATH_PREFIXES: &[&str] = &[
    "/login/link/",
    "/invites/",
    "/rsvp/",
    "/unsubscribe/",
    "/call/join/",
];

/// The one page other sites may show in a frame.
const FRAMEABLE_PATH_PREFIX: &str = "/embed/";

/// How long browsers remember to use https only: one year.
const HSTS: &str = "max-age=31536000";

/// The header values, worked out once from the configuration.
#[derive(Clone)]
pub(crate) struct SecurityHeaders {
    policy: HeaderValue,
    embed_policy: HeaderValue,
    hsts: bool,
}

impl SecurityHeaders {
    /// The headers for a site configured as `config`.
    pub(crate) fn new(config: &WebConfig) -> Self {
        let images = match tile_source(config.map_tile_url()) {
            Some(tiles) => format!("'self' data: {tiles}"),
            // Raster tiles read from the basemap become images through blob: URLs made
            // by the page itself.
            None if config
                .basemap
                .as_ref()
                .is_some_and(|basemap| basemap.tiles == crate::BasemapTiles::Raster) =>
            {
                "'self' data: blob:".to_owned()
            }
            None => "'self' data:".to_owned(),
        };
        let common = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; \
             connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
             form-action 'self'"
        );
        Self {
            policy: header_value(&format!("{common}; frame-ancestors 'none'")),
            embed_policy: header_value(&format!("{common}; frame-ancestors *")),
            hsts: config.base_url.starts_with("https://"),
        }
    }

    fn apply(&self, path: &str, headers: &mut HeaderMap) {
        let frameable = path.starts_with(FRAMEABLE_PATH_PREFIX);
        let policy = if frameable {
            self.embed_policy.clone()
        } else {
            self.policy.clone()
        };
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(policy);
        if !frameable {
            set_default(headers, header::X_FRAME_OPTIONS, "DENY");
        }
        set_default(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        let referrer = if TOKEN_PATH_PREFIXES.iter().any(|p| path.starts_with(p)) {
            "no-referrer"
        } else {
            "strict-origin-when-cross-origin"
        };
        set_default(headers, header::REFERRER_POLICY, referrer);
        if self.hsts {
            set_default(headers, header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
    }
}

/// Middleware: adds the security headers to every response that does not set its own.
pub(crate) async fn add_security_headers(
    State(headers): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    headers.apply(&path, response.headers_mut());
    response
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers
        .entry(name)
        .or_insert(HeaderValue::from_static(value));
}

/// A header value from text built of the policy's fixed words and a configured host;
/// anything that cannot be a header value falls back to the strictest policy.
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(
        "default-src 'self'; frame-ancestors 'none'",
    ))
}

/// The CSP source for the map tiles (`https://*.tile.example.org` for a `{s}` template),
/// or `None` when there are no tiles or the template has no usable host.
fn tile_source(tile_url: &str) -> Option<String> {
    let (scheme, rest) = tile_url.trim().split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = rest.split('/').next()?.replace("{s}", "*");
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*'));
    valid.then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::tile_source;

    #[test]
    fn map_tiles_are_allowed_from_their_host_only() {
        assert_eq!(
            tile_source("https://tile.openstreetmap.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        assert_eq!(
            tile_source("https://{s}.tiles.example.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tiles.example.org")
        );
        assert_eq!(tile_source(""), None);
        assert_eq!(tile_source("javascript:alert(1)"), None);
        assert_eq!(tile_source("https://evil; script-src *;/x"), None);
    }
}
