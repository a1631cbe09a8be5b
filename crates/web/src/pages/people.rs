//! The data-protection pages under `/admin/people`, for instance administrators and the
//! data-protection role: find a person (email, phone in any spelling, name and postcode),
//! pick one of several, see what is held, download the subject-access ZIP, and erase them
//! after a confirmation step where the word ERASE (or their email) is typed. Forms are
//! posted, so nobody's details end up in a URL. The lookup and erasure are the store's.

use super::layout::{Layout, render};
use crate::api::people::subject_access_zip;
use crate::auth::SignedIn;
use crate::auth::two_factor::require_two_factor_for_subject_requests;
use crate::subject_access::request::{
    CandidateView, PersonRequest, PersonSummary, RequestProblem, summarise,
};
use crate::{AppState, PageError};
use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_store::subject::{Erasure, ErasureReport, PersonLookup, PersonRecords};
use serde::Deserialize;

/// The word typed to confirm an erasure (their email address does too).
const CONFIRM_WORD: &str = "ERASE";

/// What was typed into the search form, echoed back into every form that follows.
#[derive(Debug, Default, Clone)]
struct Typed {
    email: String,
    phone: String,
    name: String,
    postcode: String,
    candidate: String,
}

impl Typed {
    fn of(request: &PersonRequest) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            email: text(&request.email),
            phone: text(&request.phone),
            name: text(&request.name),
            postcode: text(&request.postcode),
            candidate: text(&request.candidate),
        }
    }
}

/// What the search found.
enum Found {
    Nobody,
    /// Each candidate with the search that picks them.
    Several(Vec<(CandidateView, Typed)>),
    One(PersonSummary),
}

#[derive(Template)]
#[template(path = "people/search.html")]
struct SearchPage {
    layout: Layout,
    typed: Typed,
    /// What is wrong with the search.
    error: Option<String>,
    /// The field at fault (`email`, `phone`, `name`, `postcode`), or empty.
    error_field: &'static str,
    found: Option<Found>,
}

#[derive(Template)]
#[template(path = "people/erase.html")]
struct ErasePage {
    layout: Layout,
    typed: Typed,
    summary: PersonSummary,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "people/erased.html")]
struct ErasedPage {
    layout: Layout,
    report: ErasureReport,
}

/// Refuses anyone who is neither an administrator nor holds the data-protection role, and
/// them too without two-factor sign-in when the instance requires it.
async fn require_data_protection(state: &AppState, signed_in: &SignedIn) -> Result<(), PageError> {
    if !signed_in.user.may_handle_subject_requests() {
        return Err(PageError::forbidden(
            "Only administrators and data-protection officers can find, export or erase people's data.",
        ));
    }
    Ok(require_two_factor_for_subject_requests(state, &signed_in.user).await?)
}

fn form_of(body: &Bytes) -> Result<PersonRequest, PageError> {
    serde_urlencoded::from_bytes(body).map_err(|e| {
        PageError::new(
            StatusCode::BAD_REQUEST,
            "That form could not be read",
            format!("{e}. Go back, check the form and try again."),
        )
    })
}

/// The search page again, with `typed` and what was found or why nothing could be.
fn search_page(
    signed_in: &SignedIn,
    typed: Typed,
    error: Option<(&'static str, String)>,
    found: Option<Found>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let (error_field, error) = match error {
        Some((field, message)) => (field, Some(message)),
        None => ("", None),
    };
    let page = SearchPage {
        layout: Layout::new(&signed_in.context),
        typed,
        error,
        error_field,
        found,
    };
    (status, render(&page)).into_response()
}

/// Looks the person up; `Err` carries the search page to show instead (a bad field,
/// nobody, several).
async fn look_up(
    state: &AppState,
    signed_in: &SignedIn,
    request: &PersonRequest,
) -> Result<Result<Box<PersonRecords>, Response>, PageError> {
    let typed = Typed::of(request);
    let query = match request.query() {
        Ok(query) => query,
        Err(RequestProblem::TooLong(e)) => {
            let field = field_name(&e.field);
            return Ok(Err(search_page(
                signed_in,
                typed,
                Some((field, e.to_string())),
                None,
            )));
        }
        Err(RequestProblem::Invalid(e)) => {
            let message = format!("{}: {}", label(e.field), e.message);
            return Ok(Err(search_page(
                signed_in,
                typed,
                Some((e.field, message)),
                None,
            )));
        }
    };
    Ok(match state.store.find_person(&query).await? {
        PersonLookup::Nobody => Err(search_page(signed_in, typed, None, Some(Found::Nobody))),
        PersonLookup::Several(people) => {
            let choices = people
                .into_iter()
                .map(|person| {
                    let choice = Typed {
                        candidate: person.name.clone(),
                        ..typed.clone()
                    };
                    (CandidateView::from(person), choice)
                })
                .collect();
            Err(search_page(
                signed_in,
                typed,
                None,
                Some(Found::Several(choices)),
            ))
        }
        PersonLookup::Found(records) => Ok(records),
    })
}

/// The form's own name for a field the length check named.
fn field_name(field: &str) -> &'static str {
    match field {
        "phone" => "phone",
        "name" | "candidate" => "name",
        "postcode" => "postcode",
        _ => "email",
    }
}

