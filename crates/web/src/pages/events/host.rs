//! Hosting: the new-event form (prefilled from the link that opened it, or copied from
//! an event for "Duplicate"), creating an event live or pending by the group's policy, editing it (telling attendees when the
//! time or place moved), cancelling it with a reason, and "My events": what a person hosts and signed up for.

use super::campaign_link::link_refusal;
use super::form::FormPage;
use super::run_event;
use crate::auth::{Flash, RequestContext, SignedIn};
use crate::event_draft::{
    EventDraft, FieldErrors, check_links, keep_shift_ids, time_or_place_changed,
};
use crate::event_mails::{cancellation_notice, change_notice, when_text};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::email::normalise_email;
use barnstorm_domain::event::EventStatus;
use barnstorm_store::events::{Event, EventSummary, NewEvent, Review};
use barnstorm_store::{StoreError, User};
use serde::Deserialize;

/// What a link to the new-event form may prefill.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Prefill {
    group: String,
    kind: String,
    title: String,
    postcode: String,
    address: String,
    parent: String,
    breakout: String,
    campaign: String,
    starts_at: String,
    ends_at: String,
    time_zone: String,
    /// "Duplicate": the id of an event to copy everything from but the date.
    from: String,
}

fn form_error_page(page: FormPage) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
}

async fn new_form(
    State(state): State<AppState>,
    context: RequestContext,
    uri: Uri,
    Query(prefill): Query<Prefill>,
) -> Result<Response, PageError> {
    // A signed-out would-be host makes an account on the way and comes back here.
    let Some(user) = context.user().cloned() else {
        let back = uri.path_and_query().map_or("/events/new", |p| p.as_str());
        let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        return Ok(Redirect::to(&format!("/signup?next={back}")).into_response());
    };
    let signed_in = SignedIn { context, user };
    if let Some(refusal) = super::confirm_email_first(&signed_in, "create events") {
        return Ok(refusal);
    }
    if let Some(copied) = duplicate_draft(&state, &signed_in.user, &prefill.from).await? {
        let layout = Layout::new(&signed_in.context);
        let mut page =
            FormPage::new(&state, layout, &signed_in.user, copied, FieldErrors::new()).await?;
        page.heading = "Duplicate an event: choose its date".into();
        return Ok(render(&page));
    }
    let mut draft = EventDraft {
        group: prefill.group,
        kind: prefill.kind,
        title: prefill.title,
        postcode: prefill.postcode,
        address: prefill.address,
        parent_event_id: prefill.parent,
        breakout_id: prefill.breakout,
        campaign_id: prefill.campaign,
        starts_at: prefill.starts_at,
        ends_at: prefill.ends_at,
        time_zone: prefill.time_zone,
        ..EventDraft::default()
    };
    draft.split_single_times();
    if draft.time_zone.is_empty() {
        draft.time_zone = crate::event_draft::DEFAULT_TIME_ZONE.into();
    }
    let layout = Layout::new(&signed_in.context);
    let page = FormPage::new(&state, layout, &signed_in.user, draft, FieldErrors::new()).await?;
    Ok(render(&page))
}

/// The host form filled in from the event `from` names, for "Duplicate": everything but
/// the date, which the host chooses (a copy of a past event must not land in the past).
/// `None` when `from` is empty; a 404 for an event the person may not see.
async fn duplicate_draft(
    state: &AppState,
    user: &User,
    from: &str,
) -> Result<Option<EventDraft>, PageError> {
    if from.trim().is_empty() {
        return Ok(None);
    }
    let id: i64 = from.trim().parse().map_err(|_| super::no_event())?;
    let (event, group, _) = run_event(state, user, id).await?;
    let mut draft = EventDraft::from_event(&event);
    draft.group = group.slug;
    draft.date.clear();
    draft.end_date.clear();
    Ok(Some(draft))
}

/// Checks a submitted draft for `group` from `user`: the fields, then what it links to
/// (a campaign only if they may link it, or it is the one linked already, `current`).
async fn check_draft(
    state: &AppState,
    user: &User,
    draft: EventDraft,
    group_id: i64,
    (host, current): (Option<i64>, Option<i64>),
) -> Result<Result<NewEvent, FieldErrors>, PageError> {
    let event = match draft.validate(&state.geocoder, group_id, host).await {
        Ok(event) => event,
        Err(errors) => return Ok(Err(errors)),
    };
    if let Some(refusal) = link_refusal(state, user, event.campaign_id, current).await? {
        return Ok(Err(FieldErrors::one("campaign_id", refusal)));
    }
    Ok(check_links(&state.store, &event).await.map(|()| event))
}

