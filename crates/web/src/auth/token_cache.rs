//! Recently seen API tokens, so a caller's every request does not read the tokens table.
//! Each node keeps its own cache. A revocation on this node empties the account's entries
//! at once; every node also asks the database each [`REVOCATION_POLL`] which accounts had
//! tokens revoked lately (on any node) and forgets those, so a revoked token stops working
//! everywhere within about a second. When the database cannot say, the cache is emptied.

use crate::AppState;
use barnstorm_store::{User, now_millis};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a token is trusted without asking the database again.
pub const TOKEN_CACHE: Duration = Duration::from_secs(30);
/// How often each node looks for tokens revoked elsewhere.
pub const REVOCATION_POLL: Duration = Duration::from_secs(1);
/// Revocations this much older than a cache entry can live are still looked at, for
/// commits that land late and clocks that differ between nodes.
const REVOCATION_MARGIN: Duration = Duration::from_secs(30);
const LIMIT: usize = 200_000;

/// One node's cache of API tokens (by hash) and the accounts they belong to.
#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, User)>>,
}

impl TokenCache {
    /// The account of a token seen less than [`TOKEN_CACHE`] ago.
    pub(crate) fn get(&self, hash: &str) -> Option<User> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed() < TOKEN_CACHE)
            .map(|(_, user)| user.clone())
    }

    pub(crate) fn put(&self, hash: String, user: User) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= LIMIT {
                entries.clear();
            }
            entries.insert(hash, (Instant::now(), user));
        }
    }

    /// Forgets every cached token of `user_id` (after a revocation on this node).
    pub(crate) fn forget_user(&self, user_id: i64) {
        self.forget_users(&[user_id]);
    }

    fn forget_users(&self, user_ids: &[i64]) {
        if user_ids.is_empty() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (_, user)| !user_ids.contains(&user.id));
        }
    }

    fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// Every [`REVOCATION_POLL`] until `stop` turns true (or its sender is gone): forgets the
/// cached tokens of accounts whose tokens were revoked on any node.
pub async fn forget_tokens_revoked_elsewhere(state: AppState, mut stop: watch::Receiver<bool>) {
    let window = i64::try_from((TOKEN_CACHE + REVOCATION_MARGIN).as_millis()).unwrap_or(i64::MAX);
    loop {
        match state
            .store
            .users_with_tokens_revoked_since(now_millis().saturating_sub(window))
            .await
        {
            Ok(user_ids) => state.tokens.forget_users(&user_ids),
            Err(error) => {
                tracing::warn!(%error, "cannot read token revocations; emptying the token cache");
                state.tokens.clear();
            }
        }
        tokio::select! {
            () = tokio::time::sleep(REVOCATION_POLL) => {}
            changed = stop.changed() => if changed.is_err() { return },
        }
        if *stop.borrow() {
            return;
        }
    }
}
