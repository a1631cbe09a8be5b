//! Contact-list import on the store side: inserting batches of already-checked contacts
//! (screened against do-not-call and TPS, de-duplicated per campaign); import jobs and
//! the suppression lists live in the submodules. It must not read or check CSV (that is
//! `barnstorm_domain::contact_import`) nor decide how a file is split into batches (that
//! is the dispatch crate's import pipeline).

mod jobs;
mod suppression;

pub use jobs::{ImportJob, ImportJobStatus};
pub use suppression::{DoNotCallEntry, TpsEntry, TpsListSummary};

use super::Contact;
use super::queue::CONTACT_COLUMNS;
use crate::binds::Binds;
use crate::subject::digest::erased_among;
use crate::{Backend, Store, StoreError, now_millis};
use barnstorm_domain::contact_import::ImportedContact;
use sqlx::{Any, Row, Transaction};
use std::collections::HashSet;

/// Rows per multi-row `INSERT` into `contacts` (10 binds each, well under the bind
/// limits of both engines).
const CONTACT_ROWS_PER_INSERT: usize = 500;
/// Phones per `IN (…)` screening query: a batch of up to 2,000 contacts with two numbers
/// each needs one query.
const PHONES_PER_LOOKUP: usize = 5000;

/// What happened to one batch of contacts (or, added up, to a whole import).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportBatchResult {
    /// Contacts added to the campaign.
    pub imported: u64,
    /// Contacts skipped because the campaign already had their number (from an earlier
    /// batch, an earlier import, or earlier in the same batch).
    pub duplicates: u64,
    /// Contacts skipped because their number (or other number) is on the group's
    /// do-not-call list or on the TPS list.
    pub suppressed: u64,
}

