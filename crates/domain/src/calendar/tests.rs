use super::*;

/// 2026-12-01T10:00:00Z
const START: i64 = 1_796_119_200_000;
const HOUR: i64 = 3_600_000;

fn event() -> CalendarEvent {
    CalendarEvent {
        uid: "event-42@barnstorm.example.org".into(),
        title: "Canvass in Headingley".into(),
        description: "Meet at the library. Bring water.".into(),
        starts_at: START,
        ends_at: START + 2 * HOUR,
        time_zone: "Europe/London".into(),
        location: Some("Headingley Library, Leeds LS6".into()),
        url: Some("https://barnstorm.example.org/events/42".into()),
        geo: Some((53.8196, -1.5771)),
        cancelled: false,
        updated_at: START - 24 * HOUR,
        sequence: 3,
    }
}

/// Undoes folding by hand: a CRLF followed by one space or tab disappears.
fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

fn parsed_event_value(ics: &str, name: &str) -> String {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("parses");
    let vevent = calendar
        .components
        .iter()
        .find(|c| c.name == "VEVENT")
        .expect("a VEVENT");
    let property = vevent.find_prop(name).unwrap_or_else(|| panic!("{name}"));
    property.val.clone().unescape_text().as_str().to_owned()
}

#[test]
fn writes_the_calendar_and_event_properties() {
    let ics = calendar("Leeds events", &[event()]);
    let expected = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Barnstorm//Events//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Leeds events",
        "X-WR-TIMEZONE:Europe/London",
        "BEGIN:VEVENT",
        "UID:event-42@barnstorm.example.org",
        "DTSTAMP:20261130T100000Z",
        "DTSTART:20261201T100000Z",
        "DTEND:20261201T120000Z",
        "LAST-MODIFIED:20261130T100000Z",
        "SEQUENCE:3",
        "STATUS:CONFIRMED",
        "SUMMARY:Canvass in Headingley",
        "DESCRIPTION:Meet at the library. Bring water.",
        "LOCATION:Headingley Library\\, Leeds LS6",
        "GEO:53.819600;-1.577100",
        "URL:https://barnstorm.example.org/events/42",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    .join("\r\n");
    assert_eq!(ics, expected);
}

#[test]
fn every_line_ends_in_crlf() {
    let ics = calendar("x", &[event(), event()]);
    assert!(ics.ends_with("\r\n"));
    assert_eq!(ics.matches('\n').count(), ics.matches("\r\n").count());
    assert_eq!(ics.matches('\r').count(), ics.matches("\r\n").count());
}

#[test]
fn cancelled_events_say_so() {
    let cancelled = CalendarEvent {
        cancelled: true,
        sequence: 4,
        ..event()
    };
    let ics = calendar("x", &[cancelled]);
    assert!(ics.contains("\r\nSTATUS:CANCELLED\r\n"));
    assert!(ics.contains("\r\nSEQUENCE:4\r\n"));
    assert!(!ics.contains("CONFIRMED"));
}

#[test]
fn optional_properties_are_left_out_when_absent() {
    let bare = CalendarEvent {
        description: String::new(),
        location: None,
        url: None,
        geo: None,
        ..event()
    };
    let ics = calendar("x", &[bare]);
    for absent in ["DESCRIPTION", "LOCATION", "GEO", "URL"] {
        assert!(
            !ics.contains(&format!("\r\n{absent}:")),
            "{absent} in {ics}"
        );
    }
}

#[test]
fn time_zone_hint_only_when_all_events_agree() {
    let belfast = CalendarEvent {
        time_zone: "Europe/Dublin".into(),
        ..event()
    };
    assert!(!calendar("x", &[event(), belfast]).contains("X-WR-TIMEZONE"));
    assert!(!calendar("x", &[]).contains("X-WR-TIMEZONE"));
}

