//! Signed webhooks out of the store's durable queue: the endpoint URL rules (HTTPS, public
//! addresses), Standard Webhooks signing and the delivery worker with its retries. Which
//! changes queue a message, and in which transaction, is the store's; managing endpoints
//! is `pages::webhooks` and `api::webhooks`.

mod delivery;
pub mod endpoint_url;
pub mod signing;

pub use delivery::{WebhookReport, WebhookSettings, WebhookSetupError, WebhookWorker};

use barnstorm_domain::limits;
use barnstorm_store::webhooks::{NewWebhookEndpoint, WebhookEventType};

/// A form or API field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldProblem {
    /// The field's name (`url`, `description`, `event_types`).
    pub field: &'static str,
    /// The problem in words.
    pub message: String,
}

/// Checks an endpoint as the page and the API submit it.
pub(crate) fn new_endpoint(
    url: &str,
    description: &str,
    event_types: &[String],
    allow_insecure_loopback: bool,
) -> Result<NewWebhookEndpoint, FieldProblem> {
    let problem = |field, message: String| FieldProblem { field, message };
    let url = endpoint_url::check_endpoint_url(url, allow_insecure_loopback)
        .map_err(|message| problem("url", message))?;
    let description = description.trim();
    limits::check_length("description", description, limits::LABEL)
        .map_err(|e| problem("description", e.to_string()))?;
    let types = event_types
        .iter()
        .map(|name| {
            name.trim().parse::<WebhookEventType>().map_err(|_| {
                let known: Vec<&str> = WebhookEventType::ALL.iter().map(|t| t.as_str()).collect();
                problem(
                    "event_types",
                    format!(
                        "{name:?} is not an event type; choose from {}.",
                        known.join(", ")
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if types.is_empty() {
        return Err(problem(
            "event_types",
            "Choose at least one event type.".to_owned(),
        ));
    }
    Ok(NewWebhookEndpoint {
        url: url.to_string(),
        description: description.to_owned(),
        event_types: types,
    })
}
