//! Barnstorm's HTTP face: server-rendered pages (askama + htmx), the JSON API under
//! `/api/v1` with its OpenAPI document, and operational endpoints (`/healthz`,
//! `/metrics`). Handlers are thin: parse, check access, call the store, render. No SQL
//! lives here, and no business rule that the domain or store crates should own.

mod api;
mod approval_mails;
mod assets;
pub mod auth;
mod basemap;
mod config;
mod error;
pub mod event_draft;
mod event_mails;
mod exports;
mod feeds;
mod geocoder;
pub mod jobs;
mod mails;
mod ops;
mod outreach_mails;
mod pages;
pub mod privacy_notice;
mod security_headers;
pub mod subject_access;
mod text_input;
pub mod webhooks;

pub use basemap::{BASEMAP_PATH, Basemap, BasemapError, BasemapTiles};
pub use config::WebConfig;
pub use error::{ApiError, PageError};
pub use geocoder::{Geocoder, GeocoderSetupError, Nominatim};
pub use ops::Metrics;

use axum::Router;
use barnstorm_dispatch::Dispatcher;
use barnstorm_mail::MailWorker;
use barnstorm_store::Store;
use std::sync::Arc;

/// Makes *ring* the process-wide TLS provider. reqwest is built without a default
/// provider (the geocoder brings its own), so any other HTTP client in the same binary,
/// such as the load generator's, needs this before it is built. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Everything a request handler may need, behind one reference count: axum clones the
/// state for every middleware and extractor of every request, and one atomic increment
/// is cheaper than one per shared part.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    /// The state shared by every request.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct AppParts {
    /// The database.
    pub store: Store,
    /// Settings fixed at start-up.
    pub config: Arc<WebConfig>,
    /// Woken whenever a handler queues mail, so it goes out at once.
    pub mail: Option<MailWorker>,
    /// Woken when a change may have queued webhook messages.
    pub webhooks: Option<webhooks::WebhookWorker>,
    /// Request counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The phonebank engine.
    pub dispatcher: Dispatcher,
    /// Bridged calling: callers' phone sessions and the calls placed for them.
    pub switchboard: barnstorm_dispatch::Switchboard,
    /// Postcode, district and town search (offline, plus the optional external service).
    pub geocoder: Geocoder,
    /// This node's cache of API tokens.
    pub tokens: auth::TokenCache,
}

impl AppParts {
    /// Tells the mail worker (if this node runs one) that mail was queued, and the webhook
    /// worker too: the changes that queue mail (RSVPs, event edits) queue webhooks with it.
    pub(crate) fn mail_queued(&self) {
        if let Some(worker) = &self.mail {
            worker.wake();
        }
        self.webhook_queued();
    }

    /// Tells the webhook worker (if this node runs one) that a message may be queued.
    pub(crate) fn webhook_queued(&self) {
        if let Some(worker) = &self.webhooks {
            worker.wake();
        }
    }
}

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    let security_headers = Arc::new(security_headers::SecurityHeaders::new(&state.config));
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(api::finish_document(openapi));
    Router::new()
        .merge(pages::router())
        .merge(feeds::routes())
        .merge(api_router)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&openapi);
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(ops::router())
        .merge(assets::router())
        .merge(basemap::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(text_input::refuse_nul_text))
        .layer(axum::middleware::from_fn(error::rejections_as_pages))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::web_context,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            security_headers,
            security_headers::add_security_headers,
        ))
        .layer(ops::request_id_layers())
        .with_state(state)
}
