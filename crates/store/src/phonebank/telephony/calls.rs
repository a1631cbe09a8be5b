//! Call records: one row per call Barnstorm places to a contact under a lease, with when
//! it was dialled, rang, was answered and ended, who hung up, the SIP final status and the
//! outcome proposed from them; and the figures dashboards draw from them. Each moment is
//! written once, so a repeated event from the SIP agent never moves a time.

use crate::{Millis, Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Who ended a bridged call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HungUpBy {
    /// The contact hung up (or never answered).
    Contact,
    /// The volunteer pressed "Hang up" or left.
    Caller,
    /// Barnstorm gave up (no answer after the ring time, the session ended).
    Barnstorm,
    /// The trunk or the node failed.
    Network,
}

impl HungUpBy {
    /// The stored name: `contact`, `caller`, `barnstorm` or `network`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contact => "contact",
            Self::Caller => "caller",
            Self::Barnstorm => "barnstorm",
            Self::Network => "network",
        }
    }

    fn parse(stored: &str) -> Result<Self, sqlx::Error> {
        match stored {
            "contact" => Ok(Self::Contact),
            "caller" => Ok(Self::Caller),
            "barnstorm" => Ok(Self::Barnstorm),
            "network" => Ok(Self::Network),
            other => Err(sqlx::Error::Decode(
                format!("hung_up_by: unknown '{other}'").into(),
            )),
        }
    }
}

/// A call being placed: the lease it is made under and the session it is bridged into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStart {
    /// The campaign.
    pub campaign_id: i64,
    /// The lease that holds the contact for the call.
    pub lease_id: i64,
    /// The contact rung.
    pub contact_id: i64,
    /// The caller who asked for the call.
    pub caller_id: i64,
    /// The caller's phone session.
    pub session_id: i64,
    /// The node placing it.
    pub node: String,
    /// When it was dialled.
    pub now: Millis,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEnd {
    /// When.
    pub now: Millis,
    /// Who ended it.
    pub hung_up_by: HungUpBy,
    /// The final SIP status, when the call failed with one.
    pub sip_status: Option<u16>,
    /// The cause the network or Barnstorm gave (a SIP reason, "trunk unreachable").
    pub cause: Option<String>,
    /// The outcome key proposed from it (`barnstorm_domain::call_result::propose`).
    pub proposed_outcome: Option<String>,
}

/// One call Barnstorm placed, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// Stable id.
    pub id: i64,
    /// The campaign.
    pub campaign_id: i64,
    /// The lease it was made under.
    pub lease_id: i64,
    /// The contact rung.
    pub contact_id: i64,
    /// The caller.
    pub caller_id: i64,
    /// The caller's phone session.
    pub session_id: i64,
    /// The node that placed it.
    pub node: String,
    /// When it was dialled.
    pub dialled_at: Millis,
    /// When it first rang.
    pub ringing_at: Option<Millis>,
    /// When the contact answered.
    pub answered_at: Option<Millis>,
    /// When it ended; `None` while it lasts (or if its node died).
    pub ended_at: Option<Millis>,
    /// Who ended it.
    pub hung_up_by: Option<HungUpBy>,
    /// The final SIP status, when it failed with one.
    pub sip_status: Option<u16>,
    /// The cause given.
    pub cause: Option<String>,
    /// The outcome proposed to the caller.
    pub proposed_outcome: Option<String>,
}

const CALL_COLUMNS: &str =
    "id, campaign_id, lease_id, contact_id, caller_id, session_id, node, dialled_at,
    ringing_at, answered_at, ended_at, hung_up_by, sip_status, cause, proposed_outcome";

