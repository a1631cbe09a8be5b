//! Event listings read straight from the events table: a group's calendar and hub page,
//! the approval queue, a host's own events and those a person signed up for, the public API's paged list and its sync
//! tombstones, and the bulk insert used by the demo and benchmarks. Map and nearby
//! searches are served by the in-memory index instead.

use super::events::{attach_shifts, bind_fields, validate};
use super::model::{
    EVENT_COLUMNS, Event, EventSummary, FIELD_COLUMNS, NewEvent, SUMMARY_COLUMNS, params,
};
use crate::binds::value_rows;
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::event::{EventKind, EventStatus};
use sqlx::Row;

/// Rows per multi-row INSERT in [`Store::insert_events_bulk`] (24 binds each, well under
/// either engine's limit).
const BULK_ROWS: usize = 400;
/// Statements per transaction in [`Store::insert_events_bulk`].
const BULK_STATEMENTS_PER_TX: usize = 10;

/// Which public events the API lists, in pages by id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PublicEventFilter {
    /// Kinds to include; empty for all.
    pub kinds: Vec<EventKind>,
    /// Only events starting at or after this.
    pub starts_after: Option<Millis>,
    /// Only events starting before this.
    pub starts_before: Option<Millis>,
    /// Only events changed at or after this (for sync).
    pub updated_since: Option<Millis>,
    /// Only this group's events.
    pub group_id: Option<i64>,
    /// Page size.
    pub limit: usize,
    /// The last id of the previous page (keyset paging); `None` for the first page.
    pub after_id: Option<i64>,
}

/// The condition that makes an event public and live (`e.` columns).
const PUBLIC_LIVE: &str = "status = 'live' AND visibility = 'public' AND deleted_at IS NULL";

