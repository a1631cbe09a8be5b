//! "Contact people in their area": `/events/{id}/outreach`, for the event's host and its
//! group's organisers, once they have confirmed their email address, about a published
//! event. They write a message, see how many supporters within the radius agreed to hear
//! from the group and have not heard from it recently (a count, never names or
//! addresses), preview the mail, confirm, and the store queues one mail each within the
//! caps and audits the send. Who may send is decided here; who receives it is the store's,
//! the words `outreach_text`'s and `outreach_mails`'s.

use super::outreach_text::{Letter, cap_text, count_text, km_text, local_text};
use super::{CONFIRM_EMAIL_FIRST, confirm_email_first, run_event};
use crate::auth::{Flash, SignedIn};
use crate::event_mails::when_text;
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::event::EventStatus;
use barnstorm_store::events::{Event, OutreachError, OutreachRequest};
use barnstorm_store::{Group, User, now_millis};
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
    recipient_days: u32,
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
    radius: String,
    count: i64,
    count_text: String,
    /// The mail as a recipient who RSVP'd gets it, with placeholders for them.
    preview_subject: String,
    preview_body: String,
    /// What the consent line says instead for addresses the group imported.
    import_sentence: String,
    recipient_days: u32,
}

/// Why `user` cannot promote `event`, if they cannot: they must have confirmed their
/// email address, and the event must be live, still to come and have a place on the map.
fn closed_reason(user: &User, event: &Event) -> Option<String> {
    if !user.is_verified() {
        return Some(CONFIRM_EMAIL_FIRST.to_owned());
    }
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
        closed: closed_reason(&signed_in.user, &event),
        event,
        group,
        form,
        count,
        error,
        per_group: state.config.outreach_daily_per_group,
        per_sender: state.config.outreach_daily_per_sender,
        recipient_days: state.config.outreach_recipient_days,
        history,
    })
}

async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    if let Some(refusal) = confirm_email_first(&signed_in, "write to supporters") {
        return Ok(refusal);
    }
    let form = OutreachForm {
        radius_km: DEFAULT_RADIUS_KM.to_string(),
        ..OutreachForm::default()
    };
    let page = page(&state, &signed_in, event, group, form, None, None).await?;
    Ok(render(&page))
}

/// The count for `form`'s radius, or why there is none: the supporters the send would
/// reach now, so those the group mailed within the per-recipient window are left out.
async fn count_for(
    state: &AppState,
    user: &User,
    event: &Event,
    group: &Group,
    form: &OutreachForm,
) -> Result<Result<(i64, f64), String>, PageError> {
    if let Some(reason) = closed_reason(user, event) {
        return Ok(Err(reason));
    }
    let (Some(center), Ok(km)) = (event.location, radius(&form.radius_km)) else {
        return Ok(Err(radius(&form.radius_km).err().unwrap_or_default()));
    };
    let mailed_since = now_millis() - state.config.outreach_recipient_window_ms();
    let n = state
        .store
        .audience_count(group.id, center, km, Some(mailed_since))
        .await?;
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
    if let Some(refusal) = confirm_email_first(&signed_in, "write to supporters") {
        return Ok(refusal);
    }
    let (count, error) = match count_for(&state, &signed_in.user, &event, &group, &form).await? {
        Ok((n, km)) => (
            Some(count_text(
                n,
                km,
                &group.name,
                state.config.outreach_recipient_days,
            )),
            None,
        ),
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
    if let Some(refusal) = confirm_email_first(&signed_in, "write to supporters") {
        return Ok(refusal);
    }
    let checked = match check(&form) {
        Ok(checked) => checked,
        Err(problem) => {
            let page = page(&state, &signed_in, event, group, form, None, Some(problem)).await?;
            return Ok(render(&page));
        }
    };
    let (n, km) = match count_for(&state, &signed_in.user, &event, &group, &form).await? {
        Ok((0, km)) => {
            let text = count_text(0, km, &group.name, state.config.outreach_recipient_days);
            let page = page(&state, &signed_in, event, group, form, None, Some(text)).await?;
            return Ok(render(&page));
        }
        Ok(found) => found,
        Err(problem) => {
            let page = page(&state, &signed_in, event, group, form, None, Some(problem)).await?;
            return Ok(render(&page));
        }
    };
    let letter = letter(&state, &event, &group, &signed_in.user, &checked).await?;
    let preview = letter.preview(&state.config);
    Ok(render(&ConfirmPage {
        layout: Layout::new(&signed_in.context),
        count_text: count_text(n, km, &group.name, state.config.outreach_recipient_days),
        preview_subject: preview.subject,
        preview_body: preview.body_text,
        import_sentence: letter.import_sentence_template(),
        recipient_days: state.config.outreach_recipient_days,
        count: n,
        radius: km_text(km),
        event,
        group,
        form,
    }))
}

/// The letter `sender` is writing about `event`, naming its host.
async fn letter(
    state: &AppState,
    event: &Event,
    group: &Group,
    sender: &User,
    checked: &Checked,
) -> Result<Letter, PageError> {
    let host_name = match event.host_user_id {
        Some(id) => state.store.user_by_id(id).await?.map(|u| u.name),
        None => None,
    };
    Ok(Letter::new(
        event,
        group,
        host_name,
        &sender.name,
        &checked.subject,
        &checked.message,
    ))
}

async fn send(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<OutreachForm>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    if let Some(refusal) = confirm_email_first(&signed_in, "write to supporters") {
        return Ok(refusal);
    }
    let back = format!("/events/{id}/outreach");
    let checked = match check(&form) {
        Ok(checked) => checked,
        Err(problem) => return Ok(Flash::error(problem).redirect(&back)),
    };
    if let Some(reason) = closed_reason(&signed_in.user, &event) {
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
        per_recipient_window_ms: state.config.outreach_recipient_window_ms(),
        now: now_millis(),
    };
    // The composer must own what it uses: the store may keep it for the whole send.
    let config = std::sync::Arc::clone(&state.config);
    let letter = letter(&state, &event, &group, &signed_in.user, &checked).await?;
    let compose = move |r: &barnstorm_store::events::Recipient| letter.copy_for(&config, r);
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
