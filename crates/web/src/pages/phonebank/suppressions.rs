//! The group's "Numbers not called" page for organisers: every number on the group's
//! do-not-call list with why, from which call or organiser, and when; the national TPS and
//! CTPS lists with their latest import; a check of one number; a search of the list a page
//! at a time; and a form to add one. Removing and uploading are `suppression_lists`. The
//! reading and checking is the API's (`api::phonebank::suppressions`); this module puts it
//! into words.

use super::access::{find_group, require_group_organiser};
use super::call_view::national_number;
use crate::api::phonebank::suppressions::{check_number, phone_field, reason_field};
use crate::auth::{Flash, SignedIn};
use crate::pages::layout::{Layout, format_time, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_store::phonebank::{DoNotCallEntry, DoNotCallSearch, TpsEntry};
use barnstorm_store::{Group, now_millis};
use serde::Deserialize;

/// Entries a page of the list shows.
const PAGE_SIZE: i64 = 50;

/// One do-not-call entry in words.
struct EntryLine {
    /// E.164, for the remove link.
    phone: String,
    number: String,
    reason: String,
    source: String,
    when: String,
}

/// Where an entry came from, in words.
pub(super) fn source_of(entry: &DoNotCallEntry) -> String {
    let who = entry.added_by_name.as_deref();
    match (entry.campaign_id, entry.campaign_name.as_deref(), who) {
        (Some(_), Some(campaign), Some(caller)) => format!("A call in {campaign}, by {caller}"),
        (Some(_), Some(campaign), None) => format!("A call in {campaign}"),
        (Some(_), None, _) => "A call in a phone bank since deleted".to_owned(),
        (None, _, Some(organiser)) => format!("Added by {organiser}"),
        (None, _, None) if entry.added_by.is_some() => "Added by an organiser".to_owned(),
        (None, _, None) => "Added before sources were kept".to_owned(),
    }
}

impl EntryLine {
    fn new(entry: &DoNotCallEntry) -> Self {
        Self {
            phone: entry.phone.clone(),
            number: national_number(&entry.phone),
            reason: entry.reason.clone(),
            source: source_of(entry),
            when: format_time(entry.created_at),
        }
    }
}

/// A national list in words.
struct ListLine {
    name: String,
    numbers: i64,
    latest: String,
    /// Its latest import is older than [`NATIONAL_LIST_FRESH_MS`].
    stale: bool,
}

/// A TPS registration takes effect within 28 days, so a list older than that misses some.
const NATIONAL_LIST_FRESH_MS: i64 = 28 * 24 * 3600 * 1000;

/// The answer to "is this number called?".
struct CheckAnswer {
    number: String,
    /// Each list holding it, in words; empty when none does.
    held_by: Vec<String>,
}

fn national_words(entry: &TpsEntry) -> String {
    let from = if entry.source.is_empty() {
        String::new()
    } else {
        format!(" from {}", entry.source)
    };
    format!(
        "On the {} list: imported{from} on {}. No phone bank calls it.",
        entry.list,
        format_time(entry.imported_at)
    )
}

#[derive(Template)]
#[template(path = "phonebank/suppressions.html")]
struct SuppressionsPage {
    layout: Layout,
    group: Group,
    total: i64,
    entries: Vec<EntryLine>,
    /// The search typed, and how many entries it finds, in words.
    q: String,
    count_line: String,
    /// "Showing 51 to 100 of 230", when the list is longer than a page.
    range: String,
    /// Links to the newer and older pages, if there are any.
    newer: Option<String>,
    older: Option<String>,
    lists: Vec<ListLine>,
    is_admin: bool,
    asked: String,
    check_error: String,
    check: Option<CheckAnswer>,
}

#[derive(Deserialize)]
struct CheckQuery {
    phone: Option<String>,
    q: Option<String>,
    offset: Option<i64>,
}

/// "3 numbers on the list.", or "1 of 3 numbers matches “office”."
fn count_line(q: &str, matching: i64, total: i64) -> String {
    let numbers = if total == 1 { "number" } else { "numbers" };
    if q.is_empty() {
        format!("{total} {numbers} on the list.")
    } else {
        let verb = if matching == 1 { "matches" } else { "match" };
        format!("{matching} of {total} {numbers} {verb} \u{201c}{q}\u{201d}.")
    }
}

/// The page's address at `offset`, keeping the search.
fn page_link(group: &Group, q: &str, offset: i64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    if offset > 0 {
        query.append_pair("offset", &offset.to_string());
    }
    let query = query.finish();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("/groups/{}/suppressions{query}#do-not-call", group.slug)
}

async fn page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Query(query): Query<CheckQuery>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let asked = query.phone.unwrap_or_default();
    let (mut check, mut check_error) = (None, String::new());
    if !asked.trim().is_empty() {
        match phone_field(&asked) {
            Err(problem) => check_error = format!("Number: {problem}."),
            Ok(phone) => {
                let (do_not_call, listed) = check_number(&state.store, &group, &phone).await?;
                let mut held_by = Vec::new();
                if let Some(entry) = do_not_call {
                    held_by.push(format!(
                        "On {}'s do-not-call list since {}: {}. Source: {}.",
                        group.name,
                        format_time(entry.created_at),
                        entry.reason,
                        source_of(&entry)
                    ));
                }
                if let Some(entry) = listed {
                    held_by.push(national_words(&entry));
                }
                check = Some(CheckAnswer {
                    number: national_number(&phone),
                    held_by,
                });
            }
        }
    }
    let q = query.q.unwrap_or_default().trim().to_owned();
    let offset = query.offset.unwrap_or(0).max(0);
    let found = state
        .store
        .search_do_not_call(group.id, &DoNotCallSearch::new(&q), PAGE_SIZE, offset)
        .await?;
    let shown = i64::try_from(found.entries.len()).unwrap_or(PAGE_SIZE);
    let range = if found.matching > PAGE_SIZE {
        format!(
            "Showing {} to {} of {}, newest first.",
            offset + 1,
            offset + shown,
            found.matching
        )
    } else {
        String::new()
    };
    let newer = (offset > 0).then(|| page_link(&group, &q, (offset - PAGE_SIZE).max(0)));
    let older =
        (offset + PAGE_SIZE < found.matching).then(|| page_link(&group, &q, offset + PAGE_SIZE));
    let lists = state
        .store
        .tps_lists()
        .await?
        .into_iter()
        .map(|list| ListLine {
            latest: format!(
                "latest import {}{}",
                format_time(list.last_imported_at),
                if list.last_source.is_empty() {
                    String::new()
                } else {
                    format!(", from {}", list.last_source)
                }
            ),
            stale: now_millis() - list.last_imported_at > NATIONAL_LIST_FRESH_MS,
            name: list.list,
            numbers: list.numbers,
        })
        .collect();
    Ok(render(&SuppressionsPage {
        layout: Layout::new(&signed_in.context),
        total: found.total,
        entries: found.entries.iter().map(EntryLine::new).collect(),
        count_line: count_line(&q, found.matching, found.total),
        q,
        range,
        newer,
        older,
        lists,
        is_admin: signed_in.user.is_admin,
        asked,
        check_error,
        check,
        group,
    }))
}

