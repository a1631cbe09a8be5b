//! Changing a call just saved: a caller may replace the outcome, answers and notes of
//! their own latest call in a campaign for [`CORRECTION_WINDOW_MS`] after saving it, as
//! long as nobody has called the contact since. The contact's place in the queue is worked
//! out again as if the new outcome had been chosen at the time of the call, and a number
//! the call put on the do-not-call list comes off it (one already there stays). It runs
//! in one write transaction on both engines, with its audit entry; it must not touch any
//! other caller's call.

use super::queue::{
    ASKED_NOT_TO_BE_CALLED, DoNotCallSource, LeaseProblem, LeaseRow, OutcomeRecord, QUEUED,
    RecordedOutcome, SELECT_LEASE, SUPPRESSED, Settlement, check_do_not_call_limit, settle_contact,
    suppress_in_group,
};
use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Backend, Millis, Store, StoreError};
use barnstorm_domain::outcome::OutcomeEffect;
use sqlx::Row;

/// How long after saving a call its caller may still change it.
pub const CORRECTION_WINDOW_MS: Millis = 60_000;

/// A caller's latest call in a campaign, as the "edit my last call" form shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastCall {
    /// The lease the call was made under (what a correction names).
    pub lease_id: i64,
    /// The contact called.
    pub contact_id: i64,
    /// The contact's first name.
    pub first_name: String,
    /// The contact's last name.
    pub last_name: String,
    /// The number rung, E.164.
    pub phone: String,
    /// The outcome key recorded.
    pub outcome: String,
    /// The survey answers recorded, by question key.
    pub answers: serde_json::Map<String, serde_json::Value>,
    /// The notes recorded.
    pub notes: String,
    /// For a callback: when to ring back.
    pub callback_at: Option<Millis>,
    /// When it was saved.
    pub created_at: Millis,
}

impl LastCall {
    /// Until when the call may still be changed.
    pub fn changeable_until(&self) -> Millis {
        self.created_at + CORRECTION_WINDOW_MS
    }
}

const LATEST_CALL: &str =
    "SELECT a.lease_id, a.contact_id, a.outcome, a.answers, a.notes, a.callback_at, a.created_at,
            c.first_name, c.last_name, c.phone
     FROM call_attempts a JOIN contacts c ON c.id = a.contact_id
     WHERE a.caller_id = $1 AND a.campaign_id = $2
     ORDER BY a.created_at DESC, a.id DESC LIMIT 1";

const ATTEMPT_OF_LEASE: &str = "SELECT id, contact_id, outcome, do_not_call, created_at FROM call_attempts WHERE lease_id = $1";

const LATER_CALL_BY_CALLER: &str = "SELECT 1 AS later FROM call_attempts
     WHERE caller_id = $1 AND campaign_id = $2 AND id <> $3 AND created_at >= $4 LIMIT 1";

const CONTACT_NOW: &str =
    "SELECT lease_id, attempts, phone, last_called_at FROM contacts WHERE id = $1";

/// Deletes the do-not-call entry the call itself made: same group, number, campaign and
/// caller, added at the moment of the call.
const REMOVE_OWN_DO_NOT_CALL: &str = "DELETE FROM do_not_call
     WHERE group_id = $1 AND phone = $2 AND campaign_id = $3 AND added_by = $4 AND created_at = $5";

const ON_DO_NOT_CALL: &str =
    "SELECT 1 AS listed FROM do_not_call WHERE group_id = $1 AND phone = $2";

const REWRITE_ATTEMPT: &str =
    "UPDATE call_attempts SET outcome = $1, conversation = $2, answers = $3, notes = $4,
         callback_at = $5, next_available_at = $6, do_not_call = $7
     WHERE id = $8";

impl Store {
    /// The caller's latest call in a campaign, if they made one.
    pub async fn last_call(
        &self,
        campaign_id: i64,
        caller_id: i64,
    ) -> Result<Option<LastCall>, StoreError> {
        let Some(row) = sqlx::query(LATEST_CALL)
            .bind(caller_id)
            .bind(campaign_id)
            .fetch_optional(self.reader())
            .await?
        else {
            return Ok(None);
        };
        let answers: String = row.try_get("answers")?;
        Ok(Some(LastCall {
            lease_id: row.try_get("lease_id")?,
            contact_id: row.try_get("contact_id")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            phone: row.try_get("phone")?,
            outcome: row.try_get("outcome")?,
            answers: serde_json::from_str(&answers).unwrap_or_default(),
            notes: row.try_get("notes")?,
            callback_at: row.try_get("callback_at")?,
            created_at: row.try_get("created_at")?,
        }))
    }

