//! Counters for limits that must hold while requests race: wrong passwords, sign-in link
//! requests, invite joins, RSVPs. Each key has one row counting hits in a fixed window
//! that starts at the window's first hit; one upsert both counts a hit and returns the
//! count, so no two requests can both see room for the last allowed attempt. What the
//! keys mean and which limits apply is the web layer's business.

use crate::{Millis, Store, StoreError};
use sqlx::Row;

/// Hits counted against a key in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCount {
    /// Hits so far in this window, including the one just counted.
    pub hits: i64,
    /// When the window ends and the count starts again from zero.
    pub window_ends_at: Millis,
}

impl RateCount {
    /// Whether this hit is beyond `limit` hits per window.
    pub fn exceeds(&self, limit: i64) -> bool {
        self.hits > limit
    }

    /// Whole minutes until the window ends, at least one.
    pub fn minutes_left(&self, now: Millis) -> i64 {
        ((self.window_ends_at - now + 59_999) / 60_000).max(1)
    }
}

impl Store {
    /// Counts one hit against `key` at `now` in a window of `window_ms` and returns the
    /// count including it. A window older than `window_ms` starts again at one.
    pub async fn hit_rate_limit(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<RateCount, StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_limit_counters (key, window_started_at, hits) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
                 hits = CASE WHEN rate_limit_counters.window_started_at <= $3
                             THEN 1 ELSE rate_limit_counters.hits + 1 END,
                 window_started_at = CASE WHEN rate_limit_counters.window_started_at <= $3
                             THEN $2 ELSE rate_limit_counters.window_started_at END
             RETURNING hits, window_started_at",
        )
        .bind(key)
        .bind(now)
        .bind(now - window_ms)
        .fetch_all(self.writer())
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?;
        let started: Millis = row.try_get("window_started_at")?;
        Ok(RateCount {
            hits: row.try_get("hits")?,
            window_ends_at: started + window_ms,
        })
    }

    /// Hits counted against `key` in a window of `window_ms` that is still open at `now`,
    /// without counting one; `None` when there are none.
    pub async fn rate_limit_count(
        &self,
        key: &str,
        window_ms: Millis,
        now: Millis,
    ) -> Result<Option<RateCount>, StoreError> {
        let row = sqlx::query(
            "SELECT hits, window_started_at FROM rate_limit_counters
             WHERE key = $1 AND window_started_at > $2",
        )
        .bind(key)
        .bind(now - window_ms)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let started: Millis = row.try_get("window_started_at")?;
        Ok(Some(RateCount {
            hits: row.try_get("hits")?,
            window_ends_at: started + window_ms,
        }))
    }

    /// Takes one hit back from `key` (an attempt that turned out to be allowed).
    pub async fn forgive_rate_limit_hit(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE rate_limit_counters SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Forgets the hits against `key` (a successful sign-in clears its account's count).
    pub async fn clear_rate_limit(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM rate_limit_counters WHERE key = $1")
            .bind(key)
            .execute(self.writer())
            .await?;
        Ok(())
    }
}
