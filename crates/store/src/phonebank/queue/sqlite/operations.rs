//! The queue writer's jobs over its rusqlite connection: a claim (with the caller's
//! standing), a heartbeat, a release and an outcome, each with the checks of
//! [`super::super::rules`] before its first write, and the mapping of SQLite's errors onto
//! the store's. It never begins or commits: the writer owns the transaction.

use super::super::contact::{ClaimedContact, Contact};
use super::super::problems::LeaseProblem;
use super::super::requests::{ClaimAnswer, ClaimRequest, OutcomeRecord, RecordedOutcome};
use super::super::rules::{LeaseRow, Settlement};
use super::super::sql::{
    ADD_DO_NOT_CALL, ASKED_NOT_TO_BE_CALLED, CLOSE_LEASE, EARLIER_ATTEMPT, EXTEND_CONTACT,
    EXTEND_LEASE, INSERT_ATTEMPT, INSERT_LEASE, LEASE_CONTACT, OUTCOME_CONTACT, PICK_CONTACT,
    RELEASE_CONTACT, RELEASE_LEASE, SELECT_LEASE, SETTLE_CONTACT, SUPPRESS_PHONE,
};
use super::{Done, Op};
use crate::phonebank::pace::{CallerBar, HOUR_MS, RECENT_DO_NOT_CALLS, RecentClaims};
use crate::phonebank::queue_status::{CALLER_STANDING, CallerStanding, HELD_CONTACT};
use crate::{Millis, StoreError};
use barnstorm_domain::outcome::OutcomeEffect;
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(super) fn run_op(conn: &Connection, op: &Op) -> Result<Done, LeaseProblem> {
    match op {
        Op::Claim {
            campaign_id,
            caller_id,
            now,
            lease_ms,
        } => claim(conn, *campaign_id, *caller_id, *now, *lease_ms).map(Done::Claimed),
        Op::ClaimForCaller(request) => claim_for_caller(conn, request).map(Done::Answered),
        Op::Heartbeat {
            lease_id,
            caller_id,
            now,
            lease_ms,
        } => {
            let lease = lease_row(conn, *lease_id, *caller_id)?;
            lease.check_heartbeat(*now)?;
            let expires_at = now + lease_ms;
            extend(conn, *lease_id, lease.contact_id, expires_at)?;
            Ok(Done::Extended(expires_at))
        }
        Op::Release {
            lease_id,
            caller_id,
            now,
        } => {
            let lease = lease_row(conn, *lease_id, *caller_id)?;
            if lease.check_release()? {
                conn.prepare_cached(RELEASE_LEASE)?
                    .execute(params![now, lease_id])?;
                conn.prepare_cached(RELEASE_CONTACT)?.execute(params![
                    now,
                    lease.contact_id,
                    lease_id
                ])?;
            }
            Ok(Done::Released)
        }
        Op::Outcome(outcome) => record_outcome(conn, &outcome.record()).map(Done::Recorded),
    }
}

/// Extends lease `lease_id` of `contact_id` to `expires_at`.
pub(super) fn extend(
    conn: &Connection,
    lease_id: i64,
    contact_id: i64,
    expires_at: Millis,
) -> Result<(), LeaseProblem> {
    conn.prepare_cached(EXTEND_LEASE)?
        .execute(params![expires_at, lease_id])?;
    conn.prepare_cached(EXTEND_CONTACT)?
        .execute(params![expires_at, contact_id, lease_id])?;
    Ok(())
}

