//! The calling queue. A claim picks the first claimable contact of a campaign (due
//! callbacks first, then never-called, then retries, oldest first) and leases it to one
//! caller in a single transaction — `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single
//! queue writer on SQLite ([`super::sqlite_queue`]) — so a contact never has two live
//! leases. The leases table is also the audit log of which caller was shown which
//! contact, when. Outcomes are idempotent per caller and key, and acknowledged only once
//! committed.
//!
//! The SQL and the rules (is this lease still open, what an outcome does to the contact)
//! live here once; this file runs them over sqlx on PostgreSQL and the SQLite queue
//! writer runs the same statements in batches.

use super::campaigns::CallerPace;
use super::pace::{BARRED, CallerBar, HOUR_MS, MINUTE_MS, RECENT_DO_NOT_CALLS, RecentClaims};
use super::queue_status::CallerStanding;
use crate::{Millis, Store, StoreError};
use barnstorm_domain::outcome::{Outcome, OutcomeEffect};
use barnstorm_domain::queue_policy::{ContactQueueState, RetryPolicy, apply_outcome};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub(super) const QUEUED: i64 = 0;
pub(super) const FINISHED: i64 = 1;
pub(super) const SUPPRESSED: i64 = 2;
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

/// [`CONTACT_COLUMNS`], each qualified with `table` (a name or alias) for joins.
pub(super) fn contact_columns_of(table: &str) -> String {
    CONTACT_COLUMNS
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

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

/// A caller asking for the next contact of a campaign.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest {
    /// The campaign.
    pub campaign_id: i64,
    /// The caller.
    pub caller_id: i64,
    /// The time of the claim.
    pub now: Millis,
    /// How long a new lease lasts without a heartbeat.
    pub lease_ms: Millis,
    /// The start of the window in which skips count towards throttling.
    pub skips_since: Millis,
    /// More skips than this in the window and the caller is throttled.
    pub skip_limit: i64,
    /// Whether the campaign's calling hours are open at `now`.
    pub calling_hours_open: bool,
    /// The most new contacts the caller may be handed a minute and an hour.
    pub pace: CallerPace,
}

impl ClaimRequest {
    /// The pace windows' binds: the start and limit of the minute, then of the hour.
    pub(super) fn pace_windows(&self) -> [i64; 4] {
        [
            self.now - MINUTE_MS,
            self.pace.per_minute,
            self.now - HOUR_MS,
            self.pace.per_hour,
        ]
    }

    /// Why a caller who holds nothing gets no new contact, if they do not: too many
    /// skips, the pace limit reached, or calling hours closed.
    pub(super) fn refusal(&self, standing: &CallerStanding) -> Option<ClaimAnswer> {
        let pace_until = [
            standing
                .last_minute
                .limited_until(self.pace.per_minute, MINUTE_MS),
            standing
                .last_hour
                .limited_until(self.pace.per_hour, HOUR_MS),
        ]
        .into_iter()
        .flatten()
        .max();
        if standing.skips > self.skip_limit {
            Some(ClaimAnswer::Throttled {
                skips: standing.skips,
            })
        } else if let Some(retry_at) = pace_until {
            Some(ClaimAnswer::PaceLimited { retry_at })
        } else if !self.calling_hours_open {
            Some(ClaimAnswer::Nothing)
        } else {
            None
        }
    }

    /// Whether a claim that finds the caller's held contact renews its lease: as a
    /// heartbeat does, so that a caller coming back (a reload, a lost connection) is not
    /// cut off before their next heartbeat.
    pub(super) fn renews(&self, expires_at: Millis) -> bool {
        renewal_due(expires_at, self.now, self.lease_ms)
    }
}

/// Whether a live lease expiring at `expires_at` is extended at `now`: once less than half
/// of a lease of `lease_ms` remains, so most heartbeats need no write.
fn renewal_due(expires_at: Millis, now: Millis, lease_ms: Millis) -> bool {
    expires_at - now <= lease_ms / 2
}

