//! Sign-in rate limits, kept in the database so they hold across nodes: at most
//! [`MAX_FAILURES_PER_ACCOUNT`] failed attempts per account and [`MAX_FAILURES_PER_ADDRESS`]
//! per client address in [`WINDOW_MS`]. Successful sign-in clears the account's count.

use barnstorm_store::{Millis, Store, StoreError, now_millis};
use std::net::IpAddr;

/// Failed attempts allowed per account in the window.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed attempts allowed per client address in the window.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
/// The window, 15 minutes.
pub const WINDOW_MS: Millis = 15 * 60 * 1000;

/// Whether a sign-in may be attempted now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LoginThrottle {
    /// Go ahead.
    Allowed,
    /// Refused; try again after this many minutes.
    Blocked { retry_after_minutes: i64 },
}

fn keys(email: &str, ip: Option<IpAddr>) -> (String, Option<String>) {
    (
        format!("email:{}", barnstorm_store::canonical_email(email)),
        ip.map(|ip| format!("ip:{ip}")),
    )
}

pub(crate) async fn check_login_allowed(
    store: &Store,
    email: &str,
    ip: Option<IpAddr>,
) -> Result<LoginThrottle, StoreError> {
    let now = now_millis();
    let (account, address) = keys(email, ip);
    let mut checks = vec![(account, MAX_FAILURES_PER_ACCOUNT)];
    checks.extend(address.map(|a| (a, MAX_FAILURES_PER_ADDRESS)));
    for (key, limit) in checks {
        let (failures, oldest) = store.login_failures_since(&key, now - WINDOW_MS).await?;
        if failures >= limit {
            let free_at = oldest.unwrap_or(now) + WINDOW_MS;
            return Ok(LoginThrottle::Blocked {
                retry_after_minutes: ((free_at - now) / 60_000).max(1),
            });
        }
    }
    Ok(LoginThrottle::Allowed)
}

pub(crate) async fn record_login_result(
    store: &Store,
    email: &str,
    ip: Option<IpAddr>,
    success: bool,
) -> Result<(), StoreError> {
    let (account, address) = keys(email, ip);
    if success {
        return store.clear_login_failures(&account).await;
    }
    store.record_login_failure(&account).await?;
    if let Some(address) = address {
        store.record_login_failure(&address).await?;
    }
    Ok(())
}
