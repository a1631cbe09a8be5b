//! The text of outreach mail ("contact people in their area"): one message from a group,
//! about one event, to one consenting supporter, naming the group, the host and the
//! sender, saying truthfully where the recipient's consent came from (an RSVP form or a
//! bulk import), with a one-click unsubscribe (RFC 8058 headers). Composing only: choosing
//! recipients, caps and suppression are the store's job, sending the mail crate's.

use crate::WebConfig;
use crate::privacy_notice::mail_footer;
use barnstorm_store::events::{ConsentOrigin, Recipient};
use barnstorm_store::{Millis, NewMail};
use chrono::TimeZone;
use std::collections::BTreeMap;

/// What every copy of one outreach message shares.
#[derive(Debug, Clone)]
pub(crate) struct OutreachMessage<'a> {
    /// The group the message comes from.
    pub group_id: i64,
    /// The group's name.
    pub group_name: &'a str,
    /// The event's host; `None` when the event has none (the group hosts it).
    pub host_name: Option<&'a str>,
    /// Who wrote and sent the message.
    pub sender_name: &'a str,
    /// Subject line as the sender wrote it.
    pub subject: &'a str,
    /// The sender's message (plain text or Markdown, sent as written).
    pub message: &'a str,
    /// The event's title.
    pub event_title: &'a str,
    /// When the event is, for people ("Tue 2 Dec 2025, 18:30–20:30").
    pub event_when: &'a str,
    /// Where the event is, as far as the public may know; empty when online or hidden.
    pub event_place: &'a str,
    /// The event's page (with its RSVP form), as a path starting with `/`.
    pub event_path: &'a str,
}

/// "3 March 2026", in UK time.
pub(crate) fn date_text(millis: Millis) -> String {
    chrono_tz::Europe::London
        .timestamp_millis_opt(millis)
        .single()
        .map_or_else(String::new, |t| t.format("%-d %B %Y").to_string())
}

/// Why this person gets mail from `group`, as truthfully as the consent record allows;
/// `date` is when they gave it ("3 March 2026").
pub(crate) fn consent_sentence(group: &str, origin: &ConsentOrigin, date: &str) -> String {
    match origin {
        ConsentOrigin::RsvpForm {
            event_title: Some(title),
            ..
        } => format!(
            "You get this because you agreed to hear from {group} by email when you RSVP'd to \"{title}\" on {date}."
        ),
        ConsentOrigin::RsvpForm {
            event_title: None, ..
        } => format!(
            "You get this because you agreed to hear from {group} by email when you RSVP'd to one of its events on {date}."
        ),
        ConsentOrigin::BulkImport => format!(
            "You get this because {group} added your address in a bulk import on {date}, recording that you had agreed to hear from it by email."
        ),
        ConsentOrigin::Recorded(_) => format!(
            "You get this because {group} recorded on {date} that you had agreed to hear from it by email."
        ),
    }
}

/// "Hosted by Harun Host for Leeds" or "Hosted by Leeds".
fn hosted_by(message: &OutreachMessage<'_>) -> String {
    match message.host_name.map(str::trim).filter(|h| !h.is_empty()) {
        Some(host) => format!("Hosted by {host} for {}", message.group_name),
        None => format!("Hosted by {}", message.group_name),
    }
}

/// One copy of `message` for one recipient, with their name, unsubscribe link and where
/// their consent came from.
pub(crate) fn outreach_mail(
    config: &WebConfig,
    message: &OutreachMessage<'_>,
    recipient: &Recipient,
) -> NewMail {
    let mut why = consent_sentence(
        &recipient.consent_group_name,
        &recipient.consent_origin,
        &date_text(recipient.consent_given_at),
    );
    if recipient.consent_group_id != message.group_id {
        why.push_str(&format!(
            " {} is one of the local groups of {}, which that consent covers.",
            message.group_name, recipient.consent_group_name
        ));
    }
    outreach_mail_saying(config, message, recipient, &why)
}

