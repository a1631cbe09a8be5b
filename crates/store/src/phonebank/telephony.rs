//! Bridged calling's records: a caller's phone session (how they joined, on which node,
//! the PIN that names it while it is open), the caller's own number for "call me", and,
//! in `calls`, one record per call Barnstorm places to a contact. It stores what the
//! engine reports; placing calls and deciding outcomes are the engine's and the domain's.

mod calls;

pub use calls::{CallEnd, CallFigures, CallRecord, CallStart, HungUpBy};

use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::phone::PhoneNumber;
use rand::Rng;
use sqlx::Row;
use sqlx::any::AnyRow;

/// How a caller joined their phone session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinKind {
    /// Barnstorm rings the caller's own number.
    CallMe,
    /// The caller rings the campaign's number and types the session's PIN.
    DialIn,
}

impl JoinKind {
    /// The stored name: `call_me` or `dial_in`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallMe => "call_me",
            Self::DialIn => "dial_in",
        }
    }

    fn parse(stored: &str) -> Result<Self, sqlx::Error> {
        match stored {
            "call_me" => Ok(Self::CallMe),
            "dial_in" => Ok(Self::DialIn),
            other => Err(sqlx::Error::Decode(
                format!("join_kind: unknown '{other}'").into(),
            )),
        }
    }
}

/// A caller's audio session on one node, from "start calling" until it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneSession {
    /// Stable id.
    pub id: i64,
    /// The campaign they call for.
    pub campaign_id: i64,
    /// The caller's account.
    pub caller_id: i64,
    /// Six digits a dial-in caller types; unique among open sessions.
    pub pin: String,
    /// How they joined.
    pub join: JoinKind,
    /// The node whose SIP agent holds the session.
    pub node: String,
    /// When it was opened.
    pub started_at: Millis,
    /// When the caller's leg came up, if it has.
    pub joined_at: Option<Millis>,
    /// When it ended, if it has.
    pub ended_at: Option<Millis>,
    /// Why it ended (`replaced` when the caller opened another), if it has.
    pub end_reason: Option<String>,
}

const SESSION_COLUMNS: &str =
    "id, campaign_id, caller_id, pin, join_kind, node, started_at, joined_at, ended_at, end_reason";

/// Attempts at a PIN no open session holds before giving up: with a million PINs and
/// far fewer open sessions, a second attempt is already rare.
const PIN_ATTEMPTS: usize = 8;

impl PhoneSession {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            campaign_id: row.try_get("campaign_id")?,
            caller_id: row.try_get("caller_id")?,
            pin: row.try_get("pin")?,
            join: JoinKind::parse(&row.try_get::<String, _>("join_kind")?)?,
            node: row.try_get("node")?,
            started_at: row.try_get("started_at")?,
            joined_at: row.try_get("joined_at")?,
            ended_at: row.try_get("ended_at")?,
            end_reason: row.try_get("end_reason")?,
        })
    }
}

fn random_pin() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