    /// Replaces the outcome recorded on `record.lease_id` with `record`'s, if it is the
    /// caller's own latest call in the campaign, saved less than [`CORRECTION_WINDOW_MS`]
    /// before `record.now`, and nobody has called the contact since. The record's
    /// idempotency key is not used: a correction replaces, so sending it twice changes
    /// nothing more.
    pub async fn correct_outcome(
        &self,
        record: &OutcomeRecord<'_>,
    ) -> Result<RecordedOutcome, LeaseProblem> {
        let mut tx = self.begin_write().await?;
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE OF l",
            Backend::Sqlite => "",
        };
        let lease = sqlx::query(&format!("{}{lock}", *SELECT_LEASE))
            .bind(record.lease_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(LeaseProblem::NotFound)?;
        let lease = LeaseRow::from_row(&lease)?.owned_by(record.caller_id)?;
        if lease.campaign_id != record.campaign_id {
            return Err(LeaseProblem::OtherCampaign);
        }
        let attempt = sqlx::query(ATTEMPT_OF_LEASE)
            .bind(record.lease_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(LeaseProblem::NotRecordedYet)?;
        let attempt_id: i64 = attempt.try_get("id")?;
        let called_at: Millis = attempt.try_get("created_at")?;
        let was_do_not_call = attempt.try_get::<i64, _>("do_not_call")? == 1;
        if record.now >= called_at + CORRECTION_WINDOW_MS {
            return Err(LeaseProblem::TooLateToChange);
        }
        let later = sqlx::query(LATER_CALL_BY_CALLER)
            .bind(record.caller_id)
            .bind(record.campaign_id)
            .bind(attempt_id)
            .bind(called_at)
            .fetch_optional(&mut *tx)
            .await?;
        if later.is_some() {
            return Err(LeaseProblem::TooLateToChange);
        }
        let contact = sqlx::query(CONTACT_NOW)
            .bind(lease.contact_id)
            .fetch_one(&mut *tx)
            .await?;
        let called_again = contact.try_get::<Option<i64>, _>("lease_id")?.is_some()
            || contact.try_get::<Option<Millis>, _>("last_called_at")? != Some(called_at);
        if called_again {
            return Err(LeaseProblem::CalledSince);
        }
        let is_do_not_call = record.outcome.effect == OutcomeEffect::DoNotCall;
        if is_do_not_call && !was_do_not_call {
            check_do_not_call_limit(&mut tx, record).await?;
        }
        let phone: String = contact.try_get("phone")?;
        if was_do_not_call {
            sqlx::query(REMOVE_OWN_DO_NOT_CALL)
                .bind(record.group_id)
                .bind(&phone)
                .bind(record.campaign_id)
                .bind(record.caller_id)
                .bind(called_at)
                .execute(&mut *tx)
                .await?;
        }
        let still_listed = sqlx::query(ON_DO_NOT_CALL)
            .bind(record.group_id)
            .bind(&phone)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        // The contact as it was when claimed (claims only take queued contacts), unless
        // its number is on the list for another reason; planned at the time of the call,
        // so a cooldown runs from the call, not from the correction.
        let before = if still_listed { SUPPRESSED } else { QUEUED };
        let attempts_before = contact.try_get::<i64, _>("attempts")? - 1;
        let at_call = OutcomeRecord {
            now: called_at,
            ..*record
        };
        let settled = Settlement::plan(&at_call, before, attempts_before)?;
        sqlx::query(REWRITE_ATTEMPT)
            .bind(&record.outcome.key)
            .bind(i64::from(record.outcome.counts_as_conversation))
            .bind(record.answers_json)
            .bind(record.notes)
            .bind(settled.callback_at)
            .bind(settled.next_available_at())
            .bind(i64::from(is_do_not_call))
            .bind(attempt_id)
            .execute(&mut *tx)
            .await?;
        settle_contact(&mut tx, &settled, &at_call, lease.contact_id).await?;
        if is_do_not_call {
            suppress_in_group(
                &mut tx,
                record.group_id,
                &phone,
                DoNotCallSource {
                    reason: ASKED_NOT_TO_BE_CALLED,
                    campaign_id: Some(record.campaign_id),
                    added_by: Some(record.caller_id),
                },
                called_at,
            )
            .await?;
        }
        let old_outcome: String = attempt.try_get("outcome")?;
        audit_about_in(
            &mut tx,
            Some(record.caller_id),
            AuditAction::CallCorrect,
            About {
                contact_id: Some(lease.contact_id),
                ..About::campaign(record.group_id, record.campaign_id)
            },
            &format!("call {attempt_id}"),
            &format!("{old_outcome} → {}", record.outcome.key),
        )
        .await?;
        tx.commit().await?;
        Ok(RecordedOutcome {
            attempt_id,
            contact_id: lease.contact_id,
            outcome: record.outcome.key.clone(),
            replayed: false,
        })
    }
}
