//! The calling queue. A claim picks the first claimable contact of a campaign (due
//! callbacks first, then never-called, then retries, oldest first) and leases it to one
//! caller in a single transaction — `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
//! writer on SQLite — so a contact never has two live leases. The leases table is also
//! the audit log of which caller was shown which contact, when. Outcomes are idempotent
//! per caller and key, and acknowledged only once committed.

use crate::{Backend, Millis, Store, StoreError};
use barnstorm_domain::outcome::{Outcome, OutcomeEffect};
use barnstorm_domain::queue_policy::{ContactQueueState, RetryPolicy, apply_outcome};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

const QUEUED: i64 = 0;
const FINISHED: i64 = 1;
const SUPPRESSED: i64 = 2;
const PRIORITY_CALLBACK: i64 = 0;
const PRIORITY_RETRY: i64 = 2;

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

pub(super) const CONTACT_COLUMNS: &str =
    "id, campaign_id, phone, other_phone, first_name, last_name, email, postcode, extra,
    attempts, last_outcome, callback_at";

impl Contact {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
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

/// Why a lease operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum LeaseProblem {
    /// No such lease.
    #[error("there is no such lease")]
    NotFound,
    /// The lease belongs to another caller.
    #[error("this lease belongs to another caller")]
    NotYours,
    /// The lease lapsed (and, for an outcome, the contact was handed to someone else).
    #[error("the lease has expired; claim a new contact")]
    Expired,
    /// The caller released the contact already.
    #[error("the contact was released already")]
    Released,
    /// An outcome was already recorded on this lease under another idempotency key.
    #[error("an outcome was already recorded for this call")]
    AlreadyRecorded,
    /// The idempotency key was used before for a different call.
    #[error("this Idempotency-Key was already used for a different call")]
    KeyReused,
    /// A callback outcome came without a time.
    #[error("a callback needs callback_at")]
    MissingCallbackTime,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for LeaseProblem {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// An outcome to record on a lease.
#[derive(Debug, Clone)]
pub struct OutcomeRecord<'a> {
    /// The lease the call was made under.
    pub lease_id: i64,
    /// The caller recording it.
    pub caller_id: i64,
    /// The client's key: the same key again returns the first result.
    pub idempotency_key: &'a str,
    /// The chosen outcome.
    pub outcome: &'a Outcome,
    /// Checked survey answers, as JSON.
    pub answers_json: &'a str,
    /// Free-text notes.
    pub notes: &'a str,
    /// For a callback: when to ring back.
    pub callback_at: Option<Millis>,
    /// The campaign's retry rules.
    pub retry: &'a RetryPolicy,
    /// The group whose do-not-call list a do-not-call outcome adds to.
    pub group_id: i64,
    /// The time of recording.
    pub now: Millis,
}

/// A recorded call attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOutcome {
    /// The attempt's id.
    pub attempt_id: i64,
    /// The contact.
    pub contact_id: i64,
    /// The outcome key.
    pub outcome: String,
    /// True when this answer repeats an earlier identical request.
    pub replayed: bool,
}

