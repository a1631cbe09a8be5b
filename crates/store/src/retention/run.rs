//! What retention has made due and the housekeeping run that removes it. The preview and
//! the run share one selection ([`plan`]), so what a preview shows is what the next run
//! at the same clock removes. A run claims its hour in `retention_runs` inside the same
//! transaction as its changes: on several nodes at once, one does the work, the others
//! find the hour taken, and a run that fails leaves the hour free.

use super::{DAY_MS, MONTH_MS, RetentionPolicy};
use crate::audit::{AuditAction, audit_in_at};
use crate::subject::{ANONYMISED_PHONE_PREFIX, anonymise_contacts};
use crate::{Millis, Store, StoreError};
use serde::Serialize;
use sqlx::{Any, AnyConnection, Row, Transaction};

/// How often the housekeeping job runs retention; one run per interval across all nodes.
pub const RUN_INTERVAL_MS: Millis = 3_600_000;

/// A finished campaign whose call list is due to be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignDue {
    /// The campaign.
    pub campaign_id: i64,
    /// Its group.
    pub group_id: i64,
    /// Its name.
    pub name: String,
    /// Contacts whose details go (their calls stay, without notes, for the totals).
    pub contacts: u64,
}

/// A past event whose RSVPs are due to lose who made them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventDue {
    /// The event.
    pub event_id: i64,
    /// Its group.
    pub group_id: i64,
    /// Its title.
    pub title: String,
    /// RSVPs that lose their supporter and feedback text (their counts stay).
    pub rsvps: u64,
}

/// What a retention run removes (or, after a run, removed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionPlan {
    /// Call lists, per campaign.
    pub campaigns: Vec<CampaignDue>,
    /// RSVP details, per event.
    pub events: Vec<EventDue>,
    /// Supporters with no consent and no activity; `None` in a group's preview, since
    /// supporters belong to the whole instance.
    pub supporters: Option<u64>,
    /// Audit entries; `None` in a group's preview.
    pub audit_entries: Option<u64>,
}

impl RetentionPlan {
    /// Contacts in every campaign.
    pub fn contacts(&self) -> u64 {
        self.campaigns.iter().map(|c| c.contacts).sum()
    }

    /// RSVPs of every event.
    pub fn rsvps(&self) -> u64 {
        self.events.iter().map(|e| e.rsvps).sum()
    }

    /// The counts per kind, as the audit entry and the run's record give them.
    pub fn summary(&self) -> String {
        summary_line(
            self.contacts(),
            self.rsvps(),
            self.supporters.unwrap_or(0),
            self.audit_entries.unwrap_or(0),
        )
    }
}

/// The outcome of asking for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionRun {
    /// This node ran it and removed what the plan says.
    Ran(RetentionPlan),
    /// Another node already ran it for this hour; nothing was changed.
    AlreadyRan,
}

/// The contacts of campaign `$1` that still hold someone's details.
fn contacts_of_campaign() -> String {
    format!(
        "SELECT id FROM contacts WHERE campaign_id = $1 AND phone NOT LIKE '{ANONYMISED_PHONE_PREFIX}%'"
    )
}

fn summary_line(contacts: u64, rsvps: u64, supporters: u64, audit_entries: u64) -> String {
    format!(
        "{contacts} contacts, {rsvps} RSVPs, {supporters} supporters, {audit_entries} audit entries"
    )
}

const SUPPORTERS_DUE: &str = "SELECT s.id FROM supporters s
     WHERE s.updated_at <= $1
       AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.supporter_id = s.id
                         AND (c.withdrawn_at IS NULL OR c.withdrawn_at > $1 OR c.granted_at > $1))
       AND NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.supporter_id = s.id)
       AND NOT EXISTS (SELECT 1 FROM outreach_recipients o WHERE o.supporter_id = s.id
                         AND o.last_sent_at > $1)";

fn months_ms(months: u32) -> Millis {
    i64::from(months) * MONTH_MS
}

fn count(row: &sqlx::any::AnyRow, column: &str) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

/// Runs a per-campaign or per-event selection: `$1` the default period in days, `$2` the
/// clock, `$3` the group when there is one.
async fn due_rows(
    conn: &mut AnyConnection,
    sql: &str,
    default_days: u32,
    now: Millis,
    group: Option<i64>,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let mut query = sqlx::query(sql).bind(i64::from(default_days)).bind(now);
    if let Some(group) = group {
        query = query.bind(group);
    }
    Ok(query.fetch_all(conn).await?)
}

