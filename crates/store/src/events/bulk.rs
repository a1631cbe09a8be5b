//! Loading many supporters at once, each with email consent to one group, for the demo
//! and the benchmarks. Writes the same rows the one-by-one path writes (supporter,
//! consent with its proof, audience) with multi-row INSERTs; it skips the audit log and
//! does not check suppressions, so it is not for real imports. Every load must name its
//! source and the words its people agreed to: a consent without them is no proof.

use super::supporters::{current_notice_id, wording_id};
use crate::binds::value_rows;
use crate::new_secret;
use crate::{Backend, Store, StoreError, now_millis};
use barnstorm_domain::event::wording_reaches_local_groups;
use barnstorm_domain::geo::grid_cell;
use sqlx::Row;

/// Supporters per multi-row statement (9 values each).
const ROWS_PER_STATEMENT: usize = 500;
/// Statements per transaction.
const STATEMENTS_PER_TX: usize = 20;

/// One supporter to load.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkSupporter {
    /// Normalised email address, unique.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Normalised postcode.
    pub postcode: String,
    /// Where they are (their postcode's centre): latitude, longitude.
    pub location: (f64, f64),
}

/// Where a bulk load's consents came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkSource<'a> {
    /// The file or data set read ("supporters-2026-11.csv", "demo data").
    pub name: &'a str,
    /// The words the people agreed to when they gave their address.
    pub wording: &'a str,
    /// Who loaded it, if a person did.
    pub collected_by: Option<i64>,
}

impl Store {
    /// Inserts `supporters` (whose emails must be new), each with live email consent to
    /// `group_id` recorded as coming from `source`, and an audience row, so they count for
    /// that group's outreach. Returns how many were inserted; a source without a name or
    /// wording is refused.
    pub async fn insert_supporters_bulk(
        &self,
        group_id: i64,
        supporters: &[BulkSupporter],
        source: &BulkSource<'_>,
    ) -> Result<usize, StoreError> {
        if source.name.trim().is_empty() || source.wording.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a bulk load of consents must name its source and the words agreed to".into(),
            ));
        }
        let backend = self.backend();
        let now = now_millis();
        let mut inserted = 0;
        let reaches_subgroups = i64::from(wording_reaches_local_groups(source.wording));
        for chunk in supporters.chunks(ROWS_PER_STATEMENT * STATEMENTS_PER_TX) {
            let mut tx = self.begin_write().await?;
            let wording = wording_id(&mut tx, source.wording, now).await?;
            let notice = current_notice_id(&mut tx).await?;
            let first_id: i64 =
                sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM supporters")
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("next")?;
            for (statement, rows) in chunk.chunks(ROWS_PER_STATEMENT).enumerate() {
                let base = first_id + i64::try_from(statement * ROWS_PER_STATEMENT).unwrap_or(0);
                let sql = format!(
                    "INSERT INTO supporters (id, email, name, postcode, latitude, longitude, unsubscribe_token, created_at, updated_at) VALUES {}",
                    value_rows(backend, rows.len(), 9)
                );
                let mut query = sqlx::query(&sql);
                for (offset, s) in rows.iter().enumerate() {
                    query = query
                        .bind(base + offset as i64)
                        .bind(&s.email)
                        .bind(&s.name)
                        .bind(&s.postcode)
                        .bind(s.location.0)
                        .bind(s.location.1)
                        .bind(new_secret())
                        .bind(now)
                        .bind(now);
                }
                query.execute(&mut *tx).await?;

                let sql = format!(
                    "INSERT INTO consents (supporter_id, group_id, channel, granted_at, source, source_detail, wording_id, privacy_notice_id, collected_by) VALUES {}",
                    value_rows(backend, rows.len(), 9)
                );
                let mut query = sqlx::query(&sql);
                for offset in 0..rows.len() {
                    query = query
                        .bind(base + offset as i64)
                        .bind(group_id)
                        .bind("email")
                        .bind(now)
                        .bind("bulk")
                        .bind(source.name)
                        .bind(wording)
                        .bind(notice)
                        .bind(source.collected_by);
                }
                query.execute(&mut *tx).await?;

                let sql = format!(
                    "INSERT INTO email_audience (group_id, cell, latitude, longitude, supporter_id, reaches_subgroups) VALUES {}",
                    value_rows(backend, rows.len(), 6)
                );
                let mut query = sqlx::query(&sql);
                for (offset, s) in rows.iter().enumerate() {
                    let (lat, lon) = s.location;
                    query = query
                        .bind(group_id)
                        .bind(grid_cell(lat, lon))
                        .bind(lat)
                        .bind(lon)
                        .bind(base + offset as i64)
                        .bind(reaches_subgroups);
                }
                query.execute(&mut *tx).await?;
                inserted += rows.len();
            }
            if backend == Backend::Postgres {
                // Explicit ids leave the identity sequence behind; move it past them.
                sqlx::query(
                    "SELECT setval(pg_get_serial_sequence('supporters', 'id'), (SELECT MAX(id) FROM supporters))",
                )
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(inserted)
    }
}