async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(draft): Form<EventDraft>,
) -> Result<Response, PageError> {
    if let Some(refusal) = super::confirm_email_first(&signed_in, "create events") {
        return Ok(refusal);
    }
    let user = &signed_in.user;
    let layout = Layout::new(&signed_in.context);
    let group = state.store.group_by_slug(draft.group.trim()).await?;
    let Some(group) = group else {
        let errors = FieldErrors::one("group", "Choose the group this event is for.");
        return Ok(form_error_page(
            FormPage::new(&state, layout, user, draft, errors).await?,
        ));
    };
    let checked = check_draft(&state, user, draft.clone(), group.id, (Some(user.id), None));
    let event = match checked.await? {
        Ok(event) => event,
        Err(errors) => {
            return Ok(form_error_page(
                FormPage::new(&state, layout, user, draft, errors).await?,
            ));
        }
    };
    let status = super::new_event_status(&state, user, group.id).await?;
    let created = super::create_event(&state, user, &group, &event, status).await?;
    let message = if status == EventStatus::Live {
        "Your event is live. Share its link so people can sign up.".to_owned()
    } else {
        format!(
            "Your event was sent to the organisers of {} for approval. We'll email you when they decide.",
            group.name
        )
    };
    Ok(Flash::ok(message).redirect(&format!("/events/{}", created.id)))
}

async fn edit_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    let mut draft = EventDraft::from_event(&event);
    draft.group = group.slug.clone();
    let page = edit_page(&state, &signed_in, &event, draft, FieldErrors::new(), true).await?;
    Ok(render(&page))
}

async fn edit_page(
    state: &AppState,
    signed_in: &SignedIn,
    event: &Event,
    draft: EventDraft,
    errors: FieldErrors,
    tell_attendees: bool,
) -> Result<FormPage, PageError> {
    let layout = Layout::new(&signed_in.context);
    let mut page = FormPage::new(state, layout, &signed_in.user, draft, errors).await?;
    page.heading = format!("Edit: {}", event.title);
    page.action = format!("/events/{}/edit", event.id);
    page.editing = true;
    page.tell_attendees = tell_attendees;
    page.back = format!("/events/{}", event.id);
    Ok(page)
}

/// Shown to the host (and on the organisers' pending list) when an edit sends an approved
/// event back for approval.
const RESUBMITTED_NOTE: &str =
    "Changed after approval; waiting for an organiser to approve the changes.";

#[derive(Deserialize)]
struct EditForm {
    #[serde(flatten)]
    draft: EventDraft,
    #[serde(default)]
    tell_attendees: Option<String>,
}

