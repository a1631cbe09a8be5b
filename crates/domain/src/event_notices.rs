//! When an attendee's scheduled notices fall due: the reminder the day before, the one on
//! the day, and the feedback request after the event. Times are worked out in the event's
//! own time zone, so they stay right across clock changes.
//!
//! Pure: the caller passes `now`; sending and remembering what was sent belong to the store
//! and the reminder job.

use chrono::{Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// How long after an event its feedback request may still go out.
const FEEDBACK_STALE_MS: i64 = 7 * DAY_MS;

/// A scheduled notice to an attendee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoticeKind {
    /// "See you tomorrow": 11:00 local time the day before the event starts.
    DayBefore,
    /// "See you today": 08:00 local time on the day, or three hours before an early start.
    OnTheDay,
    /// "How was it?": an hour after the event ends.
    Feedback,
}

impl NoticeKind {
    /// Every kind, in the order they go out.
    pub const ALL: &'static [NoticeKind] = &[Self::DayBefore, Self::OnTheDay, Self::Feedback];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DayBefore => "day_before",
            Self::OnTheDay => "on_the_day",
            Self::Feedback => "feedback",
        }
    }

    /// The kind with this stored name.
    pub fn from_stored(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

/// When a notice of `kind` falls due, in milliseconds since the Unix epoch, for an event
/// from `starts_at` to `ends_at` (milliseconds) held in time zone `tz`.
pub fn due_at(kind: NoticeKind, starts_at: i64, ends_at: i64, tz: Tz) -> i64 {
    let start_local = local(starts_at, tz);
    match kind {
        NoticeKind::DayBefore => {
            let day = start_local.date().checked_sub_days(Days::new(1));
            day.map_or(starts_at - DAY_MS, |day| at_local(day, 11, tz))
        }
        NoticeKind::OnTheDay => {
            let minutes = start_local.time().hour() * 60 + start_local.time().minute();
            if minutes < 9 * 60 {
                starts_at - 3 * HOUR_MS
            } else {
                at_local(start_local.date(), 8, tz)
            }
        }
        NoticeKind::Feedback => ends_at + HOUR_MS,
    }
}

/// Whether a notice of `kind` should go out now to an attendee who RSVP'd at
/// `rsvp_created_at`: its time has come, they signed up before it (nobody who signs up two
/// hours before gets "see you tomorrow"), and it is not stale (reminders stop when the
/// event starts; feedback requests a week after it ends).
pub fn is_due(
    kind: NoticeKind,
    now: i64,
    rsvp_created_at: i64,
    starts_at: i64,
    ends_at: i64,
    tz: Tz,
) -> bool {
    let due = due_at(kind, starts_at, ends_at, tz);
    let fresh = match kind {
        NoticeKind::DayBefore | NoticeKind::OnTheDay => now < starts_at,
        NoticeKind::Feedback => now < ends_at + FEEDBACK_STALE_MS,
    };
    now >= due && rsvp_created_at < due && fresh
}

fn local(millis: i64, tz: Tz) -> chrono::NaiveDateTime {
    tz.timestamp_millis_opt(millis).single().map_or_else(
        || chrono::DateTime::UNIX_EPOCH.naive_utc(),
        |t| t.naive_local(),
    )
}

/// `hour`:00 local time on `day`, in epoch milliseconds. A time the clocks skip is moved
/// an hour later; a time they pass twice is the first of the two.
fn at_local(day: NaiveDate, hour: u32, tz: Tz) -> i64 {
    let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
    let wanted = day.and_time(time);
    match tz.from_local_datetime(&wanted) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.timestamp_millis(),
        LocalResult::None => tz
            .from_local_datetime(&(wanted + chrono::Duration::hours(1)))
            .earliest()
            .map_or(wanted.and_utc().timestamp_millis(), |t| {
                t.timestamp_millis()
            }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        London
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        chrono::Utc
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn reminders_fall_at_local_times() {
        // A summer evening event: London is UTC+1.
        let start = london(2025, 7, 10, 19, 0);
        let end = london(2025, 7, 10, 21, 0);
        assert_eq!(
            due_at(NoticeKind::DayBefore, start, end, London),
            utc(2025, 7, 9, 10, 0)
        );
        assert_eq!(
            due_at(NoticeKind::OnTheDay, start, end, London),
            utc(2025, 7, 10, 7, 0)
        );
        assert_eq!(
            due_at(NoticeKind::Feedback, start, end, London),
            end + HOUR_MS
        );
    }

    #[test]
    fn an_early_start_is_reminded_three_hours_before() {
        let start = london(2025, 7, 10, 7, 30);
        let end = london(2025, 7, 10, 9, 0);
        assert_eq!(
            due_at(NoticeKind::OnTheDay, start, end, London),
            start - 3 * HOUR_MS
        );
        let nine = london(2025, 7, 10, 9, 0);
        assert_eq!(
            due_at(NoticeKind::OnTheDay, nine, nine + HOUR_MS, London),
            london(2025, 7, 10, 8, 0)
        );
    }

    #[test]
    fn clock_changes_keep_local_times() {
        // Clocks go forward on Sunday 30 March 2025: Saturday is UTC+0, Sunday UTC+1.
        let start = london(2025, 3, 30, 14, 0);
        assert_eq!(
            due_at(NoticeKind::DayBefore, start, start + HOUR_MS, London),
            utc(2025, 3, 29, 11, 0)
        );
        assert_eq!(
            due_at(NoticeKind::OnTheDay, start, start + HOUR_MS, London),
            utc(2025, 3, 30, 7, 0)
        );
        // Clocks go back on Sunday 26 October 2025: Saturday is UTC+1, Sunday UTC+0.
        let start = london(2025, 10, 26, 14, 0);
        assert_eq!(
            due_at(NoticeKind::DayBefore, start, start + HOUR_MS, London),
            utc(2025, 10, 25, 10, 0)
        );
        assert_eq!(
            due_at(NoticeKind::OnTheDay, start, start + HOUR_MS, London),
            utc(2025, 10, 26, 8, 0)
        );
    }

    #[test]
    fn other_time_zones_use_their_own_clock() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let start = tz
            .with_ymd_and_hms(2025, 11, 3, 18, 0, 0)
            .single()
            .unwrap()
            .timestamp_millis();
        // 11:00 EST (UTC-5) on 2 November, the day the clocks went back.
        assert_eq!(
            due_at(NoticeKind::DayBefore, start, start + HOUR_MS, tz),
            utc(2025, 11, 2, 16, 0)
        );
    }

    #[test]
    fn late_sign_ups_and_stale_notices_are_skipped() {
        let start = london(2025, 7, 10, 19, 0);
        let end = london(2025, 7, 10, 21, 0);
        let day_before = due_at(NoticeKind::DayBefore, start, end, London);
        let early = day_before - 5 * DAY_MS;
        assert!(!is_due(
            NoticeKind::DayBefore,
            day_before - 1,
            early,
            start,
            end,
            London
        ));
        assert!(is_due(
            NoticeKind::DayBefore,
            day_before,
            early,
            start,
            end,
            London
        ));
        // Signed up two hours before the start: no "see you tomorrow", no "see you today".
        let late = start - 2 * HOUR_MS;
        assert!(!is_due(
            NoticeKind::DayBefore,
            late + 1,
            late,
            start,
            end,
            London
        ));
        assert!(!is_due(
            NoticeKind::OnTheDay,
            late + 1,
            late,
            start,
            end,
            London
        ));
        // But they are asked for feedback.
        assert!(is_due(
            NoticeKind::Feedback,
            end + HOUR_MS,
            late,
            start,
            end,
            London
        ));
        // Nothing reminds of an event that has begun; feedback stops after a week.
        assert!(!is_due(
            NoticeKind::OnTheDay,
            start,
            early,
            start,
            end,
            London
        ));
        assert!(is_due(
            NoticeKind::OnTheDay,
            start - 1,
            early,
            start,
            end,
            London
        ));
        assert!(!is_due(
            NoticeKind::Feedback,
            end + 7 * DAY_MS,
            early,
            start,
            end,
            London
        ));
        assert!(is_due(
            NoticeKind::Feedback,
            end + 7 * DAY_MS - 1,
            early,
            start,
            end,
            London
        ));
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::from_stored(kind.as_str()), Some(*kind));
        }
        assert_eq!(NoticeKind::from_stored("weekly"), None);
    }
}
