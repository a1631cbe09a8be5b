//! "Contact people in their area": `/events/{id}/outreach`, for the event's host and its
//! group's organisers. They write a message, see how many supporters within the radius
//! agreed to hear from the group (a count, never names or addresses), confirm, and the
//! store queues one mail each within the daily caps and audits the send. Who may send is
//! decided here; who receives it is the store's, composing each copy `outreach_mails`'s.

use super::run_event;
use crate::auth::{Flash, SignedIn};
use crate::event_mails::when_text;
use crate::outreach_mails::{OutreachMessage, outreach_mail};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::event::EventStatus;
use barnstorm_store::events::{Event, OutreachError, OutreachRequest};
use barnstorm_store::{Group, Millis, now_millis};
use chrono::TimeZone;
use serde::Deserialize;

/// The radius the form starts with, in kilometres.
const DEFAULT_RADIUS_KM: f64 = 5.0;
/// The smallest and largest radius a sender may choose, in kilometres.
const RADIUS_KM: (f64, f64) = (1.0, 50.0);
const MAX_SUBJECT_CHARS: usize = 150;
const MAX_MESSAGE_CHARS: usize = 5_000;

/// The message as typed, kept across the count and confirmation steps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct OutreachForm {
    subject: String,
    message: String,
    radius_km: String,
}

/// A checked message.
struct Checked {
    subject: String,
    message: String,
    radius_km: f64,
}

/// Reads the radius alone (the count needs nothing else).
fn radius(raw: &str) -> Result<f64, String> {
    let raw = raw.trim();
    let bad = || {
        format!(
            "Radius: give a distance in km from {} to {}.",
            RADIUS_KM.0, RADIUS_KM.1
        )
    };
    let km: f64 = if raw.is_empty() {
        DEFAULT_RADIUS_KM
    } else {
        raw.parse().map_err(|_| bad())?
    };
    if km.is_finite() && (RADIUS_KM.0..=RADIUS_KM.1).contains(&km) {
        Ok(km)
    } else {
        Err(bad())
    }
}

fn check(form: &OutreachForm) -> Result<Checked, String> {
    // One line: the subject becomes a mail header.
    let subject = form
        .subject
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if subject.is_empty() || subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(format!(
            "Subject: write a subject (up to {MAX_SUBJECT_CHARS} characters)."
        ));
    }
    let message = form.message.trim().replace("\r\n", "\n");
    if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(format!(
            "Message: write a message (up to {MAX_MESSAGE_CHARS} characters)."
        ));
    }
    Ok(Checked {
        subject,
        message,
        radius_km: radius(&form.radius_km)?,
    })
}

/// "5 km", "2.5 km".
fn km_text(km: f64) -> String {
    format!("{} km", (km * 10.0).round() / 10.0)
}

