//! The do-not-call lists (one per group) and the national TPS and CTPS lists: adding
//! numbers, suppressing queued contacts they match, taking a number off a do-not-call
//! list (its contacts queue again), and saying where each entry came from. Screening new
//! contacts against them happens in the batch insert. It must not delete contacts:
//! suppressed contacts keep their history.

use crate::audit::{About, AuditAction, audit_about_in};
use crate::binds::Binds;
use crate::webhooks::{WebhookEventType, queue_webhook_in};
use crate::{Millis, Store, StoreError, now_millis};
use sqlx::Row;
use sqlx::any::AnyRow;

/// One number on a group's do-not-call list, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoNotCallEntry {
    /// The number, E.164.
    pub phone: String,
    /// Why, in words: "asked not to be called".
    pub reason: String,
    /// When it was added.
    pub created_at: Millis,
    /// The campaign whose call put it there, if it came from a call.
    pub campaign_id: Option<i64>,
    /// That campaign's name (none once the campaign is deleted).
    pub campaign_name: Option<String>,
    /// The caller who recorded it or the organiser who added it.
    pub added_by: Option<i64>,
    /// Their display name (none once the account is deleted).
    pub added_by_name: Option<String>,
}

impl DoNotCallEntry {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        Ok(Self {
            phone: row.try_get("phone")?,
            reason: row.try_get("reason")?,
            created_at: row.try_get("created_at")?,
            campaign_id: row.try_get("campaign_id")?,
            campaign_name: row.try_get("campaign_name")?,
            added_by: row.try_get("added_by")?,
            added_by_name: row.try_get("added_by_name")?,
        })
    }
}

/// One number on a national list (TPS or CTPS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpsEntry {
    /// The number, E.164.
    pub phone: String,
    /// "TPS" or "CTPS".
    pub list: String,
    /// The file it was imported from (empty for numbers imported before files were kept).
    pub source: String,
    /// When it was imported.
    pub imported_at: Millis,
}

/// A national list as a whole: its size and its latest import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpsListSummary {
    /// "TPS" or "CTPS".
    pub list: String,
    /// Numbers on it.
    pub numbers: i64,
    /// When numbers were last added.
    pub last_imported_at: Millis,
    /// The file they came from.
    pub last_source: String,
}

pub(super) const DO_NOT_CALL_ENTRY: &str = "SELECT d.phone, d.reason, d.created_at, d.campaign_id,
        c.name AS campaign_name, d.added_by, u.name AS added_by_name
     FROM do_not_call d
     LEFT JOIN call_campaigns c ON c.id = d.campaign_id
     LEFT JOIN users u ON u.id = d.added_by";

/// Rows per multi-row `INSERT` into `tps_numbers`.
const TPS_PER_INSERT: usize = 1000;

impl Store {
    /// Puts a number on a group's do-not-call list (again is harmless) and suppresses
    /// queued contacts with that number, as main or other number, in the group's
    /// campaigns. Returns how many contacts were suppressed.
    /// `added_by` is the organiser who added it, if anyone did.
    pub async fn add_do_not_call(
        &self,
        group_id: i64,
        phone_e164: &str,
        reason: &str,
        added_by: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO do_not_call (group_id, phone, reason, created_at, added_by)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (group_id, phone) DO NOTHING",
        )
        .bind(group_id)
        .bind(phone_e164)
        .bind(reason)
        .bind(now_millis())
        .bind(added_by)
        .execute(&mut *tx)
        .await?;
        if let Some(organiser) = added_by {
            audit_about_in(
                &mut tx,
                Some(organiser),
                AuditAction::DoNotCallAdd,
                About::group(group_id),
                &format!("group {group_id}"),
                "a number added by hand",
            )
            .await?;
        }
        let suppressed = sqlx::query(
            "UPDATE contacts SET state = 2
             WHERE state = 0 AND (phone = $1 OR other_phone = $1)
               AND campaign_id IN (SELECT id FROM call_campaigns WHERE group_id = $2)",
        )
        .bind(phone_e164)
        .bind(group_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let data = serde_json::json!({
            "channel": "phone",
            "group_id": group_id,
            "contacts_suppressed": suppressed,
            "reason": reason,
        });
        queue_webhook_in(&mut tx, WebhookEventType::ContactSuppressed, data).await?;
        tx.commit().await?;
        Ok(suppressed)
    }