#[test]
fn text_escaping() {
    assert_eq!(
        escape_text("a\\b;c,d\ne\r\nf\rg\u{7}h\ti"),
        "a\\\\b\\;c\\,d\\ne\\nf\\ngh\ti"
    );
    let hostile = CalendarEvent {
        title: "Rally; bring signs, flags\\banners\nEND:VEVENT".into(),
        description: "Line one\r\nLine two\nBEGIN:VALARM".into(),
        ..event()
    };
    let ics = calendar("Group; \"A\", B", std::slice::from_ref(&hostile));
    // A newline in a value can never start a new property.
    assert_eq!(ics.matches("\r\nEND:VEVENT\r\n").count(), 1);
    assert!(!ics.contains("\r\nBEGIN:VALARM"));
    assert!(ics.contains("X-WR-CALNAME:Group\\; \"A\"\\, B\r\n"));
    assert_eq!(parsed_event_value(&ics, "SUMMARY"), hostile.title);
    assert_eq!(
        parsed_event_value(&ics, "DESCRIPTION"),
        "Line one\nLine two\nBEGIN:VALARM"
    );
}

#[test]
fn long_lines_fold_at_75_octets_without_splitting_characters() {
    let long = CalendarEvent {
        title: "Ceredigion canvass — Aberystwyth · Llanbadarn Fawr · Penparcau 🚪🚪🚪 ".repeat(4),
        description: "ŵ".repeat(200),
        ..event()
    };
    let ics = calendar("x", std::slice::from_ref(&long));
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    // Folds happened, and every physical line is whole UTF-8 (split() above would panic
    // otherwise, since `ics` is a String built from slices at char boundaries).
    assert!(ics.matches("\r\n ").count() > 8);
    assert_eq!(unfold(&ics).matches("SUMMARY:").count(), 1);
    assert!(unfold(&ics).contains(&format!("SUMMARY:{}\r\n", escape_text(&long.title))));
    assert_eq!(parsed_event_value(&ics, "SUMMARY"), long.title);
    assert_eq!(parsed_event_value(&ics, "DESCRIPTION"), long.description);
}

#[test]
fn a_line_of_exactly_75_octets_is_not_folded() {
    let title = "x".repeat(75 - "SUMMARY:".len());
    let ics = calendar(
        "x",
        &[CalendarEvent {
            title: title.clone(),
            ..event()
        }],
    );
    assert!(ics.contains(&format!("\r\nSUMMARY:{title}\r\n")));
    let one_more = format!("{title}y");
    let ics = calendar(
        "x",
        &[CalendarEvent {
            title: one_more,
            ..event()
        }],
    );
    assert!(ics.contains(&format!("\r\nSUMMARY:{title}\r\n y\r\n")));
}

#[test]
fn round_trips_through_an_independent_parser() {
    let second = CalendarEvent {
        uid: "event-43@barnstorm.example.org".into(),
        title: "Phonebank, online".into(),
        location: None,
        geo: None,
        starts_at: START + 7 * 24 * HOUR,
        ends_at: START + 7 * 24 * HOUR + HOUR,
        ..event()
    };
    let ics = calendar("Leeds events", &[event(), second]);
    let unfolded = icalendar::parser::unfold(&ics);
    let parsed = icalendar::parser::read_calendar(&unfolded).expect("parses");
    let calname = parsed
        .properties
        .iter()
        .find(|p| p.name == "X-WR-CALNAME")
        .expect("calendar name");
    assert_eq!(calname.val.as_str(), "Leeds events");
    let events: Vec<_> = parsed
        .components
        .iter()
        .filter(|c| c.name == "VEVENT")
        .collect();
    assert_eq!(events.len(), 2);
    let value = |i: usize, name: &str| {
        events[i]
            .find_prop(name)
            .map(|p| p.val.clone().unescape_text().as_str().to_owned())
    };
    assert_eq!(
        value(0, "UID").as_deref(),
        Some("event-42@barnstorm.example.org")
    );
    assert_eq!(
        value(0, "LOCATION").as_deref(),
        Some("Headingley Library, Leeds LS6")
    );
    assert_eq!(value(0, "GEO").as_deref(), Some("53.819600;-1.577100"));
    assert_eq!(value(1, "SUMMARY").as_deref(), Some("Phonebank, online"));
    assert_eq!(value(1, "DTSTART").as_deref(), Some("20261208T100000Z"));
    assert_eq!(value(1, "LOCATION"), None);
}

#[test]
fn an_end_before_the_start_is_clamped() {
    let odd = CalendarEvent {
        ends_at: START - HOUR,
        ..event()
    };
    assert!(calendar("x", &[odd]).contains("\r\nDTEND:20261201T100000Z\r\n"));
}
