//! A group's month calendar: a server-rendered table of weeks (Monday first) with each
//! day's events, links to the previous and next month, and the group's feeds. Events are
//! placed on the days they span in their own time zone.

use super::with_descendants;
use crate::auth::RequestContext;
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::{Router, routing::get};
use barnstorm_store::Group;
use chrono::{Datelike, Days, Months, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;

/// The zone month boundaries are drawn in.
const CALENDAR_ZONE: Tz = chrono_tz::Europe::London;

/// An event in a day cell.
struct CellEvent {
    id: i64,
    title: String,
    time: String,
}

/// One day of the grid.
struct DayCell {
    day: u32,
    in_month: bool,
    is_today: bool,
    date_label: String,
    events: Vec<CellEvent>,
}

#[derive(Template)]
#[template(path = "group_calendar.html")]
struct CalendarPage {
    layout: Layout,
    group: Group,
    title: String,
    weeks: Vec<Vec<DayCell>>,
    prev: String,
    next: String,
    has_events: bool,
}

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// The first day of the month named `YYYY-MM`, or of this month.
fn month_start(raw: &str, today: NaiveDate) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("{}-01", raw.trim()), "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=9999).contains(&d.year()))
        .unwrap_or_else(|| today.with_day(1).unwrap_or(today))
}

fn midnight(day: NaiveDate) -> i64 {
    CALENDAR_ZONE
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map_or_else(
            || {
                day.and_time(chrono::NaiveTime::MIN)
                    .and_utc()
                    .timestamp_millis()
            },
            |t| t.timestamp_millis(),
        )
}

async fn calendar(
    State(state): State<AppState>,
    context: RequestContext,
    Path(slug): Path<String>,
    Query(query): Query<MonthQuery>,
) -> Result<Response, PageError> {
    let group = state
        .store
        .group_by_slug(&slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))?;
    let is_member = match context.user() {
        Some(user) => {
            user.is_admin
                || state
                    .store
                    .effective_role(user.id, group.id)
                    .await?
                    .is_some()
        }
        None => false,
    };
    let today = CALENDAR_ZONE
        .timestamp_millis_opt(barnstorm_store::now_millis())
        .single()
        .map_or_else(|| chrono::Utc::now().date_naive(), |t| t.date_naive());
    let first = month_start(&query.month, today);
    let next_month = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let prev_month = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    // The grid runs from the Monday on or before the 1st to the Sunday on or after the end.
    let grid_start = first - Days::new(u64::from(first.weekday().num_days_from_monday()));
    let last = next_month.pred_opt().unwrap_or(first);
    let grid_end = last + Days::new(u64::from(6 - last.weekday().num_days_from_monday()));

    let groups = with_descendants(&state, &group).await?;
    let ids: Vec<i64> = groups.iter().map(|g| g.id).collect();
    let events = state
        .store
        .group_events(
            &ids,
            is_member,
            midnight(grid_start),
            midnight(grid_end + Days::new(1)),
        )
        .await?;

    let mut weeks = Vec::new();
    let mut week = Vec::with_capacity(7);
    let mut day = grid_start;
    let mut has_events = false;
    while day <= grid_end {
        let mut cell_events = Vec::new();
        for event in &events {
            let tz: Tz = event.time_zone.parse().unwrap_or(CALENDAR_ZONE);
            let (Some(start), Some(end)) = (
                tz.timestamp_millis_opt(event.starts_at).single(),
                tz.timestamp_millis_opt(event.ends_at - 1).single(),
            ) else {
                continue;
            };
            if start.date_naive() <= day && day <= end.date_naive() {
                let time = if start.date_naive() == day {
                    start.format("%H:%M").to_string()
                } else {
                    "continues".to_owned()
                };
                cell_events.push(CellEvent {
                    id: event.id,
                    title: event.title.clone(),
                    time,
                });
            }
        }
        has_events |= !cell_events.is_empty() && day.month() == first.month();
        week.push(DayCell {
            day: day.day(),
            in_month: day.month() == first.month(),
            is_today: day == today,
            date_label: day.format("%A %-d %B %Y").to_string(),
            events: cell_events,
        });
        if week.len() == 7 {
            weeks.push(std::mem::take(&mut week));
        }
        day = match day.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    Ok(render(&CalendarPage {
        layout: Layout::new(&context),
        title: first.format("%B %Y").to_string(),
        prev: prev_month.format("%Y-%m").to_string(),
        next: next_month.format("%Y-%m").to_string(),
        group,
        weeks,
        has_events,
    }))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/groups/{slug}/calendar", get(calendar))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_or_default_to_this_one() {
        let today = NaiveDate::from_ymd_opt(2025, 7, 17).unwrap();
        assert_eq!(
            month_start("2025-02", today),
            NaiveDate::from_ymd_opt(2025, 2, 1).unwrap()
        );
        assert_eq!(
            month_start("nonsense", today),
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
        );
    }
}
