//! The event page: what, when (in the event's zone), where (the exact address only as the
//! host allows), the sanitised description, places left, share links, "add to calendar",
//! the RSVP form, and for phonebank events a "Start calling" button while it is on. For
//! its host and the group's organisers it is also their dashboard: attendees, messaging
//! supporters nearby, edit, duplicate, the linked call campaign, a meetup's planning.

use super::campaign_link::{linkable_campaigns, may_link};
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
use barnstorm_store::events::{Event, RsvpCounts};
use barnstorm_store::phonebank::{Campaign, CampaignStatus};
use barnstorm_store::{Group, User, now_millis};
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
    /// What the host's panel shows; `None` for people who do not run the event.
    pub host_panel: Option<HostPanel>,
    /// The meetup this session was planned at (id, title), if any.
    pub planned_at: Option<(i64, String)>,
}

/// The event page as its host's dashboard: who is coming, and the tools for the event.
pub(super) struct HostPanel {
    /// People with a place.
    pub going: i64,
    /// People on the waiting list.
    pub waiting: i64,
    /// A phonebank event (may link a call campaign).
    pub phonebank: bool,
    /// A campaign meetup (has breakout groups and a planning page).
    pub meetup: bool,
    /// The linked call campaign, if any.
    pub campaign: Option<LinkedCampaign>,
    /// The campaigns this person may link it to.
    pub linkable: Vec<(String, String)>,
}

/// The call campaign a phonebank event is linked to, as its host sees it.
pub(super) struct LinkedCampaign {
    /// Its id.
    pub id: i64,
    /// Its name; empty for someone who may not see the campaign.
    pub name: String,
    /// `draft`, `live`, `paused` or `finished`.
    pub status: &'static str,
    /// Whether this person organises it (its page is theirs to open).
    pub manages: bool,
}

/// What the host panel shows `user`, who runs `event`.
async fn host_panel(
    state: &AppState,
    user: &User,
    event: &Event,
    counts: &RsvpCounts,
    campaign: Option<&Campaign>,
) -> Result<HostPanel, PageError> {
    let phonebank = event.kind == EventKind::Phonebank;
    let linked = match campaign {
        Some(campaign) => {
            let manages = may_link(state, user, campaign).await?;
            Some(LinkedCampaign {
                id: campaign.id,
                name: if manages {
                    campaign.settings.name.clone()
                } else {
                    String::new()
                },
                status: campaign.status.as_str(),
                manages,
            })
        }
        None => None,
    };
    let linkable = if phonebank {
        linkable_campaigns(state, user, event.group_id)
            .await?
            .into_iter()
            .map(|(c, group)| (c.id.to_string(), format!("{} ({group})", c.settings.name)))
            .collect()
    } else {
        Vec::new()
    };
    Ok(HostPanel {
        going: counts.going,
        waiting: counts.waitlist,
        phonebank,
        meetup: event.kind == EventKind::Meetup,
        campaign: linked,
        linkable,
    })
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
    let campaign = match event.campaign_id {
        Some(id) => state.store.campaign(id).await?,
        None => None,
    };
    let planned_at = match event.parent_event_id {
        Some(id) => state
            .store
            .event(id)
            .await?
            .map(|meetup| (meetup.id, meetup.title)),
        None => None,
    };
    let host_panel = match context.user() {
        Some(user) if access.runs() => {
            Some(host_panel(state, user, &event, &counts, campaign.as_ref()).await?)
        }
        _ => None,
    };
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
            && campaign.is_some_and(|c| c.status == CampaignStatus::Live)
            && event.status == EventStatus::Live
            && now >= event.starts_at - CALLING_OPENS_EARLY_MS
            && now < event.ends_at,
        address_hidden,
        place,
        access,
        consent_wordings: [Channel::Email, Channel::Sms, Channel::Phone]
            .map(|channel| channel.consent_wording(&group.name)),
        host_panel,
        planned_at,
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
