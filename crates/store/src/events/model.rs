//! The shapes of events as the store hands them out and takes them in ([`NewEvent`],
//! [`Event`], [`EventSummary`], shifts, attendees to notify), how they are read from rows,
//! and the column lists the queries share. No queries run here.

use crate::Millis;
use crate::outbox::NewMail;
use barnstorm_domain::event::{
    EventKind, EventStatus, LocationPrecision, RsvpStatus, UnknownChoice, Visibility,
};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::str::FromStr;

/// A time slot to create or keep within an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShift {
    /// The existing shift this keeps (on update); `None` makes a new one.
    pub id: Option<i64>,
    /// Start.
    pub starts_at: Millis,
    /// End, after the start.
    pub ends_at: Millis,
    /// Places in this shift; `None` for no limit.
    pub capacity: Option<i64>,
}

/// A stored time slot of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// Stable id.
    pub id: i64,
    /// Start.
    pub starts_at: Millis,
    /// End.
    pub ends_at: Millis,
    /// Places in this shift; `None` for no limit.
    pub capacity: Option<i64>,
}

/// Everything a host sets on an event (to create it, or to replace its fields).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The group it belongs to.
    pub group_id: i64,
    /// Who hosts it.
    pub host_user_id: Option<i64>,
    /// The campaign meetup it was planned from.
    pub parent_event_id: Option<i64>,
    /// The breakout group of that meetup that planned it.
    pub breakout_id: Option<i64>,
    /// What happens there.
    pub kind: EventKind,
    /// Title.
    pub title: String,
    /// Markdown as written; sanitised when rendered.
    pub description: String,
    /// Start.
    pub starts_at: Millis,
    /// End; must be after the start.
    pub ends_at: Millis,
    /// IANA time zone the times are shown in, e.g. `Europe/London`.
    pub time_zone: String,
    /// Places; `None` for no limit.
    pub capacity: Option<i64>,
    /// Postcode as entered (normalised by the caller).
    pub postcode: Option<String>,
    /// Street address.
    pub address: String,
    /// Coordinates as (latitude, longitude), WGS84 degrees.
    pub location: Option<(f64, f64)>,
    /// How exact `location` is.
    pub precision: LocationPrecision,
    /// Show the address (and exact pin) only to people who RSVP'd.
    pub address_after_rsvp: bool,
    /// Who can find it.
    pub visibility: Visibility,
    /// Online meeting link, shown after RSVP.
    pub online_url: Option<String>,
    /// Accessibility notes.
    pub accessibility: String,
    /// Linked call campaign (phonebank events).
    pub campaign_id: Option<i64>,
    /// Time slots; may be empty.
    pub shifts: Vec<NewShift>,
}

impl NewEvent {
    /// A public event of `kind` in `group_id` from `starts_at` to `ends_at`, shown in
    /// Europe/London, with no host, place, capacity, link or shifts: the starting point
    /// for code that sets only what it needs (`NewEvent { location, ..NewEvent::new(…) }`).
    pub fn new(
        group_id: i64,
        kind: EventKind,
        title: &str,
        starts_at: Millis,
        ends_at: Millis,
    ) -> Self {
        Self {
            group_id,
            host_user_id: None,
            parent_event_id: None,
            breakout_id: None,
            kind,
            title: title.to_owned(),
            description: String::new(),
            starts_at,
            ends_at,
            time_zone: "Europe/London".to_owned(),
            capacity: None,
            postcode: None,
            address: String::new(),
            location: None,
            precision: LocationPrecision::None,
            address_after_rsvp: false,
            visibility: Visibility::Public,
            online_url: None,
            accessibility: String::new(),
            campaign_id: None,
            shifts: Vec::new(),
        }
    }
}