/// [`crate::Store::claim_for_caller`] inside the writer's transaction: the caller's
/// standing, the contact they hold, and the claim read and write one consistent state.
pub(super) fn claim_for_caller(
    conn: &Connection,
    request: &ClaimRequest,
) -> Result<ClaimAnswer, LeaseProblem> {
    let [minute_since, minute_limit, hour_since, hour_limit] = request.pace_windows();
    let standing = conn.prepare_cached(CALLER_STANDING)?.query_row(
        params![
            request.caller_id,
            request.campaign_id,
            request.now,
            request.skips_since,
            minute_since,
            minute_limit,
            hour_since,
            hour_limit,
        ],
        |row| {
            Ok(CallerStanding {
                held_lease: row.get("held_lease")?,
                skips: row.get("skips")?,
                barred: CallerBar::from_code(row.get("barred")?),
                last_minute: RecentClaims {
                    count: row.get("minute_claims")?,
                    oldest: row.get("minute_oldest")?,
                },
                last_hour: RecentClaims {
                    count: row.get("hour_claims")?,
                    oldest: row.get("hour_oldest")?,
                },
            })
        },
    )?;
    if let Some(bar) = standing.barred {
        return Ok(ClaimAnswer::Barred(bar));
    }
    if let Some(lease_id) = standing.held_lease {
        let held = conn
            .prepare_cached(&HELD_CONTACT)?
            .query_row(params![lease_id, request.caller_id, request.now], |row| {
                let contact = match contact_from_row(row)? {
                    Ok(contact) => contact,
                    Err(unreadable) => return Ok(Err(unreadable)),
                };
                Ok(Ok(ClaimedContact {
                    lease_id: row.get("lease_id")?,
                    expires_at: row.get("expires_at")?,
                    contact,
                }))
            })
            .optional()?;
        if let Some(held) = held {
            let mut held = held?;
            if request.renews(held.expires_at) {
                held.expires_at = request.now + request.lease_ms;
                extend(conn, held.lease_id, held.contact.id, held.expires_at)?;
            }
            return Ok(ClaimAnswer::Held(held));
        }
    }
    if let Some(refused) = request.refusal(&standing) {
        return Ok(refused);
    }
    let claimed = claim(
        conn,
        request.campaign_id,
        request.caller_id,
        request.now,
        request.lease_ms,
    )?;
    Ok(claimed.map_or(ClaimAnswer::Nothing, ClaimAnswer::Claimed))
}

pub(super) fn claim(
    conn: &Connection,
    campaign_id: i64,
    caller_id: i64,
    now: Millis,
    lease_ms: Millis,
) -> Result<Option<ClaimedContact>, LeaseProblem> {
    let picked: Option<i64> = conn
        .prepare_cached(PICK_CONTACT)?
        .query_row(params![campaign_id, now], |row| row.get(0))
        .optional()?;
    let Some(contact_id) = picked else {
        return Ok(None);
    };
    let expires_at = now + lease_ms;
    let lease_id: i64 = conn.prepare_cached(INSERT_LEASE)?.query_row(
        params![contact_id, campaign_id, caller_id, now, expires_at],
        |row| row.get(0),
    )?;
    let contact = conn
        .prepare_cached(&LEASE_CONTACT)?
        .query_row(params![lease_id, expires_at, contact_id], contact_from_row)??;
    Ok(Some(ClaimedContact {
        lease_id,
        expires_at,
        contact,
    }))
}

pub(super) fn record_outcome(
    conn: &Connection,
    record: &OutcomeRecord<'_>,
) -> Result<RecordedOutcome, LeaseProblem> {
    let earlier = conn
        .prepare_cached(EARLIER_ATTEMPT)?
        .query_row(params![record.caller_id, record.idempotency_key], |row| {
            Ok((
                row.get::<_, i64>("id")?,
                row.get::<_, i64>("lease_id")?,
                row.get::<_, i64>("contact_id")?,
                row.get::<_, String>("outcome")?,
            ))
        })
        .optional()?;
    if let Some((attempt_id, lease_id, contact_id, outcome)) = earlier {
        if lease_id != record.lease_id {
            return Err(LeaseProblem::KeyReused);
        }
        return Ok(RecordedOutcome {
            attempt_id,
            contact_id,
            outcome,
            replayed: true,
        });
    }
    let lease = lease_row(conn, record.lease_id, record.caller_id)?;
    lease.check_outcome_for(record)?;
    if record.outcome.effect == OutcomeEffect::DoNotCall {
        let recent = conn.prepare_cached(RECENT_DO_NOT_CALLS)?.query_row(
            params![
                record.caller_id,
                record.campaign_id,
                record.now - HOUR_MS,
                record.do_not_call_per_hour
            ],
            |row| {
                Ok(RecentClaims {
                    count: row.get("n")?,
                    oldest: row.get("oldest")?,
                })
            },
        )?;
        if let Some(retry_at) = recent.limited_until(record.do_not_call_per_hour, HOUR_MS) {
            return Err(LeaseProblem::DoNotCallLimited { retry_at });
        }
    }
    let (holder, attempts, state, phone) =
        conn.prepare_cached(OUTCOME_CONTACT)?
            .query_row(params![lease.contact_id], |row| {
                Ok((
                    row.get::<_, Option<i64>>("lease_id")?,
                    row.get::<_, i64>("attempts")?,
                    row.get::<_, i64>("state")?,
                    row.get::<_, String>("phone")?,
                ))
            })?;
    if holder != Some(record.lease_id) {
        return Err(LeaseProblem::Expired);
    }
    let settled = Settlement::plan(record, state, attempts)?;
    let attempt_id: i64 = conn.prepare_cached(INSERT_ATTEMPT)?.query_row(
        params![
            lease.campaign_id,
            lease.contact_id,
            record.lease_id,
            record.caller_id,
            record.outcome.key,
            i64::from(record.outcome.counts_as_conversation),
            record.answers_json,
            record.notes,
            settled.callback_at,
            settled.next_available_at(),
            record.idempotency_key,
            record.now,
            i64::from(record.outcome.effect == OutcomeEffect::DoNotCall),
        ],
        |row| row.get(0),
    )?;
    conn.prepare_cached(CLOSE_LEASE)?
        .execute(params![record.now, record.lease_id])?;
    conn.prepare_cached(SETTLE_CONTACT)?.execute(params![
        settled.state,
        settled.priority,
        settled.available_at,
        settled.attempts,
        settled.callback_at,
        record.outcome.key,
        record.now,
        lease.contact_id,
    ])?;
    if record.outcome.effect == OutcomeEffect::DoNotCall {
        conn.prepare_cached(ADD_DO_NOT_CALL)?.execute(params![
            record.group_id,
            phone,
            ASKED_NOT_TO_BE_CALLED,
            record.now,
            lease.campaign_id,
            record.caller_id
        ])?;
        conn.prepare_cached(SUPPRESS_PHONE)?
            .execute(params![phone, record.group_id])?;
    }
    Ok(RecordedOutcome {
        attempt_id,
        contact_id: lease.contact_id,
        outcome: record.outcome.key.clone(),
        replayed: false,
    })
}

