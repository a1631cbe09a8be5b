//! The session templates a breakout group plans from (phonebank, canvass, street stall),
//! the draft each makes from the meetup (its place, the template's usual day and hours),
//! and the words the plan is counted in. Pure: no store, no requests.

use crate::event_draft::{EventDraft, FieldErrors, millis_to_local, parse_time_zone};
use barnstorm_domain::event::EventKind;
use barnstorm_store::events::{Breakout, Event};
use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

/// A kind of session a breakout group can plan, with the defaults it fills in.
pub(crate) struct SessionTemplate {
    /// Form value.
    pub key: &'static str,
    /// What the select shows.
    pub label: &'static str,
    /// The kind of event it makes.
    pub kind: EventKind,
    /// The day it usually happens when no date is given.
    weekday: Weekday,
    /// Usual start, hours and minutes.
    start: (u32, u32),
    /// Usual length in minutes.
    minutes: i64,
    /// What the session's description says people will do.
    blurb: &'static str,
}

/// The templates offered, phonebank first (the usual reason for a barnstorm).
pub(crate) const TEMPLATES: [SessionTemplate; 3] = [
    SessionTemplate {
        key: "phonebank",
        label: "Phonebank session (Tue 18:30–20:30)",
        kind: EventKind::Phonebank,
        weekday: Weekday::Tue,
        start: (18, 30),
        minutes: 120,
        blurb: "Bring a charged phone and headphones if you have them. We'll brief you, then call together.",
    },
    SessionTemplate {
        key: "canvass",
        label: "Canvass (Sat 11:00–14:00)",
        kind: EventKind::Canvass,
        weekday: Weekday::Sat,
        start: (11, 0),
        minutes: 180,
        blurb: "Wear comfortable shoes. We'll pair you up and knock on doors together.",
    },
    SessionTemplate {
        key: "street_stall",
        label: "Street stall (Sat 10:00–12:00)",
        kind: EventKind::StreetStall,
        weekday: Weekday::Sat,
        start: (10, 0),
        minutes: 120,
        blurb: "Help run the stall: talk to passers-by and sign people up.",
    },
];

/// How people count sessions of a kind: ("phonebanking session", "phonebanking sessions").
fn kind_nouns(kind: EventKind) -> (&'static str, &'static str) {
    match kind {
        EventKind::Phonebank => ("phonebanking session", "phonebanking sessions"),
        EventKind::Canvass => ("canvass", "canvasses"),
        EventKind::StreetStall => ("street stall", "street stalls"),
        EventKind::Training => ("training session", "training sessions"),
        EventKind::Social => ("social", "socials"),
        EventKind::Meetup => ("meetup", "meetups"),
        EventKind::Other => ("other event", "other events"),
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "20 phonebanking sessions and 3 canvasses planned, 143 sign-ups".
pub(crate) fn plan_summary(by_kind: &[(EventKind, i64)], signups: i64) -> String {
    let parts: Vec<String> = by_kind
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(kind, n)| {
            let (one, many) = kind_nouns(*kind);
            plural(*n, one, many)
        })
        .collect();
    let planned = match parts.as_slice() {
        [] => "Nothing planned yet".to_owned(),
        [only] => format!("{only} planned"),
        [rest @ .., last] => format!("{} and {last} planned", rest.join(", ")),
    };
    format!("{planned}, {}", plural(signups, "sign-up", "sign-ups"))
}

/// The first `weekday` after `today` (a week on when today is that day).
fn next_weekday(today: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + i64::from(weekday.num_days_from_monday())
        - i64::from(today.weekday().num_days_from_monday()))
        % 7;
    today + Duration::days(if ahead == 0 { 7 } else { ahead })
}

#[derive(Deserialize)]
pub(crate) struct SessionForm {
    pub template: String,
    #[serde(default)]
    campaign_id: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    postcode: String,
}

