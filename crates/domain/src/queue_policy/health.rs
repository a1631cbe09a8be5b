//! Queue health: why a campaign's queue has nobody to ring, in numbers and in words.
//!
//! Owns the tally of [`Callability`] results and its one-line description for organisers
//! ("312 in cooldown, first back at 18:00, …"). It must not count contacts itself; the
//! store feeds it one result per contact, or builds it from grouped SQL counts.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use chrono_tz::Tz;

use super::{Callability, NotCallableReason};

/// Counts of contacts per queue state, plus the earliest time each waiting group frees up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueHealth {
    /// Ready to hand to a caller now.
    pub callable: u64,
    /// Held by a caller.
    pub leased: u64,
    /// Waiting for a callback time.
    pub callback_scheduled: u64,
    /// In cooldown after an attempt.
    pub cooling_down: u64,
    /// Waiting for calling hours to open.
    pub outside_calling_hours: u64,
    /// Given up after the maximum attempts.
    pub max_attempts_reached: u64,
    /// On a suppression list.
    pub suppressed: u64,
    /// Finished by an outcome.
    pub completed: u64,
    /// Earliest lease expiry among `leased`.
    pub first_lease_expiry: Option<DateTime<Utc>>,
    /// Earliest callback time among `callback_scheduled`.
    pub first_callback_at: Option<DateTime<Utc>>,
    /// Earliest cooldown end among `cooling_down`.
    pub first_cooldown_end: Option<DateTime<Utc>>,
    /// Next opening of calling hours among `outside_calling_hours`.
    pub first_opening: Option<DateTime<Utc>>,
}

fn earliest(slot: &mut Option<DateTime<Utc>>, candidate: Option<DateTime<Utc>>) {
    if let Some(candidate) = candidate {
        *slot = Some(slot.map_or(candidate, |current| current.min(candidate)));
    }
}

impl QueueHealth {
    /// Adds one contact's callability to the tally.
    pub fn record(&mut self, callability: &Callability) {
        use NotCallableReason as Why;
        match *callability {
            Callability::Callable { .. } => self.callable += 1,
            Callability::NotCallable(reason) => match reason {
                Why::Completed => self.completed += 1,
                Why::Suppressed => self.suppressed += 1,
                Why::MaxAttemptsReached => self.max_attempts_reached += 1,
                Why::Leased { until } => {
                    self.leased += 1;
                    earliest(&mut self.first_lease_expiry, Some(until));
                }
                Why::CallbackScheduledAt(at) => {
                    self.callback_scheduled += 1;
                    earliest(&mut self.first_callback_at, Some(at));
                }
                Why::CoolingDownUntil(at) => {
                    self.cooling_down += 1;
                    earliest(&mut self.first_cooldown_end, Some(at));
                }
                Why::OutsideCallingHours { opens_at } => {
                    self.outside_calling_hours += 1;
                    earliest(&mut self.first_opening, opens_at);
                }
            },
        }
    }

    /// The earliest instant a contact not callable now could become callable, if any.
    /// A lower bound: a cooldown that ends outside calling hours waits for them too.
    pub fn next_callable_at(&self) -> Option<DateTime<Utc>> {
        [
            self.first_lease_expiry,
            self.first_callback_at,
            self.first_cooldown_end,
            self.first_opening,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// One line for organisers, with times in the campaign's zone `tz`, e.g.
    /// "12 ready to call, 312 in cooldown, first back at 18:00, 40 outside calling hours,
    /// opening at Mon 10:00, 5 suppressed". Groups with nobody in them are left out.
    pub fn describe(&self, now: DateTime<Utc>, tz: Tz) -> String {
        let when = |at: Option<DateTime<Utc>>| at.map(|at| format_time(at, now, tz));
        let mut parts = Vec::new();
        let mut add = |count: u64, text: &str, time: Option<(&str, Option<String>)>| {
            if count == 0 {
                return;
            }
            let mut part = format!("{count} {text}");
            if let Some((prefix, Some(time))) = time {
                part.push_str(&format!(", {prefix} {time}"));
            }
            parts.push(part);
        };
        add(self.callable, "ready to call", None);
        add(
            self.leased,
            "being called",
            Some(("first free at", when(self.first_lease_expiry))),
        );
        add(
            self.callback_scheduled,
            if self.callback_scheduled == 1 {
                "callback booked"
            } else {
                "callbacks booked"
            },
            Some(("first at", when(self.first_callback_at))),
        );
        add(
            self.cooling_down,
            "in cooldown",
            Some(("first back at", when(self.first_cooldown_end))),
        );
        add(
            self.outside_calling_hours,
            "outside calling hours",
            Some(("opening at", when(self.first_opening))),
        );
        add(self.max_attempts_reached, "out of attempts", None);
        add(self.suppressed, "suppressed", None);
        add(self.completed, "done", None);
        if parts.is_empty() {
            "no contacts".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

impl<'a> FromIterator<&'a Callability> for QueueHealth {
    fn from_iter<I: IntoIterator<Item = &'a Callability>>(iter: I) -> Self {
        let mut health = QueueHealth::default();
        iter.into_iter().for_each(|c| health.record(c));
        health
    }
}

/// "18:00" today, "Tue 18:00" within the week, "12 Nov 18:00" beyond.
fn format_time(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    let local = at.with_timezone(&tz);
    let today = now.with_timezone(&tz).date_naive();
    if local.date_naive() == today {
        local.format("%H:%M").to_string()
    } else if local.date_naive() > today && at - now < TimeDelta::days(6) {
        local.format("%a %H:%M").to_string()
    } else {
        format!("{} {}", local.day(), local.format("%b %H:%M"))
    }
}
