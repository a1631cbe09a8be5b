//! The vocabulary of events: what kind an event is, who may see it, how exact its place
//! is, where it stands in moderation, and where an RSVP stands.
//!
//! Owns the names (stored, shown and accepted in the API) and nothing else: storing,
//! searching and notifying belong to the store and the web layer.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a name is not one of a fixed set of choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}': use one of {choices}")]
pub struct UnknownChoice {
    /// What was being named, e.g. "event type".
    pub what: &'static str,
    /// The text given.
    pub given: String,
    /// The accepted names, comma-separated.
    pub choices: String,
}

macro_rules! named_choices {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $stored:literal, $label:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every choice, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored (and API) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $stored,)+ }
            }

            /// The name shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownChoice;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($stored => Ok($name::$variant),)+
                    other => Err(UnknownChoice {
                        what: $what,
                        given: other.to_owned(),
                        choices: [$($stored,)+].join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_choices!(
    /// What happens at an event.
    EventKind, "event type", {
        /// A campaign meetup (a "barnstorm") that breaks into groups to plan sessions.
        Meetup => "meetup", "Campaign meetup";
        /// A phonebanking session, usually linked to a call campaign.
        Phonebank => "phonebank", "Phonebank";
        /// Door-to-door canvassing.
        Canvass => "canvass", "Canvass";
        /// A street stall.
        StreetStall => "street_stall", "Street stall";
        /// A training session.
        Training => "training", "Training";
        /// A social.
        Social => "social", "Social";
        /// Anything else.
        Other => "other", "Other";
    }
);

named_choices!(
    /// Who can find an event.
    Visibility, "visibility", {
        /// On the map, in search, feeds and the API.
        Public => "public", "Public";
        /// Reachable by its link only.
        Unlisted => "unlisted", "Unlisted (link only)";
        /// Members of the group only.
        Group => "group", "Group members only";
    }
);

named_choices!(
    /// How exact an event's coordinates are.
    LocationPrecision, "location precision", {
        /// A building or a dropped pin.
        Exact => "exact", "Exact";
        /// The centre of a full postcode.
        Postcode => "postcode", "Postcode";
        /// The centre of a postcode district (a few kilometres).
        Outcode => "outcode", "Postcode district";
        /// No place (an online event, or an unknown postcode).
        None => "none", "None";
    }
);

named_choices!(
    /// Where an event stands in moderation.
    EventStatus, "event status", {
        /// Waiting for a group organiser's approval.
        Pending => "pending", "Awaiting approval";
        /// Published.
        Live => "live", "Live";
        /// Turned down by an organiser.
        Rejected => "rejected", "Rejected";
        /// Called off by its host or an organiser; attendees were told.
        Cancelled => "cancelled", "Cancelled";
    }
);

named_choices!(
    /// Where an RSVP stands.
    RsvpStatus, "RSVP status", {
        /// Has a place.
        Going => "going", "Going";
        /// Waiting for a place to free up, in order of sign-up.
        Waitlist => "waitlist", "Waiting list";
        /// Cancelled by the attendee.
        Cancelled => "cancelled", "Cancelled";
    }
);

named_choices!(
    /// A way a group may contact a supporter, each consented to separately.
    Channel, "channel", {
        /// Email.
        Email => "email", "Email";
        /// Text messages.
        Sms => "sms", "Text message";
        /// Phone calls.
        Phone => "phone", "Phone call";
    }
);

/// How a consent wording says it also covers the groups below the named one.
pub const LOCAL_GROUPS_CLAUSE: &str = "and its local groups";

impl Channel {
    /// The words a form shows beside this channel's tick box for `group_name`, and the
    /// wording kept as proof of the consent given with it. They name the group's local
    /// groups too, so the consent also counts for outreach by the groups below it.
    pub fn consent_wording(self, group_name: &str) -> String {
        let verb = match self {
            Self::Email => "Email",
            Self::Sms => "Text",
            Self::Phone => "Phone",
        };
        format!("{verb} me about other events from {group_name} {LOCAL_GROUPS_CLAUSE}")
    }
}

/// Whether a consent given with `wording` also counts for the groups below the group it
/// was given to: only when the words said so. Consents given under the earlier words
/// ("… from Barnstorm UK") named the group alone and reach that group only.
pub fn wording_reaches_local_groups(wording: &str) -> bool {
    wording.trim_end().ends_with(LOCAL_GROUPS_CLAUSE)
}

named_choices!(
    /// Whether a group publishes events from people who are not its hosts at once.
    EventApproval, "approval policy", {
        /// Any signed-in supporter's event goes live at once.
        Open => "open", "Publish at once";
        /// Events from supporters wait for an organiser; hosts and organisers skip the queue.
        Approval => "approval", "Organisers approve first";
    }
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text_and_json() {
        for kind in EventKind::ALL {
            assert_eq!(kind.as_str().parse::<EventKind>().unwrap(), *kind);
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(
            "street_stall".parse::<EventKind>().unwrap(),
            EventKind::StreetStall
        );
    }

    #[test]
    fn an_unknown_name_lists_the_choices() {
        let err = "rally".parse::<EventKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown event type 'rally': use one of meetup, phonebank, canvass, street_stall, training, social, other"
        );
    }

    #[test]
    fn only_wordings_that_name_local_groups_reach_them() {
        let today = Channel::Email.consent_wording("Barnstorm UK");
        assert_eq!(
            today,
            "Email me about other events from Barnstorm UK and its local groups"
        );
        assert!(wording_reaches_local_groups(&today));
        assert!(!wording_reaches_local_groups(
            "Email me about other events from Barnstorm UK"
        ));
    }
}
