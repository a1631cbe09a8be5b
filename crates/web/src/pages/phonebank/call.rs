//! The caller's page: one contact at a time under a lease (never a list, never an earlier
//! contact), the outcome form with survey and idempotency key, breaks, heartbeats, the
//! caller's own figures and, if the campaign wants one, a leaderboard. When nobody can be
//! called it says why. Calling rules and answer checks belong to the dispatcher.

use super::access::caller_campaign;
use super::call_view::{self, OutcomeView, PostedCall, QuestionView};
use super::standing::{Standing, standing};
use crate::auth::{Flash, SignedIn, new_secret};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use barnstorm_dispatch::{CallingError, Claim, seconds_until};
use barnstorm_domain::survey::{AnswerError, Answers};
use barnstorm_store::phonebank::{CallerBar, Campaign, ClaimedContact, LeaseProblem};
use barnstorm_store::{Millis, now_millis};
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::json;

/// What the caller typed, shown again with the errors after a refused outcome.
#[derive(Default)]
struct Entered {
    answers: Answers,
    answer_errors: Vec<AnswerError>,
    notes: String,
    callback_at: String,
    callback_error: Option<String>,
    general_error: Option<String>,
    idempotency_key: Option<String>,
}

#[derive(Template)]
#[template(path = "phonebank/call.html")]
struct CallPage {
    layout: Layout,
    campaign_id: i64,
    campaign_name: String,
    briefing: String,
    lease_id: i64,
    first_name: String,
    full_name: String,
    phone: String,
    other_phone: Option<String>,
    /// The other fields the organiser shows to callers (label, value).
    details: Vec<(String, String)>,
    history: Option<String>,
    script: String,
    questions: Vec<QuestionView>,
    outcomes: Vec<OutcomeView>,
    idempotency_key: String,
    notes: String,
    callback_at: String,
    callback_error: Option<String>,
    general_error: Option<String>,
    standing: Standing,
}

#[derive(Template)]
#[template(path = "phonebank/call_state.html")]
struct CallStatePage {
    layout: Layout,
    campaign_id: i64,
    campaign_name: String,
    heading: String,
    message: String,
    button: &'static str,
    standing: Standing,
}

/// Pages with a contact on them are never cached, so "back" cannot show an earlier one.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn state_page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
    heading: &str,
    message: String,
    button: &'static str,
) -> Result<Response, PageError> {
    Ok(no_store(render(&CallStatePage {
        layout: Layout::new(&signed_in.context),
        campaign_id: campaign.id,
        campaign_name: campaign.settings.name.clone(),
        heading: heading.to_owned(),
        message,
        button,
        standing: standing(state, campaign, &signed_in.user).await?,
    })))
}

async fn contact_page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
    claimed: ClaimedContact,
    script: String,
    entered: Entered,
) -> Result<Response, PageError> {
    let contact = claimed.contact;
    let settings = &campaign.settings;
    let first_name = if contact.first_name.is_empty() {
        "them".to_owned()
    } else {
        contact.first_name.clone()
    };
    let history = (contact.attempts > 0).then(|| {
        let last = contact
            .last_outcome
            .as_deref()
            .map(|key| {
                settings
                    .outcomes
                    .get(key)
                    .map_or(key.to_owned(), |o| o.label.clone())
            })
            .map(|label| format!("; last time: {label}"))
            .unwrap_or_default();
        let times = if contact.attempts == 1 {
            "once"
        } else {
            "several times"
        };
        format!("Called {times} before{last}.")
    });
    let general_error = entered
        .general_error
        .or_else(|| call_view::unplaced_errors(&settings.survey, &entered.answer_errors));
    Ok(no_store(render(&CallPage {
        layout: Layout::new(&signed_in.context),
        campaign_id: campaign.id,
        campaign_name: settings.name.clone(),
        briefing: settings.briefing.clone(),
        lease_id: claimed.lease_id,
        full_name: format!("{} {}", contact.first_name, contact.last_name)
            .trim()
            .to_owned(),
        first_name,
        details: shown_details(&contact),
        phone: contact.phone,
        other_phone: contact.other_phone,
        history,
        script,
        questions: call_view::questions(&settings.survey, &entered.answers, &entered.answer_errors),
        outcomes: call_view::outcomes(&settings.outcomes),
        idempotency_key: entered.idempotency_key.unwrap_or_else(new_secret),
        notes: entered.notes,
        callback_at: entered.callback_at,
        callback_error: entered.callback_error,
        general_error,
        standing: standing(state, campaign, &signed_in.user).await?,
    })))
}