impl CallRecord {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            campaign_id: row.try_get("campaign_id")?,
            lease_id: row.try_get("lease_id")?,
            contact_id: row.try_get("contact_id")?,
            caller_id: row.try_get("caller_id")?,
            session_id: row.try_get("session_id")?,
            node: row.try_get("node")?,
            dialled_at: row.try_get("dialled_at")?,
            ringing_at: row.try_get("ringing_at")?,
            answered_at: row.try_get("answered_at")?,
            ended_at: row.try_get("ended_at")?,
            hung_up_by: row
                .try_get::<Option<String>, _>("hung_up_by")?
                .as_deref()
                .map(HungUpBy::parse)
                .transpose()?,
            sip_status: row
                .try_get::<Option<i64>, _>("sip_status")?
                .and_then(|s| u16::try_from(s).ok()),
            cause: row.try_get("cause")?,
            proposed_outcome: row.try_get("proposed_outcome")?,
        })
    }
}

/// What a campaign's bridged calls add up to since some moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallFigures {
    /// Calls placed.
    pub dialled: u64,
    /// Calls the contact answered.
    pub answered: u64,
    /// Time on answered calls, from answer to hang-up, in milliseconds (calls still going
    /// are not counted yet).
    pub talk_ms: i64,
    /// Answered calls over calls placed, from 0 to 1 (0 when none were placed).
    pub connect_rate: f64,
    /// The mean time on an answered, ended call, in milliseconds (0 when there was none).
    pub mean_talk_ms: i64,
}

