//! Contacts' ids in other systems (VAN ID, NationBuilder id, Action Network id, a column
//! the organiser named) and each campaign's CRM result codes: stored at import, read back
//! a page at a time for the CRM exports. One value per system per contact, one contact
//! per value in a campaign. It must not decide the export's columns (`barnstorm_domain::crm`
//! and the web layer do) nor read CSV.

use std::collections::{BTreeMap, HashMap};

use barnstorm_domain::contact_import::ImportedContact;
use barnstorm_domain::crm::{Crm, ResultCodes};
use barnstorm_domain::outcome::OutcomeSet;
use sqlx::{Any, Row, Transaction};

use crate::audit::{About, AuditAction, audit_about_in};
use crate::binds::Binds;
use crate::{Backend, Store, StoreError, now_millis};

/// External ids per multi-row statement (3 binds each).
const IDS_PER_INSERT: usize = 500;
/// Contact ids per `IN (…)` lookup.
const CONTACTS_PER_LOOKUP: usize = 1000;

/// What the CRM exports need of a contact beyond its results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrmDetails {
    /// Its ids in other systems, by system (`van`, `nationbuilder`, …).
    pub external_ids: BTreeMap<String, String>,
    /// The notes of its latest call that had any (empty if none).
    pub latest_notes: String,
}

/// Stores the external ids of `contacts` (rows of one batch that were imported or merged,
/// not suppressed), found by number in `campaign_id`. An id the contact already has for
/// that system, or that another contact of the campaign already holds, is left as it is.
pub(crate) async fn store_external_ids(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    campaign_id: i64,
    contacts: &[&ImportedContact],
) -> Result<(), StoreError> {
    let ids: Vec<(&str, &str, &str)> = contacts
        .iter()
        .flat_map(|c| {
            c.external_ids
                .iter()
                .map(|(system, value)| (c.phone_e164.as_str(), system.as_str(), value.as_str()))
        })
        .collect();
    for chunk in ids.chunks(IDS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO contact_external_ids (campaign_id, contact_id, system, value)
             SELECT c.campaign_id, c.id, v.column2, v.column3 FROM (VALUES ",
        );
        let mut binds = Binds::new(backend);
        binds.rows(&mut sql, chunk.len(), 3, "");
        sql.push_str(") AS v JOIN contacts c ON c.phone = v.column1 WHERE c.campaign_id = ");
        binds.list(&mut sql, 1);
        sql.push_str(" ON CONFLICT DO NOTHING");
        let mut query = sqlx::query(&sql);
        for (phone, system, value) in chunk {
            query = query.bind(*phone).bind(*system).bind(*value);
        }
        query.bind(campaign_id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// `head`, `count` bind placeholders, then `tail`.
fn in_list(backend: Backend, head: &str, count: usize, tail: &str) -> String {
    let mut sql = String::from(head);
    Binds::new(backend).list(&mut sql, count);
    sql.push_str(tail);
    sql
}

/// `sql` with every one of `ids` bound, in order.
fn bind_all<'q>(
    sql: &'q str,
    ids: &'q [i64],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    ids.iter()
        .fold(sqlx::query(sql), |query, id| query.bind(*id))
}

impl Store {
    /// The external id systems any contact of `campaign_id` has, sorted by code point.
    pub async fn campaign_external_systems(
        &self,
        campaign_id: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT system FROM contact_external_ids WHERE campaign_id = $1")
                .bind(campaign_id)
                .fetch_all(self.reader())
                .await?;
        let mut systems: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("system"))
            .collect::<Result<_, _>>()?;
        // Sorted here: the two engines' collations order text differently.
        systems.sort();
        Ok(systems)
    }

    /// The external ids and latest notes of `contact_ids`; a contact with neither is
    /// left out.
    pub async fn crm_details(
        &self,
        contact_ids: &[i64],
    ) -> Result<HashMap<i64, CrmDetails>, StoreError> {
        let mut details: HashMap<i64, CrmDetails> = HashMap::new();
        for chunk in contact_ids.chunks(CONTACTS_PER_LOOKUP) {
            let ids_sql = in_list(
                self.backend(),
                "SELECT contact_id, system, value FROM contact_external_ids WHERE contact_id IN (",
                chunk.len(),
                ")",
            );
            for row in bind_all(&ids_sql, chunk).fetch_all(self.reader()).await? {
                details
                    .entry(row.try_get("contact_id")?)
                    .or_default()
                    .external_ids
                    .insert(row.try_get("system")?, row.try_get("value")?);
            }
            let notes_sql = in_list(
                self.backend(),
                "SELECT a.contact_id, a.notes FROM call_attempts a
                 WHERE a.id IN (SELECT MAX(b.id) FROM call_attempts b
                                WHERE b.notes <> '' AND b.contact_id IN (",
                chunk.len(),
                ") GROUP BY b.contact_id)",
            );
            for row in bind_all(&notes_sql, chunk).fetch_all(self.reader()).await? {
                details
                    .entry(row.try_get("contact_id")?)
                    .or_default()
                    .latest_notes = row.try_get("notes")?;
            }
        }
        Ok(details)
    }

    /// The result codes `campaign_id` set for `crm` (empty when it uses the defaults).
    /// Codes for outcomes the campaign no longer has are dropped.
    pub async fn campaign_result_codes(
        &self,
        campaign_id: i64,
        crm: Crm,
        outcomes: &OutcomeSet,
    ) -> Result<ResultCodes, StoreError> {
        let row =
            sqlx::query("SELECT codes FROM campaign_crm_codes WHERE campaign_id = $1 AND crm = $2")
                .bind(campaign_id)
                .bind(crm.as_str())
                .fetch_optional(self.reader())
                .await?;
        let Some(row) = row else {
            return Ok(ResultCodes::default());
        };
        let text: String = row.try_get("codes")?;
        let mut codes: BTreeMap<String, String> = serde_json::from_str(&text)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))?;
        codes.retain(|key, _| outcomes.get(key).is_some());
        ResultCodes::new(codes, outcomes)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))
    }

    /// Replaces the result codes `campaign_id` uses for `crm`, audited as a campaign
    /// update by `actor`.
    pub async fn set_campaign_result_codes(
        &self,
        campaign_id: i64,
        group_id: i64,
        crm: Crm,
        codes: &ResultCodes,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let text = serde_json::to_string(codes)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO campaign_crm_codes (campaign_id, crm, codes, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (campaign_id, crm) DO UPDATE SET codes = excluded.codes, updated_at = excluded.updated_at",
        )
        .bind(campaign_id)
        .bind(crm.as_str())
        .bind(&text)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        audit_about_in(
            &mut tx,
            actor,
            AuditAction::CampaignUpdate,
            About::campaign(group_id, campaign_id),
            &format!("campaign {campaign_id}"),
            &format!("{} result codes", crm.label()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
