//! The PostgreSQL queue's operations over a connection inside a transaction the batcher
//! owns. Heartbeats, releases and outcomes lock their lease row (`FOR UPDATE`), so two
//! requests for one lease cannot both pass the checks, which are [`super::super::rules`]'
//! and all come before the first write. Nothing here commits.

use super::super::problems::LeaseProblem;
use super::super::requests::{OutcomeRecord, RecordedOutcome};
use super::super::rules::{LeaseRow, Settlement};
use super::super::sql::{
    ASKED_NOT_TO_BE_CALLED, CLOSE_LEASE, EARLIER_ATTEMPT, EXTEND_CONTACT, EXTEND_LEASE,
    INSERT_ATTEMPT, OUTCOME_CONTACT, RELEASE_CONTACT, RELEASE_LEASE, SELECT_LEASE,
};
use super::super::steps::{
    DoNotCallSource, check_do_not_call_limit, settle_contact, suppress_in_group,
};
use crate::Millis;
use barnstorm_domain::outcome::OutcomeEffect;
use sqlx::{AnyConnection, Row};
use std::sync::LazyLock;

/// [`SELECT_LEASE`], locking the lease row until the transaction ends.
static LOCK_LEASE: LazyLock<String> =
    LazyLock::new(|| format!("{} FOR UPDATE OF l", *SELECT_LEASE));

/// Extends a live lease of `caller_id` to `now + lease_ms` and returns when it now expires.
pub(super) async fn extend(
    conn: &mut AnyConnection,
    lease_id: i64,
    caller_id: i64,
    now: Millis,
    lease_ms: Millis,
) -> Result<Millis, LeaseProblem> {
    let expires_at = now + lease_ms;
    let lease = lease_row(conn, lease_id, caller_id).await?;
    lease.check_heartbeat(now)?;
    sqlx::query(EXTEND_LEASE)
        .bind(expires_at)
        .bind(lease_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(EXTEND_CONTACT)
        .bind(expires_at)
        .bind(lease.contact_id)
        .bind(lease_id)
        .execute(&mut *conn)
        .await?;
    Ok(expires_at)
}

/// Gives a contact back without an outcome; nothing to do when it was already.
pub(super) async fn release(
    conn: &mut AnyConnection,
    lease_id: i64,
    caller_id: i64,
    now: Millis,
) -> Result<(), LeaseProblem> {
    let lease = lease_row(conn, lease_id, caller_id).await?;
    if !lease.check_release()? {
        return Ok(());
    }
    sqlx::query(RELEASE_LEASE)
        .bind(now)
        .bind(lease_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(RELEASE_CONTACT)
        .bind(now)
        .bind(lease.contact_id)
        .bind(lease_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records the outcome of a call made under a lease, or returns the first result for a
/// key used before. Every refusal comes before the first write.
pub(super) async fn record_outcome(
    conn: &mut AnyConnection,
    record: &OutcomeRecord<'_>,
) -> Result<RecordedOutcome, LeaseProblem> {
    let earlier = sqlx::query(EARLIER_ATTEMPT)
        .bind(record.caller_id)
        .bind(record.idempotency_key)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(earlier) = earlier {
        if earlier.try_get::<i64, _>("lease_id")? != record.lease_id {
            return Err(LeaseProblem::KeyReused);
        }
        return Ok(RecordedOutcome {
            attempt_id: earlier.try_get("id")?,
            contact_id: earlier.try_get("contact_id")?,
            outcome: earlier.try_get("outcome")?,
            replayed: true,
        });
    }
    let lease = lease_row(conn, record.lease_id, record.caller_id).await?;
    lease.check_outcome_for(record)?;
    if record.outcome.effect == OutcomeEffect::DoNotCall {
        check_do_not_call_limit(conn, record).await?;
    }
    let contact = sqlx::query(OUTCOME_CONTACT)
        .bind(lease.contact_id)
        .fetch_one(&mut *conn)
        .await?;
    if contact.try_get::<Option<i64>, _>("lease_id")? != Some(record.lease_id) {
        return Err(LeaseProblem::Expired);
    }
    let settled = Settlement::plan(
        record,
        contact.try_get("state")?,
        contact.try_get("attempts")?,
    )?;
    let attempt_id: i64 = sqlx::query(INSERT_ATTEMPT)
        .bind(lease.campaign_id)
        .bind(lease.contact_id)
        .bind(record.lease_id)
        .bind(record.caller_id)
        .bind(&record.outcome.key)
        .bind(i64::from(record.outcome.counts_as_conversation))
        .bind(record.answers_json)
        .bind(record.notes)
        .bind(settled.callback_at)
        .bind(settled.next_available_at())
        .bind(record.idempotency_key)
        .bind(record.now)
        .bind(i64::from(record.outcome.effect == OutcomeEffect::DoNotCall))
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?;
    sqlx::query(CLOSE_LEASE)
        .bind(record.now)
        .bind(record.lease_id)
        .execute(&mut *conn)
        .await?;
    settle_contact(conn, &settled, record, lease.contact_id).await?;
    if record.outcome.effect == OutcomeEffect::DoNotCall {
        let phone: String = contact.try_get("phone")?;
        let source = DoNotCallSource {
            reason: ASKED_NOT_TO_BE_CALLED,
            campaign_id: Some(lease.campaign_id),
            added_by: Some(record.caller_id),
        };
        suppress_in_group(conn, record.group_id, &phone, source, record.now).await?;
    }
    Ok(RecordedOutcome {
        attempt_id,
        contact_id: lease.contact_id,
        outcome: record.outcome.key.clone(),
        replayed: false,
    })
}

/// The lease, locked, if it is `caller_id`'s and they may still call.
async fn lease_row(
    conn: &mut AnyConnection,
    lease_id: i64,
    caller_id: i64,
) -> Result<LeaseRow, LeaseProblem> {
    let row = sqlx::query(&LOCK_LEASE)
        .bind(lease_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(LeaseProblem::NotFound)?;
    LeaseRow::from_row(&row)?.owned_by(caller_id)
}
