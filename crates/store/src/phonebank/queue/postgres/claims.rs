//! Claims for one campaign in one statement: the contacts wanted by N callers are picked
//! with `FOR UPDATE SKIP LOCKED` (so batches on other nodes pass them by), numbered, and
//! each leased to one caller and marked, in one round trip. The statement sees what
//! earlier statements of its transaction wrote, so a batch never hands a contact twice.

use super::super::contact::{ClaimedContact, Contact, contact_columns_of};
use super::super::problems::LeaseProblem;
use crate::Millis;
use sqlx::{AnyConnection, Row};
use std::fmt::Write;

/// One caller's claim: who, at what time, for how long.
#[derive(Debug, Clone, Copy)]
pub(super) struct WantedLease {
    pub(super) caller_id: i64,
    pub(super) now: Millis,
    pub(super) lease_ms: Millis,
}

/// Leases up to one contact of `campaign_id` to each of `wanted`, answering in order
/// (`None` for a caller left without one: fewer contacts were claimable). The earliest
/// `now` decides which contacts are due, so none is handed out before its time.
pub(super) async fn claim_many(
    conn: &mut AnyConnection,
    campaign_id: i64,
    wanted: &[WantedLease],
) -> Result<Vec<Option<ClaimedContact>>, LeaseProblem> {
    let Some(due_by) = wanted.iter().map(|w| w.now).min() else {
        return Ok(Vec::new());
    };
    let sql = statement(wanted.len());
    let mut query = sqlx::query(&sql).bind(campaign_id).bind(due_by);
    for (ord, w) in (1_i64..).zip(wanted) {
        query = query
            .bind(ord)
            .bind(w.caller_id)
            .bind(w.now)
            .bind(w.now + w.lease_ms);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut answers = vec![None; wanted.len()];
    for row in &rows {
        let ord: i64 = row.try_get("ord")?;
        let slot = usize::try_from(ord - 1)
            .ok()
            .and_then(|i| answers.get_mut(i))
            .ok_or_else(|| crate::StoreError::Engine(format!("a claim answered for {ord}")))?;
        *slot = Some(ClaimedContact {
            lease_id: row.try_get("lease_id")?,
            expires_at: row.try_get("lease_expires_at")?,
            contact: Contact::from_row(row)?,
        });
    }
    Ok(answers)
}

/// The statement for `n` callers: `$1` campaign, `$2` the earliest now, then per caller its
/// number, id, now and lease expiry.
fn statement(n: usize) -> String {
    let mut values = String::new();
    for i in 0..n {
        let p = 3 + 4 * i;
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(
            values,
            "{sep}(${p}::bigint, ${}::bigint, ${}::bigint, ${}::bigint)",
            p + 1,
            p + 2,
            p + 3
        );
    }
    format!(
        "WITH wanted (ord, caller_id, claimed_at, expires_at) AS (VALUES {values}),
         picked AS (
             SELECT id, priority, available_at FROM contacts
             WHERE campaign_id = $1 AND state = 0 AND available_at <= $2
             ORDER BY priority, available_at, id LIMIT {n} FOR UPDATE SKIP LOCKED),
         numbered AS (
             SELECT id, row_number() OVER (ORDER BY priority, available_at, id) AS ord FROM picked),
         lease AS (
             INSERT INTO leases (contact_id, campaign_id, caller_id, claimed_at, expires_at)
             SELECT n.id, $1, w.caller_id, w.claimed_at, w.expires_at
             FROM numbered n JOIN wanted w ON w.ord = n.ord
             RETURNING id, contact_id, expires_at)
         UPDATE contacts SET lease_id = lease.id, available_at = lease.expires_at
         FROM lease JOIN numbered ON numbered.id = lease.contact_id
         WHERE contacts.id = lease.contact_id
         RETURNING numbered.ord, lease.id AS lease_id, lease.expires_at AS lease_expires_at, {}",
        contact_columns_of("contacts")
    )
}