fn summaries(rows: &[sqlx::any::AnyRow]) -> Result<Vec<EventSummary>, StoreError> {
    Ok(rows
        .iter()
        .map(EventSummary::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

fn events(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Event>, StoreError> {
    Ok(rows
        .iter()
        .map(Event::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Store {
    /// Live events of these groups that overlap `from..to` (ending at or after `from`,
    /// starting before `to`), by start time: public ones, and group-only ones too when
    /// `include_group_only` (for members). Unlisted events are never listed.
    pub async fn group_events(
        &self,
        group_ids: &[i64],
        include_group_only: bool,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<EventSummary>, StoreError> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let visibility = if include_group_only {
            "visibility IN ('public', 'group')"
        } else {
            "visibility = 'public'"
        };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM events
             WHERE group_id IN ({}) AND status = 'live' AND deleted_at IS NULL AND {visibility}
               AND ends_at >= $1 AND starts_at < $2
             ORDER BY starts_at, id",
            params(3, group_ids.len())
        );
        let mut query = sqlx::query(&sql).bind(from).bind(to);
        for id in group_ids {
            query = query.bind(*id);
        }
        summaries(&query.fetch_all(self.reader()).await?)
    }

    /// Events of these groups waiting for approval, oldest submission first, with shifts.
    pub async fn pending_events(&self, group_ids: &[i64]) -> Result<Vec<Event>, StoreError> {
        if group_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE group_id IN ({}) AND status = 'pending' AND deleted_at IS NULL
             ORDER BY created_at, id",
            params(1, group_ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in group_ids {
            query = query.bind(*id);
        }
        let mut conn = self.reader().acquire().await?;
        let mut found = events(&query.fetch_all(&mut *conn).await?)?;
        attach_shifts(&mut conn, &mut found).await?;
        Ok(found)
    }

    /// Every event this person hosts whatever its status (not deleted ones), by start.
    pub async fn events_hosted_by(&self, user_id: i64) -> Result<Vec<EventSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM events WHERE host_user_id = $1 AND deleted_at IS NULL
             ORDER BY starts_at, id"
        ))
        .bind(user_id)
        .fetch_all(self.reader())
        .await?;
        summaries(&rows)
    }

    /// Published events (live or cancelled, not deleted) that the supporter with this
    /// normalised address is going to or waiting for, by start.
    pub async fn events_signed_up_for(&self, email: &str) -> Result<Vec<EventSummary>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM events
             WHERE deleted_at IS NULL AND status IN ('live', 'cancelled')
               AND id IN (SELECT r.event_id FROM rsvps r JOIN supporters s ON s.id = r.supporter_id
                          WHERE s.email = $1 AND r.status IN ('going', 'waitlist'))
             ORDER BY starts_at, id"
        ))
        .bind(email)
        .fetch_all(self.reader())
        .await?;
        summaries(&rows)
    }

    /// Public live events matching `filter`, by id, one page at a time, with shifts.
    /// Includes events without coordinates (online ones).
    pub async fn list_public_events(
        &self,
        filter: &PublicEventFilter,
    ) -> Result<Vec<Event>, StoreError> {
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        let mut conditions = vec![PUBLIC_LIVE.to_owned()];
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.starts_after.is_some() {
            conditions.push(format!("starts_at >= {}", next()));
        }
        if filter.starts_before.is_some() {
            conditions.push(format!("starts_at < {}", next()));
        }
        if filter.updated_since.is_some() {
            conditions.push(format!("updated_at >= {}", next()));
        }
        if filter.group_id.is_some() {
            conditions.push(format!("group_id = {}", next()));
        }
        if filter.after_id.is_some() {
            conditions.push(format!("id > {}", next()));
        }
        if !filter.kinds.is_empty() {
            let kinds: Vec<String> = filter.kinds.iter().map(|_| next()).collect();
            conditions.push(format!("kind IN ({})", kinds.join(", ")));
        }
        let limit = next();
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {} ORDER BY id LIMIT {limit}",
            conditions.join(" AND ")
        );
        let mut query = sqlx::query(&sql);
        for value in [
            filter.starts_after,
            filter.starts_before,
            filter.updated_since,
            filter.group_id,
            filter.after_id,
        ]
        .into_iter()
        .flatten()
        {
            query = query.bind(value);
        }
        for kind in &filter.kinds {
            query = query.bind(kind.as_str());
        }
        query = query.bind(limit_i64(filter.limit));
        let mut conn = self.reader().acquire().await?;
        let mut found = events(&query.fetch_all(&mut *conn).await?)?;
        attach_shifts(&mut conn, &mut found).await?;
        Ok(found)
    }

    /// Events changed at or after `since` that are no longer public and live (cancelled,
    /// rejected, deleted, made unlisted or group-only), as (id, when it changed), for API
    /// clients that sync to remove. Oldest change first.
    pub async fn withdrawn_public_events(
        &self,
        since: Millis,
    ) -> Result<Vec<(i64, Millis)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT id, updated_at FROM events WHERE updated_at >= $1 AND NOT ({PUBLIC_LIVE})
             ORDER BY updated_at, id"
        ))
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("updated_at")?)))
            .collect()
    }

    /// Inserts many events at once in `status` (shifts are ignored), with multi-row
    /// INSERTs in transactions of a few thousand rows. For the demo and benchmarks: no
    /// audit entries. Returns how many were inserted.
    pub async fn insert_events_bulk(
        &self,
        batch: &[NewEvent],
        status: EventStatus,
    ) -> Result<usize, StoreError> {
        for event in batch {
            validate(event)?;
        }
        let columns = FIELD_COLUMNS.len() + 3;
        let now = now_millis();
        let mut inserted = 0;
        for group in batch.chunks(BULK_ROWS * BULK_STATEMENTS_PER_TX) {
            let mut tx = self.begin_write().await?;
            for rows in group.chunks(BULK_ROWS) {
                let sql = format!(
                    "INSERT INTO events ({}, status, created_at, updated_at) VALUES {}",
                    FIELD_COLUMNS.join(", "),
                    value_rows(self.backend(), rows.len(), columns)
                );
                let mut query = sqlx::query(&sql);
                for event in rows {
                    query = bind_fields(query, event)
                        .bind(status.as_str())
                        .bind(now)
                        .bind(now);
                }
                inserted += query.execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        }
        self.events_changed();
        Ok(usize::try_from(inserted).unwrap_or(usize::MAX))
    }
}