impl std::ops::AddAssign for ImportBatchResult {
    fn add_assign(&mut self, other: Self) {
        self.imported += other.imported;
        self.duplicates += other.duplicates;
        self.suppressed += other.suppressed;
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Which of `phones` are on the do-not-call list of `group_id` or on the TPS list.
async fn blocked_phones(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    group_id: i64,
    phones: &[&str],
) -> Result<HashSet<String>, StoreError> {
    let mut blocked = HashSet::new();
    for chunk in phones.chunks(PHONES_PER_LOOKUP) {
        let mut dnc_sql = String::from("SELECT phone FROM do_not_call WHERE group_id = ");
        let mut binds = Binds::new(backend);
        binds.list(&mut dnc_sql, 1);
        dnc_sql.push_str(" AND phone IN (");
        binds.list(&mut dnc_sql, chunk.len());
        dnc_sql.push(')');
        let mut dnc = sqlx::query(&dnc_sql).bind(group_id);
        for phone in chunk {
            dnc = dnc.bind(*phone);
        }
        for row in dnc.fetch_all(&mut **tx).await? {
            blocked.insert(row.try_get::<String, _>("phone")?);
        }
        let mut tps_sql = String::from("SELECT phone FROM tps_numbers WHERE phone IN (");
        Binds::new(backend).list(&mut tps_sql, chunk.len());
        tps_sql.push(')');
        let mut tps = sqlx::query(&tps_sql);
        for phone in chunk {
            tps = tps.bind(*phone);
        }
        for row in tps.fetch_all(&mut **tx).await? {
            blocked.insert(row.try_get::<String, _>("phone")?);
        }
    }
    Ok(blocked)
}

impl Store {
    /// Adds a batch of checked contacts to a campaign in one transaction.
    ///
    /// A contact whose number or other number is on the do-not-call list of `group_id`
    /// (the campaign's group) or on the TPS list is not stored, only counted as
    /// suppressed, and so is one whose number or address belongs to someone erased
    /// (matched by keyed digest, see [`Store::erase_person`]). A contact whose number the campaign already has, or that appeared
    /// earlier in the batch, is counted as a duplicate. New contacts are queued as never
    /// called.
    pub async fn insert_contacts(
        &self,
        campaign_id: i64,
        group_id: i64,
        contacts: &[ImportedContact],
    ) -> Result<ImportBatchResult, StoreError> {
        let mut result = ImportBatchResult::default();
        if contacts.is_empty() {
            return Ok(result);
        }
        let mut phones: Vec<&str> = contacts
            .iter()
            .flat_map(|c| {
                std::iter::once(c.phone_e164.as_str())
                    .chain(c.other_phone_e164.as_ref().map(|p| p.as_str()))
            })
            .collect();
        phones.sort_unstable();
        phones.dedup();

        let mut tx = self.begin_write().await?;
        let mut blocked = blocked_phones(&mut tx, self.backend(), group_id, &phones).await?;
        blocked.extend(erased_among(&mut tx, self.backend(), "phone", &phones).await?);
        let emails: Vec<String> = contacts
            .iter()
            .filter_map(|c| c.email.as_deref().map(crate::canonical_email))
            .collect();
        let email_refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let erased_emails = erased_among(&mut tx, self.backend(), "email", &email_refs).await?;
        let mut seen = HashSet::with_capacity(contacts.len());
        let mut fresh = Vec::with_capacity(contacts.len());
        for contact in contacts {
            let is_blocked = blocked.contains(contact.phone_e164.as_str())
                || contact
                    .other_phone_e164
                    .as_ref()
                    .is_some_and(|p| blocked.contains(p.as_str()))
                || contact
                    .email
                    .as_deref()
                    .is_some_and(|e| erased_emails.contains(&crate::canonical_email(e)));
            if is_blocked {
                result.suppressed += 1;
            } else if !seen.insert(contact.phone_e164.as_str()) {
                result.duplicates += 1;
            } else {
                fresh.push(contact);
            }
        }

        let now = now_millis();
        for chunk in fresh.chunks(CONTACT_ROWS_PER_INSERT) {
            let extras = chunk
                .iter()
                .map(|c| serde_json::to_string(&c.extra))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))?;
            let mut sql = String::with_capacity(200 + chunk.len() * 80);
            sql.push_str(
                "INSERT INTO contacts (campaign_id, created_at, phone, other_phone, first_name, last_name, email,
                     postcode, extra, source_line, state, priority, available_at)
                 VALUES ",
            );
            // state 0 queued, priority 1 never called, available at once
            Binds::new(self.backend()).rows(&mut sql, chunk.len(), 10, ", 0, 1, 0");
            sql.push_str(" ON CONFLICT (campaign_id, phone) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for (contact, extra) in chunk.iter().zip(&extras) {
                query = query
                    .bind(campaign_id)
                    .bind(now)
                    .bind(contact.phone_e164.as_str())
                    .bind(contact.other_phone_e164.as_ref().map(|p| p.as_str()))
                    .bind(contact.first_name.as_deref().unwrap_or(""))
                    .bind(contact.last_name.as_deref().unwrap_or(""))
                    .bind(contact.email.as_deref())
                    .bind(contact.postcode.as_deref())
                    .bind(extra.as_str())
                    .bind(to_i64(contact.line));
            }
            let inserted = query.execute(&mut *tx).await?.rows_affected();
            result.imported += inserted;
            result.duplicates += (chunk.len() as u64).saturating_sub(inserted);
        }
        tx.commit().await?;
        Ok(result)
    }

    /// How many contacts a campaign has, in any state.
    pub async fn contact_count(&self, campaign_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM contacts WHERE campaign_id = $1")
            .bind(campaign_id)
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The imported columns of a campaign's list (as the CSV header named them), each
    /// once and sorted: those filled in any of the 200 oldest or 200 newest contacts, so
    /// a list of a million costs two short reads (an empty cell is not stored).
    pub async fn contact_columns(&self, campaign_id: i64) -> Result<Vec<String>, StoreError> {
        let mut columns = std::collections::BTreeSet::new();
        for order in ["ASC", "DESC"] {
            let rows = sqlx::query(&format!(
                "SELECT extra FROM contacts WHERE campaign_id = $1 ORDER BY id {order} LIMIT 200"
            ))
            .bind(campaign_id)
            .fetch_all(self.reader())
            .await?;
            for row in &rows {
                let extra: String = row.try_get("extra")?;
                let map: std::collections::BTreeMap<String, String> =
                    serde_json::from_str(&extra).unwrap_or_default();
                columns.extend(map.into_keys());
            }
        }
        Ok(columns.into_iter().collect())
    }

    /// The contact a campaign holds for a number, in any state: what an import stored.
    pub async fn contact_by_phone(
        &self,
        campaign_id: i64,
        phone_e164: &str,
    ) -> Result<Option<Contact>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE campaign_id = $1 AND phone = $2"
        ))
        .bind(campaign_id)
        .bind(phone_e164)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(Contact::from_row).transpose()?)
    }
}
