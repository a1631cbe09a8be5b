//! Retention: how long call lists, RSVP details, silent supporters and audit entries are
//! kept. The instance sets the defaults ([`RetentionPolicy`], from the operator's
//! configuration); a group may override the first two for its own campaigns and events.
//! The selection of what is due and the housekeeping run that applies it live in `run.rs`.

mod run;

pub use run::{CampaignDue, EventDue, RUN_INTERVAL_MS, RetentionPlan, RetentionRun};

use crate::audit::{AuditAction, audit_in};
use crate::{Millis, Store, StoreError};
use serde::Serialize;
use sqlx::Row;

/// One day in milliseconds.
pub const DAY_MS: Millis = 24 * 3_600_000;
/// A month, for retention, is 30 days.
pub const MONTH_MS: Millis = 30 * DAY_MS;
/// The longest period a group may set (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// How long each kind of data is kept: the instance's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RetentionPolicy {
    /// Days after a campaign finishes that its contacts, their answers' link to them and
    /// the callers' notes are kept.
    pub contact_days: u32,
    /// Days after an event ends that who RSVPed (and their feedback text) is kept.
    pub rsvp_days: u32,
    /// Months a supporter with no consent and no activity is kept.
    pub supporter_months: u32,
    /// Months an audit entry is kept.
    pub audit_months: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            contact_days: 90,
            rsvp_days: 365,
            supporter_months: 24,
            audit_months: 24,
        }
    }
}

/// A group's own periods; `None` keeps the instance default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GroupRetention {
    /// Overrides [`RetentionPolicy::contact_days`] for the group's campaigns.
    pub contact_days: Option<u32>,
    /// Overrides [`RetentionPolicy::rsvp_days`] for the group's events.
    pub rsvp_days: Option<u32>,
}

impl GroupRetention {
    /// The periods that apply to the group under `policy`.
    pub fn effective(&self, policy: &RetentionPolicy) -> RetentionPolicy {
        RetentionPolicy {
            contact_days: self.contact_days.unwrap_or(policy.contact_days),
            rsvp_days: self.rsvp_days.unwrap_or(policy.rsvp_days),
            ..*policy
        }
    }
}

/// Checks a retention period in days typed by a person; `field` names it in the error.
pub fn parse_retention_days(field: &str, text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(days) if (1..=MAX_RETENTION_DAYS).contains(&days) => Ok(Some(days)),
        _ => Err(format!(
            "{field}: enter a whole number of days from 1 to {MAX_RETENTION_DAYS}, or leave it empty for the instance default (got '{text}')"
        )),
    }
}

fn days_from(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<u32>, sqlx::Error> {
    Ok(row
        .try_get::<Option<i64>, _>(column)?
        .map(|d| u32::try_from(d).unwrap_or(MAX_RETENTION_DAYS)))
}

impl Store {
    /// The group's own retention periods.
    pub async fn group_retention(&self, group_id: i64) -> Result<GroupRetention, StoreError> {
        let row = sqlx::query(
            "SELECT contact_retention_days, rsvp_retention_days FROM groups WHERE id = $1",
        )
        .bind(group_id)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(GroupRetention {
            contact_days: days_from(&row, "contact_retention_days")?,
            rsvp_days: days_from(&row, "rsvp_retention_days")?,
        })
    }

    /// Sets the group's own retention periods; audited as `group.retention`.
    pub async fn set_group_retention(
        &self,
        group_id: i64,
        retention: &GroupRetention,
        actor: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE groups SET contact_retention_days = $1, rsvp_retention_days = $2 WHERE id = $3",
        )
        .bind(retention.contact_days.map(i64::from))
        .bind(retention.rsvp_days.map(i64::from))
        .bind(group_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let shown = |days: Option<u32>| days.map_or("default".to_owned(), |d| format!("{d} days"));
        audit_in(
            &mut tx,
            actor,
            AuditAction::GroupRetention,
            &format!("group {group_id}"),
            &format!(
                "call lists {}, RSVPs {}",
                shown(retention.contact_days),
                shown(retention.rsvp_days)
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
