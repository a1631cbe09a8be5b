//! Erasing one person everywhere in one transaction: rows only about them are deleted,
//! rows the campaign's totals need are kept without anything that identifies them, and
//! their number and address stay suppressed as keyed digests. The audit entry counts rows
//! and never names them.

use super::PersonQuery;
use super::digest::{erasure_key, keyed_digest};
use super::find::{Key, PersonLookup, PersonRecords, find_in};
use crate::audit::{About, AuditAction, audit_in};
use crate::binds::Binds;
use crate::webhooks::{WebhookEventType, queue_webhook_in};
use crate::{Millis, Store, StoreError, now_millis};
use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, Row, Transaction};

/// What an erasure did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErasureReport {
    /// Rows deleted.
    pub deleted: u64,
    /// Rows kept with everything about the person removed (call records that the
    /// campaign's totals count, an account that made calls, audit entries).
    pub anonymised: u64,
    /// Keyed digests stored so their number and address stay suppressed.
    pub suppressed_digests: u64,
}

/// The outcome of asking to erase someone.
#[derive(Debug, Clone, Serialize)]
pub enum Erasure {
    /// Nothing matches the query; nothing was changed.
    Nobody,
    /// Several people match; nothing was changed.
    Several(Vec<super::PersonCandidate>),
    /// They are gone.
    Erased(ErasureReport),
}