/// The contact's fields besides name and numbers, as the dispatcher left them: only those
/// the organiser shows to callers.
fn shown_details(contact: &barnstorm_store::phonebank::Contact) -> Vec<(String, String)> {
    let mut details = Vec::new();
    if let Some(postcode) = &contact.postcode {
        details.push(("Postcode".to_owned(), postcode.clone()));
    }
    if let Some(email) = &contact.email {
        details.push(("Email".to_owned(), email.clone()));
    }
    for (column, value) in &contact.extra {
        if !value.trim().is_empty() {
            details.push((column.clone(), value.clone()));
        }
    }
    details
}

/// A calling refusal as a page that says what to do next.
async fn refusal_page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
    error: CallingError,
) -> Result<Response, PageError> {
    let (heading, message) = match error {
        CallingError::NotLive(status) => (
            "Calling is not open",
            format!("This phone bank is {status}. Check again when the organisers open it."),
        ),
        CallingError::Throttled => (
            "Take a short break",
            "You skipped many contacts in a few minutes, so calling is paused for you; an organiser has been told. Try again in a few minutes.".to_owned(),
        ),
        CallingError::PaceLimited { suspended: true, .. } => {
            return Err(PageError::forbidden(SUSPENDED_WORDS));
        }
        CallingError::PaceLimited { retry_at, now, .. } => (
            "Slow down a little",
            pace_words(campaign, retry_at, now),
        ),
        CallingError::Lease(LeaseProblem::Barred(CallerBar::Suspended)) => {
            return Err(PageError::forbidden(SUSPENDED_WORDS));
        }
        CallingError::Lease(LeaseProblem::Barred(CallerBar::Removed)) => {
            return Err(PageError::forbidden(
                "An organiser has removed you from this phone bank, so you cannot call for it any more.",
            ));
        }
        CallingError::Lease(problem) => ("That contact has gone back to the queue", lease_words(&problem)),
        CallingError::NotACaller | CallingError::NoCampaign => {
            return Err(PageError::forbidden(
                "You are not a caller on this phone bank. Ask an organiser for an invite link.",
            ));
        }
        CallingError::Store(e) => return Err(e.into()),
        other => {
            tracing::error!(error = %other, "calling failed");
            return Err(PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Please try again.",
            ));
        }
    };
    state_page(state, signed_in, campaign, heading, message, "Check again").await
}

/// What a suspended caller is told.
const SUSPENDED_WORDS: &str = "An organiser has suspended your calling on this phone bank (or it was suspended automatically for asking for contacts much faster than anyone can call them). Ask an organiser to lift it.";

/// Why a caller is asked to wait, and until when (in the campaign's time zone).
fn pace_words(campaign: &Campaign, retry_at: Millis, now: Millis) -> String {
    let pace = campaign.settings.pace;
    let at = chrono::DateTime::from_timestamp_millis(retry_at)
        .unwrap_or_default()
        .with_timezone(&campaign.settings.calling_hours.time_zone())
        .format("%H:%M:%S");
    format!(
        "This phone bank hands each caller at most {} new contacts a minute and {} an hour, and you have reached that. You can go on at {at} (in {} seconds). Asking again before then does not help: callers who keep asking are suspended.",
        pace.per_minute,
        pace.per_hour,
        seconds_until(retry_at, now)
    )
}

fn lease_words(problem: &LeaseProblem) -> String {
    match problem {
        LeaseProblem::Expired => "Your time with this contact ran out and they went back to the queue, so nothing was saved. Here is the next person to call.".into(),
        LeaseProblem::Released => "You gave this contact back (a break or a skip), so nothing was saved.".into(),
        LeaseProblem::AlreadyRecorded => "This call was saved already.".into(),
        _ => "This contact is not yours to record any more, so nothing was saved.".into(),
    }
}

