//! The words of the approval queue: where an event is, as organisers judging it need to
//! know (the full address, for they see it anyway), and the mail that tells a group's
//! organisers an event awaits their approval, with the link to their queue. Text only:
//! who receives it is `pages::events`', queuing it with the event the store's.

use crate::WebConfig;
use crate::event_mails::when_text;
use crate::privacy_notice::mail_footer;
use barnstorm_store::events::NewEvent;
use barnstorm_store::{Group, Member, NewMail};

/// "Headingley Library, LS6 3HF", "Online", "Headingley Library, LS6 3HF, and online".
pub(crate) fn place_text(address: &str, postcode: Option<&str>, online: bool) -> String {
    let place = [address.trim(), postcode.unwrap_or("").trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    match (place.is_empty(), online) {
        (true, true) => "Online".to_owned(),
        (true, false) => "No place given".to_owned(),
        (false, true) => format!("{place}, and online"),
        (false, false) => place,
    }
}

/// The mail to one organiser of `queue` (the group whose approval queue lists it) about
/// `event` of `group`, submitted by `host_name` and waiting for approval.
pub(crate) fn awaiting_approval(
    config: &WebConfig,
    organiser: &Member,
    queue: &Group,
    group: &Group,
    event: &NewEvent,
    host_name: &str,
) -> NewMail {
    let link = config.absolute(&format!("/groups/{}/events/pending", queue.slug));
    let place = place_text(
        &event.address,
        event.postcode.as_deref(),
        event.online_url.is_some(),
    );
    let body = format!(
        "Hello {name},\n\n\
         {host} submitted an event for {group} and it is waiting for your approval. \
         Nobody else can see it until an organiser approves it.\n\n\
         {title}\n\
         When: {when}\n\
         Where: {place}\n\
         Group: {group}\n\n\
         Approve or turn it down: {link}\n\n\
         You are getting this because you organise {queue}.\n",
        name = organiser.name,
        host = host_name,
        group = group.name,
        title = event.title,
        when = when_text(event.starts_at, event.ends_at, &event.time_zone),
        queue = queue.name,
    );
    NewMail {
        to: organiser.email.clone(),
        subject: format!("Waiting for your approval: {}", event.title),
        body_text: body + &mail_footer(config),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_read_as_organisers_expect() {
        assert_eq!(
            place_text("Headingley Library", Some("LS6 3HF"), false),
            "Headingley Library, LS6 3HF"
        );
        assert_eq!(place_text("", None, true), "Online");
        assert_eq!(place_text("", Some("LS6"), true), "LS6, and online");
        assert_eq!(place_text(" ", None, false), "No place given");
    }
}
