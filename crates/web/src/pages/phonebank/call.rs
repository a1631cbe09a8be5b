//! The caller's page: one contact at a time under a lease (never a list, never an earlier
//! contact), the outcome form with survey and idempotency key (a "do not call" outcome
//! asks to confirm first), the offer to change the call just saved, heartbeats, the
//! caller's own figures and, if the campaign wants one, a leaderboard. When nobody can be
//! called it says why. Calling rules and answer checks belong to the dispatcher.

use super::access::caller_campaign;
use super::call_view::{self, OutcomeGroup, PostedCall, QuestionView};
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
use barnstorm_domain::outcome::OutcomeEffect;
use barnstorm_domain::survey::{AnswerError, Answers};
use barnstorm_store::phonebank::{CallerBar, Campaign, ClaimedContact, LeaseProblem};
use barnstorm_store::{Millis, now_millis};
use chrono::{NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::json;

/// What the caller typed, shown again with the errors after a refused outcome.
#[derive(Default)]
pub(super) struct Entered {
    pub answers: Answers,
    pub answer_errors: Vec<AnswerError>,
    pub notes: String,
    pub callback_at: String,
    pub callback_error: Option<String>,
    pub general_error: Option<String>,
    pub idempotency_key: Option<String>,
    /// The "do not call" outcome the caller pressed, to confirm before it is saved.
    pub confirming: Option<String>,
}

#[derive(Template)]
#[template(path = "phonebank/call.html")]
pub(super) struct CallPage {
    pub layout: Layout,
    pub campaign_id: i64,
    pub campaign_name: String,
    pub briefing: String,
    pub lease_id: i64,
    /// Where the outcome form posts: the call, or the change of the last call.
    pub form_action: String,
    /// Changing the last call rather than making one.
    pub editing: bool,
    pub first_name: String,
    pub full_name: String,
    /// E.164, for the `tel:` link.
    pub phone: String,
    /// As people write it: "020 7946 0001".
    pub phone_display: String,
    /// The other number, E.164 and as written.
    pub other_phone: Option<(String, String)>,
    /// Bridged calls without phone links: the page holds no number of the contact at all
    /// (`phone`, `phone_display` and `other_phone` are empty).
    pub numbers_hidden: bool,
    /// How this caller calls, for the "how you call" section; `None` with phone links
    /// only.
    pub how_you_call: Option<String>,
    /// The phone line, for a campaign that bridges calls.
    pub phone_line: Option<super::phone_line::PhoneLinePanel>,
    /// The other fields the organiser shows to callers (label, value).
    pub details: Vec<(String, String)>,
    pub history: Option<String>,
    pub script: String,
    pub questions: Vec<QuestionView>,
    pub outcome_groups: Vec<OutcomeGroup>,
    /// The "do not call" outcome to confirm: the one pressed, else the first.
    pub confirm_key: String,
    /// Whether the confirmation is shown open (the page after pressing it without script).
    pub confirming: bool,
    pub idempotency_key: String,
    pub notes: String,
    pub callback_at: String,
    pub callback_error: Option<String>,
    pub general_error: Option<String>,
    pub last_call: Option<LastCallBar>,
    pub standing: Standing,
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
    /// The button ends a break (a form) rather than just looking again (a link).
    resume: bool,
    last_call: Option<LastCallBar>,
    standing: Standing,
}

/// The line offering to change the call just saved, shown for a minute after saving.
pub(super) struct LastCallBar {
    pub name: String,
    pub label: String,
    /// Seconds left to change it, for the page script to take the offer away.
    pub seconds_left: i64,
}

/// The caller's last call in this campaign, if they may still change it at `now`.
pub(super) async fn last_call_bar(
    state: &AppState,
    campaign: &Campaign,
    user: &barnstorm_store::User,
    now: Millis,
) -> Result<Option<LastCallBar>, PageError> {
    let Some(last) = state.store.last_call(campaign.id, user.id).await? else {
        return Ok(None);
    };
    let until = last.changeable_until();
    Ok((now < until).then(|| LastCallBar {
        name: full_name(&last.first_name, &last.last_name),
        label: outcome_label(campaign, &last.outcome),
        seconds_left: seconds_until(until, now),
    }))
}

/// "First Last", or whichever of them is there.
pub(super) fn full_name(first: &str, last: &str) -> String {
    format!("{first} {last}").trim().to_owned()
}

/// An outcome's button text, or its key if the campaign no longer has it.
pub(super) fn outcome_label(campaign: &Campaign, key: &str) -> String {
    campaign
        .settings
        .outcomes
        .get(key)
        .map_or(key.to_owned(), |o| o.label.clone())
}

/// Pages with a contact on them are never cached, so "back" cannot show an earlier one.
fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the button of a page without a contact does.
#[derive(Clone, Copy)]
enum NextStep {
    /// Look for a contact again.
    CheckAgain,
    /// End the break and look for a contact.
    Resume,
}

async fn state_page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
    heading: &str,
    message: String,
    next: NextStep,
) -> Result<Response, PageError> {
    let (button, resume) = match next {
        NextStep::CheckAgain => ("Check again", false),
        NextStep::Resume => ("Resume calling", true),
    };
    let user = &signed_in.user;
    Ok(no_store(render(&CallStatePage {
        layout: Layout::new(&signed_in.context),
        campaign_id: campaign.id,
        campaign_name: campaign.settings.name.clone(),
        heading: heading.to_owned(),
        message,
        button,
        resume,
        last_call: last_call_bar(state, campaign, user, now_millis()).await?,
        standing: standing(state, campaign, user).await?,
    })))
}

