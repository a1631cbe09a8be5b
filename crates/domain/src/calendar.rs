//! iCalendar (RFC 5545) feeds for events: one event's `.ics`, a group's calendar, a search.
//!
//! Owns the text format only: escaping, line folding, CRLF endings and the fixed set of
//! properties Barnstorm publishes. It must not decide which events a reader may see or how
//! precise their location is; callers pass in exactly what may be published.

use chrono::{DateTime, Utc};

/// One event as it appears in a calendar feed. Times are UTC milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarEvent {
    /// Globally unique and stable across edits, e.g. `event-42@barnstorm.example.org`.
    pub uid: String,
    /// The event's title (SUMMARY).
    pub title: String,
    /// Plain text (see `markdown::plain_summary`), not HTML or Markdown.
    pub description: String,
    /// Start, UTC milliseconds.
    pub starts_at: i64,
    /// End, UTC milliseconds.
    pub ends_at: i64,
    /// IANA zone the host chose, e.g. `Europe/London`. Times are written in UTC, which every
    /// client converts; the zone only becomes the calendar's `X-WR-TIMEZONE` hint when every
    /// event in the feed shares it.
    pub time_zone: String,
    /// Where, as much of it as this reader may see.
    pub location: Option<String>,
    /// The event page.
    pub url: Option<String>,
    /// Latitude and longitude in degrees, as precise as this reader may see.
    pub geo: Option<(f64, f64)>,
    /// Cancelled events stay in feeds with STATUS:CANCELLED so calendars remove them.
    pub cancelled: bool,
    /// Last change, UTC milliseconds (LAST-MODIFIED, and DTSTAMP: see [`calendar`]).
    pub updated_at: i64,
    /// Revision number; must grow with every change a subscriber should notice.
    pub sequence: i64,
}

/// Identifies the software that wrote the feed.
pub const PRODID: &str = "-//Barnstorm//Events//EN";

/// The longest content line RFC 5545 allows, in octets, excluding CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// Builds a complete `VCALENDAR` (METHOD:PUBLISH) named `name` holding `events`, with CRLF
/// line endings and long lines folded. DTSTAMP is each event's `updated_at` rather than the
/// time of the request, so the same events always give the same bytes (cacheable, ETag-able).
pub fn calendar(name: &str, events: &[CalendarEvent]) -> String {
    let mut out = Output::default();
    out.line("BEGIN:VCALENDAR");
    out.line(&format!("PRODID:{PRODID}"));
    out.line("VERSION:2.0");
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.line(&format!("X-WR-CALNAME:{}", escape_text(name)));
    if let Some(first) = events.first()
        && !first.time_zone.is_empty()
        && events
            .iter()
            .all(|event| event.time_zone == first.time_zone)
    {
        out.line(&format!("X-WR-TIMEZONE:{}", escape_text(&first.time_zone)));
    }
    for event in events {
        write_event(&mut out, event);
    }
    out.line("END:VCALENDAR");
    out.text
}

fn write_event(out: &mut Output, event: &CalendarEvent) {
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}", escape_text(&event.uid)));
    out.line(&format!("DTSTAMP:{}", utc_stamp(event.updated_at)));
    out.line(&format!("DTSTART:{}", utc_stamp(event.starts_at)));
    out.line(&format!(
        "DTEND:{}",
        utc_stamp(event.ends_at.max(event.starts_at))
    ));
    out.line(&format!("LAST-MODIFIED:{}", utc_stamp(event.updated_at)));
    out.line(&format!("SEQUENCE:{}", event.sequence.max(0)));
    out.line(if event.cancelled {
        "STATUS:CANCELLED"
    } else {
        "STATUS:CONFIRMED"
    });
    out.line(&format!("SUMMARY:{}", escape_text(&event.title)));
    if !event.description.is_empty() {
        out.line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
    }
    if let Some(location) = event.location.as_deref().filter(|l| !l.is_empty()) {
        out.line(&format!("LOCATION:{}", escape_text(location)));
    }
    if let Some((lat, lon)) = event.geo
        && lat.is_finite()
        && lon.is_finite()
    {
        out.line(&format!("GEO:{lat:.6};{lon:.6}"));
    }
    if let Some(url) = event.url.as_deref().filter(|u| !u.is_empty()) {
        // URI values are not TEXT-escaped; only characters that would break the line go.
        let url: String = url.chars().filter(|c| !c.is_control()).collect();
        out.line(&format!("URL:{url}"));
    }
    out.line("END:VEVENT");
}

/// `20261201T100000Z`. Out-of-range times (never produced by the store) fall back to the
/// Unix epoch rather than failing the whole feed.
fn utc_stamp(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma get a backslash;
/// every line break becomes `\n`; other control characters, which TEXT forbids, are dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Collects content lines, folding each to 75 octets and ending it with CRLF.
#[derive(Default)]
struct Output {
    text: String,
}

impl Output {
    fn line(&mut self, line: &str) {
        let mut budget = MAX_LINE_OCTETS;
        let mut start = 0;
        for (at, c) in line.char_indices() {
            // Fold before a character that would overflow; never inside one.
            if at + c.len_utf8() - start > budget {
                self.text.push_str(&line[start..at]);
                self.text.push_str("\r\n ");
                start = at;
                budget = MAX_LINE_OCTETS - 1; // the leading space counts
            }
        }
        self.text.push_str(&line[start..]);
        self.text.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests;
