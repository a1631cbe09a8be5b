//! The queue's SQL, written once for both engines (`$1` binds in order of appearance,
//! since the SQLite writer binds by position); PostgreSQL's claim for many callers at once
//! is built in `postgres/claims.rs`. Statements only: which run when, and what they
//! decide, is elsewhere.

use super::contact::CONTACT_COLUMNS;
use crate::phonebank::pace::BARRED;
use std::sync::LazyLock;

/// Picks the next claimable contact (the SQLite writer's claim).
pub(crate) const PICK_CONTACT: &str =
    "SELECT id FROM contacts WHERE campaign_id = $1 AND state = 0 AND available_at <= $2
     ORDER BY priority, available_at, id LIMIT 1";
pub(crate) const INSERT_LEASE: &str =
    "INSERT INTO leases (contact_id, campaign_id, caller_id, claimed_at, expires_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING id";
/// Marks a contact leased and returns it.
pub(crate) static LEASE_CONTACT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE contacts SET lease_id = $1, available_at = $2 WHERE id = $3 RETURNING {CONTACT_COLUMNS}"
    )
});
/// A lease with its caller's bar on the campaign ([`BARRED`]).
pub(crate) static SELECT_LEASE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT l.contact_id, l.campaign_id, l.caller_id, l.expires_at, l.released_at, l.outcome_at, {BARRED} FROM leases l WHERE l.id = $1"
    )
});
pub(crate) const EXTEND_LEASE: &str = "UPDATE leases SET expires_at = $1 WHERE id = $2";
pub(crate) const EXTEND_CONTACT: &str =
    "UPDATE contacts SET available_at = $1 WHERE id = $2 AND lease_id = $3";
pub(crate) const RELEASE_LEASE: &str = "UPDATE leases SET released_at = $1 WHERE id = $2";
pub(crate) const RELEASE_CONTACT: &str =
    "UPDATE contacts SET lease_id = NULL, available_at = $1 WHERE id = $2 AND lease_id = $3";
pub(crate) const EARLIER_ATTEMPT: &str = "SELECT id, lease_id, contact_id, outcome FROM call_attempts WHERE caller_id = $1 AND idempotency_key = $2";
pub(crate) const OUTCOME_CONTACT: &str =
    "SELECT lease_id, attempts, state, phone FROM contacts WHERE id = $1";
pub(crate) const INSERT_ATTEMPT: &str = "INSERT INTO call_attempts (campaign_id, contact_id, lease_id, caller_id, outcome, conversation, answers, notes,
         callback_at, next_available_at, idempotency_key, created_at, do_not_call)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
pub(crate) const CLOSE_LEASE: &str = "UPDATE leases SET outcome_at = $1 WHERE id = $2";
pub(crate) const SETTLE_CONTACT: &str = "UPDATE contacts SET state = $1, priority = $2, available_at = $3, attempts = $4, callback_at = $5,
         lease_id = NULL, last_outcome = $6, last_called_at = $7
     WHERE id = $8";
/// Puts a number on a group's do-not-call list, naming the campaign and account it came from.
pub(crate) const ADD_DO_NOT_CALL: &str = "INSERT INTO do_not_call (group_id, phone, reason, created_at, campaign_id, added_by) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
pub(crate) const SUPPRESS_PHONE: &str =
    "UPDATE contacts SET state = 2 WHERE phone = $1 AND state = 0
       AND campaign_id IN (SELECT id FROM call_campaigns WHERE group_id = $2)";
/// The reason stored with a number added by a "do not call" outcome.
pub(crate) const ASKED_NOT_TO_BE_CALLED: &str = "asked not to be called";
