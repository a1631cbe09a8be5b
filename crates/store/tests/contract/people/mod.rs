//! Supporters, consent, the outreach audience, RSVPs, reminders and outreach: shared
//! set-up for the tests in this folder.

mod audience;
mod consent_proof;
mod outreach;
mod reminders;
mod rsvps;
mod tree_consent;

use barnstorm_domain::event::{Channel, EventKind, EventStatus, LocationPrecision};
use barnstorm_store::events::{
    Event, NewEvent, NewRsvp, NewShift, NewSupporter, RsvpMail, RsvpMailKind,
};
use barnstorm_store::{GroupKind, NewMail, Store, now_millis};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

static TOKENS: AtomicU64 = AtomicU64::new(0);

pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;
/// Manchester city centre.
pub const MANCHESTER: (f64, f64) = (53.4794, -2.2453);

pub async fn group(store: &Store, name: &str) -> i64 {
    store
        .create_group(None, name, GroupKind::Branch, "", None)
        .await
        .unwrap()
        .id
}

pub fn new_event(group_id: i64, starts_at: i64, capacity: Option<i64>) -> NewEvent {
    NewEvent {
        capacity,
        postcode: Some("M15 5RN".into()),
        address: "Hulme Library".into(),
        location: Some(MANCHESTER),
        precision: LocationPrecision::Postcode,
        ..NewEvent::new(
            group_id,
            EventKind::Canvass,
            "Canvass in Hulme",
            starts_at,
            starts_at + 2 * HOUR,
        )
    }
}

/// A live event starting in three days.
pub async fn live_event(store: &Store, group_id: i64, capacity: Option<i64>) -> Event {
    let starts = now_millis() + 3 * DAY;
    store
        .create_event(&new_event(group_id, starts, capacity), EventStatus::Live)
        .await
        .unwrap()
}

/// A live event with no capacity starting at `starts`.
pub async fn event_at(store: &Store, group_id: i64, starts: i64) -> Event {
    store
        .create_event(&new_event(group_id, starts, None), EventStatus::Live)
        .await
        .unwrap()
}

/// Records consent to `group_id` on `channel`.
pub async fn grant(store: &Store, supporter_id: i64, group_id: i64, channel: Channel) {
    store
        .grant_consent(
            supporter_id,
            group_id,
            channel,
            &barnstorm_store::events::ConsentProof::given(
                "form",
                "https://example.org/form",
                "Email me about events",
            ),
        )
        .await
        .unwrap();
}

/// A live event starting in three days with one shift per capacity given.
pub async fn event_with_shifts(store: &Store, group_id: i64, capacities: &[i64]) -> Event {
    let starts = now_millis() + 3 * DAY;
    let mut event = new_event(group_id, starts, None);
    event.shifts = capacities
        .iter()
        .enumerate()
        .map(|(n, cap)| NewShift {
            id: None,
            starts_at: starts + HOUR * n as i64,
            ends_at: starts + HOUR * (n as i64 + 1),
            capacity: Some(*cap),
        })
        .collect();
    store.create_event(&event, EventStatus::Live).await.unwrap()
}

pub fn supporter(email: &str, location: Option<(f64, f64)>) -> NewSupporter {
    NewSupporter {
        email: email.into(),
        name: email.split('@').next().unwrap_or_default().into(),
        postcode: location.map(|_| "M1 1AE".into()),
        location,
        phone: None,
    }
}

pub fn rsvp(event_id: i64, email: &str, consents: &[Channel]) -> NewRsvp {
    NewRsvp {
        event_id,
        shift_id: None,
        supporter: supporter(email, Some(MANCHESTER)),
        consents: consents.to_vec(),
        form_url: "https://example.org/events/1".into(),
        manage_token: format!("manage-{email}-{}", TOKENS.fetch_add(1, Ordering::Relaxed)),
    }
}

/// Writes RSVP mail so tests can tell confirmations, "you have a place" notices and
/// confirmations of a cancellation apart; the body is the manage link's token.
pub fn rsvp_mail(m: &RsvpMail) -> NewMail {
    let subject = match m.kind {
        RsvpMailKind::Confirmation => format!("{}: {}", m.status, m.event_title),
        RsvpMailKind::Promoted => format!("place: {}", m.event_title),
        RsvpMailKind::Cancelled => format!("you cancelled: {}", m.event_title),
    };
    NewMail {
        to: m.email.clone(),
        subject,
        body_text: format!("Manage: {}", m.manage_token),
        headers: BTreeMap::new(),
        ..Default::default()
    }
}

/// Every mail queued so far, as (recipient, subject), in queue order.
pub async fn queued_mail(store: &Store) -> Vec<(String, String)> {
    store
        .claim_due_mail(10_000, 60_000)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.mail.to, m.mail.subject))
        .collect()
}
