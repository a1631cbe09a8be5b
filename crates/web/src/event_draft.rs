//! An event as a host typed it (every field a string, from a form or JSON) and its
//! checking into a [`NewEvent`] the store accepts: wall-clock times read in the event's own
//! time zone, postcodes geocoded, links and numbers checked. Each mistake is reported
//! against the field that holds it, in words a host understands. It must not check who
//! may post where (the pages and API do) nor write anything.

mod edit;
mod times;

pub use edit::{check_links, keep_shift_ids, time_or_place_changed};
pub use times::{local_to_millis, millis_to_local, parse_time_zone};

use crate::geocoder::Geocoder;
use barnstorm_domain::event::{
    EventApproval, EventKind, EventStatus, LocationPrecision, Visibility,
};
use barnstorm_domain::limits;
use barnstorm_store::Role;
use barnstorm_store::events::NewEvent;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use times::{resolve_times, shifts};

/// The time zone events use unless the host picks another.
pub const DEFAULT_TIME_ZONE: &str = "Europe/London";
/// The longest title.
pub const MAX_TITLE_CHARS: usize = limits::EVENT_TITLE;
const MAX_DESCRIPTION_CHARS: usize = limits::EVENT_DESCRIPTION;
const MAX_ADDRESS_CHARS: usize = limits::ADDRESS;
const MAX_NOTES_CHARS: usize = limits::ACCESSIBILITY;
const MAX_URL_CHARS: usize = limits::URL;
pub(crate) const MAX_CAPACITY: i64 = 100_000;
pub(crate) const MAX_SHIFTS: usize = 48;
/// The longest an event may last (a weekend camp fits; a typo in the year does not).
pub(crate) const MAX_LENGTH_MS: i64 = 14 * 24 * 3600 * 1000;

/// An event as submitted. Every field is text as typed; checkboxes may be `"on"`/`true`,
/// numbers may be JSON numbers. Times come either as `date` + `start_time` + `end_time`
/// (+ optional `end_date`), as the host form sends them, or as `starts_at`/`ends_at`
/// (`2025-07-10T19:00` local to `time_zone`, or RFC 3339 with an offset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventDraft {
    /// The group, by slug (pages) — [`EventDraft::validate`] takes the id separately.
    pub group: String,
    /// Event type: `meetup`, `phonebank`, `canvass`, …
    pub kind: String,
    /// Title.
    pub title: String,
    /// Markdown description.
    pub description: String,
    /// Day of the start, `YYYY-MM-DD`.
    pub date: String,
    /// Start, `HH:MM` on `date`.
    pub start_time: String,
    /// End, `HH:MM` on `end_date` (or on `date`).
    pub end_time: String,
    /// Day of the end when it is not `date`.
    pub end_date: String,
    /// Start as one value (instead of `date` + `start_time`).
    pub starts_at: String,
    /// End as one value (instead of `end_time`).
    pub ends_at: String,
    /// IANA time zone; empty means [`DEFAULT_TIME_ZONE`].
    pub time_zone: String,
    /// Places; empty for no limit.
    #[serde(deserialize_with = "text_or_number")]
    pub capacity: String,
    /// Postcode (or postcode district) of the place.
    pub postcode: String,
    /// Street address.
    pub address: String,
    /// Show the address only to people who RSVP.
    #[serde(deserialize_with = "flag")]
    pub address_after_rsvp: bool,
    /// `public`, `unlisted` or `group`; empty means public.
    pub visibility: String,
    /// Online meeting link.
    pub online_url: String,
    /// Accessibility notes.
    pub accessibility: String,
    /// Linked call campaign id (phonebank events).
    #[serde(deserialize_with = "text_or_number")]
    pub campaign_id: String,
    /// The campaign meetup this was planned from.
    #[serde(deserialize_with = "text_or_number")]
    pub parent_event_id: String,
    /// The breakout group of that meetup.
    #[serde(deserialize_with = "text_or_number")]
    pub breakout_id: String,
    /// Shifts, one per line: `HH:MM-HH:MM` (on the start day) or
    /// `YYYY-MM-DD HH:MM-HH:MM`, optionally followed by a number of places.
    #[serde(deserialize_with = "lines")]
    pub shifts: String,
}

