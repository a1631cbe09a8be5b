//! The event page: what, when (in the event's zone), where (the exact address only as the
//! host allows), the sanitised description, places left, share links, "add to calendar",
//! the RSVP form, and for phonebank events a "Start calling" button while it is on.

use super::{EventAccess, access, event_group, find_event, may_see, no_event};
use crate::auth::{Flash, RequestContext, SignedIn};
use crate::event_draft::FieldErrors;
use crate::event_mails::when_text;
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::event::{Channel, EventKind, EventStatus, RsvpStatus};
use barnstorm_domain::markdown::render_markdown;
use barnstorm_store::events::Event;
use barnstorm_store::{Group, now_millis};
use serde::Deserialize;

/// How long before a phonebank event its "Start calling" button appears.
const CALLING_OPENS_EARLY_MS: i64 = 15 * 60 * 1000;

/// What the RSVP form holds, kept to show again after a mistake.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RsvpForm {
    pub name: String,
    pub email: String,
    pub postcode: String,
    pub phone: String,
    pub shift: String,
    pub consent_email: Option<String>,
    pub consent_sms: Option<String>,
    pub consent_phone: Option<String>,
}

/// A shift as the page lists it.
pub(super) struct ShiftRow {
    pub id: String,
    pub label: String,
}

/// A share link.
pub(super) struct ShareLink {
    pub label: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "events/show.html")]
