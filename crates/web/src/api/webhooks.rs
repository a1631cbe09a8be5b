//! Webhook endpoints over the API, for instance admins (the same rule as the page):
//! subscribe one (its signing secret is in the answer, once), list, read and remove them,
//! read an endpoint's delivery log with every attempt, and send a delivery again.

use super::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::webhooks::new_endpoint;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_store::User;
use barnstorm_store::webhooks::{
    WebhookAttempt, WebhookDelivery, WebhookEndpoint, new_webhook_secret,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The deliveries the log shows per endpoint.
pub(crate) const DELIVERY_LOG_LENGTH: i64 = 100;

/// An endpoint to subscribe.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewWebhookBody {
    /// Where deliveries are POSTed: `https://` on a public address.
    url: String,
    /// A note for admins.
    #[serde(default)]
    description: String,
    /// The event types to send: `rsvp.created`, `rsvp.cancelled`, `event.created`,
    /// `event.updated`, `event.cancelled`, `attempt.recorded`, `contact.suppressed`,
    /// `person.erased`.
    event_types: Vec<String>,
}

/// A subscribed endpoint.
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookView {
    id: i64,
    url: String,
    description: String,
    event_types: Vec<String>,
    enabled: bool,
    /// Milliseconds since the epoch.
    created_at: i64,
}

impl From<WebhookEndpoint> for WebhookView {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            event_types: e
                .event_types
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            enabled: e.enabled,
            created_at: e.created_at,
        }
    }
}

/// A new endpoint and its signing secret, which is shown only here.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedWebhook {
    endpoint: WebhookView,
    /// The Standard Webhooks signing secret (`whsec_…`), for verifying deliveries.
    secret: String,
}

/// One attempt at a delivery.
#[derive(Serialize, ToSchema)]
pub(crate) struct AttemptView {
    /// When it started, milliseconds since the epoch.
    at: i64,
    /// The endpoint's HTTP status; null when no answer came.
    http_status: Option<i64>,
    /// Why it failed; null when it succeeded.
    error: Option<String>,
    duration_ms: i64,
}

impl From<WebhookAttempt> for AttemptView {
    fn from(a: WebhookAttempt) -> Self {
        Self {
            at: a.at,
            http_status: a.http_status,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

/// One delivery of a message to an endpoint, with its attempts.
#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    id: i64,
    /// The `webhook-id` header: the same on every attempt and on "send again".
    webhook_id: String,
    event_type: String,
    /// `pending`, `delivered` or `failed`.
    status: String,
    /// Attempts since it was queued or last sent again.
    attempts: i64,
    /// When it is next tried (while pending), milliseconds since the epoch.
    next_attempt_at: Option<i64>,
    created_at: i64,
    delivered_at: Option<i64>,
    /// The body, exactly as signed.
    payload: String,
    attempt_log: Vec<AttemptView>,
}

fn delivery_view(d: WebhookDelivery, attempts: Vec<WebhookAttempt>) -> DeliveryView {
    DeliveryView {
        id: d.id,
        webhook_id: d.msg_id,
        event_type: d.event_type.as_str().to_owned(),
        next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
        status: d.status,
        attempts: d.attempts,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
        payload: d.payload,
        attempt_log: attempts.into_iter().map(AttemptView::from).collect(),
    }
}

/// Webhooks are the instance's: only its admins manage them.
fn require_admin(user: &User) -> Result<(), ApiError> {
    if user.is_admin {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only instance admins manage webhooks".to_owned(),
        ))
    }
}

async fn endpoint_or_404(state: &AppState, id: i64) -> Result<WebhookEndpoint, ApiError> {
    state
        .store
        .webhook_endpoint(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("webhook {id}")))
}

/// Subscribe an endpoint to event types (admins). The answer carries the signing secret,
/// which is not shown again.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = NewWebhookBody,
    responses((status = 201, body = CreatedWebhook), (status = 403, body = ErrorBody)))]
async fn create_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    require_admin(&user)?;
    let new = new_endpoint(
        &body.url,
        &body.description,
        &body.event_types,
        state.config.webhook_allow_insecure_loopback,
    )
    .map_err(|p| ApiError::invalid(p.field, p.message))?;
    let secret = new_webhook_secret();
    let endpoint = state
        .store
        .create_webhook_endpoint(&new, &secret, user.id)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            endpoint: endpoint.into(),
            secret,
        }),
    ))
}

/// Every subscribed endpoint (admins).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookView>), (status = 403, body = ErrorBody)))]
async fn list_webhooks(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    require_admin(&user)?;
    let endpoints = state.store.webhook_endpoints().await?;
    Ok(Json(endpoints.into_iter().map(WebhookView::from).collect()))
}

/// One endpoint (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WebhookView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<WebhookView>, ApiError> {
    require_admin(&user)?;
    Ok(Json(endpoint_or_404(&state, id).await?.into()))
}

/// Remove an endpoint with its delivery log (admins).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&user)?;
    if state.store.delete_webhook_endpoint(id, user.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(&format!("webhook {id}")))
    }
}

/// The latest deliveries to an endpoint, newest first, each with its attempts (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<DeliveryView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    require_admin(&user)?;
    let endpoint = endpoint_or_404(&state, id).await?;
    let deliveries = state
        .store
        .webhook_deliveries(endpoint.id, DELIVERY_LOG_LENGTH)
        .await?;
    let mut views = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        let attempts = state.store.webhook_attempts(delivery.id).await?;
        views.push(delivery_view(delivery, attempts));
    }
    Ok(Json(views))
}

/// Send a delivery again now, with the same `webhook-id` and a fresh count of attempts
/// (admins).
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/resend", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 202, body = DeliveryView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn resend_delivery(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    require_admin(&user)?;
    if !state.store.resend_webhook_delivery(id, user.id).await? {
        return Err(ApiError::not_found(&format!("webhook delivery {id}")));
    }
    state.webhook_queued();
    let delivery = state
        .store
        .webhook_delivery(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("webhook delivery {id}")))?;
    let attempts = state.store.webhook_attempts(id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(delivery_view(delivery, attempts)),
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(resend_delivery))
}