/// What is due at `now` under `policy` and each group's overrides; only `group`'s
/// campaigns and events when one is given.
async fn plan(
    conn: &mut AnyConnection,
    policy: &RetentionPolicy,
    now: Millis,
    group: Option<i64>,
) -> Result<RetentionPlan, StoreError> {
    let only_group = |column: &str| match group {
        Some(_) => format!("AND {column} = $3"),
        None => String::new(),
    };
    let campaigns_sql = format!(
        "SELECT c.id, c.group_id, c.name, COUNT(k.id) AS contacts
         FROM call_campaigns c
         JOIN groups g ON g.id = c.group_id
         JOIN contacts k ON k.campaign_id = c.id AND k.phone NOT LIKE '{ANONYMISED_PHONE_PREFIX}%'
         WHERE c.status = 'finished' AND c.finished_at IS NOT NULL
           AND c.finished_at + COALESCE(g.contact_retention_days, $1) * {DAY_MS} <= $2 {}
         GROUP BY c.id, c.group_id, c.name ORDER BY c.id",
        only_group("c.group_id")
    );
    let campaigns = due_rows(conn, &campaigns_sql, policy.contact_days, now, group)
        .await?
        .iter()
        .map(|row| {
            Ok(CampaignDue {
                campaign_id: row.try_get("id")?,
                group_id: row.try_get("group_id")?,
                name: row.try_get("name")?,
                contacts: count(row, "contacts")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    let events_sql = format!(
        "SELECT e.id, e.group_id, e.title, COUNT(r.id) AS rsvps
         FROM events e
         JOIN groups g ON g.id = e.group_id
         JOIN rsvps r ON r.event_id = e.id AND r.supporter_id IS NOT NULL
         WHERE e.ends_at + COALESCE(g.rsvp_retention_days, $1) * {DAY_MS} <= $2 {}
         GROUP BY e.id, e.group_id, e.title ORDER BY e.id",
        only_group("e.group_id")
    );
    let events = due_rows(conn, &events_sql, policy.rsvp_days, now, group)
        .await?
        .iter()
        .map(|row| {
            Ok(EventDue {
                event_id: row.try_get("id")?,
                group_id: row.try_get("group_id")?,
                title: row.try_get("title")?,
                rsvps: count(row, "rsvps")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;

    if group.is_some() {
        return Ok(RetentionPlan {
            campaigns,
            events,
            supporters: None,
            audit_entries: None,
        });
    }
    let supporters = sqlx::query(&format!("SELECT COUNT(*) AS n FROM ({SUPPORTERS_DUE}) due"))
        .bind(now - months_ms(policy.supporter_months))
        .fetch_one(&mut *conn)
        .await?;
    let audit = sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE at <= $1")
        .bind(now - months_ms(policy.audit_months))
        .fetch_one(&mut *conn)
        .await?;
    Ok(RetentionPlan {
        campaigns,
        events,
        supporters: Some(count(&supporters, "n")?),
        audit_entries: Some(count(&audit, "n")?),
    })
}

/// Removes what `due` lists, with the same conditions the selection used, and returns
/// what was removed.
async fn apply(
    tx: &mut Transaction<'static, Any>,
    due: RetentionPlan,
    policy: &RetentionPolicy,
    now: Millis,
) -> Result<RetentionPlan, StoreError> {
    let mut done = RetentionPlan::default();
    // Supporters first: one whose RSVP loses them below was not due when the plan was
    // made, and goes in a later run. Consents, the outreach audience and outreach records
    // go with the supporter.
    let supporters = sqlx::query(&format!(
        "DELETE FROM supporters WHERE id IN ({SUPPORTERS_DUE})"
    ))
    .bind(now - months_ms(policy.supporter_months))
    .execute(&mut **tx)
    .await?;
    done.supporters = Some(supporters.rows_affected());
    let audit = sqlx::query("DELETE FROM audit_log WHERE at <= $1")
        .bind(now - months_ms(policy.audit_months))
        .execute(&mut **tx)
        .await?;
    done.audit_entries = Some(audit.rows_affected());
    let contacts_of_campaign = contacts_of_campaign();
    for mut campaign in due.campaigns {
        sqlx::query(
            "DELETE FROM import_rejections WHERE job_id IN (SELECT id FROM import_jobs WHERE campaign_id = $1)",
        )
        .bind(campaign.campaign_id)
        .execute(&mut **tx)
        .await?;
        let contacts = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM ({contacts_of_campaign}) due"
        ))
        .bind(campaign.campaign_id)
        .fetch_one(&mut **tx)
        .await?;
        campaign.contacts = count(&contacts, "n")?;
        anonymise_contacts(tx, &contacts_of_campaign, &[campaign.campaign_id], now).await?;
        done.campaigns.push(campaign);
    }
    for mut event in due.events {
        for table in ["rsvp_notices", "rsvp_links"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE rsvp_id IN
                     (SELECT id FROM rsvps WHERE event_id = $1 AND supporter_id IS NOT NULL)"
            ))
            .bind(event.event_id)
            .execute(&mut **tx)
            .await?;
        }
        // The manage links go and the confirmation's hash is replaced, so no link works.
        event.rsvps = sqlx::query(
            "UPDATE rsvps SET supporter_id = NULL, feedback_text = NULL,
                 manage_token_hash = 'retained:' || CAST(id AS TEXT)
             WHERE event_id = $1 AND supporter_id IS NOT NULL",
        )
        .bind(event.event_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        done.events.push(event);
    }
    Ok(done)
}

impl Store {
    /// What a retention run at `now` would remove: everything due when `group` is `None`
    /// (for instance admins), or the call lists and RSVPs of `group`'s own campaigns and
    /// events. Changes nothing.
    pub async fn retention_preview(
        &self,
        policy: &RetentionPolicy,
        now: Millis,
        group: Option<i64>,
    ) -> Result<RetentionPlan, StoreError> {
        let mut conn = self.reader().acquire().await?;
        plan(&mut conn, policy, now, group).await
    }

    /// Applies retention at `now`, once per [`RUN_INTERVAL_MS`] across every node sharing
    /// the database: finished campaigns' contacts are anonymised (their calls keep outcomes
    /// and answers, lose notes), past events' RSVPs lose who made them, silent supporters
    /// and old audit entries are deleted. The run is recorded and audited as
    /// `retention.run` with its counts, in the same transaction.
    pub async fn run_retention(
        &self,
        policy: &RetentionPolicy,
        now: Millis,
    ) -> Result<RetentionRun, StoreError> {
        let slot = now.div_euclid(RUN_INTERVAL_MS);
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "INSERT INTO retention_runs (slot, ran_at, contacts, rsvps, supporters, audit_entries)
             VALUES ($1, $2, 0, 0, 0, 0) ON CONFLICT (slot) DO NOTHING",
        )
        .bind(slot)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(RetentionRun::AlreadyRan);
        }
        let due = plan(&mut tx, policy, now, None).await?;
        let done = apply(&mut tx, due, policy, now).await?;
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "UPDATE retention_runs SET contacts = $1, rsvps = $2, supporters = $3, audit_entries = $4
             WHERE slot = $5",
        )
        .bind(as_i64(done.contacts()))
        .bind(as_i64(done.rsvps()))
        .bind(as_i64(done.supporters.unwrap_or(0)))
        .bind(as_i64(done.audit_entries.unwrap_or(0)))
        .bind(slot)
        .execute(&mut *tx)
        .await?;
        audit_in_at(
            &mut tx,
            now,
            None,
            AuditAction::RetentionRun,
            &format!("retention run {slot}"),
            &done.summary(),
        )
        .await?;
        tx.commit().await?;
        Ok(RetentionRun::Ran(done))
    }

    /// When the last retention run happened and what it removed (counts per kind), if
    /// one ever ran.
    pub async fn last_retention_run(&self) -> Result<Option<(Millis, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT ran_at, contacts, rsvps, supporters, audit_entries FROM retention_runs
             ORDER BY slot DESC LIMIT 1",
        )
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let summary = summary_line(
            count(&row, "contacts")?,
            count(&row, "rsvps")?,
            count(&row, "supporters")?,
            count(&row, "audit_entries")?,
        );
        Ok(Some((row.try_get("ran_at")?, summary)))
    }
}