/// The draft of a session planned from `meetup` by `breakout` with `template`: the
/// meetup's place and its accessibility notes (unless another postcode is given),
/// visibility and time zone, the template's usual day after the meetup and its hours
/// unless a date or start is given.
pub(crate) fn session_draft(
    meetup: &Event,
    breakout: &Breakout,
    template: &SessionTemplate,
    form: &SessionForm,
    today: NaiveDate,
) -> Result<EventDraft, String> {
    let mut draft = EventDraft::from_event(meetup);
    // Sessions follow the meetup they are planned at: by default the template's next usual
    // day after the meetup (or after today, once the meetup is over).
    let meetup_day = parse_time_zone(&meetup.time_zone)
        .and_then(|tz| millis_to_local(meetup.starts_at, tz))
        .map_or(today, |t| t.date());
    let date = match form.date.trim() {
        "" => next_weekday(today.max(meetup_day), template.weekday),
        raw => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| format!("Date: '{raw}' is not a date; write it like 2025-07-10."))?,
    };
    if date < today {
        return Err("Date: that day has passed; choose today or a later day.".to_owned());
    }
    let start = match form.start_time.trim() {
        "" => NaiveTime::from_hms_opt(template.start.0, template.start.1, 0),
        raw => NaiveTime::parse_from_str(raw, "%H:%M").ok(),
    }
    .ok_or_else(|| {
        format!(
            "Start time: '{}' is not a time; write it like 18:30.",
            form.start_time.trim()
        )
    })?;
    let end = date.and_time(start) + Duration::minutes(template.minutes);
    let by = if breakout.facilitator.is_empty() {
        format!("the {} breakout group", breakout.name)
    } else {
        format!(
            "the {} breakout group (facilitator: {})",
            breakout.name, breakout.facilitator
        )
    };
    draft.kind = template.kind.as_str().to_owned();
    draft.title = format!("{}: {}", template.kind.label(), breakout.name);
    // The event page links back to the meetup itself (descriptions keep no relative links).
    draft.description = format!("Planned at {} by {by}.\n\n{}", meetup.title, template.blurb);
    draft.date = date.format("%Y-%m-%d").to_string();
    draft.start_time = start.format("%H:%M").to_string();
    draft.end_time = end.format("%H:%M").to_string();
    draft.end_date = if end.date() == date {
        String::new()
    } else {
        end.format("%Y-%m-%d").to_string()
    };
    draft.capacity.clear();
    draft.shifts.clear();
    draft.parent_event_id = meetup.id.to_string();
    draft.breakout_id = breakout.id.to_string();
    draft.campaign_id = if template.kind == EventKind::Phonebank {
        form.campaign_id.trim().to_owned()
    } else {
        String::new()
    };
    let postcode = form.postcode.trim();
    if !postcode.is_empty() {
        // Another place: nothing said about the meetup's venue holds there.
        draft.postcode = postcode.to_owned();
        draft.address.clear();
        draft.address_after_rsvp = false;
        draft.accessibility.clear();
    }
    Ok(draft)
}

/// The draft's mistakes, each named by the label of the compact form's field that holds
/// it (or of the full form, for what only that one has).
pub(crate) fn field_messages(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, message)| {
            let label = match field {
                "postcode" => "Different postcode",
                "campaign_id" => "Phone bank to call with",
                "date" | "end_date" => "Date",
                "start_time" | "end_time" => "Start time",
                "title" => "Title",
                other => other,
            };
            format!("{label}: {message}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_reads_like_a_sentence() {
        assert_eq!(plan_summary(&[], 0), "Nothing planned yet, 0 sign-ups");
        assert_eq!(
            plan_summary(&[(EventKind::Phonebank, 20)], 143),
            "20 phonebanking sessions planned, 143 sign-ups"
        );
        assert_eq!(
            plan_summary(
                &[
                    (EventKind::Phonebank, 1),
                    (EventKind::Canvass, 2),
                    (EventKind::StreetStall, 1)
                ],
                1
            ),
            "1 phonebanking session, 2 canvasses and 1 street stall planned, 1 sign-up"
        );
    }

    #[test]
    fn templates_default_to_the_next_usual_day() {
        let wednesday = NaiveDate::from_ymd_opt(2025, 12, 3).unwrap();
        assert_eq!(
            next_weekday(wednesday, Weekday::Tue),
            NaiveDate::from_ymd_opt(2025, 12, 9).unwrap()
        );
        let tuesday = NaiveDate::from_ymd_opt(2025, 12, 9).unwrap();
        assert_eq!(
            next_weekday(tuesday, Weekday::Tue),
            NaiveDate::from_ymd_opt(2025, 12, 16).unwrap()
        );
    }
}