/// The person a call page is about: the contact held, or the one called last.
pub(super) struct ShownContact {
    pub lease_id: i64,
    pub first_name: String,
    pub last_name: String,
    /// E.164.
    pub phone: String,
    pub other_phone: Option<String>,
    pub details: Vec<(String, String)>,
    pub history: Option<String>,
    /// The script filled in for them (empty when changing a call).
    pub script: String,
}

/// A call page: the contact, the survey and the outcome buttons, to make the call or,
/// with `editing`, to change the last one.
pub(super) async fn outcome_page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: &Campaign,
    shown: ShownContact,
    entered: Entered,
    editing: bool,
) -> Result<Response, PageError> {
    let settings = &campaign.settings;
    let general_error = entered
        .general_error
        .or_else(|| call_view::unplaced_errors(&settings.survey, &entered.answer_errors));
    let outcome_groups = call_view::outcome_groups(&settings.outcomes);
    let first_do_not_call = outcome_groups
        .iter()
        .flat_map(|g| &g.outcomes)
        .find(|o| o.is_do_not_call)
        .map(|o| o.key.clone());
    let user = &signed_in.user;
    let hidden = settings.bridging.hides_numbers();
    let last_call = if editing {
        None
    } else {
        last_call_bar(state, campaign, user, now_millis()).await?
    };
    Ok(no_store(render(&CallPage {
        layout: Layout::new(&signed_in.context),
        campaign_id: campaign.id,
        campaign_name: settings.name.clone(),
        briefing: settings.briefing.clone(),
        lease_id: shown.lease_id,
        form_action: if editing {
            format!("/call/{}/last", campaign.id)
        } else {
            format!("/call/{}/outcome", campaign.id)
        },
        editing,
        full_name: full_name(&shown.first_name, &shown.last_name),
        first_name: if shown.first_name.is_empty() {
            "them".to_owned()
        } else {
            shown.first_name
        },
        numbers_hidden: hidden,
        how_you_call: call_view::how_you_call(&settings.bridging),
        phone_line: super::phone_line::PhoneLinePanel::new(
            &state.switchboard,
            &settings.bridging,
            &signed_in.user,
            campaign.id,
        )
        .await,
        phone_display: if hidden {
            String::new()
        } else {
            call_view::national_number(&shown.phone)
        },
        phone: if hidden { String::new() } else { shown.phone },
        other_phone: shown
            .other_phone
            .filter(|_| !hidden)
            .map(|other| (call_view::national_number(&other), other)),
        details: shown.details,
        history: shown.history,
        script: shown.script,
        questions: call_view::questions(settings, &entered.answers, &entered.answer_errors),
        outcome_groups,
        confirming: entered.confirming.is_some(),
        confirm_key: entered.confirming.or(first_do_not_call).unwrap_or_default(),
        idempotency_key: entered.idempotency_key.unwrap_or_else(new_secret),
        notes: entered.notes,
        callback_at: entered.callback_at,
        callback_error: entered.callback_error,
        general_error,
        last_call,
        standing: standing(state, campaign, user).await?,
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
    let history = (contact.attempts > 0).then(|| {
        let last = contact
            .last_outcome
            .as_deref()
            .map(|key| format!("; last time: {}", outcome_label(campaign, key)))
            .unwrap_or_default();
        let times = if contact.attempts == 1 {
            "once"
        } else {
            "several times"
        };
        format!("Called {times} before{last}.")
    });
    let shown = ShownContact {
        lease_id: claimed.lease_id,
        details: shown_details(&contact),
        first_name: contact.first_name,
        last_name: contact.last_name,
        phone: contact.phone,
        other_phone: contact.other_phone,
        history,
        script,
    };
    outcome_page(state, signed_in, campaign, shown, entered, false).await
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
pub(super) async fn refusal_page(
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
    state_page(
        state,
        signed_in,
        campaign,
        heading,
        message,
        NextStep::CheckAgain,
    )
    .await
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
            NextStep::Resume,
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
                NextStep::CheckAgain,
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

/// An outcome form as posted, read against its campaign.
pub(super) struct PostedOutcome {
    pub lease_id: i64,
    pub outcome: String,
    pub answers: Answers,
    pub callback_at: Option<Millis>,
    /// What was typed, to show again, with what is wrong with it.
    pub entered: Entered,
}

impl PostedOutcome {
    pub fn read(campaign: &Campaign, pairs: Vec<(String, String)>) -> Self {
        let posted = PostedCall::new(&campaign.settings.survey, pairs);
        let key = posted.field("idempotency_key");
        let mut entered = Entered {
            answers: posted.answers.clone(),
            notes: posted.field("notes").to_owned(),
            callback_at: posted.field("callback_at").to_owned(),
            idempotency_key: (!key.is_empty()).then(|| key.to_owned()),
            ..Entered::default()
        };
        let callback_at = parse_callback(campaign, &entered.callback_at)
            .map_err(|problem| entered.callback_error = Some(problem))
            .unwrap_or_default();
        let outcome = posted.field("outcome").to_owned();
        if outcome.is_empty() {
            entered.general_error = Some(CHOOSE_AN_OUTCOME.into());
        }
        Self {
            lease_id: posted.field("lease_id").parse().unwrap_or(0),
            outcome,
            answers: posted.answers,
            callback_at,
            entered,
        }
    }

    /// Whether the form has a problem to show before anything is sent on.
    pub fn has_problem(&self) -> bool {
        self.entered.callback_error.is_some() || self.entered.general_error.is_some()
    }

    /// Whether a "do not call" outcome was pressed without confirming it; if so, the
    /// page is to be shown again asking to confirm.
    pub fn asks_to_confirm(&mut self, campaign: &Campaign, confirmed: bool) -> bool {
        let do_not_call = campaign
            .settings
            .outcomes
            .get(&self.outcome)
            .is_some_and(|o| o.effect == OutcomeEffect::DoNotCall);
        if do_not_call && !confirmed {
            self.entered.confirming = Some(self.outcome.clone());
        }
        do_not_call && !confirmed
    }
}

const CHOOSE_AN_OUTCOME: &str = "Choose one of the outcome buttons to save the call.";

/// `?confirmed=1` on the confirmation's button of a "do not call" outcome.
#[derive(Deserialize)]
pub(super) struct Confirmation {
    #[serde(default)]
    confirmed: Option<String>,
}

impl Confirmation {
    pub fn given(&self) -> bool {
        self.confirmed.is_some()
    }
}

/// Puts a refused outcome's problem next to what it is about in `entered`; the refusals
/// that are not about the form come back.
pub(super) fn place_problem(
    campaign: &Campaign,
    error: CallingError,
    entered: &mut Entered,
) -> Result<(), CallingError> {
    match error {
        CallingError::InvalidAnswers(errors) => {
            entered.answer_errors = errors;
            entered.general_error =
                Some("The call was not saved: check the answers marked below.".into());
        }
        CallingError::BadCallbackTime(problem) => {
            let problem = problem.strip_prefix("callback_at: ").unwrap_or(&problem);
            entered.callback_error = Some(format!("When to ring back: {problem}."));
        }
        CallingError::TooLong(too_long) => {
            entered.general_error = Some(format!(
                "The call was not saved: Notes: keep them to {} characters.",
                too_long.max
            ));
        }
        CallingError::UnknownOutcome(_) => {
            entered.general_error = Some(CHOOSE_AN_OUTCOME.into());
        }
        CallingError::Lease(LeaseProblem::DoNotCallLimited { .. }) => {
            entered.general_error = Some(format!(
                "The call was not saved: you have recorded {} \"do not call\" outcomes this hour, as many as this phone bank allows. Choose another outcome; an organiser has been told.",
                campaign.settings.do_not_call_per_hour
            ));
        }
        other => return Err(other),
    }
    Ok(())
}

async fn record(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Query(confirmation): Query<Confirmation>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let campaign = caller_campaign(&state, &signed_in.user, id).await?;
    let mut posted = PostedOutcome::read(&campaign, pairs);
    let key = posted.entered.idempotency_key.clone().unwrap_or_default();
    if key.is_empty() {
        posted.entered.general_error = Some(CHOOSE_AN_OUTCOME.into());
    }
    if posted.has_problem() || posted.asks_to_confirm(&campaign, confirmation.given()) {
        let lease_id = posted.lease_id;
        return redisplay(&state, &signed_in, &campaign, lease_id, posted.entered).await;
    }
    let result = state
        .dispatcher
        .record_outcome(
            &signed_in.user,
            &campaign,
            posted.lease_id,
            &key,
            &posted.outcome,
            &posted.answers,
            &posted.entered.notes,
            posted.callback_at,
            now_millis(),
        )
        .await;
    let next = format!("/call/{}", campaign.id);
    let error = match result {
        Ok(recorded) => {
            state
                .switchboard
                .outcome_recorded(&signed_in.user, &campaign, posted.lease_id)
                .await;
            let label = outcome_label(&campaign, &recorded.outcome);
            return Ok(Flash::ok(format!("Saved: {label}.")).redirect(&next));
        }
        Err(CallingError::Lease(LeaseProblem::AlreadyRecorded)) => {
            return Ok(Flash::ok("That call was saved already.").redirect(&next));
        }
        Err(error) => error,
    };
    let mut entered = posted.entered;
    match place_problem(&campaign, error, &mut entered) {
        Ok(()) => redisplay(&state, &signed_in, &campaign, posted.lease_id, entered).await,
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
            // Asking to confirm is not a refusal; anything else shown again is.
            let status = if entered.confirming.is_some() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut response =
                contact_page(state, signed_in, campaign, claimed, script, entered).await?;
            *response.status_mut() = status;
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
                NextStep::CheckAgain,
            )
            .await
        }
        Err(error) => refusal_page(state, signed_in, campaign, error).await,
    }
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
        .route("/call/leases/{lease_id}/heartbeat", post(heartbeat))
}
