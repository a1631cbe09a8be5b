//! The text of mails about events: RSVP confirmations and "you have a place", change and
//! cancellation notices to attendees, reminders and feedback requests, and moderation
//! decisions to hosts. Plain text, short, saying who sent it and why, with times in the
//! event's own zone. Composing only: queuing is the store's job, sending the mail crate's.

use crate::WebConfig;
use crate::feeds::{attendee_calendar, full_address};
use crate::privacy_notice::mail_footer;
use barnstorm_domain::event::{EventStatus, RsvpStatus};
use barnstorm_domain::event_notices::NoticeKind;
use barnstorm_store::events::{DueNotice, Event, EventAudience, RsvpMail, RsvpMailKind};
use barnstorm_store::{MailAttachment, NewMail, User, now_millis};
use chrono::TimeZone;
use chrono_tz::Tz;

fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Europe::London)
}

/// When an event happens, in its zone with the zone named:
/// "Thu 10 Jul 2025, 19:00–21:00 BST (Europe/London)".
pub(crate) fn when_text(starts_at: i64, ends_at: i64, time_zone: &str) -> String {
    let tz = zone(time_zone);
    let (Some(start), Some(end)) = (
        tz.timestamp_millis_opt(starts_at).single(),
        tz.timestamp_millis_opt(ends_at).single(),
    ) else {
        return String::new();
    };
    let range = if start.date_naive() == end.date_naive() {
        format!(
            "{}–{} {}",
            start.format("%a %-d %b %Y, %H:%M"),
            end.format("%H:%M"),
            end.format("%Z")
        )
    } else {
        format!(
            "{} {} – {} {}",
            start.format("%a %-d %b %Y, %H:%M"),
            start.format("%Z"),
            end.format("%a %-d %b %Y, %H:%M"),
            end.format("%Z")
        )
    };
    format!("{range} ({})", tz.name())
}

fn place_lines(event: &Event) -> String {
    let mut lines = String::new();
    let place = full_address(event);
    if !place.is_empty() {
        lines.push_str(&format!("Where: {place}\n"));
    }
    if let Some(url) = &event.online_url {
        lines.push_str(&format!("Online: {url}\n"));
    }
    lines
}

fn mail(config: &WebConfig, to: &str, subject: String, body_text: String) -> NewMail {
    NewMail {
        to: to.to_owned(),
        subject,
        body_text: body_text + &mail_footer(config),
        ..Default::default()
    }
}

/// A mail about a group's event: sent in the group's name, with the event's calendar entry
/// (as an attendee sees it: the full address, and cancelled once it is).
fn event_mail(
    config: &WebConfig,
    event: &Event,
    group_name: &str,
    to: &str,
    subject: String,
    body_text: String,
) -> NewMail {
    NewMail {
        sender_name: Some(group_name.to_owned()),
        attachments: vec![MailAttachment {
            filename: format!("event-{}.ics", event.id),
            content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
            content: attendee_calendar(config, event),
        }],
        ..mail(config, to, subject, body_text)
    }
}

/// The mails about one person's RSVP: the confirmation (a place or the waiting list),
/// "you have a place" when a cancellation freed one, and the confirmation of their own
/// cancellation. Each carries a manage link and the event's calendar entry.
pub(crate) fn rsvp_mail(
    config: &WebConfig,
    event: &Event,
    group_name: &str,
    rsvp: &RsvpMail,
) -> NewMail {
    let when = when_text(event.starts_at, event.ends_at, &event.time_zone);
    let page = config.absolute(&format!("/events/{}", event.id));
    let manage = config.absolute(&format!("/rsvp/{}", rsvp.manage_token));
    let why = format!(
        "You are getting this because this address was used to sign up for this event on Barnstorm, for {group_name}."
    );
    let keep = "Keep this link to yourself: it lets whoever has it change your sign-up.";
    let name = &rsvp.name;
    let title = &event.title;
    let (subject, body) = match rsvp.kind {
        RsvpMailKind::Confirmation => {
            let (subject, status_line) = match rsvp.status {
                RsvpStatus::Waitlist => (
                    format!("You're on the waiting list: {title}"),
                    "The event is full, so you are on the waiting list. We'll email you if a place frees up.",
                ),
                _ => (
                    format!("You're going: {title}"),
                    "You have a place. See you there!",
                ),
            };
            (
                subject,
                format!(
                    "Hello {name},\n\n{status_line}\n\n{title}\nWhen: {when}\n\n\
                     See the address and details, add it to your calendar, or cancel if you can't come:\n\n{manage}\n\n\
                     {keep}\n\nEvent page: {page}\n\n{why}\n"
                ),
            )
        }
        RsvpMailKind::Promoted => (
            format!("A place has freed up for you: {title}"),
            format!(
                "Hello {name},\n\nSomeone cancelled, so you now have a place at {title}.\nWhen: {when}\n\n\
                 See the details, or cancel if you can no longer come so the place goes to the next person:\n\n{manage}\n\n\
                 {keep}\n\nEvent page: {page}\n\n{why}\n"
            ),
        ),
        RsvpMailKind::Cancelled => (
            format!("You cancelled your place: {title}"),
            format!(
                "Hello {name},\n\nYou cancelled your place at {title} ({when}). Thanks for letting the host know.\n\n\
                 Changed your mind? Sign up again on the event page while there is room:\n\n{page}\n\n\
                 Your sign-up: {manage}\n\n{why}\n"
            ),
        ),
    };
    event_mail(config, event, group_name, &rsvp.email, subject, body)
}