/// What a caller's claim came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimAnswer {
    /// The contact the caller already holds (they reloaded or asked twice), its lease
    /// renewed when less than half of it remained.
    Held(ClaimedContact),
    /// A contact newly leased to the caller.
    Claimed(ClaimedContact),
    /// More skips in the window than the campaign allows: nothing was leased.
    Throttled {
        /// Skips in the window.
        skips: i64,
    },
    /// The caller was handed as many new contacts as the pace limit allows: nothing was
    /// leased.
    PaceLimited {
        /// When the caller may be handed the next contact.
        retry_at: Millis,
    },
    /// The caller is suspended or removed: nothing was leased or resumed.
    Barred(CallerBar),
    /// Nothing is claimable now, or calling hours are closed.
    Nothing,
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
    /// The lease is of another campaign than the one the outcome was sent for.
    #[error("this lease belongs to another campaign")]
    OtherCampaign,
    /// The caller is suspended or removed from the lease's campaign.
    #[error("{}", bar_words(*.0))]
    Barred(CallerBar),
    /// The caller recorded as many "do not call" outcomes this hour as the campaign allows.
    #[error(
        "you have recorded as many \"do not call\" outcomes this hour as this campaign allows; an organiser has been told"
    )]
    DoNotCallLimited {
        /// When the caller may record the next one.
        retry_at: Millis,
    },
    /// A correction named a call with no outcome recorded yet.
    #[error("no outcome has been recorded for this call yet")]
    NotRecordedYet,
    /// A correction came more than a minute after the call was saved, or after the
    /// caller had saved another call.
    #[error("a call can be changed only for a minute after saving it, and only your latest")]
    TooLateToChange,
    /// A correction came after someone else had the contact again.
    #[error(
        "this contact has been handed out or called again since, so the call can no longer be changed"
    )]
    CalledSince,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a barred caller is told.
fn bar_words(bar: CallerBar) -> &'static str {
    match bar {
        CallerBar::Suspended => {
            "an organiser has suspended your calling on this campaign; ask them to lift it"
        }
        CallerBar::Removed => "an organiser has removed you from this campaign",
    }
}

impl From<sqlx::Error> for LeaseProblem {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// An outcome to record on a lease.
#[derive(Debug, Clone, Copy)]
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
    /// The campaign the outcome was sent for: a lease of another is refused.
    pub campaign_id: i64,
    /// The group whose do-not-call list a do-not-call outcome adds to.
    pub group_id: i64,
    /// "Do not call" outcomes the caller may record in an hour.
    pub do_not_call_per_hour: i64,
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

pub(super) fn to_datetime(millis: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// Picks the next claimable contact (PostgreSQL adds `FOR UPDATE SKIP LOCKED`).
pub(super) const PICK_CONTACT: &str =
    "SELECT id FROM contacts WHERE campaign_id = $1 AND state = 0 AND available_at <= $2
     ORDER BY priority, available_at, id LIMIT 1";
pub(super) const INSERT_LEASE: &str =
    "INSERT INTO leases (contact_id, campaign_id, caller_id, claimed_at, expires_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING id";
/// Marks a contact leased and returns it.
pub(super) static LEASE_CONTACT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE contacts SET lease_id = $1, available_at = $2 WHERE id = $3 RETURNING {CONTACT_COLUMNS}"
    )
});
/// PostgreSQL's claim: [`PICK_CONTACT`], [`INSERT_LEASE`] and [`LEASE_CONTACT`] as one
/// statement (`$1` campaign, `$2` now, `$3` caller, `$4` expiry).
static CLAIM_IN_ONE_STATEMENT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH picked AS ({PICK_CONTACT} FOR UPDATE SKIP LOCKED),
         lease AS (
             INSERT INTO leases (contact_id, campaign_id, caller_id, claimed_at, expires_at)
             SELECT id, $1, $3, $2, $4 FROM picked RETURNING id, contact_id)
         UPDATE contacts SET lease_id = lease.id, available_at = $4 FROM lease
         WHERE contacts.id = lease.contact_id
         RETURNING lease.id AS lease_id, {}",
        contact_columns_of("contacts")
    )
});
/// A lease with its caller's bar on the campaign ([`BARRED`]).
pub(super) static SELECT_LEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT l.contact_id, l.campaign_id, l.caller_id, l.expires_at, l.released_at, l.outcome_at, {BARRED} FROM leases l WHERE l.id = $1"
    )
});
pub(super) const EXTEND_LEASE: &str = "UPDATE leases SET expires_at = $1 WHERE id = $2";
pub(super) const EXTEND_CONTACT: &str =
    "UPDATE contacts SET available_at = $1 WHERE id = $2 AND lease_id = $3";