impl Store {
    /// Opens a phone session for `caller_id` in `campaign_id` on `node`, ending their other
    /// open session in that campaign (reason `replaced`), with a random six-digit PIN no
    /// other open session holds.
    pub async fn open_phone_session(
        &self,
        campaign_id: i64,
        caller_id: i64,
        join: JoinKind,
        node: &str,
        now: Millis,
    ) -> Result<PhoneSession, StoreError> {
        for _ in 0..PIN_ATTEMPTS {
            let pin = random_pin();
            match self
                .try_open_phone_session(campaign_id, caller_id, join, node, now, &pin)
                .await
            {
                Ok(Some(session)) => return Ok(session),
                // The PIN is held, or another node drew it at the same moment and the
                // unique index refused this one: draw again.
                Ok(None) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Conflict("phone_sessions_open_pin".into()))
    }

    /// One attempt of [`Store::open_phone_session`] with `pin`; `None` when an open
    /// session holds it already.
    async fn try_open_phone_session(
        &self,
        campaign_id: i64,
        caller_id: i64,
        join: JoinKind,
        node: &str,
        now: Millis,
        pin: &str,
    ) -> Result<Option<PhoneSession>, StoreError> {
        let mut tx = self.begin_write().await?;
        let taken =
            sqlx::query("SELECT 1 AS one FROM phone_sessions WHERE pin = $1 AND ended_at IS NULL")
                .bind(pin)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(None);
        }
        sqlx::query(
            "UPDATE phone_sessions SET ended_at = $3, end_reason = 'replaced'
             WHERE campaign_id = $1 AND caller_id = $2 AND ended_at IS NULL",
        )
        .bind(campaign_id)
        .bind(caller_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(&format!(
            "INSERT INTO phone_sessions (campaign_id, caller_id, pin, join_kind, node, started_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {SESSION_COLUMNS}"
        ))
        .bind(campaign_id)
        .bind(caller_id)
        .bind(pin)
        .bind(join.as_str())
        .bind(node)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let session = PhoneSession::from_row(&row)?;
        tx.commit().await?;
        Ok(Some(session))
    }

    /// A phone session by id, open or ended.
    pub async fn phone_session(&self, id: i64) -> Result<Option<PhoneSession>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM phone_sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(PhoneSession::from_row).transpose()?)
    }

    /// The open session a dial-in caller's PIN names.
    pub async fn open_phone_session_by_pin(
        &self,
        pin: &str,
    ) -> Result<Option<PhoneSession>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM phone_sessions WHERE pin = $1 AND ended_at IS NULL"
        ))
        .bind(pin)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(PhoneSession::from_row).transpose()?)
    }

    /// The caller's open session in a campaign.
    pub async fn open_phone_session_of(
        &self,
        campaign_id: i64,
        caller_id: i64,
    ) -> Result<Option<PhoneSession>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM phone_sessions
             WHERE campaign_id = $1 AND caller_id = $2 AND ended_at IS NULL ORDER BY id DESC LIMIT 1"
        ))
        .bind(campaign_id)
        .bind(caller_id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(PhoneSession::from_row).transpose()?)
    }

    /// Marks the session's caller leg as up at `now`; the first time counts.
    pub async fn phone_session_joined(&self, id: i64, now: Millis) -> Result<(), StoreError> {
        sqlx::query("UPDATE phone_sessions SET joined_at = $2 WHERE id = $1 AND joined_at IS NULL")
            .bind(id)
            .bind(now)
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Ends a session for `reason`; ending an ended session changes nothing.
    pub async fn end_phone_session(
        &self,
        id: i64,
        reason: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE phone_sessions SET ended_at = $2, end_reason = $3 WHERE id = $1 AND ended_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(reason)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Sets (or with `None` forgets) the number Barnstorm rings for `user_id`'s "call me"
    /// sessions. It must be E.164 (`+442079460123`); normalise what people type with
    /// `barnstorm_domain::phone::normalise_phone` first.
    pub async fn set_caller_phone(
        &self,
        user_id: i64,
        e164: Option<&str>,
    ) -> Result<(), StoreError> {
        let Some(raw) = e164 else {
            sqlx::query("DELETE FROM caller_phones WHERE user_id = $1")
                .bind(user_id)
                .execute(self.writer())
                .await?;
            return Ok(());
        };
        let phone = PhoneNumber::try_from(raw.to_owned())
            .map_err(|e| StoreError::Invalid(format!("phone: {e}")))?;
        sqlx::query(
            "INSERT INTO caller_phones (user_id, phone, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(phone.as_str())
        .bind(now_millis())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The number Barnstorm rings for `user_id`'s "call me" sessions, if they gave one.
    pub async fn caller_phone(&self, user_id: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT phone FROM caller_phones WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.try_get("phone")).transpose()?)
    }
}
