//! Limits on guessing and flooding, kept in the database so they hold across nodes and
//! while requests race: every attempt is counted before it is tried, in one statement
//! that also returns the count, so 20 parallel wrong passwords against a limit of 5 get
//! at most 5 password checks. What is limited (all windows fixed, from the first hit):
//! - sign-in attempts: [`MAX_FAILURES_PER_ACCOUNT`] per account and
//!   [`MAX_FAILURES_PER_ADDRESS`] per client address in [`WINDOW_MS`]; a successful
//!   sign-in takes its attempt back and clears the account's count;
//! - sign-in links: [`MAX_LINKS_PER_EMAIL`] per address and [`MAX_LINKS_PER_CLIENT`] per
//!   client address in [`LINK_WINDOW_MS`];
//! - RSVPs (event page form and API): [`MAX_RSVPS_PER_CLIENT`] per client address in
//!   [`RSVP_WINDOW_MS`];
//! - anonymous invite joins (page and API): per client address and link, in an hour,
//!   [`MAX_JOINS_PER_CLIENT`] or the link's own hourly allowance of new accounts if that
//!   is larger; enough for a 500-person meetup behind one venue's network;
//! - sign-ups: [`MAX_SIGN_UPS_PER_CLIENT`] per client address in [`SIGN_UP_WINDOW_MS`],
//!   and the mail each sends counts as a sign-in link to its address.

use barnstorm_store::{Millis, Store, StoreError, canonical_email};
use std::net::IpAddr;

/// Failed attempts allowed per account in the window.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failed attempts allowed per client address in the window.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 50;
/// The sign-in window, 15 minutes.
pub const WINDOW_MS: Millis = 15 * 60 * 1000;
/// Sign-in links mailed to one address in [`LINK_WINDOW_MS`].
pub const MAX_LINKS_PER_EMAIL: i64 = 3;
/// Sign-in links asked for from one client address in [`LINK_WINDOW_MS`].
pub const MAX_LINKS_PER_CLIENT: i64 = 30;
/// The sign-in link window, one hour.
pub const LINK_WINDOW_MS: Millis = 60 * 60 * 1000;
/// Anonymous joins through one invite link from one client address in an hour, unless
/// the link allows more new accounts an hour.
pub const MAX_JOINS_PER_CLIENT: i64 = 1_000;
/// The invite join window, one hour.
pub const JOIN_WINDOW_MS: Millis = 60 * 60 * 1000;

/// RSVPs one client address may send in [`RSVP_WINDOW_MS`].
pub const MAX_RSVPS_PER_CLIENT: i64 = 30;
/// The RSVP window, 15 minutes.
pub const RSVP_WINDOW_MS: Millis = 15 * 60 * 1000;

/// Sign-up forms one client address may send in [`SIGN_UP_WINDOW_MS`].
pub const MAX_SIGN_UPS_PER_CLIENT: i64 = 30;
/// The sign-up window, one hour.
pub const SIGN_UP_WINDOW_MS: Millis = 60 * 60 * 1000;

/// Whether an attempt may go ahead.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LoginThrottle {
    /// Go ahead.
    Allowed,
    /// Refused; try again after this many minutes.
    Blocked { retry_after_minutes: i64 },
}

fn account_key(email: &str) -> String {
    format!("email:{}", canonical_email(email))
}

fn address_key(ip: Option<IpAddr>) -> Option<String> {
    ip.map(|ip| format!("ip:{ip}"))
}

/// Counts one hit against each `(key, limit)` in turn; the first one over its limit
/// blocks (later keys are then not counted).
async fn count_hits(
    store: &Store,
    keys: Vec<(String, i64)>,
    window_ms: Millis,
    now: Millis,
) -> Result<LoginThrottle, StoreError> {
    for (key, limit) in keys {
        let count = store.hit_rate_limit(&key, window_ms, now).await?;
        if count.exceeds(limit) {
            return Ok(LoginThrottle::Blocked {
                retry_after_minutes: count.minutes_left(now),
            });
        }
    }
    Ok(LoginThrottle::Allowed)
}

