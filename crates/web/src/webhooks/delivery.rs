//! The webhook delivery loop: claim due deliveries, sign and POST each, log the attempt,
//! then mark it delivered (2xx), retry after a backoff or give up. Safe on every node at
//! once: the store's claim locks each delivery for one worker, and a send starts only in
//! the first half of the lock and is cut off at the timeout, well inside it. A node that
//! dies between sending and recording sends it again with the same `webhook-id`, which is
//! how receivers deduplicate.

use super::endpoint_url::{address_allowed, check_endpoint_url};
use super::signing::sign;
use barnstorm_store::webhooks::{ClaimedWebhook, WebhookAttempt, WebhookOutcome};
use barnstorm_store::{Store, StoreError, now_millis};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// Deliveries claimed per round.
const BATCH: i64 = 20;
/// Polling interval when nothing wakes the worker (other nodes may queue messages).
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// The most of an error answer's body kept in the log.
const ERROR_BODY_BYTES: usize = 256;

/// How deliveries are sent and retried.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Allow `http://` and loopback endpoints (tests, a receiver on the same machine).
    pub allow_insecure_loopback: bool,
    /// The wait before the first retry; it doubles after each failure.
    pub first_retry: Duration,
    /// The longest wait between retries.
    pub max_retry: Duration,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: i64,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    /// One minute doubling to a day, 12 attempts (about two and a half days), 10 s each.
    fn default() -> Self {
        Self {
            allow_insecure_loopback: false,
            first_retry: Duration::from_secs(60),
            max_retry: Duration::from_secs(24 * 3600),
            max_attempts: 12,
            timeout: Duration::from_secs(10),
        }
    }
}

impl WebhookSettings {
    /// The wait before retry number `attempts` (1-based).
    pub fn retry_delay(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.clamp(1, 30) - 1).unwrap_or(0);
        self.first_retry
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max_retry)
            .min(self.max_retry)
    }
}

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WebhookReport {
    /// Deliveries an endpoint took (2xx).
    pub delivered: usize,
    /// Deliveries that failed and will be retried.
    pub retrying: usize,
    /// Deliveries that failed for the last time.
    pub given_up: usize,
    /// Claimed deliveries given back unsent because the claim was running out of time.
    pub deferred: usize,
}

/// Resolves endpoint host names, keeping only addresses a webhook may reach, so a name
/// that points into the server's own network is refused at connection time too.
struct PublicOnlyResolver {
    allow_insecure_loopback: bool,
}

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_insecure_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| address_allowed(addr.ip(), allow).is_ok())
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Delivers webhooks in the background.
#[derive(Clone)]
pub struct WebhookWorker {
    store: Store,
    client: reqwest::Client,
    settings: Arc<WebhookSettings>,
    wake: Arc<Notify>,
    claim_lock: Duration,
}

