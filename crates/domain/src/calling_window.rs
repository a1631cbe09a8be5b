//! Calling hours: when a contact may be rung, per weekday, in the contact's own time zone.
//!
//! Owns the weekly window, its validation and JSON form, and the clock arithmetic across
//! daylight-saving changes ("is it open now?", "when does it next open?"). It must not read
//! the clock: every question takes the UTC instant to answer it for.

use std::fmt;

use chrono::{DateTime, Datelike, Days, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Hours on one day, local time, from `start` (inclusive) to `end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyWindow {
    /// First minute calls may start.
    pub start: NaiveTime,
    /// Calls may not start at or after this time.
    pub end: NaiveTime,
}

/// Weekly calling hours in one IANA time zone. Always valid once constructed.
///
/// JSON: `{"time_zone": "Europe/London", "days": {"monday": {"start": "10:00", "end":
/// "20:00"}, …, "sunday": null}}`; a missing day is closed. Deserialising validates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireWindows", into = "WireWindows")]
pub struct CallingWindows {
    tz: Tz,
    /// Index 0 is Monday, as in `chrono::Weekday::num_days_from_monday`.
    days: [Option<DailyWindow>; 7],
}

/// Why calling hours were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallingWindowError {
    /// A day's window ends at or before it starts (windows may not cross midnight).
    #[error("{day}: calling hours must end after they start")]
    StartNotBeforeEnd {
        /// The weekday, e.g. "monday".
        day: &'static str,
    },
    /// Every day is closed, so nobody could ever be rung.
    #[error("calling hours are closed every day")]
    NeverOpen,
    /// A time that is not `HH:MM`.
    #[error("{0:?} is not a time of day (expected HH:MM)")]
    BadTime(String),
}

const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl CallingWindows {
    /// Validates and builds calling hours; `days[0]` is Monday.
    pub fn new(tz: Tz, days: [Option<DailyWindow>; 7]) -> Result<Self, CallingWindowError> {
        for (day, window) in DAY_NAMES.iter().zip(&days) {
            if window.is_some_and(|w| w.start >= w.end) {
                return Err(CallingWindowError::StartNotBeforeEnd { day });
            }
        }
        if days.iter().all(Option::is_none) {
            return Err(CallingWindowError::NeverOpen);
        }
        Ok(CallingWindows { tz, days })
    }

    /// The UK default, in Europe/London: Monday–Friday 10:00–20:00, Saturday 10:00–18:00,
    /// Sunday closed.
    ///
    /// `research/phonebanking.md` §9.3 gives the UK recommendation as 9:00–21:00
    /// (unverified) and §3.1 the US norm of 8:00–21:00; this default sits well inside
    /// both, because nobody should be pestered at breakfast, late evening or on Sunday.
    pub fn uk_default() -> CallingWindows {
        let window = |start: u32, end: u32| {
            Some(DailyWindow {
                start: NaiveTime::MIN + TimeDelta::hours(i64::from(start)),
                end: NaiveTime::MIN + TimeDelta::hours(i64::from(end)),
            })
        };
        let weekday = window(10, 20);
        CallingWindows {
            tz: chrono_tz::Europe::London,
            days: [
                weekday,
                weekday,
                weekday,
                weekday,
                weekday,
                window(10, 18),
                None,
            ],
        }
    }

    /// The time zone the hours are read in.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The hours per weekday, Monday first.
    pub fn days(&self) -> &[Option<DailyWindow>; 7] {
        &self.days
    }

    /// The same hours read in another time zone, e.g. the contact's own.
    pub fn in_time_zone(&self, tz: Tz) -> CallingWindows {
        CallingWindows {
            tz,
            days: self.days,
        }
    }

    /// Whether a call may start at `utc`.
    pub fn is_open_at(&self, utc: DateTime<Utc>) -> bool {
        let local = utc.with_timezone(&self.tz);
        let day = local.weekday().num_days_from_monday() as usize;
        self.days[day].is_some_and(|w| w.start <= local.time() && local.time() < w.end)
    }

    /// The earliest instant at or after `utc` when a call may start: `utc` itself if the
    /// window is open then. Opening times that fall in a daylight-saving gap move to the
    /// end of the gap; in a repeated hour the first occurrence counts. `None` only if no
    /// day is open, which validation prevents.
    pub fn next_opening_after(&self, utc: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open_at(utc) {
            return Some(utc);
        }
        let today = utc.with_timezone(&self.tz).date_naive();
        // Eight days: today's later window, or any window in the week after.
        (0..=7u64).find_map(|offset| {
            let date = today.checked_add_days(Days::new(offset))?;
            let window = self.days[date.weekday().num_days_from_monday() as usize]?;
            let opens = self.resolve_local(date.and_time(window.start))?;
            let closes = self.resolve_local(date.and_time(window.end))?;
            (opens > utc && opens < closes).then_some(opens)
        })
    }

    /// Turns a local wall-clock time into UTC, stepping over a spring-forward gap.
    fn resolve_local(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        // Gaps are at most a couple of hours; walk forward a minute at a time.
        (0..=180).find_map(|minutes| {
            let shifted = local + TimeDelta::minutes(minutes);
            self.tz
                .from_local_datetime(&shifted)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        })
    }
}

impl Default for CallingWindows {
    fn default() -> Self {
        CallingWindows::uk_default()
    }
}

impl fmt::Display for DailyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", format_time(self.start), format_time(self.end))
    }
}

/// The JSON form: named days and `HH:MM` strings, so stored rows read naturally.
#[derive(Serialize, Deserialize)]
struct WireWindows {
    time_zone: Tz,
    days: WireDays,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct WireDays {
    monday: Option<WireDay>,
    tuesday: Option<WireDay>,
    wednesday: Option<WireDay>,
    thursday: Option<WireDay>,
    friday: Option<WireDay>,
    saturday: Option<WireDay>,
    sunday: Option<WireDay>,
}

#[derive(Serialize, Deserialize)]
struct WireDay {
    start: String,
    end: String,
}

/// The last instant of a day, written "24:00": a window ending then runs to midnight.
const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// Reads a time of day as calling hours write it: `HH:MM`, or `24:00` for the end of the
/// day.
pub fn parse_time(text: &str) -> Result<NaiveTime, CallingWindowError> {
    if text.trim() == "24:00" {
        return Ok(END_OF_DAY);
    }
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| CallingWindowError::BadTime(text.to_owned()))
}

/// Writes a time of day as [`parse_time`] reads it.
pub fn format_time(time: NaiveTime) -> String {
    if time == END_OF_DAY {
        "24:00".to_owned()
    } else {
        time.format("%H:%M").to_string()
    }
}

impl TryFrom<WireWindows> for CallingWindows {
    type Error = CallingWindowError;

    fn try_from(wire: WireWindows) -> Result<Self, Self::Error> {
        let d = wire.days;
        let wire_days = [
            d.monday,
            d.tuesday,
            d.wednesday,
            d.thursday,
            d.friday,
            d.saturday,
            d.sunday,
        ];
        let mut days = [None; 7];
        for (slot, wire_day) in days.iter_mut().zip(wire_days) {
            if let Some(day) = wire_day {
                *slot = Some(DailyWindow {
                    start: parse_time(&day.start)?,
                    end: parse_time(&day.end)?,
                });
            }
        }
        CallingWindows::new(wire.time_zone, days)
    }
}

impl From<CallingWindows> for WireWindows {
    fn from(windows: CallingWindows) -> Self {
        let [
            monday,
            tuesday,
            wednesday,
            thursday,
            friday,
            saturday,
            sunday,
        ] = windows.days.map(|day| {
            day.map(|w| WireDay {
                start: format_time(w.start),
                end: format_time(w.end),
            })
        });
        WireWindows {
            time_zone: windows.tz,
            days: WireDays {
                monday,
                tuesday,
                wednesday,
                thursday,
                friday,
                saturday,
                sunday,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_window_ending_at_24_00_runs_to_midnight() {
        let json = r#"{"time_zone":"UTC","days":{"monday":{"start":"00:00","end":"24:00"}}}"#;
        let windows: CallingWindows = serde_json::from_str(json).unwrap();
        let last_second = Utc.with_ymd_and_hms(2026, 3, 2, 23, 59, 30).unwrap();
        assert!(
            windows.is_open_at(last_second),
            "open in the day's last minute"
        );
        assert!(
            !windows.is_open_at(last_second + TimeDelta::minutes(1)),
            "closed on Tuesday"
        );
        assert!(
            serde_json::to_string(&windows)
                .unwrap()
                .contains(r#""end":"24:00""#)
        );
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn uk_default_hours_in_summer_and_winter() {
        let uk = CallingWindows::uk_default();
        // Wednesday 16 July 2025: BST, so 10:00 local is 09:00 UTC.
        assert!(!uk.is_open_at(utc("2025-07-16T08:59:00Z")));
        assert!(uk.is_open_at(utc("2025-07-16T09:00:00Z")));
        assert!(uk.is_open_at(utc("2025-07-16T18:59:00Z")));
        assert!(!uk.is_open_at(utc("2025-07-16T19:00:00Z")));
        // Wednesday 15 January 2025: GMT.
        assert!(!uk.is_open_at(utc("2025-01-15T09:59:00Z")));
        assert!(uk.is_open_at(utc("2025-01-15T10:00:00Z")));
        // Saturday closes at 18:00; Sunday is closed all day.
        assert!(!uk.is_open_at(utc("2025-01-18T18:00:00Z")));
        assert!(!uk.is_open_at(utc("2025-01-19T12:00:00Z")));
    }

    #[test]
    fn next_opening_across_the_october_clock_change() {
        let uk = CallingWindows::uk_default();
        // Saturday 25 Oct 2025, 18:30 BST; clocks go back on Sunday 26 Oct.
        let saturday_evening = utc("2025-10-25T17:30:00Z");
        assert_eq!(
            uk.next_opening_after(saturday_evening),
            Some(utc("2025-10-27T10:00:00Z")),
            "Monday 10:00 GMT"
        );
        // Friday 24 Oct after hours: Saturday 10:00 is still BST.
        assert_eq!(
            uk.next_opening_after(utc("2025-10-24T19:30:00Z")),
            Some(utc("2025-10-25T09:00:00Z"))
        );
    }

    #[test]
    fn next_opening_across_the_march_clock_change() {
        let uk = CallingWindows::uk_default();
        // Saturday 29 Mar 2025 after 18:00 GMT; clocks go forward on Sunday 30 Mar.
        assert_eq!(
            uk.next_opening_after(utc("2025-03-29T18:00:00Z")),
            Some(utc("2025-03-31T09:00:00Z")),
            "Monday 10:00 BST"
        );
        // Open now means now.
        let open = utc("2025-03-31T12:00:00Z");
        assert_eq!(uk.next_opening_after(open), Some(open));
    }

    #[test]
    fn openings_inside_a_clock_change_hour() {
        let mut days = [None; 7];
        days[6] = Some(DailyWindow {
            start: hm(1, 30),
            end: hm(3, 0),
        });
        let sunday_nights = CallingWindows::new(chrono_tz::Europe::London, days).unwrap();
        // 01:30 does not exist on 30 Mar 2025: opening moves to 02:00 BST = 01:00 UTC.
        assert_eq!(
            sunday_nights.next_opening_after(utc("2025-03-29T12:00:00Z")),
            Some(utc("2025-03-30T01:00:00Z"))
        );
        // 01:30 happens twice on 26 Oct 2025: the first (BST, 00:30 UTC) counts, and the
        // second pass through the hour is open as well.
        assert_eq!(
            sunday_nights.next_opening_after(utc("2025-10-25T12:00:00Z")),
            Some(utc("2025-10-26T00:30:00Z"))
        );
        assert!(sunday_nights.is_open_at(utc("2025-10-26T01:45:00Z")));
    }

    #[test]
    fn another_time_zone_shifts_the_hours() {
        let new_york = CallingWindows::uk_default().in_time_zone(chrono_tz::America::New_York);
        // 12:00 UTC on a January Wednesday is 07:00 in New York.
        assert!(!new_york.is_open_at(utc("2025-01-15T12:00:00Z")));
        assert_eq!(
            new_york.next_opening_after(utc("2025-01-15T12:00:00Z")),
            Some(utc("2025-01-15T15:00:00Z"))
        );
    }

    #[test]
    fn validation_refuses_backwards_or_empty_hours() {
        let mut days = [None; 7];
        assert_eq!(
            CallingWindows::new(chrono_tz::Europe::London, days),
            Err(CallingWindowError::NeverOpen)
        );
        days[2] = Some(DailyWindow {
            start: hm(20, 0),
            end: hm(10, 0),
        });
        let err = CallingWindows::new(chrono_tz::Europe::London, days).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wednesday: calling hours must end after they start"
        );
    }

    #[test]
    fn json_uses_named_days_and_hh_mm() {
        let json = serde_json::to_value(CallingWindows::uk_default()).unwrap();
        assert_eq!(json["time_zone"], "Europe/London");
        assert_eq!(
            json["days"]["monday"],
            json!({"start": "10:00", "end": "20:00"})
        );
        assert_eq!(json["days"]["saturday"]["end"], "18:00");
        assert_eq!(json["days"]["sunday"], serde_json::Value::Null);
        let back: CallingWindows = serde_json::from_value(json).unwrap();
        assert_eq!(back, CallingWindows::uk_default());

        let partial = json!({"time_zone": "Europe/London",
                             "days": {"tuesday": {"start": "9:30", "end": "12:00"}}});
        let windows: CallingWindows = serde_json::from_value(partial).unwrap();
        assert!(windows.days()[0].is_none());
        assert_eq!(windows.days()[1].unwrap().to_string(), "09:30–12:00");

        let bad = json!({"time_zone": "Europe/London",
                         "days": {"monday": {"start": "noon", "end": "20:00"}}});
        assert!(serde_json::from_value::<CallingWindows>(bad).is_err());
        let bad_tz = json!({"time_zone": "Mars/Olympus", "days": {}});
        assert!(serde_json::from_value::<CallingWindows>(bad_tz).is_err());
    }
}
