//! RSVPs over the API: `POST /api/v1/events/{id}/rsvps`, open to anyone (no token), as
//! the event page's form: the same checks (`pages::events::check_rsvp`), the same
//! confirmation mail (`event_mails::rsvp_mail`) through the outbox, a place or the waiting
//! list. Limited per client address (`auth::reserve_rsvp`, shared with the form), and a
//! repeat within the hour sends no second mail, so it cannot be used to flood a mailbox
//! or an event.

use super::events::{field_errors, publicly_visible};
use super::{ApiJson, ErrorBody};
use crate::auth::{LoginThrottle, client_ip, new_secret, reserve_rsvp};
use crate::event_mails::rsvp_mail;
use crate::pages::events::{RsvpForm, check_rsvp};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use barnstorm_domain::event::{Channel, RsvpStatus, Visibility};
use barnstorm_store::events::{ClosedReason, RsvpError, RsvpMail};
use barnstorm_store::now_millis;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Someone signing up.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewRsvpBody {
    /// Required.
    #[serde(default)]
    name: String,
    /// Required; the confirmation goes here.
    #[serde(default)]
    email: String,
    /// Required: their postcode (or district, or town).
    #[serde(default)]
    postcode: String,
    /// Optional phone number.
    #[serde(default)]
    phone: Option<String>,
    /// The shift, for an event with shifts (required then).
    #[serde(default)]
    shift_id: Option<i64>,
    /// Channels the event's group may contact them on: `email`, `sms`, `phone`.
    #[serde(default)]
    consents: Vec<String>,
}

/// The outcome of an RSVP.
#[derive(Serialize, ToSchema)]
pub(crate) struct RsvpCreated {
    /// `going` or `waitlist`.
    status: String,
    /// The shift, if any.
    shift_id: Option<i64>,
}

fn closed(reason: ClosedReason) -> ApiError {
    let message = RsvpError::Closed(reason).to_string();
    let code = match reason {
        ClosedReason::NotLive => "event_not_live",
        ClosedReason::Cancelled => "event_cancelled",
        ClosedReason::Ended => "event_ended",
    };
    ApiError::new(StatusCode::CONFLICT, code, message)
}

/// Sign up for an event without an account. A confirmation mail with a manage link goes
/// to `email`; when the event (or shift) is full, the answer is `waitlist`.
#[utoipa::path(post, path = "/api/v1/events/{id}/rsvps", tag = "events", params(("id" = i64, Path)),
    request_body = NewRsvpBody,
    responses((status = 201, body = RsvpCreated), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create_rsvp(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    extensions: Extensions,
    ApiJson(body): ApiJson<NewRsvpBody>,
) -> Result<(StatusCode, Json<RsvpCreated>), ApiError> {
    let ip = client_ip(&headers, &extensions, state.config.trust_proxy);
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_rsvp(&state.store, ip, now_millis()).await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            format!(
                "too many sign-ups from this address; try again in {retry_after_minutes} minutes"
            ),
        ));
    }
    let event = state
        .store
        .event(id)
        .await?
        .filter(publicly_visible)
        .filter(|e| e.visibility != Visibility::Group)
        .ok_or_else(|| ApiError::not_found(&format!("event {id}")))?;
    let mut form = RsvpForm {
        name: body.name,
        email: body.email,
        postcode: body.postcode,
        phone: body.phone.unwrap_or_default(),
        shift: body.shift_id.map(|s| s.to_string()).unwrap_or_default(),
        ..RsvpForm::default()
    };
    for name in &body.consents {
        let channel: Channel =
            name.parse()
                .map_err(|e: barnstorm_domain::event::UnknownChoice| {
                    ApiError::invalid("consents", e.to_string())
                })?;
        let ticked = Some("on".to_owned());
        match channel {
            Channel::Email => form.consent_email = ticked,
            Channel::Sms => form.consent_sms = ticked,
            Channel::Phone => form.consent_phone = ticked,
        }
    }
    let form_url = state
        .config
        .absolute(&format!("/api/v1/events/{}/rsvps", event.id));
    let new = check_rsvp(&state, &event, &form, new_secret(), form_url)
        .await
        .map_err(|errors| {
            // The form calls the shift `shift`; the API calls it `shift_id`.
            let mut renamed = crate::event_draft::FieldErrors::new();
            for (field, message) in errors.iter() {
                renamed.add(if field == "shift" { "shift_id" } else { field }, message);
            }
            field_errors(&renamed)
        })?;
    let group = state
        .store
        .group_by_id(event.group_id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("event {id}")))?;
    // The store wants a composer that owns what it reads.
    let (config, shown, group_name) = (state.config.clone(), event.clone(), group.name);
    let compose = move |m: &RsvpMail| rsvp_mail(&config, &shown, &group_name, m);
    let made = match state.store.create_rsvp(&new, &compose).await {
        Ok(made) => made,
        Err(RsvpError::Closed(reason)) => return Err(closed(reason)),
        Err(RsvpError::ShiftNotOfEvent) => {
            return Err(ApiError::invalid(
                "shift_id",
                RsvpError::ShiftNotOfEvent.to_string(),
            ));
        }
        Err(RsvpError::EventNotFound) => return Err(ApiError::not_found(&format!("event {id}"))),
        Err(RsvpError::Store(e)) => return Err(e.into()),
    };
    state.mail_queued();
    let status = match made.status {
        RsvpStatus::Waitlist => "waitlist",
        _ => "going",
    };
    Ok((
        StatusCode::CREATED,
        Json(RsvpCreated {
            status: status.to_owned(),
            shift_id: made.shift_id,
        }),
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_rsvp))
}
