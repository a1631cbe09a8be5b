//! The delivery loop: claim due mail from the outbox, send it, record the result. Safe to
//! run on every node at once: the store's claim locks each mail for one worker, so a mail
//! is sent once unless a node dies between sending and recording (then at most twice).
//! A worker only starts a send while at least half of its lock remains, and cuts a send off
//! after a quarter of it, so a slow SMTP server can never let the lock lapse mid-batch.

use crate::MailConfig;
use barnstorm_store::{Store, StoreError, now_millis};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Attempts before a mail is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed mail stays locked to one worker.
const CLAIM_LOCK: Duration = Duration::from_secs(120);
/// Mails claimed per round.
const BATCH: i64 = 50;
/// Polling interval when nothing wakes the worker (other nodes may queue mail).
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The wait before retry number `attempts` (1-based): 30 s doubling, at most 6 hours.
pub fn retry_delay(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    Duration::from_secs((30u64 << exponent).min(6 * 3600))
}

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Mails handed to the transport successfully.
    pub sent: usize,
    /// Mails that failed and will be retried.
    pub retrying: usize,
    /// Mails that failed for the last time.
    pub given_up: usize,
    /// Claimed mails given back unsent because the claim was running out of time.
    pub deferred: usize,
}

impl DeliveryReport {
    fn handled(&self) -> usize {
        self.sent + self.retrying + self.given_up + self.deferred
    }
}

/// Delivers the outbox in the background.
#[derive(Clone)]
pub struct MailWorker {
    store: Store,
    config: Arc<MailConfig>,
    wake: Arc<Notify>,
    claim_lock: Duration,
}

impl MailWorker {
    /// A worker for `store` sending through `config`.
    pub fn new(store: Store, config: MailConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
            claim_lock: CLAIM_LOCK,
        }
    }

    /// The same worker holding each claim for `lock` instead of two minutes (tests use a
    /// short lock to show that a slow server cannot make two nodes send one mail).
    #[must_use]
    pub fn with_claim_lock(mut self, lock: Duration) -> Self {
        self.claim_lock = lock;
        self
    }

    /// Tells the worker that mail was just queued, so it need not wait for its next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Claims and sends one batch of due mail.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, StoreError> {
        let mut report = DeliveryReport::default();
        let lock_ms = i64::try_from(self.claim_lock.as_millis()).unwrap_or(i64::MAX);
        let claimed_at = tokio::time::Instant::now();
        let claims = self.store.claim_due_mail(BATCH, lock_ms).await?;
        // Sends start only in the first half of the lock and last at most a quarter of it,
        // so every send ends while this worker still holds the mail.
        let last_start = claimed_at + self.claim_lock / 2;
        let send_timeout = self.claim_lock / 4;
        for (index, claimed) in claims.iter().enumerate() {
            if tokio::time::Instant::now() >= last_start {
                let unsent: Vec<i64> = claims[index..].iter().map(|m| m.id).collect();
                self.store.release_mail(&unsent).await?;
                report.deferred += unsent.len();
                break;
            }
            let sent =
                tokio::time::timeout(send_timeout, self.config.send(claimed.id, &claimed.mail))
                    .await
                    .unwrap_or_else(|_| Err(format!("the send took over {send_timeout:?}")));
            match sent {
                Ok(()) => {
                    self.store.mark_mail_sent(claimed.id).await?;
                    report.sent += 1;
                }
                Err(error) => {
                    let attempts = claimed.attempts + 1;
                    let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                        now_millis()
                            + i64::try_from(retry_delay(attempts).as_millis()).unwrap_or(i64::MAX)
                    });
                    tracing::warn!(mail_id = claimed.id, attempts, %error, will_retry = retry_at.is_some(), "mail delivery failed");
                    self.store
                        .mark_mail_failed(claimed.id, &error, retry_at)
                        .await?;
                    if retry_at.is_some() {
                        report.retrying += 1;
                    } else {
                        report.given_up += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// Runs until `shutdown` turns true: delivers, then sleeps until woken or polled.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(transport = %self.config.describe(), "mail delivery started");
        loop {
            let full_batch = match self.deliver_due().await {
                Ok(report) => report.handled() >= usize::try_from(BATCH).unwrap_or(50),
                Err(error) => {
                    tracing::error!(%error, "mail delivery could not read the outbox");
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
                tracing::info!("mail delivery stopped");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_six_hours() {
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(2), Duration::from_secs(60));
        assert_eq!(retry_delay(5), Duration::from_secs(480));
        assert_eq!(retry_delay(40), Duration::from_secs(6 * 3600));
    }
}