pub(super) const RELEASE_LEASE: &str = "UPDATE leases SET released_at = $1 WHERE id = $2";
pub(super) const RELEASE_CONTACT: &str =
    "UPDATE contacts SET lease_id = NULL, available_at = $1 WHERE id = $2 AND lease_id = $3";
pub(super) const EARLIER_ATTEMPT: &str = "SELECT id, lease_id, contact_id, outcome FROM call_attempts WHERE caller_id = $1 AND idempotency_key = $2";
pub(super) const OUTCOME_CONTACT: &str =
    "SELECT lease_id, attempts, state, phone FROM contacts WHERE id = $1";
pub(super) const INSERT_ATTEMPT: &str = "INSERT INTO call_attempts (campaign_id, contact_id, lease_id, caller_id, outcome, conversation, answers, notes,
         callback_at, next_available_at, idempotency_key, created_at, do_not_call)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
pub(super) const CLOSE_LEASE: &str = "UPDATE leases SET outcome_at = $1 WHERE id = $2";
pub(super) const SETTLE_CONTACT: &str = "UPDATE contacts SET state = $1, priority = $2, available_at = $3, attempts = $4, callback_at = $5,
         lease_id = NULL, last_outcome = $6, last_called_at = $7
     WHERE id = $8";
/// Puts a number on a group's do-not-call list, naming the campaign and account it came from.
pub(super) const ADD_DO_NOT_CALL: &str = "INSERT INTO do_not_call (group_id, phone, reason, created_at, campaign_id, added_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
pub(super) const SUPPRESS_PHONE: &str =
    "UPDATE contacts SET state = 2 WHERE phone = $1 AND state = 0
       AND campaign_id IN (SELECT id FROM call_campaigns WHERE group_id = $2)";
/// The reason stored with a number added by a "do not call" outcome.
pub(super) const ASKED_NOT_TO_BE_CALLED: &str = "asked not to be called";

/// A lease as the queue's checks need it.
pub(super) struct LeaseRow {
    pub(super) contact_id: i64,
    pub(super) campaign_id: i64,
    pub(super) caller_id: i64,
    pub(super) expires_at: Millis,
    pub(super) released_at: Option<Millis>,
    pub(super) outcome_at: Option<Millis>,
    pub(super) barred: Option<CallerBar>,
}

impl LeaseRow {
    /// The lease, if it is `caller_id`'s and they are not suspended or removed.
    pub(super) fn owned_by(self, caller_id: i64) -> Result<Self, LeaseProblem> {
        if self.caller_id != caller_id {
            Err(LeaseProblem::NotYours)
        } else if let Some(bar) = self.barred {
            Err(LeaseProblem::Barred(bar))
        } else {
            Ok(self)
        }
    }

    /// May an outcome for `record` be recorded on it? (The contact must also still be
    /// under it.)
    pub(super) fn check_outcome_for(&self, record: &OutcomeRecord<'_>) -> Result<(), LeaseProblem> {
        if self.campaign_id != record.campaign_id {
            return Err(LeaseProblem::OtherCampaign);
        }
        self.check_outcome()
    }

    /// May the lease be extended at `now`?
    pub(super) fn check_heartbeat(&self, now: Millis) -> Result<(), LeaseProblem> {
        if self.released_at.is_some() {
            return Err(LeaseProblem::Released);
        }
        if self.outcome_at.is_some() {
            return Err(LeaseProblem::AlreadyRecorded);
        }
        if self.expires_at <= now {
            return Err(LeaseProblem::Expired);
        }
        Ok(())
    }

    /// May the contact be given back? `Ok(false)` when it was already.
    pub(super) fn check_release(&self) -> Result<bool, LeaseProblem> {
        if self.outcome_at.is_some() {
            return Err(LeaseProblem::AlreadyRecorded);
        }
        Ok(self.released_at.is_none())
    }

    /// May an outcome be recorded on it? (The contact must also still be under it.)
    pub(super) fn check_outcome(&self) -> Result<(), LeaseProblem> {
        if self.outcome_at.is_some() {
            return Err(LeaseProblem::AlreadyRecorded);
        }
        if self.released_at.is_some() {
            return Err(LeaseProblem::Released);
        }
        Ok(())
    }
}