/// A field's label as the form shows it.
fn label(field: &str) -> &'static str {
    match field {
        "phone" => "Phone number",
        "name" => "Full name",
        "postcode" => "Postcode",
        _ => "Email address",
    }
}

async fn search_form(
    State(state): State<AppState>,
    signed_in: SignedIn,
) -> Result<Response, PageError> {
    require_data_protection(&state, &signed_in).await?;
    Ok(search_page(&signed_in, Typed::default(), None, None))
}

/// The request a data-protection form posted and the one person it names; `Err` carries
/// the search page to show instead (a bad field, nobody, several).
type Requested = Result<(PersonRequest, Box<PersonRecords>), Response>;

/// Checks access, reads the posted form and looks the person up.
async fn requested(
    state: &AppState,
    signed_in: &SignedIn,
    body: &Bytes,
) -> Result<Requested, PageError> {
    require_data_protection(state, signed_in).await?;
    let request = form_of(body)?;
    Ok(look_up(state, signed_in, &request)
        .await?
        .map(|records| (request, records)))
}

async fn search(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let (request, records) = match requested(&state, &signed_in, &body).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let summary = summarise(&state.store, &records).await?;
    let found = Some(Found::One(summary));
    Ok(search_page(&signed_in, Typed::of(&request), None, found))
}

async fn export(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let (_, records) = match requested(&state, &signed_in, &body).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    subject_access_zip(&state, &signed_in.user, &records)
        .await
        .map_err(|e| {
            PageError::new(
                e.status(),
                "The export could not be made",
                "Something went wrong making the export. Please try again.",
            )
        })
}

async fn confirm_erase(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let (request, records) = match requested(&state, &signed_in, &body).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    Ok(render(&ErasePage {
        layout: Layout::new(&signed_in.context),
        typed: Typed::of(&request),
        summary: summarise(&state.store, &records).await?,
        error: None,
    }))
}

#[derive(Deserialize)]
struct Confirmation {
    #[serde(default)]
    confirmation: String,
}

async fn erase(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Result<Response, PageError> {
    let (request, records) = match requested(&state, &signed_in, &body).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let typed_word = serde_urlencoded::from_bytes::<Confirmation>(&body)
        .map(|c| c.confirmation.trim().to_owned())
        .unwrap_or_default();
    let confirmed = typed_word == CONFIRM_WORD
        || records
            .emails
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&typed_word));
    if !confirmed {
        let page = ErasePage {
            layout: Layout::new(&signed_in.context),
            typed: Typed::of(&request),
            summary: summarise(&state.store, &records).await?,
            error: Some(format!(
                "Confirmation: type {CONFIRM_WORD} (or their email address) to erase; nothing was erased."
            )),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let Ok(query) = request.query() else {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "That form could not be read",
            "Go back to the search and try again.",
        ));
    };
    match state
        .store
        .erase_person(&query, Some(signed_in.user.id))
        .await?
    {
        Erasure::Erased(report) => Ok(render(&ErasedPage {
            layout: Layout::new(&signed_in.context),
            report,
        })),
        // Someone changed the records between the confirmation and now: search again.
        Erasure::Nobody | Erasure::Several(_) => {
            Ok(match look_up(&state, &signed_in, &request).await? {
                Err(page) => page,
                Ok(_) => search_page(&signed_in, Typed::of(&request), None, None),
            })
        }
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/people", get(search_form).post(search))
        .route("/admin/people/export", post(export))
        .route("/admin/people/erase", post(confirm_erase))
        .route("/admin/people/erase/confirm", post(erase))
}
