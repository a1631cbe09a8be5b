//! Steps of recording an outcome over a sqlx connection inside a transaction, shared by
//! the PostgreSQL queue and by corrections on both engines: the hourly do-not-call limit,
//! writing a settlement to its contact, and adding a number to a group's do-not-call list.
//! The caller owns the transaction; nothing here commits.

use super::problems::LeaseProblem;
use super::requests::OutcomeRecord;
use super::rules::Settlement;
use super::sql::{ADD_DO_NOT_CALL, SETTLE_CONTACT, SUPPRESS_PHONE};
use crate::phonebank::pace::{HOUR_MS, RECENT_DO_NOT_CALLS, RecentClaims};
use crate::{Millis, StoreError};
use sqlx::{AnyConnection, Row};

/// Refuses a "do not call" outcome beyond the caller's hourly limit of them.
pub(crate) async fn check_do_not_call_limit(
    conn: &mut AnyConnection,
    record: &OutcomeRecord<'_>,
) -> Result<(), LeaseProblem> {
    let recent = sqlx::query(RECENT_DO_NOT_CALLS)
        .bind(record.caller_id)
        .bind(record.campaign_id)
        .bind(record.now - HOUR_MS)
        .bind(record.do_not_call_per_hour)
        .fetch_one(&mut *conn)
        .await?;
    let recent = RecentClaims {
        count: recent.try_get("n")?,
        oldest: recent.try_get("oldest")?,
    };
    match recent.limited_until(record.do_not_call_per_hour, HOUR_MS) {
        Some(retry_at) => Err(LeaseProblem::DoNotCallLimited { retry_at }),
        None => Ok(()),
    }
}

/// Writes `settled` to the contact, with `record`'s outcome as its last, called at
/// `record.now`.
pub(crate) async fn settle_contact(
    conn: &mut AnyConnection,
    settled: &Settlement,
    record: &OutcomeRecord<'_>,
    contact_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(SETTLE_CONTACT)
        .bind(settled.state)
        .bind(settled.priority)
        .bind(settled.available_at)
        .bind(settled.attempts)
        .bind(settled.callback_at)
        .bind(&record.outcome.key)
        .bind(record.now)
        .bind(contact_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Why a number went on a do-not-call list, and who put it there.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DoNotCallSource<'a> {
    /// In words: "asked not to be called".
    pub(crate) reason: &'a str,
    /// The campaign whose call it came from, if any.
    pub(crate) campaign_id: Option<i64>,
    /// The caller who recorded it, or the organiser who added it.
    pub(crate) added_by: Option<i64>,
}

/// Adds `phone` to a group's do-not-call list and takes it out of the queues of the
/// group's campaigns.
pub(crate) async fn suppress_in_group(
    conn: &mut AnyConnection,
    group_id: i64,
    phone: &str,
    source: DoNotCallSource<'_>,
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query(ADD_DO_NOT_CALL)
        .bind(group_id)
        .bind(phone)
        .bind(source.reason)
        .bind(now)
        .bind(source.campaign_id)
        .bind(source.added_by)
        .execute(&mut *conn)
        .await?;
    sqlx::query(SUPPRESS_PHONE)
        .bind(phone)
        .bind(group_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