fn to_datetime(millis: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

impl Store {
    /// Leases the next claimable contact of `campaign_id` to `caller_id` until
    /// `now + lease_ms`; `None` when nothing is claimable.
    pub async fn claim_next_contact(
        &self,
        campaign_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<ClaimedContact>, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let expires_at = now + lease_ms;
        let mut tx = self.begin_write().await?;
        let picked = sqlx::query(&format!(
            "SELECT id FROM contacts WHERE campaign_id = $1 AND state = 0 AND available_at <= $2
             ORDER BY priority, available_at, id LIMIT 1 {lock}"
        ))
        .bind(campaign_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(picked) = picked else {
            tx.rollback().await?;
            return Ok(None);
        };
        let contact_id: i64 = picked.try_get("id")?;
        let lease_id: i64 = sqlx::query(
            "INSERT INTO leases (contact_id, campaign_id, caller_id, claimed_at, expires_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(contact_id)
        .bind(campaign_id)
        .bind(caller_id)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let row = sqlx::query(&format!(
            "UPDATE contacts SET lease_id = $1, available_at = $2 WHERE id = $3 RETURNING {CONTACT_COLUMNS}"
        ))
        .bind(lease_id)
        .bind(expires_at)
        .bind(contact_id)
        .fetch_one(&mut *tx)
        .await?;
        let contact = Contact::from_row(&row)?;
        tx.commit().await?;
        Ok(Some(ClaimedContact {
            lease_id,
            expires_at,
            contact,
        }))
    }

    /// Keeps a live lease alive: extends it to `now + lease_ms` once less than half of a
    /// lease remains, and returns when it now expires.
    pub async fn heartbeat_lease(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Millis, LeaseProblem> {
        // Most heartbeats find plenty of lease left: answer those from a read, and write
        // only once less than half the lease remains.
        let current = sqlx::query(
            "SELECT caller_id, expires_at, released_at, outcome_at FROM leases WHERE id = $1",
        )
        .bind(lease_id)
        .fetch_optional(self.reader())
        .await?
        .ok_or(LeaseProblem::NotFound)?;
        if current.try_get::<i64, _>("caller_id")? != caller_id {
            return Err(LeaseProblem::NotYours);
        }
        let current_expiry: Millis = current.try_get("expires_at")?;
        let open = current
            .try_get::<Option<Millis>, _>("released_at")?
            .is_none()
            && current
                .try_get::<Option<Millis>, _>("outcome_at")?
                .is_none();
        if open && current_expiry - now > lease_ms / 2 {
            return Ok(current_expiry);
        }
        let expires_at = now + lease_ms;
        let mut tx = self.begin_write().await?;
        let lease = lease_row(&mut tx, lease_id, caller_id).await?;
        if lease.released_at.is_some() {
            return Err(LeaseProblem::Released);
        }
        if lease.outcome_at.is_some() {
            return Err(LeaseProblem::AlreadyRecorded);
        }
        if lease.expires_at <= now {
            return Err(LeaseProblem::Expired);
        }
        sqlx::query("UPDATE leases SET expires_at = $1 WHERE id = $2")
            .bind(expires_at)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE contacts SET available_at = $1 WHERE id = $2 AND lease_id = $3")
            .bind(expires_at)
            .bind(lease.contact_id)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(expires_at)
    }

    /// Gives a contact back without an outcome (a skip or a break): it is claimable again
    /// at once, and its attempts do not change.
    pub async fn release_lease(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
    ) -> Result<(), LeaseProblem> {
        let mut tx = self.begin_write().await?;
        let lease = lease_row(&mut tx, lease_id, caller_id).await?;
        if lease.outcome_at.is_some() {
            return Err(LeaseProblem::AlreadyRecorded);
        }
        if lease.released_at.is_some() {
            return Ok(());
        }
        sqlx::query("UPDATE leases SET released_at = $1 WHERE id = $2")
            .bind(now)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE contacts SET lease_id = NULL, available_at = $1 WHERE id = $2 AND lease_id = $3")
            .bind(now)
            .bind(lease.contact_id)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the outcome of a call made under a lease. A lease that lapsed still takes
    /// its outcome as long as nobody else has claimed the contact since.
    pub async fn record_outcome(
        &self,
        record: &OutcomeRecord<'_>,
    ) -> Result<RecordedOutcome, LeaseProblem> {
        let mut tx = self.begin_write().await?;
        let earlier = sqlx::query(
            "SELECT id, lease_id, contact_id, outcome FROM call_attempts WHERE caller_id = $1 AND idempotency_key = $2",
        )
        .bind(record.caller_id)
        .bind(record.idempotency_key)
        .fetch_optional(&mut *tx)
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
        let lease = lease_row(&mut tx, record.lease_id, record.caller_id).await?;
        if lease.outcome_at.is_some() {
            return Err(LeaseProblem::AlreadyRecorded);
        }
        if lease.released_at.is_some() {
            return Err(LeaseProblem::Released);
        }
        let contact =
            sqlx::query("SELECT lease_id, attempts, state, phone FROM contacts WHERE id = $1")
                .bind(lease.contact_id)
                .fetch_one(&mut *tx)
                .await?;
        if contact.try_get::<Option<i64>, _>("lease_id")? != Some(record.lease_id) {
            return Err(LeaseProblem::Expired);
        }
        let current = ContactQueueState {
            completed: contact.try_get::<i64, _>("state")? == FINISHED,
            suppressed: contact.try_get::<i64, _>("state")? == SUPPRESSED,
            attempts: u32::try_from(contact.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
            next_call_after: None,
            callback_at: None,
            lease_expires_at: None,
            time_zone: None,
        };
        let now = to_datetime(record.now);
        let next = apply_outcome(
            &current,
            record.outcome.effect,
            now,
            record.callback_at.map(to_datetime),
            record.retry,
        )
        .map_err(|_| LeaseProblem::MissingCallbackTime)?;
        let exhausted = !next.completed
            && next.callback_at.is_none()
            && next.attempts >= record.retry.max_attempts;
        let (state, priority, available_at) = if next.suppressed {
            (SUPPRESSED, PRIORITY_RETRY, record.now)
        } else if next.completed || exhausted {
            (FINISHED, PRIORITY_RETRY, record.now)
        } else if let Some(callback) = next.callback_at {
            (QUEUED, PRIORITY_CALLBACK, callback.timestamp_millis())
        } else {
            (
                QUEUED,
                PRIORITY_RETRY,
                next.next_call_after
                    .map_or(record.now, |t| t.timestamp_millis()),
            )
        };

        let attempt_id: i64 = sqlx::query(
            "INSERT INTO call_attempts (campaign_id, contact_id, lease_id, caller_id, outcome, conversation, answers, notes,
                 callback_at, next_available_at, idempotency_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(lease.campaign_id)
        .bind(lease.contact_id)
        .bind(record.lease_id)
        .bind(record.caller_id)
        .bind(&record.outcome.key)
        .bind(i64::from(record.outcome.counts_as_conversation))
        .bind(record.answers_json)
        .bind(record.notes)
        .bind(next.callback_at.map(|t| t.timestamp_millis()))
        .bind((state == QUEUED).then_some(available_at))
        .bind(record.idempotency_key)
        .bind(record.now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query("UPDATE leases SET outcome_at = $1 WHERE id = $2")
            .bind(record.now)
            .bind(record.lease_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE contacts SET state = $1, priority = $2, available_at = $3, attempts = $4, callback_at = $5,
                 lease_id = NULL, last_outcome = $6, last_called_at = $7
             WHERE id = $8",
        )
        .bind(state)
        .bind(priority)
        .bind(available_at)
        .bind(i64::from(next.attempts))
        .bind(next.callback_at.map(|t| t.timestamp_millis()))
        .bind(&record.outcome.key)
        .bind(record.now)
        .bind(lease.contact_id)
        .execute(&mut *tx)
        .await?;
        if record.outcome.effect == OutcomeEffect::DoNotCall {
            let phone: String = contact.try_get("phone")?;
            suppress_in_group(
                &mut tx,
                record.group_id,
                &phone,
                "asked not to be called",
                record.now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(RecordedOutcome {
            attempt_id,
            contact_id: lease.contact_id,
            outcome: record.outcome.key.clone(),
            replayed: false,
        })
    }
}

struct LeaseRow {
    contact_id: i64,
    campaign_id: i64,
    expires_at: Millis,
    released_at: Option<Millis>,
    outcome_at: Option<Millis>,
}

async fn lease_row(
    tx: &mut Transaction<'static, Any>,
    lease_id: i64,
    caller_id: i64,
) -> Result<LeaseRow, LeaseProblem> {
    let row = sqlx::query("SELECT contact_id, campaign_id, caller_id, expires_at, released_at, outcome_at FROM leases WHERE id = $1")
        .bind(lease_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(LeaseProblem::NotFound)?;
    if row.try_get::<i64, _>("caller_id")? != caller_id {
        return Err(LeaseProblem::NotYours);
    }
    Ok(LeaseRow {
        contact_id: row.try_get("contact_id")?,
        campaign_id: row.try_get("campaign_id")?,
        expires_at: row.try_get("expires_at")?,
        released_at: row.try_get("released_at")?,
        outcome_at: row.try_get("outcome_at")?,
    })
}

/// Adds `phone` to a group's do-not-call list and takes it out of the queues of the
/// group's campaigns.
pub(crate) async fn suppress_in_group(
    tx: &mut Transaction<'static, Any>,
    group_id: i64,
    phone: &str,
    reason: &str,
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO do_not_call (group_id, phone, reason, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
        .bind(group_id)
        .bind(phone)
        .bind(reason)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE contacts SET state = 2 WHERE phone = $1 AND state = 0
           AND campaign_id IN (SELECT id FROM call_campaigns WHERE group_id = $2)",
    )
    .bind(phone)
    .bind(group_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