/// "412 supporters within 5 km have agreed to hear from Barnstorm UK by email."
fn count_text(count: i64, km: f64, group: &str) -> String {
    match count {
        0 => format!(
            "Nobody within {} has agreed to hear from {group} by email. Try a larger radius.",
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

/// A past message as the history lists it.
struct HistoryRow {
    when: String,
    sender: String,
    subject: String,
    radius: String,
    recipients: i64,
}

#[derive(Template)]
#[template(path = "events/outreach.html")]
struct OutreachPage {
    layout: Layout,
    event: Event,
    group: Group,
    when: String,
    form: OutreachForm,
    /// Why nobody can be contacted about this event, if so.
    closed: Option<String>,
    count: Option<String>,
    error: Option<String>,
    per_group: u32,
    per_sender: u32,
    history: Vec<HistoryRow>,
}

#[derive(Template)]
#[template(path = "events/outreach_count.html")]
struct CountFragment {
    count: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "events/outreach_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    event: Event,
    group: Group,
    form: OutreachForm,
    subject: String,
    message: String,
    radius: String,
    count: i64,
    count_text: String,
}

/// Why an event cannot be promoted, if it cannot: it must be live, still to come and have
/// a place on the map.
fn closed_reason(event: &Event) -> Option<String> {
    if event.status != EventStatus::Live {
        return Some(format!(
            "This event is {}: only published events can be promoted.",
            event.status.label().to_lowercase()
        ));
    }
    if event.ends_at <= now_millis() {
        return Some("This event is over.".to_owned());
    }
    if event.location.is_none() {
        return Some(
            "This event has no place on the map, so there is nobody nearby to contact.".to_owned(),
        );
    }
    None
}

/// An instant in the event's zone, formatted with `format`.
fn local_text(millis: Millis, time_zone: &str, format: &str) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Europe::London);
    tz.timestamp_millis_opt(millis)
        .single()
        .map_or_else(String::new, |t| t.format(format).to_string())
}

/// A time people read in the event's zone: "14:32", or "Wed 3 Dec, 14:32" on another day.
fn clock_text(millis: Millis, time_zone: &str) -> String {
    let day = |ms| local_text(ms, time_zone, "%Y-%m-%d");
    if day(millis) == day(now_millis()) {
        local_text(millis, time_zone, "%H:%M")
    } else {
        local_text(millis, time_zone, "%a %-d %b, %H:%M")
    }
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    event: Event,
    group: Group,
    form: OutreachForm,
    count: Option<String>,
    error: Option<String>,
) -> Result<OutreachPage, PageError> {
    let history = state
        .store
        .outreach_history(event.id)
        .await?
        .into_iter()
        .map(|m| HistoryRow {
            when: local_text(m.created_at, &event.time_zone, "%a %-d %b %Y, %H:%M"),
            sender: m.sender_name.unwrap_or_else(|| "(account removed)".into()),
            subject: m.subject,
            radius: km_text(m.radius_km),
            recipients: m.recipients,
        })
        .collect();
    Ok(OutreachPage {
        layout: Layout::new(&signed_in.context),
        when: when_text(event.starts_at, event.ends_at, &event.time_zone),
        closed: closed_reason(&event),
        event,
        group,
        form,
        count,
        error,
        per_group: state.config.outreach_daily_per_group,
        per_sender: state.config.outreach_daily_per_sender,
        history,
    })
}

async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    let form = OutreachForm {
        radius_km: DEFAULT_RADIUS_KM.to_string(),
        ..OutreachForm::default()
    };
    let page = page(&state, &signed_in, event, group, form, None, None).await?;
    Ok(render(&page))
}

/// The count for `form`'s radius, or why there is none.
async fn count_for(
    state: &AppState,
    event: &Event,
    group: &Group,
    form: &OutreachForm,
) -> Result<Result<(i64, f64), String>, PageError> {
    if let Some(reason) = closed_reason(event) {
        return Ok(Err(reason));
    }
    let (Some(center), Ok(km)) = (event.location, radius(&form.radius_km)) else {
        return Ok(Err(radius(&form.radius_km).err().unwrap_or_default()));
    };
    let n = state.store.audience_count(group.id, center, km).await?;
    Ok(Ok((n, km)))
}

/// "Count recipients": a fragment for htmx, the whole page (with the form kept) without.
async fn count(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<OutreachForm>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    let (count, error) = match count_for(&state, &event, &group, &form).await? {
        Ok((n, km)) => (Some(count_text(n, km, &group.name)), None),
        Err(problem) => (None, Some(problem)),
    };
    if headers.contains_key("hx-request") {
        return Ok(render(&CountFragment { count, error }));
    }
    let page = page(&state, &signed_in, event, group, form, count, error).await?;
    Ok(render(&page))
}

