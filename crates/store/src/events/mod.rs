//! Events: the events table and its shifts, moderation, listings, the in-memory discovery
//! index behind the map and nearby search, campaign meetups, and (in sibling files)
//! supporters, RSVPs, reminders and outreach. Deciding who may do what belongs to the web
//! layer; this module applies changes atomically and queues the mail they cause.

// `events/events.rs` holds the events themselves; the name is the clearest there is.
#![allow(clippy::module_inception)]

mod attendees;
mod audience;
mod baselines;
mod bulk;
mod events;
mod index;
mod listing;
mod map;
mod meetups;
mod model;
mod outreach;
mod outreach_recipients;
mod reminders;
mod rsvps;
mod supporters;
/// Owned by the event pages: group approval policy and adding callers.
pub use attendees::{
    Attendee, FeedbackError, MAX_FEEDBACK_CHARS, RsvpCounts, RsvpView, SlotCounts,
};
pub use audience::UnsubscribeResult;
pub use bulk::{BulkSource, BulkSupporter};
pub use events::Review;
pub use index::NearbyQuery;
pub use listing::PublicEventFilter;
pub use map::{Cluster, MAP_LIST_LIMIT, MapQuery, MapView};
pub use meetups::{Breakout, MeetupPlan, PlannedSession};
pub use model::{AttendeeNotice, Event, EventAudience, EventSummary, NewEvent, NewShift, Shift};
pub use outreach::{
    OutreachComposer, OutreachError, OutreachMessageSummary, OutreachRequest, OutreachSent,
};
pub use outreach_recipients::{ConsentOrigin, Recipient};
pub use reminders::DueNotice;
pub use rsvps::{
    CancelledRsvp, ClosedReason, NewRsvp, REPEAT_CONFIRMATION_AFTER_MS, Rsvp, RsvpError, RsvpMail,
    RsvpMailKind, RsvpMailer,
};
pub use supporters::{Consent, ConsentProof, NewSupporter, Supporter};

pub(crate) use index::EventIndex;
