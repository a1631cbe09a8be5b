//! The webhooks pages, for instance admins (webhooks are the instance's, as organisation
//! webhooks are in Action Network and Mobilize): subscribe an endpoint to event types and
//! see its signing secret once, list endpoints, read an endpoint's delivery log with each
//! attempt, send a delivery again, and remove an endpoint.

use super::layout::{Layout, format_time, render};
use crate::api::webhooks::DELIVERY_LOG_LENGTH;
use crate::auth::{Flash, SignedIn};
use crate::webhooks::new_endpoint;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_store::webhooks::{WebhookEndpoint, WebhookEventType, new_webhook_secret};

fn require_admin(signed_in: &SignedIn) -> Result<(), PageError> {
    if signed_in.user.is_admin {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "Only instance admins manage webhooks.",
        ))
    }
}

/// An event type as the form offers it.
struct TypeChoice {
    name: &'static str,
    checked: bool,
}

/// An endpoint as the list shows it.
struct EndpointLine {
    id: i64,
    url: String,
    description: String,
    types: String,
    added: String,
}

impl From<&WebhookEndpoint> for EndpointLine {
    fn from(e: &WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url.clone(),
            description: e.description.clone(),
            types: e
                .event_types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            added: format_time(e.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    layout: Layout,
    endpoints: Vec<EndpointLine>,
    types: Vec<TypeChoice>,
    /// What the form held when it was refused, so nothing has to be typed again.
    url: String,
    description: String,
    /// The field at fault and why, when the form was refused.
    problem: Option<(String, String)>,
    /// A just-added endpoint's id and secret, shown this once.
    created: Option<(i64, String)>,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    form: Option<(&[String], &str, &str)>,
) -> Result<WebhooksPage, PageError> {
    let endpoints = state.store.webhook_endpoints().await?;
    let (chosen, url, description) = form.unwrap_or((&[], "", ""));
    Ok(WebhooksPage {
        layout: Layout::new(&signed_in.context),
        endpoints: endpoints.iter().map(EndpointLine::from).collect(),
        types: WebhookEventType::ALL
            .iter()
            .map(|t| TypeChoice {
                name: t.as_str(),
                checked: chosen.iter().any(|c| c == t.as_str()),
            })
            .collect(),
        url: url.to_owned(),
        description: description.to_owned(),
        problem: None,
        created: None,
    })
}

async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Response, PageError> {
    require_admin(&signed_in)?;
    Ok(render(&page(&state, &signed_in, None).await?))
}

async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    require_admin(&signed_in)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let (url, description) = (field("url"), field("description"));
    let chosen: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "event_types")
        .map(|(_, v)| v.clone())
        .collect();
    let allow = state.config.webhook_allow_insecure_loopback;
    let new = match new_endpoint(url, description, &chosen, allow) {
        Ok(new) => new,
        Err(problem) => {
            // The page again, with what was typed and the field at fault.
            let mut refused = page(&state, &signed_in, Some((&chosen, url, description))).await?;
            refused.problem = Some((problem.field.to_owned(), problem.message));
            let mut response = render(&refused);
            *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    let secret = new_webhook_secret();
    let endpoint = state
        .store
        .create_webhook_endpoint(&new, &secret, signed_in.user.id)
        .await?;
    let mut done = page(&state, &signed_in, None).await?;
    done.created = Some((endpoint.id, secret));
    Ok(render(&done))
}

/// A delivery as the log shows it.
struct DeliveryLine {
    id: i64,
    webhook_id: String,
    event_type: &'static str,
    status: String,
    queued: String,
    /// When it is next tried, while pending.
    next: String,
    payload: String,
    attempts: Vec<AttemptLine>,
}

struct AttemptLine {
    at: String,
    /// "200", "500" or "no answer".
    answer: String,
    error: String,
    duration_ms: i64,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    endpoint: EndpointLine,
    deliveries: Vec<DeliveryLine>,
}

async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    require_admin(&signed_in)?;
    let endpoint = state
        .store
        .webhook_endpoint(id)
        .await?
        .ok_or_else(|| PageError::not_found("There is no such webhook."))?;
    let mut deliveries = Vec::new();
    for d in state
        .store
        .webhook_deliveries(endpoint.id, DELIVERY_LOG_LENGTH)
        .await?
    {
        let attempts = state.store.webhook_attempts(d.id).await?;
        deliveries.push(DeliveryLine {
            id: d.id,
            webhook_id: d.msg_id,
            event_type: d.event_type.as_str(),
            next: if d.status == "pending" {
                format_time(d.next_attempt_at)
            } else {
                String::new()
            },
            status: d.status,
            queued: format_time(d.created_at),
            payload: d.payload,
            attempts: attempts
                .into_iter()
                .map(|a| AttemptLine {
                    at: format_time(a.at),
                    answer: a
                        .http_status
                        .map_or("no answer".to_owned(), |s| s.to_string()),
                    error: a.error.unwrap_or_default(),
                    duration_ms: a.duration_ms,
                })
                .collect(),
        });
    }
    Ok(render(&EndpointPage {
        layout: Layout::new(&signed_in.context),
        endpoint: EndpointLine::from(&endpoint),
        deliveries,
    }))
}

async fn resend(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    require_admin(&signed_in)?;
    let delivery = state
        .store
        .webhook_delivery(id)
        .await?
        .ok_or_else(|| PageError::not_found("There is no such delivery."))?;
    state
        .store
        .resend_webhook_delivery(delivery.id, signed_in.user.id)
        .await?;
    state.webhook_queued();
    Ok(Flash::ok(format!(
        "Delivery {} ({}) will be sent again now, with the same webhook-id.",
        delivery.id, delivery.event_type
    ))
    .redirect(&format!("/admin/webhooks/{}", delivery.endpoint_id)))
}

async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    require_admin(&signed_in)?;
    if !state
        .store
        .delete_webhook_endpoint(id, signed_in.user.id)
        .await?
    {
        return Err(PageError::not_found("There is no such webhook."));
    }
    Ok(Flash::ok("The webhook was removed with its delivery log.").redirect("/admin/webhooks"))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(list).post(create))
        .route("/admin/webhooks/{id}", get(show))
        .route("/admin/webhooks/{id}/delete", post(remove))
        .route("/admin/webhooks/deliveries/{id}/resend", post(resend))
}