/// What recording an outcome does to the contact.
pub(super) struct Settlement {
    pub(super) state: i64,
    pub(super) priority: i64,
    pub(super) available_at: Millis,
    pub(super) attempts: i64,
    pub(super) callback_at: Option<Millis>,
}

impl Settlement {
    /// Applies `record`'s outcome to a contact in `state` with `attempts` calls so far.
    pub(super) fn plan(
        record: &OutcomeRecord<'_>,
        state: i64,
        attempts: i64,
    ) -> Result<Self, LeaseProblem> {
        let current = ContactQueueState {
            completed: state == FINISHED,
            suppressed: state == SUPPRESSED,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_call_after: None,
            callback_at: None,
            lease_expires_at: None,
            time_zone: None,
        };
        let next = apply_outcome(
            &current,
            record.outcome.effect,
            to_datetime(record.now),
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
        Ok(Self {
            state,
            priority,
            available_at,
            attempts: i64::from(next.attempts),
            callback_at: next.callback_at.map(|t| t.timestamp_millis()),
        })
    }

    /// When the contact is next callable, stored with the attempt (none once settled).
    pub(super) fn next_available_at(&self) -> Option<Millis> {
        (self.state == QUEUED).then_some(self.available_at)
    }
}

impl Store {
    /// A caller's claim: the contact they already hold if they hold one; otherwise, unless
    /// they skipped too often or calling hours are closed, the next claimable contact.
    /// On SQLite it is one job of the queue writer; on PostgreSQL a read of the caller's
    /// standing and then [`Store::claim_next_contact`].
    pub async fn claim_for_caller(
        &self,
        request: &ClaimRequest,
    ) -> Result<ClaimAnswer, StoreError> {
        if let Some(queue) = self.sqlite_queue() {
            return queue.claim_for_caller(*request).await;
        }
        let standing = self.caller_standing(request).await?;
        if let Some(bar) = standing.barred {
            return Ok(ClaimAnswer::Barred(bar));
        }
        if let Some(lease_id) = standing.held_lease
            && let Some(mut held) = self
                .held_contact(lease_id, request.caller_id, request.now)
                .await?
        {
            if !request.renews(held.expires_at) {
                return Ok(ClaimAnswer::Held(held));
            }
            // The lease may lapse between the read and the renewal; then the caller
            // claims afresh below.
            if let Ok(expires_at) = self
                .extend_lease(lease_id, request.caller_id, request.now, request.lease_ms)
                .await
            {
                held.expires_at = expires_at;
                return Ok(ClaimAnswer::Held(held));
            }
        }
        if let Some(refused) = request.refusal(&standing) {
            return Ok(refused);
        }
        let claimed = self
            .claim_next_contact(
                request.campaign_id,
                request.caller_id,
                request.now,
                request.lease_ms,
            )
            .await?;
        Ok(claimed.map_or(ClaimAnswer::Nothing, ClaimAnswer::Claimed))
    }