/// A stored event with every column and its shifts.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Stable id.
    pub id: i64,
    /// The group it belongs to.
    pub group_id: i64,
    /// Who hosts it.
    pub host_user_id: Option<i64>,
    /// The campaign meetup it was planned from.
    pub parent_event_id: Option<i64>,
    /// The breakout group that planned it.
    pub breakout_id: Option<i64>,
    /// What happens there.
    pub kind: EventKind,
    /// Title.
    pub title: String,
    /// Markdown as written.
    pub description: String,
    /// Start.
    pub starts_at: Millis,
    /// End.
    pub ends_at: Millis,
    /// IANA time zone.
    pub time_zone: String,
    /// Places; `None` for no limit.
    pub capacity: Option<i64>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Street address (show it only as `address_after_rsvp` allows).
    pub address: String,
    /// Exact coordinates as (latitude, longitude).
    pub location: Option<(f64, f64)>,
    /// How exact `location` is.
    pub precision: LocationPrecision,
    /// Show the address only to people who RSVP'd.
    pub address_after_rsvp: bool,
    /// Who can find it.
    pub visibility: Visibility,
    /// Online meeting link.
    pub online_url: Option<String>,
    /// Accessibility notes.
    pub accessibility: String,
    /// Linked call campaign.
    pub campaign_id: Option<i64>,
    /// Where it stands in moderation.
    pub status: EventStatus,
    /// Why it was rejected or cancelled, as the organiser wrote it.
    pub status_note: String,
    /// When it was made.
    pub created_at: Millis,
    /// When anything about it last changed.
    pub updated_at: Millis,
    /// When it was deleted (always `None` for events this store hands out).
    pub deleted_at: Option<Millis>,
    /// Time slots, by start.
    pub shifts: Vec<Shift>,
}

/// The short form of an event used by lists, the map and nearby search.
///
/// A summary never reveals a hidden address: when the event shows its address only after
/// RSVP, `location` is rounded to two decimal places (about a kilometre).
#[derive(Debug, Clone, PartialEq)]
pub struct EventSummary {
    /// Stable id.
    pub id: i64,
    /// The group it belongs to.
    pub group_id: i64,
    /// What happens there.
    pub kind: EventKind,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: Millis,
    /// End.
    pub ends_at: Millis,
    /// IANA time zone.
    pub time_zone: String,
    /// (latitude, longitude), rounded as above; always present for discoverable events.
    pub location: Option<(f64, f64)>,
    /// How exact the stored coordinates are.
    pub precision: LocationPrecision,
    /// The outward code of the postcode ("SW1A"), for "near SW1A".
    pub postcode_district: Option<String>,
    /// Places; `None` for no limit.
    pub capacity: Option<i64>,
    /// Where it stands in moderation.
    pub status: EventStatus,
}

/// One attendee to tell about a change: an RSVP that is going or on the waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventAudience {
    /// The RSVP.
    pub rsvp_id: i64,
    /// The supporter who made it.
    pub supporter_id: i64,
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// Going or waiting list.
    pub status: RsvpStatus,
}

/// Writes the notice for one attendee, or `None` to send them nothing. The manage link
/// cannot be rebuilt (only its hash is stored), so notices carry the event page link.
pub type AttendeeNotice = dyn Fn(&EventAudience) -> Option<NewMail> + Sync;

/// Every column of `events`, in the order [`Event::from_row`] reads them.
pub(super) const EVENT_COLUMNS: &str = "id, group_id, host_user_id, parent_event_id, breakout_id, kind, title,
    description, starts_at, ends_at, time_zone, capacity, postcode, address, latitude, longitude,
    location_precision, address_after_rsvp, visibility, online_url, accessibility, campaign_id, status,
    status_note, created_at, updated_at, deleted_at";

/// The columns [`EventSummary::from_row`] reads.
pub(super) const SUMMARY_COLUMNS: &str = "id, group_id, kind, title, starts_at, ends_at, time_zone,
    latitude, longitude, location_precision, address_after_rsvp, postcode, capacity, status";

/// The columns a host sets, bound as `$1..$21` by [`bind_fields`].
pub(super) const FIELD_COLUMNS: [&str; 21] = [
    "group_id",
    "host_user_id",
    "parent_event_id",
    "breakout_id",
    "kind",
    "title",
    "description",
    "starts_at",
    "ends_at",
    "time_zone",
    "capacity",
    "postcode",
    "address",
    "latitude",
    "longitude",
    "location_precision",
    "address_after_rsvp",
    "visibility",
    "online_url",
    "accessibility",
    "campaign_id",
];

