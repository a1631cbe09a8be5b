//! The safeguards a claim and an outcome check against a caller's own recent rows: whether
//! the caller is suspended or removed, how many new contacts they were handed in the last
//! minute and hour (the pace limit) and how many "do not call" outcomes they recorded in
//! the last hour. Each count reads at most the limit's number of the caller's newest rows
//! from an index, so the checks stay cheap on the hot path. The SQL is shared by both
//! backends; this module decides nothing about what a refused caller may do next.

use crate::Millis;

/// One minute in milliseconds: the short pace window.
pub const MINUTE_MS: Millis = 60 * 1000;
/// One hour in milliseconds: the long pace window and the do-not-call window.
pub const HOUR_MS: Millis = 60 * MINUTE_MS;

/// Why a caller may not call a campaign any more, read from the database on every claim,
/// heartbeat, release and outcome (so no node's cache lets them go on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerBar {
    /// Suspended (by an organiser, or automatically for claiming too fast); an organiser
    /// may lift it.
    Suspended,
    /// Removed from the campaign by an organiser.
    Removed,
}

impl CallerBar {
    /// Reads the `barred` column of [`BARRED`]: 1 suspended, 2 removed.
    pub(super) fn from_code(code: Option<i64>) -> Option<Self> {
        match code {
            Some(1) => Some(Self::Suspended),
            Some(2) => Some(Self::Removed),
            _ => None,
        }
    }
}

/// The bar on caller `l.caller_id` in campaign `l.campaign_id`, as a column (`barred`):
/// NULL or 0 free to call, 1 suspended, 2 removed.
pub(super) const BARRED: &str = "(SELECT CASE WHEN cc.removed_at IS NOT NULL THEN 2
        WHEN cc.suspended_at IS NOT NULL THEN 1 ELSE 0 END
      FROM campaign_callers cc WHERE cc.campaign_id = l.campaign_id AND cc.user_id = l.caller_id) AS barred";

/// A caller's newest claims on a campaign within a window: how many (at most the limit)
/// and the oldest of those counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentClaims {
    /// Claims counted, at most the limit.
    pub count: i64,
    /// The claim time of the oldest one counted.
    pub oldest: Option<Millis>,
}

impl RecentClaims {
    /// When the caller may be handed a contact again under a limit of `limit` in a
    /// window of `window_ms`, if the limit is reached: once the oldest of the newest
    /// `limit` claims leaves the window.
    pub fn limited_until(self, limit: i64, window_ms: Millis) -> Option<Millis> {
        if self.count >= limit {
            self.oldest.map(|oldest| oldest + window_ms)
        } else {
            None
        }
    }
}

/// The caller's newest "do not call" outcomes on a campaign within the hour (`$1` caller,
/// `$2` campaign, `$3` start of the hour, `$4` the limit).
pub(super) const RECENT_DO_NOT_CALLS: &str =
    "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM (
       SELECT created_at FROM call_attempts
        WHERE caller_id = $1 AND campaign_id = $2 AND do_not_call = 1 AND created_at > $3
        ORDER BY created_at DESC LIMIT $4) recent";
