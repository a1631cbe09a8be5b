//! The words of "contact people in their area": counts and limits as sentences, times in
//! the event's zone, where the event is as the public may know it, and the letter every
//! copy of a message shares (group, host, sender, event), used for the preview and for
//! each recipient's copy so the two cannot differ. Text only; no access checks.

use crate::WebConfig;
use crate::event_mails::when_text;
use crate::outreach_mails::{
    OutreachMessage, consent_sentence, outreach_mail, outreach_mail_saying,
};
use barnstorm_store::events::{ConsentOrigin, Event, OutreachError, Recipient};
use barnstorm_store::{Group, Millis, NewMail, now_millis};
use chrono::TimeZone;

/// "5 km", "2.5 km".
pub(super) fn km_text(km: f64) -> String {
    format!("{} km", (km * 10.0).round() / 10.0)
}

/// "412 supporters within 5 km have agreed to hear from Barnstorm UK by email." The
/// count leaves out people the group wrote to in the last `days` days, and an empty one
/// says so.
pub(super) fn count_text(count: i64, km: f64, group: &str, days: u32) -> String {
    match count {
        0 => format!(
            "Nobody within {} can be contacted: nobody there has agreed to hear from {group} by email, or everyone who has heard from it in the last {days} days. Try a larger radius.",
            km_text(km)
        ),
        1 => format!(
            "1 supporter within {} has agreed to hear from {group} by email.",
            km_text(km)
        ),
        n => format!(
            "{n} supporters within {} have agreed to hear from {group} by email.",
            km_text(km)
        ),
    }
}

/// An instant in the event's zone, formatted with `format`.
pub(super) fn local_text(millis: Millis, time_zone: &str, format: &str) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Europe::London);
    tz.timestamp_millis_opt(millis)
        .single()
        .map_or_else(String::new, |t| t.format(format).to_string())
}

/// A time people read in the event's zone: "14:32", or "Wed 3 Dec, 14:32" on another day.
pub(super) fn clock_text(millis: Millis, time_zone: &str) -> String {
    let day = |ms| local_text(ms, time_zone, "%Y-%m-%d");
    if day(millis) == day(now_millis()) {
        local_text(millis, time_zone, "%H:%M")
    } else {
        local_text(millis, time_zone, "%a %-d %b, %H:%M")
    }
}

/// Where the event is, as the public may know it: the district only when the host keeps
/// the address for people who RSVP.
fn public_place(event: &Event) -> String {
    let postcode = event.postcode.as_deref().unwrap_or("");
    if event.address_after_rsvp {
        return postcode
            .split_whitespace()
            .next()
            .map(|district| format!("near {district} (the address is sent when you RSVP)"))
            .unwrap_or_default();
    }
    [event.address.as_str(), postcode]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// "Your group has sent 10 messages today; the next can go at 14:32."
pub(super) fn cap_text(error: &OutreachError, group: &Group, time_zone: &str) -> Option<String> {
    let OutreachError::DailyCapReached {
        scope,
        cap,
        next_allowed_at,
    } = error
    else {
        return None;
    };
    let next = clock_text(*next_allowed_at, time_zone);
    Some(if *scope == "group" {
        format!(
            "{} has sent {cap} messages in the last 24 hours, its daily limit; the next can go at {next}.",
            group.name
        )
    } else {
        format!(
            "You have sent {cap} messages in the last 24 hours, your daily limit; your next can go at {next}."
        )
    })
}

/// What every copy of one message shares, owned so the store may keep the composer for
/// the whole send.
pub(super) struct Letter {
    group_id: i64,
    group_name: String,
    host_name: Option<String>,
    sender_name: String,
    subject: String,
    message: String,
    event_title: String,
    event_when: String,
    event_place: String,
    event_path: String,
}

impl Letter {
    /// The letter for `event` of `group`, hosted by `host_name` and sent by `sender_name`.
    pub(super) fn new(
        event: &Event,
        group: &Group,
        host_name: Option<String>,
        sender_name: &str,
        subject: &str,
        message: &str,
    ) -> Self {
        Self {
            group_id: group.id,
            group_name: group.name.clone(),
            host_name,
            sender_name: sender_name.to_owned(),
            subject: subject.to_owned(),
            message: message.to_owned(),
            event_title: event.title.clone(),
            event_when: when_text(event.starts_at, event.ends_at, &event.time_zone),
            event_place: public_place(event),
            event_path: format!("/events/{}", event.id),
        }
    }

    fn parts(&self) -> OutreachMessage<'_> {
        OutreachMessage {
            group_id: self.group_id,
            group_name: &self.group_name,
            host_name: self.host_name.as_deref(),
            sender_name: &self.sender_name,
            subject: &self.subject,
            message: &self.message,
            event_title: &self.event_title,
            event_when: &self.event_when,
            event_place: &self.event_place,
            event_path: &self.event_path,
        }
    }

    /// One recipient's copy.
    pub(super) fn copy_for(&self, config: &WebConfig, recipient: &Recipient) -> NewMail {
        outreach_mail(config, &self.parts(), recipient)
    }

    /// The copy as the sender previews it: a supporter who RSVP'd, with placeholders.
    pub(super) fn preview(&self, config: &WebConfig) -> NewMail {
        let sample = Recipient {
            supporter_id: 0,
            name: "[their name]".to_owned(),
            email: "[their address]".to_owned(),
            unsubscribe_token: "[their-link]".to_owned(),
            consent_origin: ConsentOrigin::BulkImport,
            consent_given_at: 0,
            consent_group_id: self.group_id,
            consent_group_name: self.group_name.clone(),
        };
        outreach_mail_saying(
            config,
            &self.parts(),
            &sample,
            &self.rsvp_sentence_template(),
        )
    }

    /// The consent line of a supporter who RSVP'd, with placeholders.
    pub(super) fn rsvp_sentence_template(&self) -> String {
        consent_sentence(
            &self.group_name,
            &ConsentOrigin::RsvpForm {
                event_id: 0,
                event_title: Some("[the event they RSVP'd to]".to_owned()),
            },
            "[the date]",
        )
    }

    /// The consent line of a supporter whose address the group imported, with placeholders.
    pub(super) fn import_sentence_template(&self) -> String {
        consent_sentence(&self.group_name, &ConsentOrigin::BulkImport, "[the date]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_like_sentences() {
        assert_eq!(
            count_text(412, 5.0, "Barnstorm UK", 7),
            "412 supporters within 5 km have agreed to hear from Barnstorm UK by email."
        );
        assert!(count_text(1, 2.5, "X", 7).starts_with("1 supporter within 2.5 km has"));
        assert!(count_text(0, 5.0, "X", 7).contains("in the last 7 days"));
    }
}