/// Counts a password attempt against the account and the client address before the
/// password is checked; `Blocked` means the password must not be checked at all.
pub(crate) async fn reserve_login_attempt(
    store: &Store,
    email: &str,
    ip: Option<IpAddr>,
    now: Millis,
) -> Result<LoginThrottle, StoreError> {
    let mut keys = vec![(account_key(email), MAX_FAILURES_PER_ACCOUNT)];
    keys.extend(address_key(ip).map(|a| (a, MAX_FAILURES_PER_ADDRESS)));
    count_hits(store, keys, WINDOW_MS, now).await
}

/// After a checked password: a success clears the account's count and takes its
/// attempt back from the client address (so a venue full of people signing in is not
/// blocked); a failure stays counted.
pub(crate) async fn record_login_result(
    store: &Store,
    email: &str,
    ip: Option<IpAddr>,
    success: bool,
) -> Result<(), StoreError> {
    if !success {
        return Ok(());
    }
    store.clear_rate_limit(&account_key(email)).await?;
    if let Some(address) = address_key(ip) {
        store.forgive_rate_limit_hit(&address).await?;
    }
    Ok(())
}

/// Forgets an account's failed sign-ins: its owner proved the address with an emailed
/// link, which is how a locked-out owner gets back in.
pub(crate) async fn clear_login_failures(store: &Store, email: &str) -> Result<(), StoreError> {
    store.clear_rate_limit(&account_key(email)).await
}

/// Counts a request for a sign-in link to `email` from `ip`, whether or not the address
/// has an account (so the answer says nothing about it).
pub(crate) async fn reserve_sign_in_link(
    store: &Store,
    email: &str,
    ip: Option<IpAddr>,
    now: Millis,
) -> Result<LoginThrottle, StoreError> {
    let mut keys = vec![(
        format!("link:{}", canonical_email(email)),
        MAX_LINKS_PER_EMAIL,
    )];
    keys.extend(ip.map(|ip| (format!("link-ip:{ip}"), MAX_LINKS_PER_CLIENT)));
    count_hits(store, keys, LINK_WINDOW_MS, now).await
}

/// Counts an anonymous join through the invite `invite_id` (join page or
/// `POST /api/v1/invites/{code}/accept`) from `ip`, whether the address is new or has an
/// account, so the limit answers the same for both. `hourly_accounts` is the link's cap
/// on new accounts an hour.
pub(crate) async fn reserve_invite_join(
    store: &Store,
    ip: Option<IpAddr>,
    invite_id: i64,
    hourly_accounts: Option<i64>,
    now: Millis,
) -> Result<LoginThrottle, StoreError> {
    let limit = hourly_accounts.map_or(MAX_JOINS_PER_CLIENT, |cap| cap.max(MAX_JOINS_PER_CLIENT));
    let keys = address_key(ip)
        .map(|a| vec![(format!("join:{invite_id}:{a}"), limit)])
        .unwrap_or_default();
    count_hits(store, keys, JOIN_WINDOW_MS, now).await
}

/// Counts an RSVP (event page form or `POST /api/v1/events/{id}/rsvps`) from `ip`.
pub(crate) async fn reserve_rsvp(
    store: &Store,
    ip: Option<IpAddr>,
    now: Millis,
) -> Result<LoginThrottle, StoreError> {
    let keys = address_key(ip)
        .map(|a| vec![(format!("rsvp-{a}"), MAX_RSVPS_PER_CLIENT)])
        .unwrap_or_default();
    count_hits(store, keys, RSVP_WINDOW_MS, now).await
}

/// Counts a sign-up form (new address or not, so the limit answers the same) from `ip`.
pub(crate) async fn reserve_sign_up(
    store: &Store,
    ip: Option<IpAddr>,
    now: Millis,
) -> Result<LoginThrottle, StoreError> {
    let keys = address_key(ip)
        .map(|a| vec![(format!("signup-{a}"), MAX_SIGN_UPS_PER_CLIENT)])
        .unwrap_or_default();
    count_hits(store, keys, SIGN_UP_WINDOW_MS, now).await
}