#[derive(Deserialize)]
struct AddForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    reason: String,
}

async fn add(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<AddForm>,
) -> Result<Response, PageError> {
    let group = find_group(&state.store, &slug).await?;
    require_group_organiser(&state, &signed_in.user, &group).await?;
    let back = format!("/groups/{}/suppressions", group.slug);
    let phone = match phone_field(&form.phone) {
        Ok(phone) => phone,
        Err(problem) => return Ok(Flash::error(format!("Number: {problem}.")).redirect(&back)),
    };
    let reason = match reason_field(&form.reason) {
        Ok(reason) => reason,
        Err(problem) => return Ok(Flash::error(format!("Reason: {problem}.")).redirect(&back)),
    };
    if state.store.is_do_not_call(group.id, &phone).await? {
        return Ok(Flash::error(format!(
            "{} is on the do-not-call list already.",
            national_number(&phone)
        ))
        .redirect(&back));
    }
    let suppressed = state
        .store
        .add_do_not_call(group.id, &phone, reason, Some(signed_in.user.id))
        .await?;
    let queued = match suppressed {
        0 => "No queued contact had it.".to_owned(),
        1 => "One queued contact left the queue.".to_owned(),
        n => format!("{n} queued contacts left the queue."),
    };
    Ok(Flash::ok(format!(
        "{} will not be called by {}'s phone banks. {queued}",
        national_number(&phone),
        group.name
    ))
    .redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/groups/{slug}/suppressions", get(page).post(add))
}
