//! Contact-list import on the store side: inserting batches of already-checked contacts
//! (screened against do-not-call and TPS; a number the campaign already has is merged
//! into its contact); import jobs, merging and the suppression lists live in the
//! submodules. It must not read or check CSV (that is
//! `barnstorm_domain::contact_import`) nor decide how a file is split into batches (that
//! is the dispatch crate's import pipeline).

mod do_not_call_list;
mod jobs;
mod merge;
mod suppression;

pub use do_not_call_list::{DoNotCallPage, DoNotCallSearch, DoNotCallUploadBatch};
pub use jobs::{ImportJob, ImportJobStatus, NoteKind};
pub use suppression::{DoNotCallEntry, TpsEntry, TpsListSummary};

use super::Contact;
use super::queue::CONTACT_COLUMNS;
use crate::binds::Binds;
use crate::subject::digest::erased_among;
use crate::{Backend, Store, StoreError, now_millis};
use barnstorm_domain::contact_import::{ImportedContact, RowWarning};
use merge::ContactFields;
use sqlx::{Any, Row, Transaction};
use std::collections::{HashMap, HashSet};

/// Rows per multi-row `INSERT` into `contacts` (11 binds each, well under the bind
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
    /// Rows merged into the contact that already had their number (from an earlier row
    /// of the file or an earlier upload).
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

/// What storing one batch did: the totals, and a note for each row merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactBatch {
    /// Imported, merged and suppressed counts.
    pub totals: ImportBatchResult,
    /// One per merged row: "merged into line 4" (of this file or an earlier upload),
    /// and the values it gave differently from the contact it joined, which kept its
    /// own: "…, whose values were kept: First name "Ann" rather than "Anne"".
    pub merges: Vec<RowWarning>,
    /// How many of `merges` gave a value differently.
    pub differing: u64,
}

/// A contact of the campaign already stored, as a merge target.
struct StoredContact {
    id: i64,
    line: u64,
    job_id: Option<i64>,
    fields: ContactFields,
}

impl StoredContact {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, StoreError> {
        let text = |column: &str| -> Result<Option<String>, StoreError> {
            let value: Option<String> = row.try_get(column)?;
            Ok(value.filter(|v| !v.is_empty()))
        };
        let extra: String = row.try_get("extra")?;
        Ok(Self {
            id: row.try_get("id")?,
            line: row
                .try_get::<Option<i64>, _>("source_line")?
                .map_or(0, to_u64),
            job_id: row.try_get("import_job_id")?,
            fields: ContactFields {
                phone: row.try_get("phone")?,
                other_phone: text("other_phone")?,
                first_name: text("first_name")?,
                last_name: text("last_name")?,
                email: text("email")?,
                postcode: text("postcode")?,
                extra: serde_json::from_str(&extra).unwrap_or_default(),
            },
        })
    }

    /// How a merge note names this contact.
    fn described(&self, job_id: Option<i64>) -> String {
        if job_id.is_some() && self.job_id == job_id {
            format!("line {}", self.line)
        } else {
            format!(
                "the contact already on the list (line {} of an earlier upload)",
                self.line
            )
        }
    }
}

fn encode_extra(extra: &std::collections::BTreeMap<String, String>) -> Result<String, StoreError> {
    serde_json::to_string(extra).map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))
}

/// The campaign's contacts holding any of `phones`, by number.
async fn stored_contacts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    campaign_id: i64,
    phones: &[&str],
) -> Result<HashMap<String, StoredContact>, StoreError> {
    let mut found = HashMap::new();
    for chunk in phones.chunks(PHONES_PER_LOOKUP) {
        let mut sql = String::from(
            "SELECT id, phone, other_phone, first_name, last_name, email, postcode, extra,
                    source_line, import_job_id
             FROM contacts WHERE campaign_id = ",
        );
        let mut binds = Binds::new(backend);
        binds.list(&mut sql, 1);
        sql.push_str(" AND phone IN (");
        binds.list(&mut sql, chunk.len());
        sql.push(')');
        let mut query = sqlx::query(&sql).bind(campaign_id);
        for phone in chunk {
            query = query.bind(*phone);
        }
        for row in query.fetch_all(&mut **tx).await? {
            let contact = StoredContact::from_row(&row)?;
            found.insert(contact.fields.phone.clone(), contact);
        }
    }
    Ok(found)
}

impl Store {
    /// Adds a batch of checked contacts to a campaign; see [`Store::merge_contacts`],
    /// of which this is the form without an import job.
    pub async fn insert_contacts(
        &self,
        campaign_id: i64,
        group_id: i64,
        contacts: &[ImportedContact],
    ) -> Result<ImportBatchResult, StoreError> {
        Ok(self
            .merge_contacts(campaign_id, group_id, None, contacts)
            .await?
            .totals)
    }

