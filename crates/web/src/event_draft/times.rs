//! Reading an event's times: wall-clock dates and times in the event's own zone (a time
//! the clocks skip is refused in words; one they pass twice is the first), single
//! date-time values, and shift lines. Pure: no clock, no I/O.

use super::{DEFAULT_TIME_ZONE, EventDraft, FieldErrors, MAX_CAPACITY, MAX_LENGTH_MS, MAX_SHIFTS};
use barnstorm_store::events::NewShift;
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Parses a time zone name, e.g. `Europe/London`.
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        DEFAULT_TIME_ZONE.parse().ok()
    } else {
        name.parse().ok()
    }
}

/// The instant at local wall-clock `time` in `tz`; an error in words for a time the
/// clocks skip. A time they pass twice (clocks going back) is the first of the two.
pub fn local_to_millis(time: NaiveDateTime, tz: Tz) -> Result<i64, String> {
    match tz.from_local_datetime(&time) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.timestamp_millis()),
        LocalResult::None => Err(format!(
            "{} does not exist in {tz}: the clocks go forward then. Pick a time an hour later.",
            time.format("%H:%M on %-d %B %Y")
        )),
    }
}

/// The wall-clock time in `tz` of an instant.
pub fn millis_to_local(millis: i64, tz: Tz) -> Option<NaiveDateTime> {
    tz.timestamp_millis_opt(millis)
        .single()
        .map(|t| t.naive_local())
}

pub(super) fn parse_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").ok()
}

pub(super) fn parse_clock(raw: &str) -> Option<NaiveTime> {
    let raw = raw.trim();
    NaiveTime::parse_from_str(raw, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H:%M:%S"))
        .or_else(|_| NaiveTime::parse_from_str(raw, "%H.%M"))
        .ok()
}

/// A single start or end value: local `YYYY-MM-DDTHH:MM[:SS]` (or with a space), or
/// RFC 3339 with an offset (an absolute instant).
pub(super) fn parse_moment(raw: &str, tz: Tz) -> Result<i64, String> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(raw, format) {
            return local_to_millis(local, tz);
        }
    }
    Err(format!(
        "'{raw}' is not a date and time; write it like 2025-07-10T19:00"
    ))
}

pub(super) fn bad_time(raw: &str) -> String {
    format!("'{}' is not a time; write it like 19:30", raw.trim())
}

/// Start and end in milliseconds, or the mistakes, from whichever form the draft used.
pub(super) fn resolve_times(
    draft: &EventDraft,
    tz: Tz,
    errors: &mut FieldErrors,
) -> Option<(i64, i64)> {
    let start = if draft.starts_at.trim().is_empty() {
        let date = if draft.date.trim().is_empty() {
            errors.add("date", "Give the day of the event.");
            None
        } else {
            parse_date(&draft.date).or_else(|| {
                errors.add(
                    "date",
                    format!(
                        "'{}' is not a date; write it like 2025-07-10",
                        draft.date.trim()
                    ),
                );
                None
            })
        };
        let time = if draft.start_time.trim().is_empty() {
            errors.add("start_time", "Give the time the event starts.");
            None
        } else {
            parse_clock(&draft.start_time).or_else(|| {
                errors.add("start_time", bad_time(&draft.start_time));
                None
            })
        };
        match (date, time) {
            (Some(d), Some(t)) => local_to_millis(d.and_time(t), tz)
                .map_err(|e| errors.add("start_time", e))
                .ok()
                .map(|ms| (ms, Some(d))),
            _ => None,
        }
    } else {
        parse_moment(&draft.starts_at, tz)
            .map_err(|e| errors.add("starts_at", e))
            .ok()
            .map(|ms| (ms, None))
    };

    let (end, end_field) = if !draft.ends_at.trim().is_empty() {
        (
            parse_moment(&draft.ends_at, tz)
                .map_err(|e| errors.add("ends_at", e))
                .ok(),
            "ends_at",
        )
    } else if draft.end_time.trim().is_empty() {
        errors.add("end_time", "Give the time the event ends.");
        (None, "end_time")
    } else {
        let day = if draft.end_date.trim().is_empty() {
            start.and_then(|(_, d)| d).or_else(|| {
                start
                    .and_then(|(ms, _)| millis_to_local(ms, tz))
                    .map(|t| t.date())
            })
        } else {
            parse_date(&draft.end_date).or_else(|| {
                errors.add(
                    "end_date",
                    format!(
                        "'{}' is not a date; write it like 2025-07-10",
                        draft.end_date.trim()
                    ),
                );
                None
            })
        };
        let time = parse_clock(&draft.end_time).or_else(|| {
            errors.add("end_time", bad_time(&draft.end_time));
            None
        });
        let end = match (day, time) {
            (Some(d), Some(t)) => local_to_millis(d.and_time(t), tz)
                .map_err(|e| errors.add("end_time", e))
                .ok(),
            _ => None,
        };
        (end, "end_time")
    };
    let (start, end) = (start?.0, end?);
    if end <= start {
        errors.add(end_field, "End must be after the start.");
        return None;
    }
    if end - start > MAX_LENGTH_MS {
        errors.add(
            end_field,
            "An event can last at most 14 days; check the end.",
        );
        return None;
    }
    Some((start, end))
}