/// What is wrong with a draft, by field name (the form field, e.g. `end_time`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// No mistakes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a mistake in `field` (the first one per field is kept).
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// The mistake in `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each field with its mistake, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A single mistake.
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        f.write_str(&parts.join("; "))
    }
}

/// The status a new event starts in: live for the group's organisers and trusted hosts
/// (`trusted_host`, set on the group or one above it), for instance administrators and
/// in groups that publish at once; otherwise it waits for approval. A host the organisers
/// have not trusted waits like anyone else.
pub fn initial_status(
    policy: EventApproval,
    role: Option<Role>,
    trusted_host: bool,
    is_admin: bool,
) -> EventStatus {
    if is_admin || policy == EventApproval::Open || role == Some(Role::Organiser) || trusted_host {
        EventStatus::Live
    } else {
        EventStatus::Pending
    }
}

fn optional_id(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errors.add(field, format!("'{raw}' is not a valid choice."));
            None
        }
    }
}

fn capacity(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(n) if (1..=MAX_CAPACITY).contains(&n) => Some(n),
        _ => {
            errors.add(
                field,
                format!(
                    "Places must be a whole number from 1 to {MAX_CAPACITY}, or empty for no limit."
                ),
            );
            None
        }
    }
}

/// Checks an online meeting link: an absolute http(s) URL.
pub fn check_online_url(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!("'{raw}' is not a web link; the online link must start with https:// or http://")
    };
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!(
            "The online link is too long (up to {MAX_URL_CHARS} characters)."
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad());
    }
    Ok(Some(url.to_string()))
}

fn within(text: &str, max: usize, field: &str, label: &str, errors: &mut FieldErrors) {
    if text.chars().count() > max {
        errors.add(
            field,
            format!("{label} is too long (up to {max} characters)."),
        );
    }
}

impl EventDraft {
    /// Checks every field and turns the draft into an event for `group_id` hosted by
    /// `host_user_id`, looking the postcode up with `geocoder`. An in-person event needs a
    /// postcode we know; an online event (a link and no postcode) has no place.
    pub async fn validate(
        self,
        geocoder: &Geocoder,
        group_id: i64,
        host_user_id: Option<i64>,
    ) -> Result<NewEvent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let kind = match self.kind.trim() {
            "" => {
                errors.add("kind", "Choose what kind of event this is.");
                None
            }
            raw => raw
                .parse::<EventKind>()
                .map_err(|e| errors.add("kind", format!("{e}.")))
                .ok(),
        };
        let title = self.title.trim().to_owned();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            errors.add(
                "title",
                format!("Title is required (up to {MAX_TITLE_CHARS} characters)."),
            );
        }
        within(
            &self.description,
            MAX_DESCRIPTION_CHARS,
            "description",
            "The description",
            &mut errors,
        );
        let tz = parse_time_zone(&self.time_zone);
        if tz.is_none() {
            errors.add(
                "time_zone",
                format!(
                    "'{}' is not a time zone we know; use a name like Europe/London.",
                    self.time_zone.trim()
                ),
            );
        }
        let times = tz.and_then(|tz| resolve_times(&self, tz, &mut errors));
        let capacity = capacity(&self.capacity, "capacity", &mut errors);
        let visibility = match self.visibility.trim() {
            "" => Some(Visibility::Public),
            raw => raw
                .parse::<Visibility>()
                .map_err(|e| errors.add("visibility", format!("{e}.")))
                .ok(),
        };
        let online_url = check_online_url(&self.online_url)
            .map_err(|e| errors.add("online_url", e))
            .unwrap_or_default();
        let address = self.address.trim().to_owned();
        within(
            &address,
            MAX_ADDRESS_CHARS,
            "address",
            "The address",
            &mut errors,
        );
        let accessibility = self.accessibility.trim().to_owned();
        within(
            &accessibility,
            MAX_NOTES_CHARS,
            "accessibility",
            "The accessibility notes",
            &mut errors,
        );
        let campaign_id = optional_id(&self.campaign_id, "campaign_id", &mut errors);
        let parent_event_id = optional_id(&self.parent_event_id, "parent_event_id", &mut errors);
        let breakout_id = optional_id(&self.breakout_id, "breakout_id", &mut errors);
        let shifts = tz.map_or_else(Vec::new, |tz| shifts(&self.shifts, tz, times, &mut errors));

        let postcode_text = self.postcode.trim();
        let place = if postcode_text.is_empty() {
            if online_url.is_none() && self.online_url.trim().is_empty() {
                errors.add(
                    "postcode",
                    "Give the postcode of the place, or an online link for an online event.",
                );
            }
            None
        } else {
            match geocoder.locate(postcode_text).await {
                Ok(place) => Some(place),
                Err(problem) => {
                    errors.add("postcode", problem.to_string());
                    None
                }
            }
        };

        match (kind, times, visibility, tz) {
            (Some(kind), Some((starts_at, ends_at)), Some(visibility), Some(tz))
                if errors.is_empty() =>
            {
                let (postcode, location, precision) = match place {
                    Some(place) => (
                        Some(
                            place
                                .postcode
                                .unwrap_or_else(|| postcode_text.to_uppercase()),
                        ),
                        Some((place.location.lat, place.location.lon)),
                        place.precision,
                    ),
                    None => (None, None, LocationPrecision::None),
                };
                Ok(NewEvent {
                    group_id,
                    host_user_id,
                    parent_event_id,
                    breakout_id,
                    kind,
                    title,
                    description: self.description,
                    starts_at,
                    ends_at,
                    time_zone: tz.name().to_owned(),
                    capacity,
                    postcode,
                    address,
                    location,
                    precision,
                    address_after_rsvp: self.address_after_rsvp,
                    visibility,
                    online_url,
                    accessibility,
                    campaign_id,
                    shifts,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Accepts text, a number or nothing.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Int(i64),
        Float(f64),
        Null(()),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Int(n) => n.to_string(),
        Raw::Float(n) => n.to_string(),
        Raw::Null(()) => String::new(),
    })
}

/// Accepts a checkbox (`"on"`, `"true"`, `"1"`, `"yes"`) or a JSON boolean.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
        Null(()),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Bool(b) => b,
        Raw::Text(t) => matches!(
            t.trim().to_ascii_lowercase().as_str(),
            "on" | "true" | "1" | "yes"
        ),
        Raw::Null(()) => false,
    })
}