#[derive(Deserialize)]
struct CallQuery {
    #[serde(default, rename = "break")]
    on_break: Option<String>,
}

async fn call_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(query): Query<CallQuery>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    if query.on_break.is_some() {
        let message = "Your contact went back to the queue for someone else. Come back whenever you are ready.".to_owned();
        return state_page(
            &state,
            &signed_in,
            &campaign,
            "You are on a break",
            message,
            "Resume calling",
        )
        .await;
    }
    match state
        .dispatcher
        .claim(&signed_in.user, campaign.id, now_millis())
        .await
    {
        Ok(Claim::Contact { claimed, script }) => {
            contact_page(
                &state,
                &signed_in,
                &campaign,
                claimed,
                script,
                Entered::default(),
            )
            .await
        }
        Ok(Claim::Nothing(report)) => {
            let summary = report.summary;
            let message = format!("There is nobody to call right now: {summary}.");
            state_page(
                &state,
                &signed_in,
                &campaign,
                "Nobody to call right now",
                message,
                "Check again",
            )
            .await
        }
        Err(error) => refusal_page(&state, &signed_in, &campaign, error).await,
    }
}

/// Reads a `datetime-local` value in the campaign's time zone.
fn parse_callback(campaign: &Campaign, text: &str) -> Result<Option<Millis>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| "Give the date and time to ring back, like 2025-06-01 18:30.".to_owned())?;
    let tz = campaign.settings.calling_hours.time_zone();
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| Some(t.timestamp_millis()))
        .ok_or_else(|| {
            "That time does not exist (the clocks change then); choose another.".to_owned()
        })
}

async fn record(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    let posted = PostedCall::new(&campaign.settings.survey, pairs);
    let lease_id: i64 = posted.field("lease_id").parse().unwrap_or(0);
    let key = posted.field("idempotency_key").to_owned();
    let outcome = posted.field("outcome").to_owned();
    let mut entered = Entered {
        notes: posted.field("notes").to_owned(),
        callback_at: posted.field("callback_at").to_owned(),
        idempotency_key: (!key.is_empty()).then(|| key.clone()),
        ..Entered::default()
    };
    let now = now_millis();
    let callback_at = match parse_callback(&campaign, &entered.callback_at) {
        Ok(at) => at,
        Err(problem) => {
            entered.callback_error = Some(problem);
            entered.answers = posted.answers;
            return redisplay(&state, &signed_in, &campaign, lease_id, entered).await;
        }
    };
    if key.is_empty() || outcome.is_empty() {
        entered.general_error = Some("Choose one of the outcome buttons to save the call.".into());
        entered.answers = posted.answers;
        return redisplay(&state, &signed_in, &campaign, lease_id, entered).await;
    }
    let result = state
        .dispatcher
        .record_outcome(
            &signed_in.user,
            &campaign,
            lease_id,
            &key,
            &outcome,
            &posted.answers,
            &entered.notes,
            callback_at,
            now,
        )
        .await;
    entered.answers = posted.answers;
    let next = format!("/call/{}", campaign.id);
    match result {
        Ok(recorded) => {
            let label = campaign
                .settings
                .outcomes
                .get(&recorded.outcome)
                .map_or(recorded.outcome.clone(), |o| o.label.clone());
            Ok(Flash::ok(format!("Saved: {label}.")).redirect(&next))
        }
        Err(CallingError::InvalidAnswers(errors)) => {
            entered.answer_errors = errors;
            entered.general_error =
                Some("The call was not saved: check the answers marked below.".into());
            redisplay(&state, &signed_in, &campaign, lease_id, entered).await
        }
        Err(CallingError::BadCallbackTime(problem)) => {
            let problem = problem.strip_prefix("callback_at: ").unwrap_or(&problem);
            entered.callback_error = Some(format!("When to ring back: {problem}."));
            redisplay(&state, &signed_in, &campaign, lease_id, entered).await
        }
        Err(CallingError::TooLong(too_long)) => {
            entered.general_error = Some(format!(
                "The call was not saved: Notes: keep them to {} characters.",
                too_long.max
            ));
            redisplay(&state, &signed_in, &campaign, lease_id, entered).await
        }
        Err(CallingError::UnknownOutcome(_)) => {
            entered.general_error =
                Some("Choose one of the outcome buttons to save the call.".into());
            redisplay(&state, &signed_in, &campaign, lease_id, entered).await
        }
        Err(CallingError::Lease(LeaseProblem::AlreadyRecorded)) => {
            Ok(Flash::ok("That call was saved already.").redirect(&next))
        }
        Err(CallingError::Lease(LeaseProblem::DoNotCallLimited { .. })) => {
            entered.general_error = Some(format!(
                "The call was not saved: you have recorded {} \"do not call\" outcomes this hour, as many as this phone bank allows. Choose another outcome; an organiser has been told.",
                campaign.settings.do_not_call_per_hour
            ));
            redisplay(&state, &signed_in, &campaign, lease_id, entered).await
        }
        Err(error) => refusal_page(&state, &signed_in, &campaign, error).await,
    }
}