/// Parses the shift lines, each within the event's time.
pub(super) fn shifts(
    raw: &str,
    tz: Tz,
    event: Option<(i64, i64)>,
    errors: &mut FieldErrors,
) -> Vec<NewShift> {
    let mut out = Vec::new();
    let lines: Vec<&str> = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > MAX_SHIFTS {
        errors.add("shifts", format!("At most {MAX_SHIFTS} shifts."));
        return out;
    }
    let Some((start, end)) = event else {
        return out;
    };
    let first_day = millis_to_local(start, tz).map(|t| t.date());
    for (n, line) in lines.iter().enumerate() {
        let number = n + 1;
        let problem = |detail: &str| {
            format!(
                "Shift {number} ('{line}'): {detail}. Write one shift per line like 18:00-20:00, optionally followed by the number of places."
            )
        };
        let mut words: Vec<&str> = line.split_whitespace().collect();
        let day = match words.first().and_then(|w| parse_date(w)) {
            Some(day) => {
                words.remove(0);
                Some(day)
            }
            None => first_day,
        };
        let (range, places) = match words.as_slice() {
            [range] => (*range, None),
            [range, places] => (*range, Some(*places)),
            _ => {
                errors.add("shifts", problem("it should be a time range"));
                continue;
            }
        };
        let times = range
            .split_once(['-', '–'])
            .and_then(|(a, b)| Some((parse_clock(a)?, parse_clock(b)?)));
        let (Some(day), Some((from, to))) = (day, times) else {
            errors.add("shifts", problem("the times cannot be read"));
            continue;
        };
        let places = match places.map(str::parse::<i64>) {
            None => None,
            Some(Ok(p)) if (1..=MAX_CAPACITY).contains(&p) => Some(p),
            Some(_) => {
                errors.add(
                    "shifts",
                    problem("the number of places must be a whole number"),
                );
                continue;
            }
        };
        let to_day = if to <= from {
            day.succ_opt()
        } else {
            Some(day)
        };
        let starts_at = local_to_millis(day.and_time(from), tz);
        let ends_at = to_day
            .ok_or_else(|| problem("the date is out of range"))
            .and_then(|d| local_to_millis(d.and_time(to), tz));
        match (starts_at, ends_at) {
            (Ok(s), Ok(e)) if s >= start && e <= end => out.push(NewShift {
                id: None,
                starts_at: s,
                ends_at: e,
                capacity: places,
            }),
            (Ok(_), Ok(_)) => errors.add("shifts", problem("it is outside the event's time")),
            (Err(e), _) | (_, Err(e)) => errors.add("shifts", e),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn at(day: &str, time: &str) -> NaiveDateTime {
        parse_date(day)
            .unwrap()
            .and_time(parse_clock(time).unwrap())
    }

    #[test]
    fn local_times_are_read_in_the_event_zone() {
        let summer = local_to_millis(at("2025-07-10", "19:00"), London).unwrap();
        assert_eq!(
            summer,
            chrono::Utc
                .with_ymd_and_hms(2025, 7, 10, 18, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
        let skipped = local_to_millis(at("2025-03-30", "01:30"), London).unwrap_err();
        assert!(skipped.contains("clocks go forward"), "{skipped}");
        // 01:30 on 26 October 2025 happens twice; the first (BST) is taken.
        let twice = local_to_millis(at("2025-10-26", "01:30"), London).unwrap();
        assert_eq!(
            twice,
            chrono::Utc
                .with_ymd_and_hms(2025, 10, 26, 0, 30, 0)
                .unwrap()
                .timestamp_millis()
        );
    }

    #[test]
    fn times_in_the_wrong_order_name_the_end_field() {
        let draft = EventDraft {
            date: "2025-07-10".into(),
            start_time: "19:00".into(),
            end_time: "18:00".into(),
            ..EventDraft::default()
        };
        let mut errors = FieldErrors::new();
        assert!(resolve_times(&draft, London, &mut errors).is_none());
        assert_eq!(errors.get("end_time"), Some("End must be after the start."));
        let overnight = EventDraft {
            end_date: "2025-07-11".into(),
            ..draft
        };
        let mut errors = FieldErrors::new();
        let (s, e) = resolve_times(&overnight, London, &mut errors).unwrap();
        assert_eq!(e - s, 23 * 3600 * 1000);
    }

    #[test]
    fn single_values_and_offsets_are_accepted() {
        let draft = EventDraft {
            starts_at: "2025-07-10T19:00".into(),
            ends_at: "2025-07-10T21:00:00+01:00".into(),
            ..EventDraft::default()
        };
        let mut errors = FieldErrors::new();
        let (s, e) = resolve_times(&draft, London, &mut errors).unwrap();
        assert_eq!(e - s, 2 * 3600 * 1000);
    }

    #[test]
    fn shifts_are_read_one_per_line() {
        let start = local_to_millis(at("2025-07-10", "10:00"), London).unwrap();
        let end = local_to_millis(at("2025-07-10", "16:00"), London).unwrap();
        let mut errors = FieldErrors::new();
        let parsed = shifts(
            "10:00-12:00 5\n\n12:00–14:00",
            London,
            Some((start, end)),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].capacity, Some(5));
        assert_eq!(parsed[1].starts_at, start + 2 * 3600 * 1000);
        let mut errors = FieldErrors::new();
        shifts(
            "15:00-17:00\nlunch",
            London,
            Some((start, end)),
            &mut errors,
        );
        let message = errors.get("shifts").unwrap();
        assert!(message.contains("outside the event"), "{message}");
    }
}