async fn save_edit(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    let tell = form.tell_attendees.is_some();
    let draft = form.draft;
    // The group and host of an event do not change on edit.
    let linked = (event.host_user_id, event.campaign_id);
    let checked = check_draft(
        &state,
        &signed_in.user,
        draft.clone(),
        event.group_id,
        linked,
    );
    let mut new = match checked.await? {
        Ok(new) => new,
        Err(errors) => {
            let page = edit_page(&state, &signed_in, &event, draft, errors, tell).await?;
            return Ok(form_error_page(page));
        }
    };
    keep_shift_ids(&mut new.shifts, &event.shifts);
    let moved = time_or_place_changed(&event, &new);
    let config = state.config.clone();
    let group_name = group.name.clone();
    // The notice shows the event as it will be after the change.
    let preview = Event {
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        time_zone: new.time_zone.clone(),
        title: new.title.clone(),
        postcode: new.postcode.clone(),
        address: new.address.clone(),
        online_url: new.online_url.clone(),
        ..event.clone()
    };
    let notice = move |attendee: &_| {
        (tell && moved).then(|| change_notice(&config, &preview, &group_name, attendee))
    };
    // Someone whose new events wait for approval cannot change an approved one unseen.
    let needs_review = event.status == EventStatus::Live
        && super::new_event_status(&state, &signed_in.user, event.group_id).await?
            == EventStatus::Pending;
    let saved = if needs_review {
        let mails = super::approval_mails(&state, &group, &new, &signed_in.user).await?;
        let review = Review {
            actor: signed_in.user.id,
            note: RESUBMITTED_NOTE,
            mails: &mails,
        };
        state
            .store
            .update_event_for_review(id, &new, &notice, &review)
            .await
    } else {
        state.store.update_event(id, &new, &notice).await
    };
    match saved {
        Ok(_) => {}
        Err(StoreError::Invalid(message)) => {
            let errors = FieldErrors::one("end_time", format!("{message}."));
            let page = edit_page(&state, &signed_in, &event, draft, errors, tell).await?;
            return Ok(form_error_page(page));
        }
        Err(other) => return Err(other.into()),
    }
    state.mail_queued();
    let message = match (tell && moved, needs_review) {
        (true, true) => {
            "Saved. Everyone who signed up has been told about the new time or place. The event is off the map until an organiser approves the changes."
        }
        (true, false) => "Saved. Everyone who signed up has been told about the new time or place.",
        (false, true) => "Saved. The event is off the map until an organiser approves the changes.",
        (false, false) => "Saved.",
    };
    Ok(Flash::ok(message).redirect(&format!("/events/{id}")))
}

#[derive(Deserialize)]
struct CancelForm {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<CancelForm>,
) -> Result<Response, PageError> {
    let (event, group, _) = run_event(&state, &signed_in.user, id).await?;
    if event.status == EventStatus::Cancelled {
        return Ok(
            Flash::ok("This event was already cancelled.").redirect(&format!("/events/{id}"))
        );
    }
    let reason: String = form.reason.trim().chars().take(1000).collect();
    let (cancelled, group_name, why) = (event.clone(), group.name.clone(), reason.clone());
    let config = state.config.clone();
    let notice = move |attendee: &_| {
        Some(cancellation_notice(
            &config,
            &cancelled,
            &group_name,
            &why,
            attendee,
        ))
    };
    state
        .store
        .set_event_status(
            id,
            EventStatus::Cancelled,
            &reason,
            Some(signed_in.user.id),
            &notice,
        )
        .await?;
    state.mail_queued();
    Ok(
        Flash::ok("The event is cancelled. Everyone who signed up has been told.")
            .redirect(&format!("/events/{id}")),
    )
}

/// One of my events, as the list shows it.
struct MyEventRow {
    id: i64,
    title: String,
    when: String,
    status: EventStatus,
}

impl MyEventRow {
    fn new(event: EventSummary) -> Self {
        Self {
            id: event.id,
            when: when_text(event.starts_at, event.ends_at, &event.time_zone),
            title: event.title,
            status: event.status,
        }
    }
}

#[derive(Template)]
#[template(path = "events/mine.html")]
struct MinePage {
    layout: Layout,
    upcoming: Vec<MyEventRow>,
    past: Vec<MyEventRow>,
    going: Vec<MyEventRow>,
}

/// `GET /my/events`: the events I host (coming up and past) and those I signed up for
/// with my account's address (once it is confirmed, so nobody reads another's sign-ups).
async fn my_events(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    let now = barnstorm_store::now_millis();
    let (mut upcoming, mut past) = (Vec::new(), Vec::new());
    for event in state.store.events_hosted_by(signed_in.user.id).await? {
        if event.ends_at >= now {
            upcoming.push(MyEventRow::new(event));
        } else {
            past.push(MyEventRow::new(event));
        }
    }
    past.reverse();
    let email = normalise_email(&signed_in.user.email).filter(|_| signed_in.user.is_verified());
    let going = match email {
        Some(email) => state
            .store
            .events_signed_up_for(&email)
            .await?
            .into_iter()
            .filter(|e| e.ends_at >= now)
            .map(MyEventRow::new)
            .collect(),
        None => Vec::new(),
    };
    Ok(render(&MinePage {
        layout: Layout::new(&signed_in.context),
        upcoming,
        past,
        going,
    }))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/new", get(new_form).post(create))
        .route("/events/{id}/edit", get(edit_form).post(save_edit))
        .route("/events/{id}/cancel", post(cancel))
        .route("/my/events", get(my_events))
}
