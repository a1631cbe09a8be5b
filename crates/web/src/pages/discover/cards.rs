//! How a discoverable event is shown in lists, on the map and in search results: its type,
//! title, start (as an RFC 3339 instant and in words in the event's own zone), and a place
//! no more precise than its postcode district ("Near SW1A"), so an address hidden until
//! RSVP never leaks. Also which groups a hub's listings cover (the group and those below).

use barnstorm_store::events::EventSummary;
use barnstorm_store::{Group, Store, StoreError};
use chrono::TimeZone;
use chrono_tz::Tz;
use serde::Serialize;

/// One event in the map's list, its single markers and search results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct EventCard {
    pub id: i64,
    /// `meetup`, `phonebank`, `canvass`, `street_stall`, `training`, `social` or `other`.
    pub kind: &'static str,
    /// The type in words ("Street stall").
    pub kind_label: &'static str,
    pub title: String,
    /// Start, RFC 3339 in UTC.
    pub starts_at: String,
    /// Start in words in the event's zone, e.g. "Sat 1 Dec, 10:00".
    pub when: String,
    /// "Near SW1A", or "Online" for an event without a place.
    pub place: String,
    /// Latitude, rounded as the store rounds hidden addresses; null for online events.
    pub lat: Option<f64>,
    /// Longitude, as `lat`.
    pub lon: Option<f64>,
    /// The event page (a path).
    pub url: String,
    /// Great-circle distance from the searched place, km to one decimal (search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    /// The distance in words: "about 3.2 km" when either end is only a district or town
    /// centre, else "3.2 km" (search only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_label: Option<String>,
}

impl EventCard {
    /// The card of a summary (summaries never hold a hidden address).
    pub(crate) fn new(event: &EventSummary) -> Self {
        Self {
            id: event.id,
            kind: event.kind.as_str(),
            kind_label: event.kind.label(),
            title: event.title.clone(),
            starts_at: rfc3339(event.starts_at),
            when: when_short(event.starts_at, &event.time_zone),
            place: place_label(event.postcode_district.as_deref(), event.location.is_some()),
            lat: event.location.map(|(lat, _)| lat),
            lon: event.location.map(|(_, lon)| lon),
            url: format!("/events/{}", event.id),
            distance_km: None,
            distance_label: None,
        }
    }

    /// The card with its distance from the searched place, `approximate` when a district
    /// or town centre stands for either end.
    pub(crate) fn at_distance(mut self, km: f64, approximate: bool) -> Self {
        let km = round_km(km);
        self.distance_km = Some(km);
        self.distance_label = Some(if approximate {
            format!("about {km:.1} km")
        } else {
            format!("{km:.1} km")
        });
        self
    }
}

/// Kilometres to one decimal place.
pub(crate) fn round_km(km: f64) -> f64 {
    (km * 10.0).round() / 10.0
}

/// An instant as RFC 3339 in UTC (`2025-12-01T10:00:00Z`).
pub(crate) fn rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(String::new, |t| {
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

/// The event's zone, London when the name is not one we know.
pub(crate) fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::London)
}

/// A start in words in the event's zone: "Sat 1 Dec, 10:00".
pub(crate) fn when_short(millis: i64, time_zone: &str) -> String {
    zone(time_zone)
        .timestamp_millis_opt(millis)
        .single()
        .map_or_else(String::new, |t| t.format("%a %-d %b, %H:%M").to_string())
}

/// The place as lists show it: "Near SW1A", "Online" without a place, or "" when an event
/// has a place but no postcode (it was pinned by coordinates).
pub(crate) fn place_label(district: Option<&str>, has_place: bool) -> String {
    match district.map(str::trim).filter(|d| !d.is_empty()) {
        Some(district) => format!("Near {district}"),
        None if !has_place => "Online".to_owned(),
        None => String::new(),
    }
}

/// The district (outward code) of a postcode: "SW1A 1AA" → "SW1A"; a district alone is
/// returned as it is.
pub(crate) fn postcode_district(postcode: &str) -> Option<String> {
    let compact: String = postcode
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match compact.len() {
        0 => None,
        2..=4 => Some(compact),
        n if n >= 5 => Some(compact[..n - 3].to_owned()),
        _ => Some(compact),
    }
}

/// A group and the ids of it and every group below it.
pub(crate) struct GroupScope {
    pub group: Group,
    pub ids: Vec<i64>,
}

/// The group with this slug and those below it; `None` when there is none.
pub(crate) async fn group_scope(
    store: &Store,
    slug: &str,
) -> Result<Option<GroupScope>, StoreError> {
    let Some(group) = store.group_by_slug(slug.trim()).await? else {
        return Ok(None);
    };
    let all = store.groups().await?;
    let mut ids = vec![group.id];
    let mut next = 0;
    // Breadth-first down the tree; bounded by the number of groups, so a cycle cannot loop.
    while next < ids.len() && ids.len() <= all.len() {
        let parent = ids[next];
        ids.extend(
            all.iter()
                .filter(|g| g.parent_id == Some(parent) && !ids.contains(&g.id))
                .map(|g| g.id)
                .collect::<Vec<_>>(),
        );
        next += 1;
    }
    Ok(Some(GroupScope { group, ids }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_never_say_more_than_the_district() {
        assert_eq!(place_label(Some("SW1A"), true), "Near SW1A");
        assert_eq!(place_label(None, false), "Online");
        assert_eq!(postcode_district("sw1a 1aa").as_deref(), Some("SW1A"));
        assert_eq!(postcode_district("M1 1AE").as_deref(), Some("M1"));
        assert_eq!(postcode_district("LS6").as_deref(), Some("LS6"));
        assert_eq!(postcode_district(" ").as_deref(), None);
    }

    #[test]
    fn times_read_in_the_event_zone() {
        // 2025-12-06T10:00Z is 10:00 in London (GMT) and 11:00 in Paris.
        let t = 1_765_015_200_000;
        assert_eq!(rfc3339(t), "2025-12-06T10:00:00Z");
        assert_eq!(when_short(t, "Europe/London"), "Sat 6 Dec, 10:00");
        assert_eq!(when_short(t, "Europe/Paris"), "Sat 6 Dec, 11:00");
        assert_eq!(round_km(1.26), 1.3);
    }
}