impl Store {
    /// Records a call dialled under a lease; returns its id.
    pub async fn call_dialled(&self, start: &CallStart) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO call_records (campaign_id, lease_id, contact_id, caller_id, session_id, node, dialled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(start.campaign_id)
        .bind(start.lease_id)
        .bind(start.contact_id)
        .bind(start.caller_id)
        .bind(start.session_id)
        .bind(&start.node)
        .bind(start.now)
        .fetch_one(self.writer())
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Records that a call started ringing; the earliest time is kept.
    pub async fn call_ringing(&self, id: i64, now: Millis) -> Result<(), StoreError> {
        self.first_call_time(id, "ringing_at", now).await
    }

    /// Records that the contact answered; the earliest time is kept.
    pub async fn call_answered(&self, id: i64, now: Millis) -> Result<(), StoreError> {
        self.first_call_time(id, "answered_at", now).await
    }

    async fn first_call_time(
        &self,
        id: i64,
        column: &'static str,
        now: Millis,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "UPDATE call_records SET {column} = $2 WHERE id = $1 AND {column} IS NULL"
        ))
        .bind(id)
        .bind(now)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Records how a call ended; a call that has ended keeps its first ending.
    pub async fn call_ended(&self, id: i64, end: &CallEnd) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE call_records SET ended_at = $2, hung_up_by = $3, sip_status = $4, cause = $5,
                 proposed_outcome = $6
             WHERE id = $1 AND ended_at IS NULL",
        )
        .bind(id)
        .bind(end.now)
        .bind(end.hung_up_by.as_str())
        .bind(end.sip_status.map(i64::from))
        .bind(&end.cause)
        .bind(&end.proposed_outcome)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The calls made under a lease, first dialled first.
    pub async fn calls_of_lease(&self, lease_id: i64) -> Result<Vec<CallRecord>, StoreError> {
        self.calls_where("lease_id = $1", lease_id.into()).await
    }

    /// The calls of `node` that have not ended, for the node to settle when it restarts.
    pub async fn unfinished_calls(&self, node: &str) -> Result<Vec<CallRecord>, StoreError> {
        self.calls_where("node = $1 AND ended_at IS NULL", node.into())
            .await
    }

    async fn calls_where(
        &self,
        condition: &str,
        value: CallKey<'_>,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM call_records WHERE {condition} ORDER BY dialled_at, id"
        );
        let query = sqlx::query(&sql);
        let query = match value {
            CallKey::Id(id) => query.bind(id),
            CallKey::Text(text) => query.bind(text),
        };
        let rows = query.fetch_all(self.reader()).await?;
        Ok(rows
            .iter()
            .map(CallRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The calls of a campaign that have no end although the lease they were made under
    /// expired before `now`: their node died mid-call and nothing closed them. Oldest
    /// first.
    pub async fn calls_left_unfinished(
        &self,
        campaign_id: i64,
        now: Millis,
    ) -> Result<Vec<CallRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CALL_COLUMNS} FROM call_records
             WHERE campaign_id = $1 AND ended_at IS NULL
               AND lease_id IN (SELECT id FROM leases WHERE campaign_id = $1 AND expires_at < $2)
             ORDER BY dialled_at, id"
        ))
        .bind(campaign_id)
        .bind(now)
        .fetch_all(self.reader())
        .await?;
        Ok(rows
            .iter()
            .map(CallRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Ends every unfinished call of `node` as hung up by the network with `cause` (the
    /// node died or restarted mid-call); returns how many.
    pub async fn close_calls_of_node(
        &self,
        node: &str,
        cause: &str,
        now: Millis,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE call_records SET ended_at = $2, hung_up_by = 'network', cause = $3
             WHERE node = $1 AND ended_at IS NULL",
        )
        .bind(node)
        .bind(now)
        .bind(cause)
        .execute(self.writer())
        .await?;
        Ok(done.rows_affected())
    }

    /// Why a campaign's calls dialled at or after `since` failed in the network (the trunk
    /// unreachable or refusing, audio lost), most frequent first, at most five causes: what
    /// the dashboard shows organisers when calls are not getting through.
    pub async fn call_problems(
        &self,
        campaign_id: i64,
        since: Millis,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT cause, COUNT(*) AS calls FROM call_records
             WHERE campaign_id = $1 AND dialled_at >= $2 AND hung_up_by = 'network'
               AND cause IS NOT NULL
             GROUP BY cause ORDER BY calls DESC, cause LIMIT 5",
        )
        .bind(campaign_id)
        .bind(since)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let calls: i64 = row.try_get("calls")?;
                Ok((row.try_get("cause")?, u64::try_from(calls).unwrap_or(0)))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The figures of a campaign's calls dialled at or after `since`.
    pub async fn call_figures(
        &self,
        campaign_id: i64,
        since: Millis,
    ) -> Result<CallFigures, StoreError> {
        let row = sqlx::query(
            // PostgreSQL sums BIGINTs as NUMERIC, hence the cast.
            "SELECT COUNT(*) AS dialled,
                    COUNT(answered_at) AS answered,
                    CAST(COALESCE(SUM(CASE WHEN answered_at IS NOT NULL AND ended_at IS NOT NULL
                                           THEN ended_at - answered_at END), 0) AS BIGINT) AS talk_ms,
                    COUNT(CASE WHEN answered_at IS NOT NULL AND ended_at IS NOT NULL THEN 1 END) AS talked
             FROM call_records WHERE campaign_id = $1 AND dialled_at >= $2",
        )
        .bind(campaign_id)
        .bind(since)
        .fetch_one(self.reader())
        .await?;
        let count = |column: &str| -> Result<u64, sqlx::Error> {
            Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
        };
        let (dialled, answered, talked) = (count("dialled")?, count("answered")?, count("talked")?);
        let talk_ms: i64 = row.try_get("talk_ms")?;
        Ok(CallFigures {
            dialled,
            answered,
            talk_ms,
            connect_rate: if dialled == 0 {
                0.0
            } else {
                answered as f64 / dialled as f64
            },
            mean_talk_ms: talk_ms
                .checked_div(i64::try_from(talked).unwrap_or(i64::MAX))
                .unwrap_or(0),
        })
    }
}

/// The one value a [`Store::calls_where`] condition binds as `$1`.
enum CallKey<'a> {
    Id(i64),
    Text(&'a str),
}

impl From<i64> for CallKey<'_> {
    fn from(id: i64) -> Self {
        Self::Id(id)
    }
}

impl<'a> From<&'a str> for CallKey<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}