/// Shows the held contact again with what the caller entered and what was wrong; if the
/// lease is gone, says so instead.
async fn redisplay(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
    lease_id: i64,
    entered: Entered,
) -> Result<Response, PageError> {
    let held = state
        .dispatcher
        .claim(&signed_in.user, campaign.id, now_millis())
        .await;
    match held {
        Ok(Claim::Contact { claimed, script }) if claimed.lease_id == lease_id => {
            let mut response =
                contact_page(state, signed_in, campaign, claimed, script, entered).await?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Ok(Claim::Contact { claimed, script }) => {
            // The posted lease is gone; this is a different contact, shown fresh.
            let fresh = Entered {
                general_error: Some(lease_words(&LeaseProblem::Expired)),
                ..Entered::default()
            };
            contact_page(state, signed_in, campaign, claimed, script, fresh).await
        }
        Ok(Claim::Nothing(report)) => {
            let message = format!(
                "{} Nobody else is waiting right now: {}.",
                lease_words(&LeaseProblem::Expired),
                report.summary
            );
            state_page(
                state,
                signed_in,
                campaign,
                "That contact has gone back to the queue",
                message,
                "Check again",
            )
            .await
        }
        Err(error) => refusal_page(state, signed_in, campaign, error).await,
    }
}

#[derive(Deserialize)]
struct LeaseForm {
    #[serde(default)]
    lease_id: i64,
}

async fn take_break(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<LeaseForm>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    match state
        .dispatcher
        .release(&signed_in.user, form.lease_id, campaign.id, now_millis())
        .await
    {
        // Nothing held any more (already saved, expired, or never): a break all the same.
        Ok(()) | Err(CallingError::Lease(_)) => {}
        Err(CallingError::Store(e)) => return Err(e.into()),
        Err(other) => tracing::warn!(error = %other, "release for a break failed"),
    }
    Ok(axum::response::Redirect::to(&format!("/call/{}?break=1", campaign.id)).into_response())
}

async fn heartbeat(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(lease_id): Path<i64>,
) -> Result<Response, PageError> {
    let gone =
        |message: String| (StatusCode::CONFLICT, Json(json!({ "error": message }))).into_response();
    let Some(campaign_id) = state.dispatcher.lease_campaign_id(lease_id).await? else {
        return Ok(gone(lease_words(&LeaseProblem::NotFound)));
    };
    let campaign = caller_campaign(&state, &signed_in.user, campaign_id).await?;
    match state
        .dispatcher
        .heartbeat(&signed_in.user, lease_id, &campaign, now_millis())
        .await
    {
        Ok(expires_at) => Ok(Json(json!({ "expires_at": expires_at })).into_response()),
        Err(CallingError::Lease(problem)) => Ok(gone(lease_words(&problem))),
        Err(CallingError::Store(e)) => Err(e.into()),
        Err(other) => Ok(gone(other.to_string())),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/call/{id}", get(call_page))
        .route("/call/{id}/outcome", post(record))
        .route("/call/{id}/break", post(take_break))
        .route("/call/leases/{lease_id}/heartbeat", post(heartbeat))
}