/// [`outreach_mail`] with the line saying why they get it written by the caller (the
/// preview's placeholders).
pub(crate) fn outreach_mail_saying(
    config: &WebConfig,
    message: &OutreachMessage<'_>,
    recipient: &Recipient,
    why: &str,
) -> NewMail {
    let token: String =
        url::form_urlencoded::byte_serialize(recipient.unsubscribe_token.as_bytes()).collect();
    // Leaving the sending group also withdraws a parent group's consent that covered it.
    let unsubscribe = config.absolute(&format!("/unsubscribe/{token}?group={}", message.group_id));
    let event_link = config.absolute(message.event_path);
    let name = recipient.name.trim();
    let greeting = if name.is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {name},")
    };
    let place = if message.event_place.is_empty() {
        String::new()
    } else {
        format!("Where: {}\n", message.event_place)
    };
    let body_text = format!(
        "{greeting}\n\n{body}\n\n\
         ----\n\
         {title}\n\
         {hosted}\n\
         When: {when}\n\
         {place}\
         Details and RSVP: {event_link}\n\
         ----\n\n\
         {sender} sent this message for {group} through Barnstorm.\n\
         {why}\n\
         Unsubscribe: {unsubscribe}\n",
        body = message.message.trim(),
        title = message.event_title,
        hosted = hosted_by(message),
        when = message.event_when,
        sender = message.sender_name.trim(),
        group = message.group_name,
    );
    let mut headers = BTreeMap::new();
    headers.insert("List-Unsubscribe".to_owned(), format!("<{unsubscribe}>"));
    headers.insert(
        "List-Unsubscribe-Post".to_owned(),
        "List-Unsubscribe=One-Click".to_owned(),
    );
    NewMail {
        to: recipient.email.clone(),
        subject: format!("{}: {}", message.group_name, message.subject.trim()),
        body_text: body_text + &mail_footer(config),
        headers,
        sender_name: Some(message.group_name.to_owned()),
        attachments: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient(origin: ConsentOrigin) -> Recipient {
        Recipient {
            supporter_id: 1,
            name: "Sam".into(),
            email: "sam@example.org".into(),
            unsubscribe_token: "tok+en/x".into(),
            consent_origin: origin,
            // 3 March 2026, 12:00 UTC.
            consent_given_at: 1_772_539_200_000,
            consent_group_id: 7,
            consent_group_name: "Barnstorm UK".into(),
        }
    }

    fn message() -> OutreachMessage<'static> {
        OutreachMessage {
            group_id: 7,
            group_name: "Barnstorm UK",
            host_name: Some("Harun Host"),
            sender_name: "Olu Organiser",
            subject: "Phonebank on Tuesday",
            message: "Come and call with us!",
            event_title: "Tuesday phonebank",
            event_when: "Tue 2 Dec 2025, 18:30–20:30",
            event_place: "M1 1AA",
            event_path: "/events/42",
        }
    }

    #[test]
    fn every_copy_says_who_why_and_how_to_leave() {
        let config = WebConfig::new("https://organise.example.org/");
        let origin = ConsentOrigin::RsvpForm {
            event_id: 3,
            event_title: Some("Spring canvass".into()),
        };
        let mail = outreach_mail(&config, &message(), &recipient(origin));
        assert_eq!(mail.to, "sam@example.org");
        assert_eq!(mail.sender_name.as_deref(), Some("Barnstorm UK"));
        assert_eq!(mail.subject, "Barnstorm UK: Phonebank on Tuesday");
        let body = &mail.body_text;
        assert!(body.starts_with("Hello Sam,\n\nCome and call with us!"));
        assert!(body.contains("https://organise.example.org/events/42"));
        assert!(body.contains("Hosted by Harun Host for Barnstorm UK"));
        assert!(body.contains("Olu Organiser sent this message for Barnstorm UK"));
        assert!(body.contains("Where: M1 1AA"));
        assert!(
            body.contains(
                "agreed to hear from Barnstorm UK by email when you RSVP'd to \"Spring canvass\" on 3 March 2026."
            ),
            "{body}"
        );
        let link = "https://organise.example.org/unsubscribe/tok%2Ben%2Fx?group=7";
        assert!(body.contains(&format!("Unsubscribe: {link}")));
        assert_eq!(mail.headers["List-Unsubscribe"], format!("<{link}>"));
        assert_eq!(
            mail.headers["List-Unsubscribe-Post"],
            "List-Unsubscribe=One-Click"
        );
    }

    #[test]
    fn imported_consent_is_not_called_an_rsvp() {
        let config = WebConfig::new("https://organise.example.org");
        let mail = outreach_mail(&config, &message(), &recipient(ConsentOrigin::BulkImport));
        assert!(
            mail.body_text.contains(
                "Barnstorm UK added your address in a bulk import on 3 March 2026, recording that you had agreed"
            ),
            "{}",
            mail.body_text
        );
        assert!(!mail.body_text.contains("RSVP'd"));
        let hostless = OutreachMessage {
            host_name: None,
            ..message()
        };
        let mail = outreach_mail(&config, &hostless, &recipient(ConsentOrigin::BulkImport));
        assert!(mail.body_text.contains("Hosted by Barnstorm UK\n"));
    }

    #[test]
    fn consent_to_a_parent_group_is_named() {
        let config = WebConfig::new("https://organise.example.org");
        let leeds = OutreachMessage {
            group_id: 9,
            group_name: "Leeds",
            ..message()
        };
        let mail = outreach_mail(&config, &leeds, &recipient(ConsentOrigin::BulkImport));
        let body = &mail.body_text;
        assert!(
            body.contains("Barnstorm UK added your address in a bulk import on 3 March 2026")
                && body.contains(
                    "Leeds is one of the local groups of Barnstorm UK, which that consent covers."
                ),
            "{body}"
        );
        assert!(
            body.contains("/unsubscribe/tok%2Ben%2Fx?group=9"),
            "the link leaves the group that sent it (the store withdraws what covered it): {body}"
        );
    }
}
