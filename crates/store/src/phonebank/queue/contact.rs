//! A contact as a caller is shown it, and a contact leased to a caller: the columns a
//! claim returns and how a row becomes a [`Contact`] over sqlx. It decides nothing about
//! who may be handed which contact.

use crate::Millis;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

/// A contact as a caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Contact {
    /// Stable id.
    pub id: i64,
    /// The campaign whose list it is on.
    pub campaign_id: i64,
    /// E.164 number to ring.
    pub phone: String,
    /// Another number, if the list had one.
    pub other_phone: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email, if known.
    pub email: Option<String>,
    /// Postcode, if known.
    pub postcode: Option<String>,
    /// Other columns from the imported list.
    pub extra: BTreeMap<String, String>,
    /// Calls recorded before this one.
    pub attempts: i64,
    /// The outcome of the previous call, if any.
    pub last_outcome: Option<String>,
    /// The time the contact asked to be rung back, if this is a callback.
    pub callback_at: Option<Millis>,
}

/// A contact leased to a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedContact {
    /// The lease, used for heartbeats, release and the outcome.
    pub lease_id: i64,
    /// When the lease lapses without a heartbeat.
    pub expires_at: Millis,
    /// Who to call.
    pub contact: Contact,
}

/// The columns of a [`Contact`], in the order both backends read them.
pub(crate) const CONTACT_COLUMNS: &str =
    "id, campaign_id, phone, other_phone, first_name, last_name, email, postcode, extra,
    attempts, last_outcome, callback_at";

/// [`CONTACT_COLUMNS`], each qualified with `table` (a name or alias) for joins.
pub(crate) fn contact_columns_of(table: &str) -> String {
    CONTACT_COLUMNS
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Contact {
    /// Reads the columns of [`CONTACT_COLUMNS`] from a sqlx row.
    pub(crate) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let extra: String = row.try_get("extra")?;
        Ok(Self {
            id: row.try_get("id")?,
            campaign_id: row.try_get("campaign_id")?,
            phone: row.try_get("phone")?,
            other_phone: row.try_get("other_phone")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            email: row.try_get("email")?,
            postcode: row.try_get("postcode")?,
            extra: serde_json::from_str(&extra).map_err(|e| sqlx::Error::Decode(e.into()))?,
            attempts: row.try_get("attempts")?,
            last_outcome: row.try_get("last_outcome")?,
            callback_at: row.try_get("callback_at")?,
        })
    }
}