/// The confirmation step: the message once more with the count, and the send button.
async fn confirm(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<OutreachForm>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    let checked = match check(&form) {
        Ok(checked) => checked,
        Err(problem) => {
            let page = page(&state, &signed_in, event, group, form, None, Some(problem)).await?;
            return Ok(render(&page));
        }
    };
    let (n, km) = match count_for(&state, &event, &group, &form).await? {
        Ok((0, km)) => {
            let text = count_text(0, km, &group.name);
            let page = page(&state, &signed_in, event, group, form, None, Some(text)).await?;
            return Ok(render(&page));
        }
        Ok(found) => found,
        Err(problem) => {
            let page = page(&state, &signed_in, event, group, form, None, Some(problem)).await?;
            return Ok(render(&page));
        }
    };
    Ok(render(&ConfirmPage {
        layout: Layout::new(&signed_in.context),
        count_text: count_text(n, km, &group.name),
        count: n,
        subject: checked.subject,
        message: checked.message,
        radius: km_text(km),
        event,
        group,
        form,
    }))
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
fn cap_text(error: &OutreachError, group: &Group, time_zone: &str) -> Option<String> {
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

async fn send(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<OutreachForm>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    let back = format!("/events/{id}/outreach");
    let checked = match check(&form) {
        Ok(checked) => checked,
        Err(problem) => return Ok(Flash::error(problem).redirect(&back)),
    };
    if let Some(reason) = closed_reason(&event) {
        return Ok(Flash::error(reason).redirect(&back));
    }
    let Some(center) = event.location else {
        return Ok(Flash::error("This event has no place on the map.").redirect(&back));
    };
    let request = OutreachRequest {
        event_id: event.id,
        group_id: group.id,
        sender_user_id: signed_in.user.id,
        subject: checked.subject.clone(),
        body: checked.message.clone(),
        center,
        radius_km: checked.radius_km,
        per_group_daily_cap: i64::from(state.config.outreach_daily_per_group),
        per_sender_daily_cap: i64::from(state.config.outreach_daily_per_sender),
    };
    // The composer must own what it uses: the store may keep it for the whole send.
    let config = std::sync::Arc::clone(&state.config);
    let (group_id, group_name) = (group.id, group.name.clone());
    let (subject, body) = (checked.subject, checked.message);
    let event_title = event.title.clone();
    let when = when_text(event.starts_at, event.ends_at, &event.time_zone);
    let place = public_place(&event);
    let event_path = format!("/events/{}", event.id);
    let compose = move |r: &barnstorm_store::events::Recipient| {
        let message = OutreachMessage {
            group_id,
            group_name: &group_name,
            subject: &subject,
            message: &body,
            event_title: &event_title,
            event_when: &when,
            event_place: &place,
            event_path: &event_path,
        };
        outreach_mail(
            &config,
            &message,
            &r.email,
            &r.name,
            &r.unsubscribe_token,
            None,
        )
    };
    match state.store.send_outreach(&request, &compose).await {
        Ok(sent) => {
            state.mail_queued();
            let people = if sent.recipients == 1 {
                "1 supporter".to_owned()
            } else {
                format!("{} supporters", sent.recipients)
            };
            Ok(
                Flash::ok(format!("Sent to {people}. Their copies are on their way."))
                    .redirect(&back),
            )
        }
        Err(OutreachError::Store(e)) => Err(e.into()),
        Err(OutreachError::EventNotFound) => Err(super::no_event()),
        Err(other) => {
            let text = cap_text(&other, &group, &event.time_zone).unwrap_or_else(|| {
                let mut text = other.to_string();
                if let Some(first) = text.get(..1) {
                    text = first.to_uppercase() + &text[1..];
                }
                format!("{text}.")
            });
            Ok(Flash::error(text).redirect(&back))
        }
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/outreach", get(show))
        .route("/events/{id}/outreach/count", post(count))
        .route("/events/{id}/outreach/confirm", post(confirm))
        .route("/events/{id}/outreach/send", post(send))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_radius_is_bounded() {
        assert_eq!(radius(""), Ok(5.0));
        assert_eq!(radius("12.5"), Ok(12.5));
        for bad in ["0", "51", "-3", "NaN", "inf", "five"] {
            assert!(radius(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn counts_read_like_sentences() {
        assert_eq!(
            count_text(412, 5.0, "Barnstorm UK"),
            "412 supporters within 5 km have agreed to hear from Barnstorm UK by email."
        );
        assert!(count_text(1, 2.5, "X").starts_with("1 supporter within 2.5 km has"));
        assert!(count_text(0, 5.0, "X").starts_with("Nobody within 5 km"));
    }

    #[test]
    fn subjects_are_one_line() {
        let form = OutreachForm {
            subject: " Come\r\nBcc: x@example.org ".into(),
            message: "Hi".into(),
            radius_km: "5".into(),
        };
        assert_eq!(
            check(&form).map(|c| c.subject),
            Ok("Come Bcc: x@example.org".into())
        );
    }
}