    /// Leases the next claimable contact of `campaign_id` to `caller_id` until
    /// `now + lease_ms`; `None` when nothing is claimable.
    pub async fn claim_next_contact(
        &self,
        campaign_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<ClaimedContact>, StoreError> {
        if let Some(queue) = self.sqlite_queue() {
            return queue.claim(campaign_id, caller_id, now, lease_ms).await;
        }
        // PostgreSQL: pick, lease and mark the contact in one statement (one round trip,
        // committed on its own); `SKIP LOCKED` lets simultaneous claims pass each other.
        let expires_at = now + lease_ms;
        let rows = sqlx::query(&CLAIM_IN_ONE_STATEMENT)
            .bind(campaign_id)
            .bind(now)
            .bind(caller_id)
            .bind(expires_at)
            .fetch_all(self.writer())
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(ClaimedContact {
            lease_id: row.try_get("lease_id")?,
            expires_at,
            contact: Contact::from_row(row)?,
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
        let current = sqlx::query(&SELECT_LEASE)
            .bind(lease_id)
            .fetch_optional(self.reader())
            .await?
            .ok_or(LeaseProblem::NotFound)?;
        let current = LeaseRow::from_row(&current)?.owned_by(caller_id)?;
        let open = current.released_at.is_none() && current.outcome_at.is_none();
        if open && !renewal_due(current.expires_at, now, lease_ms) {
            return Ok(current.expires_at);
        }
        if let Some(queue) = self.sqlite_queue() {
            return queue.heartbeat(lease_id, caller_id, now, lease_ms).await;
        }
        self.extend_lease(lease_id, caller_id, now, lease_ms).await
    }

    /// Extends a live lease of `caller_id` to `now + lease_ms` in one write transaction
    /// (PostgreSQL; on SQLite the queue writer does this).
    async fn extend_lease(
        &self,
        lease_id: i64,
        caller_id: i64,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Millis, LeaseProblem> {
        let expires_at = now + lease_ms;
        let mut tx = self.begin_write().await?;
        let lease = lease_row(&mut tx, lease_id, caller_id).await?;
        lease.check_heartbeat(now)?;
        sqlx::query(EXTEND_LEASE)
            .bind(expires_at)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(EXTEND_CONTACT)
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
        if let Some(queue) = self.sqlite_queue() {
            return queue.release(lease_id, caller_id, now).await;
        }
        let mut tx = self.begin_write().await?;
        let lease = lease_row(&mut tx, lease_id, caller_id).await?;
        if !lease.check_release()? {
            return Ok(());
        }
        sqlx::query(RELEASE_LEASE)
            .bind(now)
            .bind(lease_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(RELEASE_CONTACT)
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
        if let Some(queue) = self.sqlite_queue() {
            return queue.record_outcome(record).await;
        }
        let mut tx = self.begin_write().await?;
        let earlier = sqlx::query(EARLIER_ATTEMPT)
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
        lease.check_outcome_for(record)?;
        if record.outcome.effect == OutcomeEffect::DoNotCall {
            check_do_not_call_limit(&mut tx, record).await?;
        }
        let contact = sqlx::query(OUTCOME_CONTACT)
            .bind(lease.contact_id)
            .fetch_one(&mut *tx)
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
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        sqlx::query(CLOSE_LEASE)
            .bind(record.now)
            .bind(record.lease_id)
            .execute(&mut *tx)
            .await?;
        settle_contact(&mut tx, &settled, record, lease.contact_id).await?;
        if record.outcome.effect == OutcomeEffect::DoNotCall {
            let phone: String = contact.try_get("phone")?;
            suppress_in_group(
                &mut tx,
                record.group_id,
                &phone,
                DoNotCallSource {
                    reason: ASKED_NOT_TO_BE_CALLED,
                    campaign_id: Some(lease.campaign_id),
                    added_by: Some(record.caller_id),
                },
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

impl LeaseRow {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            contact_id: row.try_get("contact_id")?,
            campaign_id: row.try_get("campaign_id")?,
            caller_id: row.try_get("caller_id")?,
            expires_at: row.try_get("expires_at")?,
            released_at: row.try_get("released_at")?,
            outcome_at: row.try_get("outcome_at")?,
            barred: CallerBar::from_code(row.try_get("barred")?),
        })
    }
}

async fn lease_row(
    tx: &mut Transaction<'static, Any>,
    lease_id: i64,
    caller_id: i64,
) -> Result<LeaseRow, LeaseProblem> {
    // Locked, so two outcomes sent at once for the same lease cannot both pass the checks.
    let row = sqlx::query(&format!("{} FOR UPDATE OF l", *SELECT_LEASE))
        .bind(lease_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(LeaseProblem::NotFound)?;
    LeaseRow::from_row(&row)?.owned_by(caller_id)
}

/// Refuses a "do not call" outcome beyond the caller's hourly limit of them.
pub(super) async fn check_do_not_call_limit(
    tx: &mut Transaction<'static, Any>,
    record: &OutcomeRecord<'_>,
) -> Result<(), LeaseProblem> {
    let recent = sqlx::query(RECENT_DO_NOT_CALLS)
        .bind(record.caller_id)
        .bind(record.campaign_id)
        .bind(record.now - HOUR_MS)
        .bind(record.do_not_call_per_hour)
        .fetch_one(&mut **tx)
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
pub(super) async fn settle_contact(
    tx: &mut Transaction<'static, Any>,
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
        .execute(&mut **tx)
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
    tx: &mut Transaction<'static, Any>,
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
        .execute(&mut **tx)
        .await?;
    sqlx::query(SUPPRESS_PHONE)
        .bind(phone)
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