    /// Adds a batch of checked contacts of import job `job_id` to a campaign in one
    /// transaction.
    ///
    /// A contact whose number or other number is on the do-not-call list of `group_id`
    /// (the campaign's group) or on the TPS list is not stored, only counted as
    /// suppressed, and so is one whose number or address belongs to someone erased
    /// (matched by keyed digest, see [`Store::erase_person`]). A row whose number the
    /// campaign already has, or that appeared earlier in the batch, is merged into that
    /// contact (see the `merge` module) and counted as a duplicate, with one note saying
    /// into which line and what it gave differently. New contacts are queued as never called.
    /// Each row's external ids (VAN ID, …) are kept for its contact, first come first kept.
    pub async fn merge_contacts(
        &self,
        campaign_id: i64,
        group_id: i64,
        job_id: Option<i64>,
        contacts: &[ImportedContact],
    ) -> Result<ContactBatch, StoreError> {
        let mut batch = ContactBatch::default();
        if contacts.is_empty() {
            return Ok(batch);
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
        let mut stored = stored_contacts(&mut tx, self.backend(), campaign_id, &phones).await?;
        // Rows new to the campaign, first row of each number, with later rows merged in.
        let mut fresh: Vec<(&ImportedContact, ContactFields)> = Vec::with_capacity(contacts.len());
        let mut fresh_by_phone: HashMap<&str, usize> = HashMap::new();
        let mut touched: HashSet<String> = HashSet::new();
        let mut kept: Vec<&ImportedContact> = Vec::with_capacity(contacts.len());
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
                batch.totals.suppressed += 1;
                continue;
            }
            if !contact.external_ids.is_empty() {
                kept.push(contact);
            }
            let fields = ContactFields::of(contact);
            let phone = contact.phone_e164.as_str();
            let (into, differences) = if let Some(existing) = stored.get_mut(phone) {
                let into = existing.described(job_id);
                let (changed, differences) = existing.fields.absorb(&fields);
                if changed {
                    touched.insert(phone.to_owned());
                }
                (into, differences)
            } else if let Some(&index) = fresh_by_phone.get(phone) {
                let (first, merged) = &mut fresh[index];
                let into = format!("line {}", first.line);
                (into, merged.absorb(&fields).1)
            } else {
                fresh_by_phone.insert(phone, fresh.len());
                fresh.push((contact, fields));
                continue;
            };
            batch.totals.duplicates += 1;
            batch.differing += u64::from(!differences.is_empty());
            batch
                .merges
                .push(merge::merge_note(contact.line, &into, &differences));
        }

        for phone in &touched {
            let Some(contact) = stored.get(phone) else {
                continue;
            };
            let f = &contact.fields;
            sqlx::query(
                "UPDATE contacts SET other_phone = $1, first_name = $2, last_name = $3, email = $4,
                     postcode = $5, extra = $6
                 WHERE id = $7",
            )
            .bind(f.other_phone.as_deref())
            .bind(f.first_name.as_deref().unwrap_or(""))
            .bind(f.last_name.as_deref().unwrap_or(""))
            .bind(f.email.as_deref())
            .bind(f.postcode.as_deref())
            .bind(encode_extra(&f.extra)?)
            .bind(contact.id)
            .execute(&mut *tx)
            .await?;
        }

        let now = now_millis();
        for chunk in fresh.chunks(CONTACT_ROWS_PER_INSERT) {
            let extras = chunk
                .iter()
                .map(|(_, f)| encode_extra(&f.extra))
                .collect::<Result<Vec<_>, _>>()?;
            let mut sql = String::with_capacity(200 + chunk.len() * 80);
            sql.push_str(
                "INSERT INTO contacts (campaign_id, created_at, phone, other_phone, first_name, last_name, email,
                     postcode, extra, source_line, import_job_id, state, priority, available_at)
                 VALUES ",
            );
            // state 0 queued, priority 1 never called, available at once
            Binds::new(self.backend()).rows(&mut sql, chunk.len(), 11, ", 0, 1, 0");
            sql.push_str(" ON CONFLICT (campaign_id, phone) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for ((contact, f), extra) in chunk.iter().zip(&extras) {
                query = query
                    .bind(campaign_id)
                    .bind(now)
                    .bind(f.phone.as_str())
                    .bind(f.other_phone.as_deref())
                    .bind(f.first_name.as_deref().unwrap_or(""))
                    .bind(f.last_name.as_deref().unwrap_or(""))
                    .bind(f.email.as_deref())
                    .bind(f.postcode.as_deref())
                    .bind(extra.as_str())
                    .bind(to_i64(contact.line))
                    .bind(job_id);
            }
            let inserted = query.execute(&mut *tx).await?.rows_affected();
            batch.totals.imported += inserted;
            // Only a concurrent upload of the same number gets here first.
            batch.totals.duplicates += (chunk.len() as u64).saturating_sub(inserted);
        }
        super::external_ids::store_external_ids(&mut tx, self.backend(), campaign_id, &kept)
            .await?;
        tx.commit().await?;
        Ok(batch)
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

    /// Every imported column filled in any contact of a campaign, each once and sorted:
    /// unlike [`Store::contact_columns`] it reads the whole list, a page at a time, for
    /// an export that gives each column its own place.
    pub async fn campaign_extra_columns(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<String>, StoreError> {
        const PAGE: i64 = 5000;
        let mut columns = std::collections::BTreeSet::new();
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(
                "SELECT id, extra FROM contacts WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(campaign_id)
            .bind(after)
            .bind(PAGE)
            .fetch_all(self.reader())
            .await?;
            for row in &rows {
                after = row.try_get("id")?;
                let extra: String = row.try_get("extra")?;
                if extra != "{}" {
                    let map: std::collections::BTreeMap<String, String> =
                        serde_json::from_str(&extra).unwrap_or_default();
                    columns.extend(map.into_keys());
                }
            }
            if i64::try_from(rows.len()).unwrap_or(0) < PAGE {
                return Ok(columns.into_iter().collect());
            }
        }
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