pub(super) struct EventPage {
    pub layout: Layout,
    pub event: Event,
    pub group: Group,
    pub kind_label: &'static str,
    pub when: String,
    pub description_html: String,
    pub place: String,
    pub address_hidden: bool,
    pub online: bool,
    pub show_online_url: bool,
    pub places_left: Option<i64>,
    pub full: bool,
    pub shifts: Vec<ShiftRow>,
    pub share_url: String,
    pub share_links: Vec<ShareLink>,
    pub access: EventAccess,
    pub open_for_rsvp: bool,
    pub calling_open: bool,
    pub form: RsvpForm,
    pub errors: FieldErrors,
    /// The words beside the email, text and phone tick boxes, kept with each consent.
    pub consent_wordings: [String; 3],
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Share links for a page, each a plain link with its text URL-encoded.
pub(super) fn share_links(title: &str, url: &str) -> Vec<ShareLink> {
    let message = format!("{title} {url}");
    vec![
        ShareLink {
            label: "Email",
            href: format!(
                "mailto:?subject={}&body={}",
                encode(title).replace('+', "%20"),
                encode(&message).replace('+', "%20")
            ),
        },
        ShareLink {
            label: "WhatsApp",
            href: format!("https://wa.me/?text={}", encode(&message)),
        },
        ShareLink {
            label: "X (Twitter)",
            href: format!(
                "https://twitter.com/intent/tweet?text={}&url={}",
                encode(title),
                encode(url)
            ),
        },
    ]
}

/// Builds the event page for the person asking, with the RSVP form as given.
pub(super) async fn event_page(
    state: &AppState,
    context: &RequestContext,
    event: Event,
    access: EventAccess,
    form: RsvpForm,
    errors: FieldErrors,
) -> Result<EventPage, PageError> {
    let group = event_group(state, &event).await?;
    let counts = state.store.rsvp_counts(event.id).await?;
    let places_left = event.capacity.map(|c| (c - counts.going).max(0));
    let shifts = event
        .shifts
        .iter()
        .map(|shift| {
            let going = counts
                .shifts
                .iter()
                .find(|(id, _)| *id == shift.id)
                .map_or(0, |(_, c)| c.going);
            let full = shift.capacity.is_some_and(|c| going >= c);
            let left = shift
                .capacity
                .map(|c| format!(" — {} of {c} places left", (c - going).max(0)))
                .unwrap_or_default();
            ShiftRow {
                id: shift.id.to_string(),
                label: format!(
                    "{}{left}{}",
                    when_text(shift.starts_at, shift.ends_at, &event.time_zone),
                    if full { " (full: waiting list)" } else { "" }
                ),
            }
        })
        .collect();
    let address_hidden = event.address_after_rsvp && !access.runs();
    let place = if address_hidden {
        event
            .postcode
            .as_deref()
            .and_then(|p| p.split_whitespace().next())
            .map(|district| format!("Near {district}"))
            .unwrap_or_default()
    } else {
        [
            event.address.as_str(),
            event.postcode.as_deref().unwrap_or(""),
        ]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
    };
    let now = now_millis();
    let share_url = state.config.absolute(&format!("/events/{}", event.id));
    Ok(EventPage {
        layout: Layout::new(context),
        kind_label: event.kind.label(),
        when: when_text(event.starts_at, event.ends_at, &event.time_zone),
        description_html: render_markdown(&event.description),
        online: event.online_url.is_some(),
        show_online_url: access.runs(),
        full: places_left == Some(0),
        places_left,
        shifts,
        share_links: share_links(&event.title, &share_url),
        share_url,
        open_for_rsvp: event.status == EventStatus::Live && now < event.ends_at,
        calling_open: event.kind == EventKind::Phonebank
            && event.campaign_id.is_some()
            && event.status == EventStatus::Live
            && now >= event.starts_at - CALLING_OPENS_EARLY_MS
            && now < event.ends_at,
        address_hidden,
        place,
        access,
        consent_wordings: [Channel::Email, Channel::Sms, Channel::Phone]
            .map(|channel| channel.consent_wording(&group.name)),
        group,
        event,
        form,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    // `/events/{id}.ics` (one path segment, so it lands here) is the calendar feed's.
    if let Some(raw) = id.strip_suffix(".ics") {
        let id: i64 = raw.parse().map_err(|_| no_event())?;
        return Ok(Redirect::permanent(&format!("/events/{id}/calendar.ics")).into_response());
    }
    let id: i64 = id.parse().map_err(|_| no_event())?;
    let event = find_event(&state, id).await?;
    let access = access(&state, context.user(), &event).await?;
    if !may_see(&event, access) {
        return Err(no_event());
    }
    let page = event_page(
        &state,
        &context,
        event,
        access,
        RsvpForm::default(),
        FieldErrors::new(),
    )
    .await?;
    Ok(render(&page))
}

/// "Start calling": makes a signed-in attendee (or the host) a caller of the event's
/// campaign and opens the calling page.
async fn start_calling(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let event = find_event(&state, id).await?;
    let access = access(&state, Some(&signed_in.user), &event).await?;
    if !may_see(&event, access) {
        return Err(no_event());
    }
    let back = format!("/events/{id}");
    let Some(campaign_id) = event.campaign_id else {
        return Ok(Flash::error("This event has no phone bank to call.").redirect(&back));
    };
    let now = now_millis();
    if event.status != EventStatus::Live
        || now < event.starts_at - CALLING_OPENS_EARLY_MS
        || now >= event.ends_at
    {
        return Ok(Flash::error(
            "Calling opens 15 minutes before the event starts and closes when it ends.",
        )
        .redirect(&back));
    }
    let email = signed_in.user.email.to_lowercase();
    let signed_up = state
        .store
        .attendees(id)
        .await?
        .iter()
        .any(|a| a.status == RsvpStatus::Going && a.email.to_lowercase() == email);
    if !(signed_up || access.runs()) {
        return Ok(Flash::error(format!(
            "Sign up for this event with your account's address ({}) first, then start calling.",
            signed_in.user.email
        ))
        .redirect(&back));
    }
    state
        .store
        .add_campaign_caller(campaign_id, signed_in.user.id)
        .await?;
    Ok(Redirect::to(&format!("/call/{campaign_id}")).into_response())
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}", get(show))
        .route("/events/{id}/start-calling", post(start_calling))
}
