//! Signing up without an account: the RSVP form's checking (each mistake named against
//! its field on the event page), "You're going" / "You're on the waiting list", and the
//! attendee's manage link: the details with the exact address and online link, cancelling
//! (which hands the place to the next person waiting) and feedback after the event.

use super::show::{RsvpForm, event_page};
use super::{access, event_group, find_event, may_see, no_event};
use crate::auth::{Flash, LoginThrottle, RequestContext, new_secret, reserve_rsvp};
use crate::event_draft::FieldErrors;
use crate::event_mails::{rsvp_mail, when_text};
use crate::feeds::full_address;
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::email::normalise_email;
use barnstorm_domain::event::{Channel, RsvpStatus};
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::events::{
    ClosedReason, Event, FeedbackError, NewRsvp, NewSupporter, RsvpError, RsvpView,
};
use barnstorm_store::{Group, now_millis};
use serde::Deserialize;

const MAX_NAME_CHARS: usize = barnstorm_domain::limits::PERSON_NAME;

/// The RSVP checked: who, where they live, which shift, what they consented to.
/// `form_url` is where the form was (the event's page, or the API), kept with any consent.
pub(crate) async fn check_rsvp(
    state: &AppState,
    event: &Event,
    form: &RsvpForm,
    token: String,
    form_url: String,
) -> Result<NewRsvp, FieldErrors> {
    let mut errors = FieldErrors::new();
    for (field, value, max) in [
        (
            "postcode",
            &form.postcode,
            barnstorm_domain::limits::POSTCODE,
        ),
        ("phone", &form.phone, barnstorm_domain::limits::PHONE),
    ] {
        if let Err(e) = barnstorm_domain::limits::check_length(field, value.trim(), max) {
            errors.add(field, format!("{e}."));
        }
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        errors.add(
            "name",
            format!("Your name is required (up to {MAX_NAME_CHARS} characters)."),
        );
    }
    let email = normalise_email(&form.email);
    if email.is_none() {
        errors.add(
            "email",
            if form.email.trim().is_empty() {
                "Your email address is required, so we can send you the details.".to_owned()
            } else {
                format!("'{}' is not an email address.", form.email.trim())
            },
        );
    }
    let phone = match form.phone.trim() {
        "" => None,
        raw => match normalise_phone(raw, Region::GB) {
            Ok(phone) => Some(phone.as_str().to_owned()),
            Err(e) => {
                errors.add(
                    "phone",
                    format!("'{raw}' is not a phone number we can use: {e}."),
                );
                None
            }
        },
    };
    let shift_id = if event.shifts.is_empty() {
        None
    } else {
        let chosen = form.shift.trim().parse::<i64>().ok();
        let known = chosen.filter(|id| event.shifts.iter().any(|s| s.id == *id));
        if known.is_none() {
            errors.add("shift", "Choose one of the event's shifts.");
        }
        known
    };
    let place = if form.postcode.trim().is_empty() {
        errors.add("postcode", "Your postcode is required.");
        None
    } else {
        match state.geocoder.locate(form.postcode.trim()).await {
            Ok(place) => Some(place),
            Err(problem) => {
                errors.add("postcode", problem.to_string());
                None
            }
        }
    };
    let mut consents = Vec::new();
    for (ticked, channel) in [
        (&form.consent_email, Channel::Email),
        (&form.consent_sms, Channel::Sms),
        (&form.consent_phone, Channel::Phone),
    ] {
        if ticked.is_some() {
            consents.push(channel);
        }
    }
    match (email, place) {
        (Some(email), Some(place)) if errors.is_empty() => Ok(NewRsvp {
            event_id: event.id,
            shift_id,
            supporter: NewSupporter {
                email,
                name: name.to_owned(),
                postcode: Some(
                    place
                        .postcode
                        .clone()
                        .unwrap_or_else(|| form.postcode.trim().to_uppercase()),
                ),
                location: Some((place.location.lat, place.location.lon)),
                phone,
            },
            consents,
            form_url,
            manage_token: token,
        }),
        _ => Err(errors),
    }
}