    /// Takes a number off a group's do-not-call list, audited as `do_not_call.remove` by
    /// `removed_by`, and queues again the group's contacts it had suppressed (main or
    /// other number) unless another list (TPS/CTPS) still holds one of their numbers or
    /// they were already called to the end. Returns how many contacts were queued again,
    /// or `None` if the number was not on the list.
    pub async fn remove_do_not_call(
        &self,
        group_id: i64,
        phone_e164: &str,
        removed_by: i64,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM do_not_call WHERE group_id = $1 AND phone = $2")
            .bind(group_id)
            .bind(phone_e164)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Ok(None);
        }
        audit_about_in(
            &mut tx,
            Some(removed_by),
            AuditAction::DoNotCallRemove,
            About::group(group_id),
            &format!("group {group_id}"),
            "a number taken off the do-not-call list",
        )
        .await?;
        let requeued = sqlx::query(
            "UPDATE contacts SET state = 0
             WHERE state = 2 AND (phone = $1 OR other_phone = $1)
               AND campaign_id IN (SELECT id FROM call_campaigns WHERE group_id = $2)
               AND NOT EXISTS (SELECT 1 FROM tps_numbers t WHERE t.phone = contacts.phone)
               AND NOT EXISTS (SELECT 1 FROM do_not_call d WHERE d.group_id = $2
                               AND (d.phone = contacts.phone OR d.phone = contacts.other_phone))",
        )
        .bind(phone_e164)
        .bind(group_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Some(requeued))
    }

    /// Whether a number is on a group's do-not-call list.
    pub async fn is_do_not_call(
        &self,
        group_id: i64,
        phone_e164: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .do_not_call_entry(group_id, phone_e164)
            .await?
            .is_some())
    }

    /// A number's entry on a group's do-not-call list, with where it came from.
    pub async fn do_not_call_entry(
        &self,
        group_id: i64,
        phone_e164: &str,
    ) -> Result<Option<DoNotCallEntry>, StoreError> {
        let sql = format!("{DO_NOT_CALL_ENTRY} WHERE d.group_id = $1 AND d.phone = $2");
        sqlx::query(&sql)
            .bind(group_id)
            .bind(phone_e164)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(DoNotCallEntry::from_row)
            .transpose()
    }

    /// A group's newest do-not-call entries, at most `limit`, and how many there are.
    pub async fn do_not_call_entries(
        &self,
        group_id: i64,
        limit: i64,
    ) -> Result<(Vec<DoNotCallEntry>, i64), StoreError> {
        let sql = format!(
            "{DO_NOT_CALL_ENTRY} WHERE d.group_id = $1 ORDER BY d.created_at DESC, d.phone LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(group_id)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM do_not_call WHERE group_id = $1")
            .bind(group_id)
            .fetch_one(self.reader())
            .await?
            .try_get("n")?;
        let entries = rows
            .iter()
            .map(DoNotCallEntry::from_row)
            .collect::<Result<_, _>>()?;
        Ok((entries, total))
    }

    /// A number's entry on the national lists, if it is on one.
    pub async fn tps_entry(&self, phone_e164: &str) -> Result<Option<TpsEntry>, StoreError> {
        let row = sqlx::query(
            "SELECT phone, list, source, imported_at FROM tps_numbers WHERE phone = $1",
        )
        .bind(phone_e164)
        .fetch_optional(self.reader())
        .await?;
        row.map(|row| {
            Ok(TpsEntry {
                phone: row.try_get("phone")?,
                list: row.try_get("list")?,
                source: row.try_get("source")?,
                imported_at: row.try_get("imported_at")?,
            })
        })
        .transpose()
    }

    /// Each national list held: its size and latest import, TPS first.
    pub async fn tps_lists(&self) -> Result<Vec<TpsListSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.list, COUNT(*) AS numbers, MAX(t.imported_at) AS last_imported_at,
                    (SELECT l.source FROM tps_numbers l WHERE l.list = t.list
                     ORDER BY l.imported_at DESC LIMIT 1) AS last_source
             FROM tps_numbers t GROUP BY t.list ORDER BY t.list DESC",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TpsListSummary {
                    list: row.try_get("list")?,
                    numbers: row.try_get("numbers")?,
                    last_imported_at: row.try_get("last_imported_at")?,
                    last_source: row.try_get("last_source")?,
                })
            })
            .collect()
    }

    /// Adds E.164 numbers to the national list `list` ("TPS" or "CTPS"), noting the file
    /// `source` they came from (numbers already on a list are left alone), and suppresses
    /// queued contacts whose main number matches, in every campaign. Returns how many
    /// numbers were new. One transaction per call: pass batches of a few thousand numbers.
    /// An upload by an admin (`imported_by`) is audited as `tps.import` in the same
    /// transaction; the command line's, run by the operator, is not.
    pub async fn import_tps_numbers(
        &self,
        phones: &[String],
        list: &str,
        source: &str,
        imported_by: Option<i64>,
    ) -> Result<u64, StoreError> {
        if phones.is_empty() {
            return Ok(0);
        }
        let now = now_millis();
        let mut inserted = 0;
        let mut tx = self.begin_write().await?;
        for chunk in phones.chunks(TPS_PER_INSERT) {
            let mut sql =
                String::from("INSERT INTO tps_numbers (list, source, imported_at, phone) VALUES ");
            Binds::new(self.backend()).rows(&mut sql, chunk.len(), 4, "");
            sql.push_str(" ON CONFLICT (phone) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for phone in chunk {
                query = query.bind(list).bind(source).bind(now).bind(phone.as_str());
            }
            inserted += query.execute(&mut *tx).await?.rows_affected();

            let mut update_sql =
                String::from("UPDATE contacts SET state = 2 WHERE state = 0 AND phone IN (");
            Binds::new(self.backend()).list(&mut update_sql, chunk.len());
            update_sql.push(')');
            let mut update = sqlx::query(&update_sql);
            for phone in chunk {
                update = update.bind(phone.as_str());
            }
            update.execute(&mut *tx).await?;
        }
        if let Some(admin) = imported_by {
            let detail = format!(
                "{} numbers read from {source}, {inserted} new",
                phones.len()
            );
            audit_about_in(
                &mut tx,
                Some(admin),
                AuditAction::TpsImport,
                About::default(),
                &format!("{list} list"),
                &detail,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// How many numbers the TPS list holds.
    pub async fn tps_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM tps_numbers")
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("n")?)
    }
}