/// Tells an attendee that the time or place of an event changed.
pub(crate) fn change_notice(
    config: &WebConfig,
    event: &Event,
    group_name: &str,
    attendee: &EventAudience,
) -> NewMail {
    let when = when_text(event.starts_at, event.ends_at, &event.time_zone);
    let page = config.absolute(&format!("/events/{}", event.id));
    event_mail(
        config,
        event,
        group_name,
        &attendee.email,
        format!("Changed: {}", event.title),
        format!(
            "Hello {name},\n\nThe host of {title} ({group_name}) has changed the time or place.\n\n\
             When: {when}\n{place}\n\
             If you can no longer come, use the link in your confirmation mail to cancel, so someone else can have your place.\n\n\
             Event page: {page}\n\n\
             You are getting this because you signed up for this event on Barnstorm.\n",
            name = attendee.name,
            title = event.title,
            place = place_lines(event),
        ),
    )
}

/// Tells an attendee that an event was cancelled, with the host's reason and a calendar
/// entry that takes it out of their calendar. `event` may be as it was before cancelling.
pub(crate) fn cancellation_notice(
    config: &WebConfig,
    event: &Event,
    group_name: &str,
    reason: &str,
    attendee: &EventAudience,
) -> NewMail {
    let cancelled = Event {
        status: EventStatus::Cancelled,
        updated_at: now_millis().max(event.updated_at),
        ..event.clone()
    };
    let event = &cancelled;
    let when = when_text(event.starts_at, event.ends_at, &event.time_zone);
    let reason = if reason.trim().is_empty() {
        String::new()
    } else {
        format!("The host said: {}\n\n", reason.trim())
    };
    event_mail(
        config,
        event,
        group_name,
        &attendee.email,
        format!("Cancelled: {}", event.title),
        format!(
            "Hello {name},\n\nSorry: {title} ({group_name}), planned for {when}, has been cancelled.\n\n{reason}\
             You don't need to do anything.\n\n\
             You are getting this because you signed up for this event on Barnstorm.\n",
            name = attendee.name,
            title = event.title,
        ),
    )
}

/// A scheduled notice: the reminder the day before, the one on the day, or the feedback
/// request, each with a manage link of its own (`manage_token`, which the store keeps
/// beside the confirmation's).
pub(crate) fn scheduled_notice(
    config: &WebConfig,
    notice: &DueNotice,
    manage_token: &str,
) -> NewMail {
    let when = when_text(notice.starts_at, notice.ends_at, &notice.time_zone);
    let page = config.absolute(&format!("/events/{}", notice.event_id));
    let manage = config.absolute(&format!("/rsvp/{manage_token}"));
    let mut place = String::new();
    let spot = [
        notice.address.as_str(),
        notice.postcode.as_deref().unwrap_or(""),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(", ");
    if !spot.is_empty() {
        place.push_str(&format!("Where: {spot}\n"));
    }
    if let Some(url) = &notice.online_url {
        place.push_str(&format!("Online: {url}\n"));
    }
    let footer = "You are getting this because you signed up for this event on Barnstorm.";
    let (subject, body) = match notice.kind {
        NoticeKind::DayBefore | NoticeKind::OnTheDay => {
            let (subject, opening) = if notice.kind == NoticeKind::DayBefore {
                (
                    format!("Tomorrow: {}", notice.title),
                    "A reminder that you're going to this tomorrow.",
                )
            } else {
                (
                    format!("Today: {}", notice.title),
                    "A reminder that you're going to this today.",
                )
            };
            (
                subject,
                format!(
                    "Hello {name},\n\n{opening}\n\n{title}\nWhen: {when}\n{place}\n\
                     Can't make it any more? Cancel here, so someone else can have your place:\n\n{manage}\n\n\
                     Event page: {page}\n\n{footer}\n",
                    name = notice.name,
                    title = notice.title,
                ),
            )
        }
        NoticeKind::Feedback => (
            format!("How was it? {}", notice.title),
            format!(
                "Hello {name},\n\nThank you for signing up for {title} ({when}).\n\n\
                 We'd love to hear how it went. Tell the host whether you made it, give a \
                 rating and leave a comment here; it takes a minute:\n\n{manage}\n\n\
                 Event page: {page}\n\n{footer}\n",
                name = notice.name,
                title = notice.title,
            ),
        ),
    };
    mail(config, &notice.email, subject, body)
}

/// Tells a host that the organisers approved or turned down their event.
pub(crate) fn moderation_decision(
    config: &WebConfig,
    host: &User,
    event: &Event,
    group_name: &str,
    approved: bool,
    note: &str,
) -> NewMail {
    let page = config.absolute(&format!("/events/{}", event.id));
    let note = if note.trim().is_empty() {
        String::new()
    } else {
        format!("They said: {}\n\n", note.trim())
    };
    let (subject, news) = if approved {
        (
            format!("Your event is live: {}", event.title),
            format!(
                "The organisers of {group_name} approved your event. It is now published and people can sign up."
            ),
        )
    } else {
        (
            format!("Your event was not approved: {}", event.title),
            format!("The organisers of {group_name} did not approve your event."),
        )
    };
    mail(
        config,
        &host.email,
        subject,
        format!(
            "Hello {name},\n\n{news}\n\n{note}{title}\n{page}\n\n\
             You are getting this because you submitted this event on Barnstorm.\n",
            name = host.name,
            title = event.title,
        ),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_the_event_zone() {
        let start = chrono_tz::Europe::London
            .with_ymd_and_hms(2025, 7, 10, 19, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            when_text(start, start + 2 * 3_600_000, "Europe/London"),
            "Thu 10 Jul 2025, 19:00–21:00 BST (Europe/London)"
        );
        assert!(
            when_text(start, start + 24 * 3_600_000, "Europe/London").contains(" – Fri 11 Jul")
        );
    }
}
