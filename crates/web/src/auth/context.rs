//! The per-request context for pages: the signed-in session (if any), the CSRF token that
//! forms must echo, a one-shot flash message and the client address. The `web_context`
//! middleware builds it once per request and refuses state-changing requests whose CSRF
//! token does not match. API routes are exempt: they authenticate with bearer tokens and
//! never read cookies. So is the POST of one-click unsubscribe (RFC 8058), and nothing else.

use super::{hash_secret, new_secret, secrets_match};
use crate::{ApiError, AppState, PageError};
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use barnstorm_store::{Session, User};
use std::net::{IpAddr, SocketAddr};

const SESSION_COOKIE: &str = "barnstorm_session";
const CSRF_COOKIE: &str = "barnstorm_csrf";
const FLASH_COOKIE: &str = "barnstorm_flash";
/// Form bodies larger than this are refused before the CSRF check reads them.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A one-shot message shown on the next page ("Branch created").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `ok` or `error`, used as a CSS class.
    pub kind: &'static str,
    /// The text.
    pub message: String,
}

impl Flash {
    /// A success message.
    pub fn ok(message: impl Into<String>) -> Self {
        Self {
            kind: "ok",
            message: message.into(),
        }
    }

    /// A failure message.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: "error",
            message: message.into(),
        }
    }

    /// Redirects to `to`, showing this message there.
    pub fn redirect(self, to: &str) -> Response {
        let value = format!(
            "{FLASH_COOKIE}={}:{}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60",
            self.kind,
            url::form_urlencoded::byte_serialize(self.message.as_bytes()).collect::<String>()
        );
        let mut response = Redirect::to(to).into_response();
        append_cookie(&mut response, &value);
        response
    }

    fn parse(raw: &str) -> Option<Self> {
        let (kind, message) = raw.split_once(':')?;
        let kind = match kind {
            "ok" => "ok",
            "error" => "error",
            _ => return None,
        };
        let message: String = url::form_urlencoded::parse(format!("m={message}").as_bytes())
            .next()?
            .1
            .into_owned();
        Some(Self { kind, message })
    }
}

/// What pages know about the request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The signed-in session.
    pub session: Option<Session>,
    /// The token forms must send back (hidden field `csrf` or header `X-CSRF-Token`).
    pub csrf: String,
    /// The message left by the previous request.
    pub flash: Option<Flash>,
    /// The client's address.
    pub client_ip: Option<IpAddr>,
}

impl RequestContext {
    /// The signed-in account.
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }
}

fn exempt(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/assets/")
        || path == "/healthz"
        || path == "/metrics"
}

/// The one page route whose POST carries no CSRF token: RFC 8058 one-click unsubscribe,
/// which mail clients send as `List-Unsubscribe=One-Click` without any cookie or token.
/// The unguessable token in the path is the authority, so a forged request gains nothing.
fn csrf_exempt(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && path
            .strip_prefix("/unsubscribe/")
            .is_some_and(|token| !token.is_empty() && !token.contains('/'))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn append_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn sets_cookie(response: &Response, name: &str) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with(&format!("{name}=")))
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn session_cookie(token: &str, state: &AppState) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        state.config.session_ttl.as_secs()
    )
}

/// The `Set-Cookie` value that ends a session in the browser.
pub(crate) fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The hash of the session token the request carries, if any.
pub(crate) fn session_token_hash(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE).map(hash_secret)
}

/// The client's address: the last `X-Forwarded-For` entry (the one our own proxy
/// appended; earlier entries are whatever the client claimed) when the proxy is trusted,
/// else the peer address of the connection.
pub(crate) fn client_ip(
    headers: &HeaderMap,
    extensions: &Extensions,
    trust_proxy: bool,
) -> Option<IpAddr> {
    let forwarded = || {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok())
    };
    trust_proxy.then(forwarded).flatten().or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

async fn submitted_csrf(request: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(token) = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        let token = token.to_owned();
        return Ok((Some(token), request));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| {
        PageError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "That form was too large to accept.",
        )
        .into_response()
    })?;
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

/// Middleware: loads the session, enforces CSRF on state-changing requests, hands the
/// flash message to the page and clears it.
pub async fn web_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    let session = match session_token_hash(request.headers()) {
        Some(hash) => match state.store.session(&hash).await {
            Ok(session) => session,
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    let (csrf, new_csrf_cookie) = match (&session, cookie(request.headers(), CSRF_COOKIE)) {
        (Some(session), _) => (session.csrf_token.clone(), None),
        (None, Some(existing)) if existing.len() >= 32 => (existing.to_owned(), None),
        (None, _) => {
            let fresh = new_secret();
            (fresh.clone(), Some(fresh))
        }
    };
    let flash = cookie(request.headers(), FLASH_COOKIE).and_then(Flash::parse);
    let client_ip = client_ip(
        request.headers(),
        request.extensions(),
        state.config.trust_proxy,
    );

    let mut request = request;
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && !csrf_exempt(request.method(), request.uri().path())
    {
        let (submitted, rebuilt) = match submitted_csrf(request).await {
            Ok(found) => found,
            Err(response) => return response,
        };
        if !submitted.is_some_and(|token| secrets_match(&token, &csrf)) {
            return PageError::forbidden(
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            )
            .into_response();
        }
        request = rebuilt;
    }

    let had_flash = flash.is_some();
    let context = RequestContext {
        session,
        csrf,
        flash,
        client_ip,
    };
    request.extensions_mut().insert(context.clone());
    let mut response = crate::error::with_request_layout(
        next.run(request).await,
        crate::pages::layout::Layout::new(&context),
    );
    if let Some(token) = new_csrf_cookie {
        let secure = if state.config.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        append_cookie(
            &mut response,
            &format!("{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        );
    }
    if had_flash && !sets_cookie(&response, FLASH_COOKIE) {
        append_cookie(
            &mut response,
            &format!("{FLASH_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        );
    }
    response
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!(path = %parts.uri.path(), "page handler without web_context");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Please try again.",
                )
            })
    }
}

/// A page that needs a signed-in person; others are sent to the sign-in page and back.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The whole request context.
    pub context: RequestContext,
    /// The signed-in account.
    pub user: User,
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = RequestContext::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match context.user().cloned() {
            Some(user) => Ok(Self { context, user }),
            None => {
                let back = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                Err(Redirect::to(&crate::pages::return_path::sign_in_then(back)).into_response())
            }
        }
    }
}

/// The account behind an API request's bearer token.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let hash = hash_secret(token);
        if let Some(user) = state.tokens.get(&hash) {
            return Ok(Self(user));
        }
        let user = state
            .store
            .api_token_user(&hash)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        state.tokens.put(hash, user.clone());
        Ok(Self(user))
    }
}
