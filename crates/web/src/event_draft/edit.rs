//! Editing an event: the draft that shows a stored event in the host form again, prefill
//! links, keeping shift ids across an edit, telling whether the time or place moved, and
//! checking what a draft links to (its call campaign, its parent meetup).

use super::times::{millis_to_local, parse_moment, parse_time_zone};
use super::{EventDraft, FieldErrors};
use barnstorm_domain::event::EventKind;
use barnstorm_store::Store;
use barnstorm_store::events::{Event, NewEvent, NewShift, Shift};

impl EventDraft {
    /// The draft that shows `event` in the host form again (times in its own zone), for
    /// editing; `group` is left for the caller to fill in.
    pub fn from_event(event: &Event) -> Self {
        let tz = parse_time_zone(&event.time_zone).unwrap_or(chrono_tz::Europe::London);
        let start = millis_to_local(event.starts_at, tz);
        let end = millis_to_local(event.ends_at, tz);
        let start_day = start.map(|t| t.date());
        let shifts = event
            .shifts
            .iter()
            .filter_map(|shift| {
                let from = millis_to_local(shift.starts_at, tz)?;
                let to = millis_to_local(shift.ends_at, tz)?;
                let day = if Some(from.date()) == start_day {
                    String::new()
                } else {
                    format!("{} ", from.format("%Y-%m-%d"))
                };
                let places = shift.capacity.map(|c| format!(" {c}")).unwrap_or_default();
                Some(format!(
                    "{day}{}-{}{places}",
                    from.format("%H:%M"),
                    to.format("%H:%M")
                ))
            })
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            group: String::new(),
            kind: event.kind.as_str().to_owned(),
            title: event.title.clone(),
            description: event.description.clone(),
            date: start
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            start_time: start
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            end_time: end
                .map(|t| t.format("%H:%M").to_string())
                .unwrap_or_default(),
            end_date: match (start, end) {
                (Some(s), Some(e)) if s.date() != e.date() => e.format("%Y-%m-%d").to_string(),
                _ => String::new(),
            },
            starts_at: String::new(),
            ends_at: String::new(),
            time_zone: event.time_zone.clone(),
            capacity: event.capacity.map(|c| c.to_string()).unwrap_or_default(),
            postcode: event.postcode.clone().unwrap_or_default(),
            address: event.address.clone(),
            address_after_rsvp: event.address_after_rsvp,
            visibility: event.visibility.as_str().to_owned(),
            online_url: event.online_url.clone().unwrap_or_default(),
            accessibility: event.accessibility.clone(),
            campaign_id: event.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
            parent_event_id: event
                .parent_event_id
                .map(|c| c.to_string())
                .unwrap_or_default(),
            breakout_id: event.breakout_id.map(|c| c.to_string()).unwrap_or_default(),
            shifts,
        }
    }

    /// Fills `date`, `start_time` and `end_time` from `starts_at`/`ends_at` values (as a
    /// prefill link gives them), so the host form shows them in its own fields.
    pub fn split_single_times(&mut self) {
        let tz = parse_time_zone(&self.time_zone).unwrap_or(chrono_tz::Europe::London);
        if let Ok(start) = parse_moment(&self.starts_at, tz) {
            if let Some(local) = millis_to_local(start, tz) {
                self.date = local.format("%Y-%m-%d").to_string();
                self.start_time = local.format("%H:%M").to_string();
            }
            self.starts_at.clear();
        }
        if let Ok(end) = parse_moment(&self.ends_at, tz) {
            if let Some(local) = millis_to_local(end, tz) {
                if self.date != local.format("%Y-%m-%d").to_string() {
                    self.end_date = local.format("%Y-%m-%d").to_string();
                }
                self.end_time = local.format("%H:%M").to_string();
            }
            self.ends_at.clear();
        }
    }
}

/// Keeps the ids of an edited event's shifts, so sign-ups stay with their shift: a shift
/// with the same times keeps its id, and the rest are matched in order.
pub fn keep_shift_ids(new: &mut [NewShift], old: &[Shift]) {
    let mut unused: Vec<&Shift> = old.iter().collect();
    for shift in new.iter_mut() {
        if let Some(pos) = unused
            .iter()
            .position(|o| o.starts_at == shift.starts_at && o.ends_at == shift.ends_at)
        {
            shift.id = Some(unused.remove(pos).id);
        }
    }
    for shift in new.iter_mut().filter(|s| s.id.is_none()) {
        if unused.is_empty() {
            break;
        }
        shift.id = Some(unused.remove(0).id);
    }
}

/// Whether an edit moved the event in time or space (attendees are told about those).
pub fn time_or_place_changed(before: &Event, after: &NewEvent) -> bool {
    before.starts_at != after.starts_at
        || before.ends_at != after.ends_at
        || before.postcode != after.postcode
        || before.address != after.address
        || before.online_url != after.online_url
}

/// Checks what a draft links to: the call campaign belongs to the event's group or a
/// group above it (and only phonebank events have one), and a parent event is a campaign
/// meetup. Whether the person may link that campaign is `pages::events::campaign_link`'s.
pub async fn check_links(store: &Store, event: &NewEvent) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let outage = |_| {
        FieldErrors::one(
            "group",
            "We could not check this just now; please try again.",
        )
    };
    if let Some(campaign_id) = event.campaign_id {
        if event.kind != EventKind::Phonebank {
            errors.add(
                "campaign_id",
                "Only phonebank events can be linked to a phone bank: choose the type Phonebank, or no phone bank.",
            );
        }
        let campaign = store.campaign(campaign_id).await.map_err(outage)?;
        let mut allowed: Vec<i64> = store
            .ancestor_groups(event.group_id)
            .await
            .map_err(outage)?
            .iter()
            .map(|g| g.id)
            .collect();
        allowed.push(event.group_id);
        if campaign.is_none_or(|c| !allowed.contains(&c.group_id)) {
            errors.add(
                "campaign_id",
                "Choose a phone bank of this event's group (or of a group above it).",
            );
        }
    }
    if let Some(parent_id) = event.parent_event_id {
        let parent = store.event(parent_id).await.map_err(outage)?;
        if parent.is_none_or(|p| p.kind != EventKind::Meetup) {
            errors.add(
                "parent_event_id",
                "Sessions can only be planned from a campaign meetup.",
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