pub(super) fn lease_row(
    conn: &Connection,
    lease_id: i64,
    caller_id: i64,
) -> Result<LeaseRow, LeaseProblem> {
    conn.prepare_cached(&SELECT_LEASE)?
        .query_row(params![lease_id], |row| {
            Ok(LeaseRow {
                contact_id: row.get("contact_id")?,
                campaign_id: row.get("campaign_id")?,
                caller_id: row.get("caller_id")?,
                expires_at: row.get("expires_at")?,
                released_at: row.get("released_at")?,
                outcome_at: row.get("outcome_at")?,
                barred: CallerBar::from_code(row.get("barred")?),
            })
        })
        .optional()?
        .ok_or(LeaseProblem::NotFound)?
        .owned_by(caller_id)
}

/// Reads a contact (the columns of [`super::queue::CONTACT_COLUMNS`]); a bad `extra` is the inner error.
pub(super) fn contact_from_row(row: &Row<'_>) -> rusqlite::Result<Result<Contact, LeaseProblem>> {
    let extra: String = row.get("extra")?;
    let extra = match serde_json::from_str(&extra) {
        Ok(extra) => extra,
        Err(e) => {
            return Ok(Err(StoreError::Engine(format!(
                "contact {} has unreadable extra fields: {e}",
                row.get::<_, i64>("id")?
            ))
            .into()));
        }
    };
    Ok(Ok(Contact {
        id: row.get("id")?,
        campaign_id: row.get("campaign_id")?,
        phone: row.get("phone")?,
        other_phone: row.get("other_phone")?,
        first_name: row.get("first_name")?,
        last_name: row.get("last_name")?,
        email: row.get("email")?,
        postcode: row.get("postcode")?,
        extra,
        attempts: row.get("attempts")?,
        last_outcome: row.get("last_outcome")?,
        callback_at: row.get("callback_at")?,
    }))
}

impl From<rusqlite::Error> for LeaseProblem {
    fn from(err: rusqlite::Error) -> Self {
        Self::Store(store_error(err))
    }
}

/// Classifies a SQLite error the way the store's pools do: a full disk, an I/O error, a
/// file that became read-only or a lock held too long is an outage; a unique constraint
/// is a conflict; anything else is a defect.
pub(super) fn store_error(err: rusqlite::Error) -> StoreError {
    let rusqlite::Error::SqliteFailure(failure, message) = &err else {
        return StoreError::Engine(err.to_string());
    };
    let code = failure.extended_code;
    let text = match message {
        Some(message) => format!("(code: {code}) {message}"),
        None => format!("(code: {code}) {failure}"),
    };
    let primary = code & 0xff;
    if crate::error::is_sqlite_outage(code) || matches!(primary, 5 | 6) {
        StoreError::Unavailable(text)
    } else if matches!(code, 1555 | 2067) {
        StoreError::Conflict(text)
    } else {
        StoreError::Engine(text)
    }
}