/// The HTTP client could not be built (no TLS provider).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the webhook HTTP client: {0}")]
pub struct WebhookSetupError(#[from] reqwest::Error);

impl WebhookWorker {
    /// A worker for `store`.
    pub fn new(store: Store, settings: WebhookSettings) -> Result<Self, WebhookSetupError> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(crate::geocoder::tls_config())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnlyResolver {
                allow_insecure_loopback: settings.allow_insecure_loopback,
            }))
            .user_agent("Barnstorm-Webhooks")
            .build()?;
        // Every send fits in the first half of the lock with room to record it.
        let claim_lock = (settings.timeout * 6).max(Duration::from_secs(30));
        Ok(Self {
            store,
            client,
            settings: Arc::new(settings),
            wake: Arc::new(Notify::new()),
            claim_lock,
        })
    }

    /// Tells the worker that a message was just queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Claims and sends one batch of due deliveries.
    pub async fn deliver_due(&self) -> Result<WebhookReport, StoreError> {
        let mut report = WebhookReport::default();
        let lock_ms = i64::try_from(self.claim_lock.as_millis()).unwrap_or(i64::MAX);
        let claimed_at = Instant::now();
        let claims = self.store.claim_due_webhooks(BATCH, lock_ms).await?;
        let last_start = claimed_at + self.claim_lock / 2;
        for (index, claimed) in claims.iter().enumerate() {
            if Instant::now() >= last_start {
                let unsent: Vec<i64> = claims[index..].iter().map(|c| c.delivery_id).collect();
                self.store.release_webhooks(&unsent).await?;
                report.deferred += unsent.len();
                break;
            }
            let attempt = self.attempt(claimed).await;
            let attempts = claimed.attempts + 1;
            let outcome = if attempt.error.is_none() {
                report.delivered += 1;
                WebhookOutcome::Delivered
            } else if attempts < self.settings.max_attempts {
                report.retrying += 1;
                let delay = self.settings.retry_delay(attempts);
                WebhookOutcome::RetryAt(
                    now_millis() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
                )
            } else {
                report.given_up += 1;
                WebhookOutcome::Failed
            };
            if let Some(error) = &attempt.error {
                tracing::warn!(delivery_id = claimed.delivery_id, attempts, %error,
                    will_retry = matches!(outcome, WebhookOutcome::RetryAt(_)), "webhook delivery failed");
            }
            self.store
                .record_webhook_attempt(claimed.delivery_id, &attempt, outcome)
                .await?;
        }
        Ok(report)
    }

    /// One signed POST; the attempt as logged (an error for anything but 2xx).
    async fn attempt(&self, claimed: &ClaimedWebhook) -> WebhookAttempt {
        let at = now_millis();
        let started = Instant::now();
        let (http_status, error) = match self.send(claimed).await {
            Ok((status, None)) => (Some(status), None),
            Ok((status, Some(body))) => (Some(status), Some(format!("HTTP {status}: {body}"))),
            Err(error) => (None, Some(error)),
        };
        WebhookAttempt {
            at,
            http_status,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// The status, and for a non-2xx answer the start of its body.
    async fn send(&self, claimed: &ClaimedWebhook) -> Result<(i64, Option<String>), String> {
        // Checked again at send time: the flag may have been turned off since it was added.
        let url = check_endpoint_url(&claimed.url, self.settings.allow_insecure_loopback)?;
        let timestamp = now_millis() / 1000;
        let signature = sign(
            &claimed.secret,
            &claimed.msg_id,
            timestamp,
            &claimed.payload,
        )
        .map_err(|e| e.to_string())?;
        let mut response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &claimed.msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(claimed.payload.clone())
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok((i64::from(status.as_u16()), None));
        }
        // Only the start of the answer is read: an endpoint cannot make the worker
        // download much, or wait for long.
        let mut body = Vec::new();
        while body.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        body.truncate(ERROR_BODY_BYTES);
        let text = String::from_utf8_lossy(&body).trim().to_owned();
        let status_text = if status.is_redirection() {
            format!("a redirect, which is not followed; {text}")
        } else {
            text
        };
        Ok((i64::from(status.as_u16()), Some(status_text)))
    }

    /// Runs until `shutdown` turns true: delivers, then sleeps until woken or polled.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!("webhook delivery started");
        loop {
            let full_batch = match self.deliver_due().await {
                Ok(report) => {
                    report.delivered + report.retrying + report.given_up + report.deferred
                        >= usize::try_from(BATCH).unwrap_or(20)
                }
                Err(error) => {
                    tracing::error!(%error, "webhook delivery could not read its queue");
                    false
                }
            };
            if full_batch {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                tracing::info!("webhook delivery stopped");
                return;
            }
        }
    }
}

/// A failed request in words, with its cause (reqwest's own message names only the URL).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_a_minute_to_a_day() {
        let settings = WebhookSettings::default();
        assert_eq!(settings.retry_delay(1), Duration::from_secs(60));
        assert_eq!(settings.retry_delay(2), Duration::from_secs(120));
        assert_eq!(settings.retry_delay(6), Duration::from_secs(32 * 60));
        assert_eq!(settings.retry_delay(40), Duration::from_secs(24 * 3600));
    }
}
