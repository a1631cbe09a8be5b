//! Changing whole lists from the "Numbers not called" page: taking a number off the
//! group's do-not-call list after a confirmation step that says its contacts will be
//! called again, and the page script's raw-body uploads of a do-not-call list (organisers)
//! and of a TPS or CTPS file (site admins), each answered with a report in words. The
//! loading is the API's (`api::phonebank::suppression_uploads`).

use super::access::{find_group, require_group_organiser};
use super::call_view::national_number;
use super::suppressions::source_of;
use crate::api::phonebank::suppression_uploads::{
    DoNotCallUploadView, NationalUploadView, load_do_not_call, load_national_list, national_list,
};
use crate::api::phonebank::suppressions::phone_field;
use crate::auth::{Flash, SignedIn};
use crate::pages::layout::{Layout, format_time, render};
use crate::{ApiError, AppState, PageError};
use askama::Template;
use axum::body::Body;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get, routing::post};
use barnstorm_store::Group;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "phonebank/suppression_remove.html")]
struct RemovePage {
    layout: Layout,
    group: Group,
    phone: String,
    number: String,
    reason: String,
    source: String,
    when: String,
}

#[derive(Deserialize)]
struct PhoneField {
    #[serde(default)]
    phone: String,
}

fn back(group: &Group) -> String {
    format!("/groups/{}/suppressions#do-not-call", group.slug)
}

/// The group, if the person organises it, and the number given as E.164; or the way back
/// to the list with what is wrong with the number.
async fn organised_number(
    state: &AppState,
    signed_in: &SignedIn,
    slug: &str,
    raw: &str,
) -> Result<Result<(Group, String), Response>, PageError> {
    let group = find_group(&state.store, slug).await?;
    require_group_organiser(state, &signed_in.user, &group).await?;
    Ok(match phone_field(raw) {
        Ok(phone) => Ok((group, phone)),
        Err(problem) => Err(Flash::error(format!("Number: {problem}.")).redirect(&back(&group))),
    })
}

/// "Take this number off?": what the entry is, and that its contacts will be called again.
async fn confirm(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Query(query): Query<PhoneField>,
) -> Result<Response, PageError> {
    let (group, phone) = match organised_number(&state, &signed_in, &slug, &query.phone).await? {
        Ok(found) => found,
        Err(back) => return Ok(back),
    };
    let Some(entry) = state.store.do_not_call_entry(group.id, &phone).await? else {
        return Ok(Flash::error(format!(
            "{} is not on the do-not-call list.",
            national_number(&phone)
        ))
        .redirect(&back(&group)));
    };
    Ok(render(&RemovePage {
        layout: Layout::new(&signed_in.context),
        number: national_number(&phone),
        reason: entry.reason.clone(),
        source: source_of(&entry),
        when: format_time(entry.created_at),
        phone,
        group,
    }))
}

async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<PhoneField>,
) -> Result<Response, PageError> {
    let (group, phone) = match organised_number(&state, &signed_in, &slug, &form.phone).await? {
        Ok(found) => found,
        Err(back) => return Ok(back),
    };
    let number = national_number(&phone);
    let flash = match state
        .store
        .remove_do_not_call(group.id, &phone, signed_in.user.id)
        .await?
    {
        None => Flash::error(format!("{number} is not on the do-not-call list.")),
        Some(requeued) => Flash::ok(format!(
            "{number} is off {}'s do-not-call list. {}",
            group.name,
            match requeued {
                0 => "No contact was waiting on it.".to_owned(),
                1 => "One contact will be called again.".to_owned(),
                n => format!("{n} contacts will be called again."),
            }
        )),
    };
    Ok(flash.redirect(&back(&group)))
}

/// The report of an upload, in words, for the page script to show.
#[derive(Template)]
#[template(path = "phonebank/list_upload_report.html")]
struct UploadReport {
    summary: String,
    bad_lines: Vec<String>,
    more: u64,
}

fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

impl UploadReport {
    fn do_not_call(name: &str, view: &DoNotCallUploadView) -> Self {
        Self {
            summary: format!(
                "{name}: {} added, {} already listed, {} not added.{}",
                count(view.added, "number", "numbers"),
                view.already_listed,
                count(view.invalid, "line", "lines"),
                match view.contacts_suppressed {
                    0 => String::new(),
                    n => format!(
                        " {} left the queue.",
                        count(n, "queued contact", "queued contacts")
                    ),
                }
            ),
            more: view.invalid - view.invalid_lines.len() as u64,
            bad_lines: view
                .invalid_lines
                .iter()
                .map(|bad| format!("Line {}: {}.", bad.line, bad.reason))
                .collect(),
        }
    }

    fn national(view: &NationalUploadView) -> Self {
        Self {
            summary: format!(
                "{}: {} read, {} new to the {} list, which now holds {}.",
                view.source,
                count(view.read, "number", "numbers"),
                view.added,
                view.list,
                view.on_list
            ),
            more: view.skipped - view.skipped_lines.len() as u64,
            bad_lines: view
                .skipped_lines
                .iter()
                .map(|line| format!("Line {line}: not a phone number."))
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
    list: Option<String>,
}

async fn upload_do_not_call(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let name = query.name.as_deref().unwrap_or("upload.csv");
    match load_do_not_call(&state, &group, &signed_in.user, Some(name), body).await {
        Ok(view) => Ok(render(&UploadReport::do_not_call(name, &view))),
        Err(refused) => Ok(refused.into_response()),
    }
}

async fn upload_national(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Response, PageError> {
    // The group only places the form; the lists apply to every group.
    find_group(&state.store, &slug).await?;
    if !signed_in.user.is_admin {
        return Err(PageError::forbidden(
            "Only site admins load the TPS and CTPS lists.",
        ));
    }
    let list = match query.list.as_deref() {
        None | Some("") => Err(ApiError::invalid("list", "choose the TPS or the CTPS list")),
        Some(raw) => national_list(raw),
    };
    let loaded = match list {
        Ok(list) => {
            load_national_list(&state, &signed_in.user, list, query.name.as_deref(), body).await
        }
        Err(refused) => Err(refused),
    };
    match loaded {
        Ok(view) => Ok(render(&UploadReport::national(&view))),
        Err(refused) => Ok(refused.into_response()),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/groups/{slug}/suppressions/remove",
            get(confirm).post(remove),
        )
        .route(
            "/groups/{slug}/suppressions/upload",
            post(upload_do_not_call),
        )
        .route(
            "/groups/{slug}/suppressions/national",
            post(upload_national),
        )
}