/// Runs `sql` with its `{ids}` replaced by one placeholder per key.
async fn run_keyed(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    sql: &str,
    keys: Key<'_>,
) -> Result<u64, StoreError> {
    let count = match keys {
        Key::Ids(ids) => ids.len(),
        Key::Texts(texts) => texts.len(),
    };
    if count == 0 {
        return Ok(0);
    }
    let mut list = String::new();
    Binds::new(store.backend()).list(&mut list, count);
    let statement = sql.replace("{ids}", &list);
    let mut query = sqlx::query(&statement);
    match keys {
        Key::Ids(ids) => {
            for id in ids {
                query = query.bind(*id);
            }
        }
        Key::Texts(texts) => {
            for text in texts {
                query = query.bind(text.as_str());
            }
        }
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

async fn run_in(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    sql: &str,
    ids: &[i64],
) -> Result<u64, StoreError> {
    run_keyed(tx, store, sql, Key::Ids(ids)).await
}

async fn run_texts(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    sql: &str,
    values: &[String],
) -> Result<u64, StoreError> {
    run_keyed(tx, store, sql, Key::Texts(values)).await
}

fn column_values(records: &PersonRecords, table: &str, column: &str) -> Vec<String> {
    records
        .rows(table)
        .iter()
        .filter_map(|r| match r.get(column) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

fn ids(records: &PersonRecords, table: &str) -> Vec<i64> {
    records
        .rows(table)
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_i64))
        .collect()
}

/// The accounts among `user_ids` that made calls: kept (anonymised) so the calls they
/// recorded still count.
async fn callers_among(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    user_ids: &[i64],
) -> Result<Vec<i64>, StoreError> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from("SELECT DISTINCT caller_id FROM leases WHERE caller_id IN (");
    Binds::new(store.backend()).list(&mut sql, user_ids.len());
    sql.push(')');
    let mut query = sqlx::query(&sql);
    for id in user_ids {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>("caller_id").map_err(StoreError::from))
        .collect()
}

/// Removes what identifies the contacts `selection` picks (a query of contact ids whose
/// `$1`, `$2`… are `binds`) and returns how many contacts and calls it changed. Calls stay,
/// so the campaign's attempt, outcome and survey totals do not change; the contact's
/// fields, raw import columns, ids in other systems and the callers' notes go, and a caller holding one of them
/// loses the lease. Shared by erasure and the retention run.
pub(crate) async fn anonymise_contacts(
    tx: &mut Transaction<'static, Any>,
    selection: &str,
    binds: &[i64],
    now: Millis,
) -> Result<u64, StoreError> {
    let statements = [
        format!("DELETE FROM contact_external_ids WHERE contact_id IN ({selection})"),
        format!(
            "UPDATE leases SET released_at = {now} WHERE contact_id IN ({selection})
             AND released_at IS NULL AND outcome_at IS NULL"
        ),
        format!("UPDATE call_attempts SET notes = '' WHERE contact_id IN ({selection})"),
        format!(
            "UPDATE contacts SET phone = '{ANONYMISED_PHONE_PREFIX}' || CAST(id AS TEXT), other_phone = NULL,
                 first_name = '', last_name = '', email = NULL, postcode = NULL, extra = '{{}}',
                 source_line = NULL, callback_at = NULL, lease_id = NULL,
                 state = CASE WHEN state = 0 THEN 2 ELSE state END
             WHERE id IN ({selection})"
        ),
    ];
    let mut changed = 0;
    for (n, sql) in statements.iter().enumerate() {
        let mut query = sqlx::query(sql);
        for value in binds {
            query = query.bind(*value);
        }
        let rows = query.execute(&mut **tx).await?.rows_affected();
        // Removed external ids and released leases are not counted: the contact and
        // call rows that change are.
        if n > 1 {
            changed += rows;
        }
    }
    Ok(changed)
}

/// What an anonymised contact's number starts with (followed by its id, which keeps the
/// campaign's numbers unique).
pub(crate) const ANONYMISED_PHONE_PREFIX: &str = "erased:";

/// Stores keyed digests of `phones` and `emails`, so a later import still suppresses
/// them without anyone being able to read them back.
async fn keep_suppressed(
    tx: &mut Transaction<'static, Any>,
    phones: &[String],
    emails: &[String],
    report: &mut ErasureReport,
) -> Result<(), StoreError> {
    let now = now_millis();
    let key = erasure_key(tx).await?;
    let digests = phones
        .iter()
        .map(|p| ("phone", p))
        .chain(emails.iter().map(|e| ("email", e)));
    for (kind, value) in digests {
        report.suppressed_digests += sqlx::query(
            "INSERT INTO erased_subjects (digest, kind, erased_at) VALUES ($1, $2, $3)
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(keyed_digest(&key, kind, value))
        .bind(kind)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(())
}

async fn erase_records(
    tx: &mut Transaction<'static, Any>,
    store: &Store,
    records: &PersonRecords,
) -> Result<ErasureReport, StoreError> {
    let now = now_millis();
    let mut report = ErasureReport {
        deleted: 0,
        anonymised: 0,
        suppressed_digests: 0,
    };
    keep_suppressed(tx, &records.phones, &records.emails, &mut report).await?;
    if !records.contact_ids.is_empty() {
        let mut selection = String::from("SELECT id FROM contacts WHERE id IN (");
        Binds::new(store.backend()).list(&mut selection, records.contact_ids.len());
        selection.push(')');
        report.anonymised += anonymise_contacts(tx, &selection, &records.contact_ids, now).await?;
    }

    let supporters = &records.supporter_ids;
    for sql in [
        "DELETE FROM rsvp_notices WHERE rsvp_id IN (SELECT id FROM rsvps WHERE supporter_id IN ({ids}))",
        "DELETE FROM rsvp_links WHERE rsvp_id IN (SELECT id FROM rsvps WHERE supporter_id IN ({ids}))",
        "DELETE FROM rsvps WHERE supporter_id IN ({ids})",
        "DELETE FROM consents WHERE supporter_id IN ({ids})",
        "DELETE FROM email_audience WHERE supporter_id IN ({ids})",
        "DELETE FROM outreach_recipients WHERE supporter_id IN ({ids})",
        "DELETE FROM supporters WHERE id IN ({ids})",
    ] {
        report.deleted += run_in(tx, store, sql, supporters).await?;
    }

    let callers = callers_among(tx, store, &records.user_ids).await?;
    let users = &records.user_ids;
    for table in super::ACCOUNT_SECRET_TABLES
        .into_iter()
        .chain(["caller_phones"])
    {
        let sql = format!("DELETE FROM {table} WHERE user_id IN ({{ids}})");
        report.deleted += run_in(tx, store, &sql, users).await?;
    }
    // A caller kept for their calls keeps their phone sessions (only ids), ended now.
    report.anonymised += run_in(
        tx,
        store,
        &format!(
            "UPDATE phone_sessions SET ended_at = {now}, end_reason = 'erased'
             WHERE ended_at IS NULL AND caller_id IN ({{ids}})"
        ),
        &callers,
    )
    .await?;
    report.anonymised += run_in(
        tx,
        store,
        "UPDATE users SET email = 'erased-' || CAST(id AS TEXT) || '@erased.invalid', name = '',
             password_hash = NULL, email_verified_at = NULL WHERE id IN ({ids})",
        &callers,
    )
    .await?;
    let others: Vec<i64> = users
        .iter()
        .copied()
        .filter(|u| !callers.contains(u))
        .collect();
    for sql in [
        "DELETE FROM memberships WHERE user_id IN ({ids})",
        "DELETE FROM campaign_callers WHERE user_id IN ({ids})",
        "DELETE FROM phone_sessions WHERE caller_id IN ({ids})",
        "DELETE FROM users WHERE id IN ({ids})",
    ] {
        report.deleted += run_in(tx, store, sql, &others).await?;
    }

    let emails = &records.emails;
    for sql in [
        "DELETE FROM email_suppressions WHERE email IN ({ids})",
        "DELETE FROM group_invites WHERE lower(email) IN ({ids})",
        "DELETE FROM outbox WHERE lower(to_addr) IN ({ids})",
    ] {
        report.deleted += run_texts(tx, store, sql, emails).await?;
    }
    let phones = &records.phones;
    for sql in [
        "DELETE FROM do_not_call WHERE phone IN ({ids})",
        "DELETE FROM tps_numbers WHERE phone IN ({ids})",
    ] {
        report.deleted += run_texts(tx, store, sql, phones).await?;
    }
    let keys = column_values(records, "rate_limit_counters", "key");
    report.deleted += run_texts(
        tx,
        store,
        "DELETE FROM rate_limit_counters WHERE key IN ({ids})",
        &keys,
    )
    .await?;
    report.deleted += run_in(
        tx,
        store,
        "DELETE FROM login_failures WHERE id IN ({ids})",
        &ids(records, "login_failures"),
    )
    .await?;
    // Notes without cells are matched by their reason, rejected rows by their cells (a
    // reason such as "no phone number given" is shared by other people's rows).
    let reasons = column_values(records, "import_rejections", "reason");
    report.deleted += run_texts(
        tx,
        store,
        "DELETE FROM import_rejections WHERE fields = '[]' AND reason IN ({ids})",
        &reasons,
    )
    .await?;
    let mut cells = column_values(records, "import_rejections", "fields");
    cells.retain(|c| c != "[]");
    report.deleted += run_texts(
        tx,
        store,
        "DELETE FROM import_rejections WHERE fields IN ({ids})",
        &cells,
    )
    .await?;

    report.anonymised += run_in(
        tx,
        store,
        "UPDATE audit_log SET subject = 'erased person', detail = '', contact_id = NULL,
             subject_user_id = NULL, supporter_id = NULL WHERE id IN ({ids})",
        &ids(records, "audit_log"),
    )
    .await?;
    Ok(report)
}

impl Store {
    /// Erases the person `query` describes, in one transaction: all of it or none of it.
    /// Nothing changes when nobody or several people match. A caller holding one of their
    /// contacts loses the lease. The audit entry records `actor` and the counts only.
    pub async fn erase_person(
        &self,
        query: &PersonQuery,
        actor: Option<i64>,
    ) -> Result<Erasure, StoreError> {
        let mut tx = self.begin_write().await?;
        let records = match find_in(&mut tx, self, query).await? {
            PersonLookup::Nobody => return Ok(Erasure::Nobody),
            PersonLookup::Several(people) => return Ok(Erasure::Several(people)),
            PersonLookup::Found(records) => records,
        };
        let report = erase_records(&mut tx, self, &records).await?;
        let detail = format!(
            "{} rows deleted, {} anonymised, {} digests kept for suppression",
            report.deleted, report.anonymised, report.suppressed_digests
        );
        audit_in(
            &mut tx,
            actor,
            AuditAction::PersonErase,
            "erased person",
            &detail,
        )
        .await?;
        // Ids only: receivers that copied this person's records erase them by these.
        let data = serde_json::json!({
            "user_ids": records.user_ids,
            "supporter_ids": records.supporter_ids,
            "contact_ids": records.contact_ids,
        });
        queue_webhook_in(&mut tx, WebhookEventType::PersonErased, data).await?;
        tx.commit().await?;
        Ok(Erasure::Erased(report))
    }

    /// Erases one contact from one campaign's list, as [`Store::erase_person`] erases
    /// contacts: the row is stripped, calls keep their outcome and answers but lose their
    /// notes, a caller holding it loses the lease, and its number and address stay
    /// suppressed as keyed digests. The person's other records (other campaigns, a
    /// supporter record, an account) are untouched. `None` when the campaign has no such
    /// contact or it was erased already.
    pub async fn erase_campaign_contact(
        &self,
        campaign_id: i64,
        contact_id: i64,
        actor: Option<i64>,
    ) -> Result<Option<ErasureReport>, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT phone, other_phone, email FROM contacts
             WHERE id = $1 AND campaign_id = $2 AND phone NOT LIKE $3",
        )
        .bind(contact_id)
        .bind(campaign_id)
        .bind(format!("{ANONYMISED_PHONE_PREFIX}%"))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let phones: Vec<String> = [
            row.try_get::<Option<String>, _>("phone")?,
            row.try_get::<Option<String>, _>("other_phone")?,
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
        let emails: Vec<String> = row
            .try_get::<Option<String>, _>("email")?
            .filter(|e| !e.trim().is_empty())
            .map(|e| crate::canonical_email(&e))
            .into_iter()
            .collect();
        let mut report = ErasureReport {
            deleted: 0,
            anonymised: 0,
            suppressed_digests: 0,
        };
        keep_suppressed(&mut tx, &phones, &emails, &mut report).await?;
        report.anonymised += anonymise_contacts(
            &mut tx,
            "SELECT id FROM contacts WHERE id = $1",
            &[contact_id],
            now_millis(),
        )
        .await?;
        report.anonymised += sqlx::query(
            "UPDATE audit_log SET subject = 'erased person', detail = '' WHERE subject = $1",
        )
        .bind(format!("contact {contact_id}"))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let detail = format!(
            "contact {contact_id}: {} rows anonymised, {} digests kept for suppression",
            report.anonymised, report.suppressed_digests
        );
        audit_in(
            &mut tx,
            actor,
            AuditAction::ContactErase,
            &format!("campaign {campaign_id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(report))
    }

    /// Writes the audit entry for a subject-access export (counts only, no name).
    pub async fn audit_person_export(
        &self,
        actor: Option<i64>,
        records: &PersonRecords,
    ) -> Result<(), StoreError> {
        let detail = format!(
            "{} rows from {} tables",
            records.row_count(),
            records.tables.len()
        );
        // Kept with the ids so the person's own listing shows who exported them; an
        // erasure clears them with the rest.
        let about = About {
            subject_user_id: records.user_ids.first().copied(),
            contact_id: records.contact_ids.first().copied(),
            supporter_id: records.supporter_ids.first().copied(),
            ..About::default()
        };
        self.audit_read(actor, AuditAction::PersonExport, about, "person", &detail)
            .await
    }
}
