//! The caller's own figures shown on the calling page: calls and conversations today
//! (midnight in the campaign's time zone) and, when the campaign opts in, today's
//! leaderboard. It only reads the store's tallies; it must not count anything itself.

use crate::{AppState, PageError};
use barnstorm_store::phonebank::Campaign;
use barnstorm_store::{Millis, User, now_millis};
use chrono::TimeZone;

/// Leaderboard places shown to callers.
const LEADERBOARD_SIZE: i64 = 10;

pub(super) struct LeaderRow {
    pub name: String,
    pub calls: i64,
}

/// The caller's own figures today and the leaderboard, if the campaign shows one.
pub(super) struct Standing {
    pub calls: i64,
    pub conversations: i64,
    pub leaderboard: Vec<LeaderRow>,
}

/// Midnight today in the campaign's calling-hours time zone, in UTC millis.
fn start_of_today(campaign: &Campaign, now: Millis) -> Millis {
    let tz = campaign.settings.calling_hours.time_zone();
    let Some(now) = chrono::DateTime::from_timestamp_millis(now) else {
        return now;
    };
    let midnight = now
        .with_timezone(&tz)
        .date_naive()
        .and_time(chrono::NaiveTime::MIN);
    tz.from_local_datetime(&midnight)
        .earliest()
        .map_or(now.timestamp_millis() - 24 * 3600 * 1000, |t| {
            t.timestamp_millis()
        })
}

pub(super) async fn standing(
    state: &AppState,
    campaign: &Campaign,
    user: &User,
) -> Result<Standing, PageError> {
    let since = start_of_today(campaign, now_millis());
    let mine = state
        .store
        .caller_stats(campaign.id, user.id, since)
        .await?;
    let leaderboard = if campaign.settings.leaderboard {
        state
            .store
            .leaderboard(campaign.id, since, LEADERBOARD_SIZE)
            .await?
            .into_iter()
            .map(|c| LeaderRow {
                name: c.name,
                calls: c.calls,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Standing {
        calls: mine.calls,
        conversations: mine.conversations,
        leaderboard,
    })
}
