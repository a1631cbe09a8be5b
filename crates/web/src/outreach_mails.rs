//! The text of outreach mail ("contact people in their area"): one message from a group,
//! about one event, to one consenting supporter, with the reason they got it and a
//! one-click unsubscribe (RFC 8058 headers). Composing only: choosing recipients, caps and
//! suppression are the store's job, sending the mail crate's.

use crate::WebConfig;
use barnstorm_store::NewMail;
use std::collections::BTreeMap;

/// What every copy of one outreach message shares.
#[derive(Debug, Clone)]
pub(crate) struct OutreachMessage<'a> {
    /// The group the message comes from.
    pub group_id: i64,
    /// The group's name.
    pub group_name: &'a str,
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

/// One copy of `message` for one recipient. `consent_date` says when they agreed to hear
/// from the group (e.g. "3 March 2026"), if known.
pub(crate) fn outreach_mail(
    config: &WebConfig,
    message: &OutreachMessage<'_>,
    to: &str,
    name: &str,
    unsubscribe_token: &str,
    consent_date: Option<&str>,
) -> NewMail {
    let token: String =
        url::form_urlencoded::byte_serialize(unsubscribe_token.as_bytes()).collect();
    let unsubscribe = config.absolute(&format!("/unsubscribe/{token}?group={}", message.group_id));
    let event_link = config.absolute(message.event_path);
    let greeting = if name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", name.trim())
    };
    let place = if message.event_place.is_empty() {
        String::new()
    } else {
        format!("Where: {}\n", message.event_place)
    };
    let when_consented = consent_date.map_or_else(
        || "when you RSVP'd to one of its events".to_owned(),
        |date| format!("when you RSVP'd on {date}"),
    );
    let body_text = format!(
        "{greeting}\n\n{body}\n\n\
         ----\n\
         {title}\n\
         When: {when}\n\
         {place}\
         Details and RSVP: {event_link}\n\
         ----\n\n\
         This message was sent by {group} through Barnstorm.\n\
         You get this because you agreed to hear from {group} {when_consented}.\n\
         Unsubscribe: {unsubscribe}\n",
        body = message.message.trim(),
        title = message.event_title,
        when = message.event_when,
        group = message.group_name,
    );
    let mut headers = BTreeMap::new();
    headers.insert("List-Unsubscribe".to_owned(), format!("<{unsubscribe}>"));
    headers.insert(
        "List-Unsubscribe-Post".to_owned(),
        "List-Unsubscribe=One-Click".to_owned(),
    );
    NewMail {
        to: to.to_owned(),
        subject: format!("{}: {}", message.group_name, message.subject.trim()),
        body_text,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_copy_says_why_and_how_to_leave() {
        let config = WebConfig::new("https://organise.example.org/");
        let message = OutreachMessage {
            group_id: 7,
            group_name: "Barnstorm UK",
            subject: "Phonebank on Tuesday",
            message: "Come and call with us!",
            event_title: "Tuesday phonebank",
            event_when: "Tue 2 Dec 2025, 18:30–20:30",
            event_place: "M1 1AA",
            event_path: "/events/42",
        };
        let mail = outreach_mail(
            &config,
            &message,
            "sam@example.org",
            "Sam",
            "tok+en/x",
            Some("3 March 2026"),
        );
        assert_eq!(mail.subject, "Barnstorm UK: Phonebank on Tuesday");
        assert!(
            mail.body_text
                .starts_with("Hello Sam,\n\nCome and call with us!")
        );
        assert!(
            mail.body_text
                .contains("https://organise.example.org/events/42")
        );
        assert!(mail.body_text.contains("Where: M1 1AA"));
        assert!(
            mail.body_text
                .contains("agreed to hear from Barnstorm UK when you RSVP'd on 3 March 2026")
        );
        let link = "https://organise.example.org/unsubscribe/tok%2Ben%2Fx?group=7";
        assert!(mail.body_text.contains(&format!("Unsubscribe: {link}")));
        assert_eq!(mail.headers["List-Unsubscribe"], format!("<{link}>"));
        assert_eq!(
            mail.headers["List-Unsubscribe-Post"],
            "List-Unsubscribe=One-Click"
        );
    }
}
