//! The do-not-call lists (one per group) and the national TPS list: adding numbers, and
//! suppressing queued contacts they match. Screening new contacts against them happens in
//! the batch insert. It must not delete contacts: suppressed contacts keep their history.

use crate::binds::Binds;
use crate::{Store, StoreError, now_millis};
use sqlx::Row;

/// Rows per multi-row `INSERT` into `tps_numbers`.
const TPS_PER_INSERT: usize = 1000;

impl Store {
    /// Puts a number on a group's do-not-call list (again is harmless) and suppresses
    /// queued contacts with that number, as main or other number, in the group's
    /// campaigns. Returns how many contacts were suppressed.
    pub async fn add_do_not_call(
        &self,
        group_id: i64,
        phone_e164: &str,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO do_not_call (group_id, phone, reason, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (group_id, phone) DO NOTHING",
        )
        .bind(group_id)
        .bind(phone_e164)
        .bind(reason)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
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
        tx.commit().await?;
        Ok(suppressed)
    }

    /// Whether a number is on a group's do-not-call list.
    pub async fn is_do_not_call(
        &self,
        group_id: i64,
        phone_e164: &str,
    ) -> Result<bool, StoreError> {
        let row =
            sqlx::query("SELECT 1 AS one FROM do_not_call WHERE group_id = $1 AND phone = $2")
                .bind(group_id)
                .bind(phone_e164)
                .fetch_optional(self.reader())
                .await?;
        Ok(row.is_some())
    }

    /// Adds E.164 numbers to the TPS list `list` (numbers already there are left alone)
    /// and suppresses queued contacts whose main number matches, in every campaign.
    /// Returns how many numbers were new. One transaction per call: pass batches of a few
    /// thousand numbers.
    pub async fn import_tps_numbers(
        &self,
        phones: &[String],
        list: &str,
    ) -> Result<u64, StoreError> {
        if phones.is_empty() {
            return Ok(0);
        }
        let now = now_millis();
        let mut inserted = 0;
        let mut tx = self.begin_write().await?;
        for chunk in phones.chunks(TPS_PER_INSERT) {
            let mut sql =
                String::from("INSERT INTO tps_numbers (list, imported_at, phone) VALUES ");
            Binds::new(self.backend()).rows(&mut sql, chunk.len(), 3, "");
            sql.push_str(" ON CONFLICT (phone) DO NOTHING");
            let mut query = sqlx::query(&sql);
            for phone in chunk {
                query = query.bind(list).bind(now).bind(phone.as_str());
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