async fn rsvp(
    State(state): State<AppState>,
    context: RequestContext,
    Path(id): Path<i64>,
    Form(form): Form<RsvpForm>,
) -> Result<Response, PageError> {
    let event = find_event(&state, id).await?;
    let access = access(&state, context.user(), &event).await?;
    if !may_see(&event, access) {
        return Err(no_event());
    }
    let back = format!("/events/{id}");
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_rsvp(&state.store, context.client_ip, now_millis()).await?
    {
        return Ok(Flash::error(format!(
            "Too many sign-ups came from your network; try again in {retry_after_minutes} minutes."
        ))
        .redirect(&back));
    }
    let new = match check_rsvp(
        &state,
        &event,
        &form,
        new_secret(),
        state.config.absolute(&format!("/events/{}", event.id)),
    )
    .await
    {
        Ok(new) => new,
        Err(errors) => {
            let page = event_page(&state, &context, event, access, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
    };
    let group = event_group(&state, &event).await?;
    let (config, about, group_name) = (state.config.clone(), event.clone(), group.name.clone());
    let compose = move |m: &_| rsvp_mail(&config, &about, &group_name, m);
    let made = match state.store.create_rsvp(&new, &compose).await {
        Ok(made) => made,
        Err(RsvpError::Closed(reason)) => {
            let message = match reason {
                ClosedReason::Cancelled => {
                    "This event has been cancelled, so it takes no more sign-ups."
                }
                ClosedReason::Ended => "This event has finished, so it takes no more sign-ups.",
                ClosedReason::NotLive => "This event is not open for sign-ups yet.",
            };
            return Ok(Flash::error(message).redirect(&back));
        }
        Err(RsvpError::ShiftNotOfEvent) => {
            let errors = FieldErrors::one("shift", "Choose one of the event's shifts.");
            let page = event_page(&state, &context, event, access, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
        Err(RsvpError::EventNotFound) => return Err(no_event()),
        Err(RsvpError::Store(e)) => return Err(e.into()),
    };
    state.mail_queued();
    let going = made.status == RsvpStatus::Going;
    let position = if going {
        0
    } else {
        let waiting = state.store.attendees(id).await?;
        waiting
            .iter()
            .filter(|a| a.status == RsvpStatus::Waitlist && a.shift_id == made.shift_id)
            .position(|a| a.rsvp_id == made.id)
            .map_or(1, |p| p + 1)
    };
    // Redirect after the POST, so a reload does not sign up again. The answer is the
    // same for a first RSVP and a repeat, and names no more than the form was given.
    let done = if going {
        format!(
            "You're going to {}, {}! We've sent a confirmation to {} with a link to see the details, add the event to your calendar or cancel.",
            event.title,
            when_text(event.starts_at, event.ends_at, &event.time_zone),
            new.supporter.email
        )
    } else {
        format!(
            "You're on the waiting list (number {position}) for {}: if a place frees up it goes to the next person waiting, and we'll email {}.",
            event.title, new.supporter.email
        )
    };
    Ok(Flash::ok(done).redirect(&back))
}

#[derive(Template)]
#[template(path = "events/manage.html")]
struct ManagePage {
    layout: Layout,
    token: String,
    view: RsvpView,
    event: Event,
    group: Group,
    when: String,
    place: String,
    status_label: &'static str,
    can_cancel: bool,
    ask_feedback: bool,
}

async fn find_rsvp(state: &AppState, token: &str) -> Result<(RsvpView, Event, Group), PageError> {
    let unknown = || {
        PageError::not_found(
            "This link does not work. If you signed up again since, use the link in the newest mail.",
        )
    };
    let view = state
        .store
        .rsvp_by_token(token)
        .await?
        .ok_or_else(unknown)?;
    let event = state
        .store
        .event(view.rsvp.event_id)
        .await?
        .ok_or_else(unknown)?;
    let group = event_group(state, &event).await?;
    Ok((view, event, group))
}

async fn manage(
    State(state): State<AppState>,
    context: RequestContext,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let (view, event, group) = find_rsvp(&state, &token).await?;
    let now = now_millis();
    let status = view.rsvp.status;
    Ok(render(&ManagePage {
        layout: Layout::new(&context),
        when: when_text(event.starts_at, event.ends_at, &event.time_zone),
        place: full_address(&event),
        status_label: match status {
            RsvpStatus::Going => "You're going.",
            RsvpStatus::Waitlist => "You're on the waiting list.",
            RsvpStatus::Cancelled => "You cancelled.",
        },
        can_cancel: status != RsvpStatus::Cancelled && now < event.ends_at,
        ask_feedback: status == RsvpStatus::Going && now >= event.starts_at,
        token,
        view,
        event,
        group,
    }))
}

#[derive(Template)]
#[template(path = "events/cancel_confirm.html")]
struct CancelConfirmPage {
    layout: Layout,
    token: String,
    event: Event,
    when: String,
}

/// "Cancel your place?": the step before cancelling, so a stray tap keeps the place.
async fn confirm_cancel(
    State(state): State<AppState>,
    context: RequestContext,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let (view, event, _) = find_rsvp(&state, &token).await?;
    if view.rsvp.status == RsvpStatus::Cancelled {
        return Ok(
            Flash::ok("Your place is already cancelled.").redirect(&format!("/rsvp/{token}"))
        );
    }
    Ok(render(&CancelConfirmPage {
        layout: Layout::new(&context),
        when: when_text(event.starts_at, event.ends_at, &event.time_zone),
        token,
        event,
    }))
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    confirm: String,
}

/// Cancels once confirmed (anything else goes to the question first) and mails the
/// attendee that it is done.
async fn cancel(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<CancelForm>,
) -> Result<Response, PageError> {
    let (_, event, group) = find_rsvp(&state, &token).await?;
    if form.confirm != "yes" {
        return Ok(axum::response::Redirect::to(&format!("/rsvp/{token}/cancel")).into_response());
    }
    let config = state.config.clone();
    let compose = move |m: &_| rsvp_mail(&config, &event, &group.name, m);
    state.store.cancel_rsvp(&token, &compose).await?;
    state.mail_queued();
    Ok(Flash::ok(
        "Your place is cancelled, and a mail confirming it is on its way. Thanks for letting us know: the place goes to the next person waiting.",
    )
    .redirect(&format!("/rsvp/{token}")))
}

#[derive(Deserialize)]
struct FeedbackForm {
    #[serde(default)]
    attended: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

async fn feedback(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(form): Form<FeedbackForm>,
) -> Result<Response, PageError> {
    let (view, event, _) = find_rsvp(&state, &token).await?;
    let back = format!("/rsvp/{token}");
    let Ok(rating) = form.rating.trim().parse::<i64>() else {
        return Ok(Flash::error("Rating: choose from 1 (poor) to 5 (great).").redirect(&back));
    };
    match state
        .store
        .record_feedback(&token, rating, form.comment.trim())
        .await
    {
        Ok(()) => {}
        Err(FeedbackError::Store(e)) => return Err(e.into()),
        Err(problem) => return Ok(Flash::error(format!("Feedback: {problem}.")).redirect(&back)),
    }
    let attended = match form.attended.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    if attended.is_some() {
        state
            .store
            .set_attended(event.id, view.rsvp.id, attended)
            .await?;
    }
    Ok(Flash::ok("Thank you for your feedback.").redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/rsvp", post(rsvp))
        .route("/rsvp/{token}", get(manage))
        .route("/rsvp/{token}/cancel", get(confirm_cancel).post(cancel))
        .route("/rsvp/{token}/feedback", post(feedback))
}