/// `$from, $from+1, …` for `count` binds.
pub(super) fn params(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn choice<T: FromStr<Err = UnknownChoice>>(
    row: &AnyRow,
    column: &str,
) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: UnknownChoice| sqlx::Error::Decode(e.into()))
}

fn location(row: &AnyRow) -> Result<Option<(f64, f64)>, sqlx::Error> {
    let lat: Option<f64> = row.try_get("latitude")?;
    let lon: Option<f64> = row.try_get("longitude")?;
    Ok(lat.zip(lon))
}

/// The outward code of a postcode: "SW1A 1AA" and "SW1A1AA" give "SW1A".
pub(super) fn postcode_district(postcode: &str) -> Option<String> {
    let trimmed = postcode.trim();
    if trimmed.is_empty() || !trimmed.is_ascii() {
        return None;
    }
    let upper = trimmed.to_ascii_uppercase();
    if let Some((outward, _)) = upper.split_once(char::is_whitespace) {
        return Some(outward.to_owned());
    }
    if upper.len() >= 5 {
        return Some(upper[..upper.len() - 3].to_owned());
    }
    Some(upper)
}

/// Rounds a coordinate to two decimal places, so a pin cannot give a hidden address away.
pub(super) fn coarse(degrees: f64) -> f64 {
    (degrees * 100.0).round() / 100.0
}

impl Event {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            group_id: row.try_get("group_id")?,
            host_user_id: row.try_get("host_user_id")?,
            parent_event_id: row.try_get("parent_event_id")?,
            breakout_id: row.try_get("breakout_id")?,
            kind: choice(row, "kind")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            time_zone: row.try_get("time_zone")?,
            capacity: row.try_get("capacity")?,
            postcode: row.try_get("postcode")?,
            address: row.try_get("address")?,
            location: location(row)?,
            precision: choice(row, "location_precision")?,
            address_after_rsvp: row.try_get::<i64, _>("address_after_rsvp")? != 0,
            visibility: choice(row, "visibility")?,
            online_url: row.try_get("online_url")?,
            accessibility: row.try_get("accessibility")?,
            campaign_id: row.try_get("campaign_id")?,
            status: choice(row, "status")?,
            status_note: row.try_get("status_note")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            deleted_at: row.try_get("deleted_at")?,
            shifts: Vec::new(),
        })
    }
}

impl EventSummary {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let hidden = row.try_get::<i64, _>("address_after_rsvp")? != 0;
        let postcode: Option<String> = row.try_get("postcode")?;
        Ok(Self {
            id: row.try_get("id")?,
            group_id: row.try_get("group_id")?,
            kind: choice(row, "kind")?,
            title: row.try_get("title")?,
            starts_at: row.try_get("starts_at")?,
            ends_at: row.try_get("ends_at")?,
            time_zone: row.try_get("time_zone")?,
            location: location(row)?.map(|(lat, lon)| {
                if hidden {
                    (coarse(lat), coarse(lon))
                } else {
                    (lat, lon)
                }
            }),
            precision: choice(row, "location_precision")?,
            postcode_district: postcode.as_deref().and_then(postcode_district),
            capacity: row.try_get("capacity")?,
            status: choice(row, "status")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcode_districts_are_outward_codes() {
        assert_eq!(postcode_district("SW1A 1AA").as_deref(), Some("SW1A"));
        assert_eq!(postcode_district("sw1a1aa").as_deref(), Some("SW1A"));
        assert_eq!(postcode_district("M1 1AE").as_deref(), Some("M1"));
        assert_eq!(postcode_district("LS1").as_deref(), Some("LS1"));
        assert_eq!(postcode_district("  "), None);
    }

    #[test]
    fn hidden_pins_are_rounded_to_two_places() {
        assert!((coarse(51.50135) - 51.50).abs() < 1e-12);
        assert!((coarse(-0.14189) + 0.14).abs() < 1e-12);
    }

    #[test]
    fn params_number_binds() {
        assert_eq!(params(3, 3), "$3, $4, $5");
    }
}
