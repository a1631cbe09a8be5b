//! The attendee list of one event, for its host and its group's organisers only: names and
//! contact details, status and shift, marking who came (an htmx toggle that also works as
//! a plain form) and a CSV download, which is audited.

use super::run_event;
use crate::auth::{Flash, SignedIn};
use crate::event_mails::when_text;
use crate::exports::{cell, csv_response};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_domain::event::RsvpStatus;
use barnstorm_store::events::{Attendee, Event};
use barnstorm_store::{About, AuditAction};
use serde::Deserialize;

/// One line of the list.
struct AttendeeRow {
    rsvp_id: i64,
    name: String,
    email: String,
    phone: String,
    status: &'static str,
    shift: String,
    attended: Option<bool>,
}

fn rows(event: &Event, attendees: Vec<Attendee>) -> Vec<AttendeeRow> {
    attendees
        .into_iter()
        .map(|a| AttendeeRow {
            rsvp_id: a.rsvp_id,
            shift: a
                .shift_id
                .and_then(|id| event.shifts.iter().find(|s| s.id == id))
                .map(|s| when_text(s.starts_at, s.ends_at, &event.time_zone))
                .unwrap_or_default(),
            name: a.name,
            email: a.email,
            phone: a.phone.unwrap_or_default(),
            status: a.status.label(),
            attended: a.attended,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "events/attendees.html")]
struct AttendeesPage {
    layout: Layout,
    event: Event,
    when: String,
    rows: Vec<AttendeeRow>,
    going: usize,
    waiting: usize,
}

#[derive(Template)]
#[template(path = "events/attendee_row.html")]
struct RowFragment {
    csrf: String,
    event_id: i64,
    a: AttendeeRow,
}

async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (event, _, _) = run_event(&state, &signed_in.user, id).await?;
    let attendees = state.store.attendees(id).await?;
    let going = attendees
        .iter()
        .filter(|a| a.status == RsvpStatus::Going)
        .count();
    let waiting = attendees
        .iter()
        .filter(|a| a.status == RsvpStatus::Waitlist)
        .count();
    Ok(render(&AttendeesPage {
        layout: Layout::new(&signed_in.context),
        when: when_text(event.starts_at, event.ends_at, &event.time_zone),
        rows: rows(&event, attendees),
        going,
        waiting,
        event,
    }))
}

async fn csv(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (event, _, _) = run_event(&state, &signed_in.user, id).await?;
    let attendees = state.store.attendees(id).await?;
    let count = attendees.len();
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| {
        tracing::error!(error = %e, "could not write the attendee CSV");
        PageError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Export failed",
            "Could not build the download; try again.",
        )
    };
    out.write_record(["name", "email", "phone", "status", "shift", "attended"])
        .map_err(failed)?;
    for row in rows(&event, attendees) {
        let attended = match row.attended {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        out.write_record([
            cell(&row.name),
            cell(&row.email),
            cell(&row.phone),
            row.status.to_owned(),
            row.shift,
            attended.to_owned(),
        ])
        .map_err(failed)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| failed(e.into_error().into()))?;
    state
        .store
        .audit_read(
            Some(signed_in.user.id),
            AuditAction::EventAttendeesExport,
            About::group(event.group_id),
            &format!("event {id}"),
            &format!("{count} rows"),
        )
        .await?;
    Ok(csv_response(body, &format!("event-{id}-attendees.csv")))
}

#[derive(Deserialize)]
struct AttendedForm {
    /// `yes`, `no` or anything else for "not marked".
    attended: String,
}

async fn mark(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path((id, rsvp_id)): Path<(i64, i64)>,
    Form(form): Form<AttendedForm>,
) -> Result<Response, PageError> {
    let (event, _, _) = run_event(&state, &signed_in.user, id).await?;
    let attended = match form.attended.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    state.store.set_attended(id, rsvp_id, attended).await?;
    if headers.contains_key("hx-request") {
        let row = rows(&event, state.store.attendees(id).await?)
            .into_iter()
            .find(|r| r.rsvp_id == rsvp_id)
            .ok_or_else(|| PageError::not_found("That person is not on this list."))?;
        return Ok(render(&RowFragment {
            csrf: signed_in.context.csrf.clone(),
            event_id: id,
            a: row,
        }));
    }
    Ok(Flash::ok("Saved.").redirect(&format!("/events/{id}/attendees")))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/events/{id}/attendees", get(list))
        .route("/events/{id}/attendees.csv", get(csv))
        .route("/events/{id}/attendees/{rsvp_id}/attended", post(mark))
}
