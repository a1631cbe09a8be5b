//! Listing the audit log with filters: by the groups a reader may see, campaign, caller,
//! person, action and time. Every lease (a caller shown a contact) is listed as a
//! [`AuditAction::ContactView`] entry beside the `audit_log` rows. It only reads.

use super::{AuditAction, AuditEntry, ENTRY_COLUMNS, entry_from_row};
use crate::subject::PersonRecords;
use crate::{Millis, Store, StoreError};
use std::fmt::Write as _;

/// The ids a person was found under (see [`Store::find_person`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonIds {
    /// Their accounts.
    pub user_ids: Vec<i64>,
    /// Their campaign contacts.
    pub contact_ids: Vec<i64>,
    /// Their supporter records.
    pub supporter_ids: Vec<i64>,
}

impl From<&PersonRecords> for PersonIds {
    fn from(records: &PersonRecords) -> Self {
        Self {
            user_ids: records.user_ids.clone(),
            contact_ids: records.contact_ids.clone(),
            supporter_ids: records.supporter_ids.clone(),
        }
    }
}

/// Which entries to list; every filter left empty matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// `None`: every entry (instance admins). `Some`: only entries about these groups,
    /// never an entry about no group or another group.
    pub groups: Option<Vec<i64>>,
    /// Only entries about this campaign.
    pub campaign_id: Option<i64>,
    /// Only entries made by this account (a caller, an organiser).
    pub actor_user_id: Option<i64>,
    /// Only entries about this person.
    pub person: Option<PersonIds>,
    /// Only these actions (none: all).
    pub actions: Vec<AuditAction>,
    /// Only entries at or after this time.
    pub from: Option<Millis>,
    /// Only entries before this time.
    pub to: Option<Millis>,
}

/// One page of a listing, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<i64>,
}

/// `column IN (ids)`, or a condition nothing meets when `ids` is empty. Ids are numbers,
/// so they are written into the SQL as they are.
fn in_ids(column: &str, ids: &[i64]) -> String {
    if ids.is_empty() {
        return "1 = 0".to_owned();
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("{column} IN ({})", list.join(", "))
}

impl AuditFilter {
    /// The `WHERE` conditions, joined by `AND` (`1 = 1` when there are none). Every value
    /// is a number or an action's fixed name, written into the SQL as it is.
    fn conditions(&self) -> String {
        let mut parts = vec!["1 = 1".to_owned()];
        if let Some(groups) = &self.groups {
            parts.push(in_ids("group_id", groups));
        }
        if let Some(id) = self.campaign_id {
            parts.push(format!("campaign_id = {id}"));
        }
        if let Some(id) = self.actor_user_id {
            parts.push(format!("actor_user_id = {id}"));
        }
        if let Some(person) = &self.person {
            parts.push(format!(
                "({} OR {} OR {})",
                in_ids("subject_user_id", &person.user_ids),
                in_ids("contact_id", &person.contact_ids),
                in_ids("supporter_id", &person.supporter_ids)
            ));
        }
        if !self.actions.is_empty() {
            let names: Vec<String> = self
                .actions
                .iter()
                .flat_map(|a| a.stored_names())
                .map(|name| format!("'{name}'"))
                .collect();
            parts.push(format!("action IN ({})", names.join(", ")));
        }
        if let Some(from) = self.from {
            parts.push(format!("at >= {from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("at < {to}"));
        }
        parts.join(" AND ")
    }

    fn wants_contact_views(&self) -> bool {
        self.actions.is_empty() || self.actions.contains(&AuditAction::ContactView)
    }
}

impl Store {
    /// Up to `limit` entries matching `filter`, newest first, skipping `offset`.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<AuditPage, StoreError> {
        let mut entries = String::from(
            "SELECT 0 AS source, id, at, actor_user_id, action, subject, detail, group_id,
                 campaign_id, contact_id, subject_user_id, supporter_id
             FROM audit_log",
        );
        if filter.wants_contact_views() {
            let _ = write!(
                entries,
                " UNION ALL
                 SELECT 1, l.id, l.claimed_at, l.caller_id, '{}', 'contact ' || l.contact_id, '',
                     c.group_id, l.campaign_id, l.contact_id, NULL, NULL
                 FROM leases l JOIN call_campaigns c ON c.id = l.campaign_id",
                AuditAction::ContactView.as_str()
            );
        }
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM ({entries}) e WHERE {}
             ORDER BY at DESC, source, id DESC LIMIT $1 OFFSET $2",
            filter.conditions()
        );
        let rows = sqlx::query(&sql)
            .bind(limit + 1)
            .bind(offset)
            .fetch_all(self.reader())
            .await?;
        let mut entries = rows
            .iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let more = entries.len() > usize::try_from(limit).unwrap_or(0);
        entries.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(AuditPage {
            next_offset: more.then_some(offset + limit),
            entries,
        })
    }
}
