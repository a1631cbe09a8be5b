//! A group's do-not-call list as organisers work with it: searched by number (in any
//! spelling, or part of one) or by words of the reason, a page at a time, and grown by an
//! uploaded list in batches (each batch one transaction and one audit entry). It must not
//! read files or normalise what a person typed beyond making a search pattern of it.

use super::suppression::DO_NOT_CALL_ENTRY;
use crate::audit::{About, AuditAction, audit_about_in};
use crate::binds::Binds;
use crate::phonebank::DoNotCallEntry;
use crate::{Store, StoreError, now_millis};
use barnstorm_domain::phone::{Region, normalise_phone};
use sqlx::Row;

/// Rows per multi-row `INSERT` into `do_not_call` (five values each).
const ROWS_PER_INSERT: usize = 1000;

/// What to look for on a do-not-call list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoNotCallSearch {
    /// Digits the stored number must contain (E.164 without the `+`, or part of it).
    digits: Option<String>,
    /// Lower-case words the reason must contain.
    words: Option<String>,
}

impl DoNotCallSearch {
    /// A search for what a person typed: a whole number in any spelling ("020 7946 0001",
    /// "+44 20 7946 0001"), part of one ("7946 00", "0113 496"), or words of the reason.
    /// Empty text finds everything.
    pub fn new(typed: &str) -> Self {
        let typed = typed.trim();
        if typed.is_empty() {
            return Self::default();
        }
        let digits = match normalise_phone(typed, Region::GB) {
            Ok(number) => Some(number.as_str().trim_start_matches('+').to_owned()),
            Err(_)
                if typed
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-().".contains(c)) =>
            {
                let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
                // A national spelling drops its trunk 0, an international one its 00.
                let digits = if typed.starts_with('+') {
                    digits
                } else if let Some(rest) = digits.strip_prefix("00") {
                    rest.to_owned()
                } else if let Some(rest) = digits.strip_prefix('0') {
                    rest.to_owned()
                } else {
                    digits
                };
                (!digits.is_empty()).then_some(digits)
            }
            Err(_) => None,
        };
        Self {
            digits,
            words: Some(typed.to_lowercase()),
        }
    }

    /// Whether it finds every entry.
    pub fn is_everything(&self) -> bool {
        self.digits.is_none() && self.words.is_none()
    }

    /// `AND (…)` for a query whose binds so far end at `$2`, and the values to bind.
    fn condition(&self) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut values = Vec::new();
        if let Some(digits) = &self.digits {
            values.push(format!("%{digits}%"));
            parts.push(format!("d.phone LIKE ${}", values.len() + 1));
        }
        if let Some(words) = &self.words {
            let escaped = words
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            values.push(format!("%{escaped}%"));
            parts.push(format!(
                "LOWER(d.reason) LIKE ${} ESCAPE '\\'",
                values.len() + 1
            ));
        }
        if parts.is_empty() {
            (String::new(), values)
        } else {
            (format!(" AND ({})", parts.join(" OR ")), values)
        }
    }
}

/// One page of a do-not-call list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoNotCallPage {
    /// The entries on the page, newest first.
    pub entries: Vec<DoNotCallEntry>,
    /// Entries the search found in all.
    pub matching: i64,
    /// Entries on the list in all.
    pub total: i64,
}

/// What storing one batch of an uploaded list did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DoNotCallUploadBatch {
    /// Numbers new to the list.
    pub added: u64,
    /// Queued contacts of the group's campaigns taken out of the queue.
    pub contacts_suppressed: u64,
}

impl Store {
    /// The entries of a group's do-not-call list that `search` finds, newest first,
    /// skipping `offset` and giving at most `limit`.
    pub async fn search_do_not_call(
        &self,
        group_id: i64,
        search: &DoNotCallSearch,
        limit: i64,
        offset: i64,
    ) -> Result<DoNotCallPage, StoreError> {
        let (condition, values) = search.condition();
        let next = values.len() + 2;
        let sql = format!(
            "{DO_NOT_CALL_ENTRY} WHERE d.group_id = $1{condition}
             ORDER BY d.created_at DESC, d.phone LIMIT ${next} OFFSET ${}",
            next + 1
        );
        let mut query = sqlx::query(&sql).bind(group_id);
        for value in &values {
            query = query.bind(value.as_str());
        }
        let rows = query
            .bind(limit)
            .bind(offset)
            .fetch_all(self.reader())
            .await?;
        let count_sql =
            format!("SELECT COUNT(*) AS n FROM do_not_call d WHERE d.group_id = $1{condition}");
        let mut count = sqlx::query(&count_sql).bind(group_id);
        for value in &values {
            count = count.bind(value.as_str());
        }
        let matching: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let total = if search.is_everything() {
            matching
        } else {
            sqlx::query("SELECT COUNT(*) AS n FROM do_not_call WHERE group_id = $1")
                .bind(group_id)
                .fetch_one(self.reader())
                .await?
                .try_get("n")?
        };
        Ok(DoNotCallPage {
            entries: rows
                .iter()
                .map(DoNotCallEntry::from_row)
                .collect::<Result<_, _>>()?,
            matching,
            total,
        })
    }

    /// Puts a batch of an uploaded list on a group's do-not-call list: `numbers` are
    /// (E.164, reason) pairs; numbers listed already are left as they are. Queued contacts
    /// of the group's campaigns with one of the numbers, as main or other number, leave
    /// the queue. One transaction, audited as `do_not_call.add` by `added_by` naming the
    /// file `source`.
    pub async fn add_do_not_call_batch(
        &self,
        group_id: i64,
        numbers: &[(String, String)],
        added_by: i64,
        source: &str,
    ) -> Result<DoNotCallUploadBatch, StoreError> {
        let mut done = DoNotCallUploadBatch::default();
        if numbers.is_empty() {
            return Ok(done);
        }
        let now = now_millis();
        let mut tx = self.begin_write().await?;
        for chunk in numbers.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO do_not_call (group_id, phone, reason, created_at, added_by) VALUES ",
            );
            Binds::new(self.backend()).rows(&mut sql, chunk.len(), 5, "");
            sql.push_str(" ON CONFLICT (group_id, phone) DO NOTHING");
            let mut insert = sqlx::query(&sql);
            for (phone, reason) in chunk {
                insert = insert
                    .bind(group_id)
                    .bind(phone.as_str())
                    .bind(reason.as_str())
                    .bind(now)
                    .bind(added_by);
            }
            done.added += insert.execute(&mut *tx).await?.rows_affected();

            let mut binds = Binds::new(self.backend());
            let mut sql = String::from(
                "UPDATE contacts SET state = 2 WHERE state = 0
                 AND campaign_id IN (SELECT id FROM call_campaigns WHERE group_id = ",
            );
            binds.list(&mut sql, 1);
            sql.push_str(") AND (phone IN (");
            binds.list(&mut sql, chunk.len());
            sql.push_str(") OR other_phone IN (");
            binds.list(&mut sql, chunk.len());
            sql.push_str("))");
            let mut update = sqlx::query(&sql).bind(group_id);
            for _ in 0..2 {
                for (phone, _) in chunk {
                    update = update.bind(phone.as_str());
                }
            }
            done.contacts_suppressed += update.execute(&mut *tx).await?.rows_affected();
        }
        audit_about_in(
            &mut tx,
            Some(added_by),
            AuditAction::DoNotCallAdd,
            About::group(group_id),
            &format!("group {group_id}"),
            &format!(
                "{} numbers uploaded from {source}, {} new",
                numbers.len(),
                done.added
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(done)
    }
}