/// Accepts lines of text or a list of lines.
fn lines<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        List(Vec<String>),
        Null(()),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::List(l) => l.join("\n"),
        Raw::Null(()) => String::new(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn online_links_must_be_web_links() {
        assert!(check_online_url("javascript:alert(1)").is_err());
        assert!(check_online_url("meet.example.org/x").is_err());
        assert_eq!(
            check_online_url(" https://meet.example.org/abc ").unwrap(),
            Some("https://meet.example.org/abc".into())
        );
        assert_eq!(check_online_url("").unwrap(), None);
    }

    #[test]
    fn trusted_hosts_organisers_and_open_groups_go_live() {
        use EventApproval::*;
        assert_eq!(initial_status(Open, None, false, false), EventStatus::Live);
        assert_eq!(
            initial_status(Approval, None, false, false),
            EventStatus::Pending
        );
        assert_eq!(
            initial_status(Approval, Some(Role::Member), false, false),
            EventStatus::Pending
        );
        assert_eq!(
            initial_status(Approval, Some(Role::Host), false, false),
            EventStatus::Pending,
            "a host nobody trusted waits"
        );
        assert_eq!(
            initial_status(Approval, Some(Role::Host), true, false),
            EventStatus::Live
        );
        assert_eq!(
            initial_status(Approval, Some(Role::Organiser), false, false),
            EventStatus::Live
        );
        assert_eq!(
            initial_status(Approval, None, false, true),
            EventStatus::Live
        );
    }

    #[test]
    fn form_and_json_shapes_both_deserialize() {
        let form: EventDraft =
            serde_urlencoded::from_str("title=T&capacity=12&address_after_rsvp=on&campaign_id=")
                .unwrap();
        assert_eq!(form.capacity, "12");
        assert!(form.address_after_rsvp);
        let json: EventDraft = serde_json::from_str(
            r#"{"title":"T","capacity":12,"address_after_rsvp":true,"shifts":["10:00-11:00"]}"#,
        )
        .unwrap();
        assert_eq!(json.capacity, "12");
        assert!(json.address_after_rsvp);
        assert_eq!(json.shifts, "10:00-11:00");
    }
}
