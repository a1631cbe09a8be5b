//! The figures of a campaign for dashboards and exports: calls per hour, outcome and
//! survey tallies, progress through the list, who is calling, and the pages of contacts
//! and attempts the results exports are built from. Survey answers are read page by page
//! (keyset on id), so memory stays flat however long the campaign ran.

use super::breaks::NOT_ON_BREAK;
use crate::phonebank::Contact;
use crate::{Millis, Store, StoreError};
use barnstorm_domain::survey::QuestionKind;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

const HOUR_MS: Millis = 3_600_000;
/// A caller counts as online with a claim or a call this recent, unless on a break.
pub const ONLINE_WINDOW_MS: Millis = 10 * 60 * 1000;
const PAGE: i64 = 500;

/// Calls recorded in one clock hour.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HourlyCalls {
    /// Start of the hour, milliseconds since the epoch (UTC).
    pub hour: Millis,
    /// Calls recorded in it.
    pub calls: i64,
}

/// How far through its list a campaign is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Contacts on the list.
    pub total: i64,
    /// Contacts called at least once.
    pub called: i64,
    /// Contacts still to be called or called again.
    pub remaining: i64,
    /// Contacts done with: concluded or out of attempts.
    pub finished: i64,
    /// Contacts on a do-not-call or TPS list.
    pub suppressed: i64,
}

/// One caller's figures on a campaign.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallerStats {
    /// The caller's account.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// Calls recorded.
    pub calls: i64,
    /// Calls that reached a conversation.
    pub conversations: i64,
    /// When they last recorded a call.
    pub last_call_at: Option<Millis>,
}

/// A caller's own figures since some time (for "you today").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallerTally {
    /// Calls recorded.
    pub calls: i64,
    /// Calls that reached a conversation.
    pub conversations: i64,
}

/// Everything an organiser's dashboard shows about a campaign.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CampaignStats {
    /// Distinct callers with a claim or a call in the last ten minutes who are not on a
    /// break.
    pub callers_online: i64,
    /// Calls recorded in the last sixty minutes.
    pub calls_last_hour: i64,
    /// Calls per clock hour over the last 24 hours, oldest first, empty hours included.
    pub calls_per_hour: Vec<HourlyCalls>,
    /// Calls by outcome key.
    pub outcomes: BTreeMap<String, i64>,
    /// Calls that reached a conversation.
    pub conversations: i64,
    /// Progress through the list.
    pub progress: Progress,
    /// Per choice question, the number of contacts whose latest answer chose each option.
    pub survey: BTreeMap<String, BTreeMap<String, i64>>,
    /// Every caller who recorded a call, most calls first.
    pub callers: Vec<CallerStats>,
}

/// A contact with its latest survey answers, one row of the results export.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactResult {
    /// The contact, with attempts and latest outcome.
    pub contact: Contact,
    /// When it was last called.
    pub last_called_at: Option<Millis>,
    /// The answers of its latest call that had any, by question key.
    pub answers: BTreeMap<String, serde_json::Value>,
}

/// One recorded call, one row of the attempts export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// The attempt's id.
    pub id: i64,
    /// When it was recorded.
    pub created_at: Millis,
    /// The contact called.
    pub contact_id: i64,
    /// The number rung.
    pub phone: String,
    /// The caller's name.
    pub caller_name: String,
    /// The outcome key.
    pub outcome: String,
    /// The checked answers, as stored JSON.
    pub answers: String,
    /// The caller's notes.
    pub notes: String,
}

fn caller_stats_from_row(row: &AnyRow) -> Result<CallerStats, sqlx::Error> {
    Ok(CallerStats {
        user_id: row.try_get("caller_id")?,
        name: row.try_get("name")?,
        calls: row.try_get("calls")?,
        conversations: row.try_get("conversations")?,
        last_call_at: row.try_get("last_call_at")?,
    })
}

const CALLER_STATS_SQL: &str = "SELECT a.caller_id, u.name, COUNT(*) AS calls,
        COALESCE(SUM(CASE WHEN a.conversation <> 0 THEN 1 ELSE 0 END), 0) AS conversations,
        MAX(a.created_at) AS last_call_at
     FROM call_attempts a JOIN users u ON u.id = a.caller_id
     WHERE a.campaign_id = $1 AND a.created_at >= $2
     GROUP BY a.caller_id, u.name
     ORDER BY calls DESC, conversations DESC, a.caller_id
     LIMIT $3";

impl Store {
    /// The dashboard figures of a campaign at `now`.
    pub async fn campaign_stats(
        &self,
        campaign_id: i64,
        now: Millis,
    ) -> Result<CampaignStats, StoreError> {
        let campaign = self
            .campaign(campaign_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let online = sqlx::query(&format!(
            "SELECT COUNT(DISTINCT caller_id) AS n FROM (
                 SELECT caller_id FROM leases WHERE campaign_id = $1
                   AND (claimed_at >= $2 OR (expires_at > $3 AND released_at IS NULL AND outcome_at IS NULL))
                 UNION SELECT caller_id FROM call_attempts WHERE campaign_id = $1 AND created_at >= $2
             ) recent WHERE {NOT_ON_BREAK}"
        ))
        .bind(campaign_id)
        .bind(now - ONLINE_WINDOW_MS)
        .bind(now)
        .fetch_one(self.reader())
        .await?
        .try_get("n")?;

        let first_hour = (now / HOUR_MS - 23) * HOUR_MS;
        let hourly = sqlx::query(
            "SELECT (created_at / 3600000) * 3600000 AS hour, COUNT(*) AS calls FROM call_attempts
             WHERE campaign_id = $1 AND created_at >= $2 GROUP BY (created_at / 3600000) * 3600000",
        )
        .bind(campaign_id)
        .bind(first_hour)
        .fetch_all(self.reader())
        .await?;
        let mut by_hour = BTreeMap::new();
        for row in &hourly {
            by_hour.insert(
                row.try_get::<i64, _>("hour")?,
                row.try_get::<i64, _>("calls")?,
            );
        }
        let calls_per_hour = (0..24)
            .map(|i| {
                let hour = first_hour + i * HOUR_MS;
                HourlyCalls {
                    hour,
                    calls: by_hour.get(&hour).copied().unwrap_or(0),
                }
            })
            .collect();

        let last_hour = self
            .caller_tally_where(campaign_id, None, now - HOUR_MS)
            .await?;
        let mut outcomes = BTreeMap::new();
        let rows = sqlx::query("SELECT outcome, COUNT(*) AS n FROM call_attempts WHERE campaign_id = $1 GROUP BY outcome")
            .bind(campaign_id)
            .fetch_all(self.reader())
            .await?;
        for row in &rows {
            outcomes.insert(
                row.try_get::<String, _>("outcome")?,
                row.try_get::<i64, _>("n")?,
            );
        }
        let all_time = self
            .caller_tally_where(campaign_id, None, Millis::MIN)
            .await?;

        let queue = self.queue_counts(campaign_id, now).await?;
        let progress = Progress {
            total: queue.total,
            called: queue.called,
            remaining: queue.total - queue.finished - queue.suppressed,
            finished: queue.finished,
            suppressed: queue.suppressed,
        };
        let choice_questions: Vec<&str> = campaign
            .settings
            .survey
            .questions
            .iter()
            .filter(|q| !matches!(q.kind, QuestionKind::FreeText { .. }))
            .map(|q| q.key.as_str())
            .collect();
        let survey = self.survey_tallies(campaign_id, &choice_questions).await?;
        let callers = self.leaderboard(campaign_id, Millis::MIN, i64::MAX).await?;
        Ok(CampaignStats {
            callers_online: online,
            calls_last_hour: last_hour.calls,
            calls_per_hour,
            outcomes,
            conversations: all_time.conversations,
            progress,
            survey,
            callers,
        })
    }

    /// A caller's calls and conversations on a campaign since `since`.
    pub async fn caller_stats(
        &self,
        campaign_id: i64,
        user_id: i64,
        since: Millis,
    ) -> Result<CallerTally, StoreError> {
        self.caller_tally_where(campaign_id, Some(user_id), since)
            .await
    }

    /// The callers with most calls since `since`, at most `limit` of them.
    pub async fn leaderboard(
        &self,
        campaign_id: i64,
        since: Millis,
        limit: i64,
    ) -> Result<Vec<CallerStats>, StoreError> {
        let rows = sqlx::query(CALLER_STATS_SQL)
            .bind(campaign_id)
            .bind(since)
            .bind(limit)
            .fetch_all(self.reader())
            .await?;
        Ok(rows
            .iter()
            .map(caller_stats_from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The campaign a lease belongs to, if the lease exists.
    pub async fn lease_campaign_id(&self, lease_id: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT campaign_id FROM leases WHERE id = $1")
            .bind(lease_id)
            .fetch_optional(self.reader())
            .await?;
        Ok(row.map(|r| r.try_get("campaign_id")).transpose()?)
    }

    /// Up to `limit` contacts of a campaign with id above `after_id`, ascending, each with
    /// its latest answers: page through with the last id seen.
    pub async fn campaign_results_page(
        &self,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ContactResult>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.campaign_id, c.phone, c.other_phone, c.first_name, c.last_name, c.email, c.postcode, c.extra,
                 c.attempts, c.last_outcome, c.callback_at, c.last_called_at,
                 (SELECT a.answers FROM call_attempts a WHERE a.contact_id = c.id AND a.answers <> '{}'
                  ORDER BY a.id DESC LIMIT 1) AS answers
             FROM contacts c WHERE c.campaign_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3",
        )
        .bind(campaign_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(contact_result_from_row).collect()
    }

    /// Up to `limit` call attempts of a campaign with id above `after_id`, ascending.
    pub async fn campaign_attempts_page(
        &self,
        campaign_id: i64,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.created_at, a.contact_id, c.phone, u.name, a.outcome, a.answers, a.notes
             FROM call_attempts a JOIN contacts c ON c.id = a.contact_id JOIN users u ON u.id = a.caller_id
             WHERE a.campaign_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
        )
        .bind(campaign_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        let row = |r: &AnyRow| -> Result<AttemptRow, sqlx::Error> {
            Ok(AttemptRow {
                id: r.try_get("id")?,
                created_at: r.try_get("created_at")?,
                contact_id: r.try_get("contact_id")?,
                phone: r.try_get("phone")?,
                caller_name: r.try_get("name")?,
                outcome: r.try_get("outcome")?,
                answers: r.try_get("answers")?,
                notes: r.try_get("notes")?,
            })
        };
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    async fn caller_tally_where(
        &self,
        campaign_id: i64,
        user_id: Option<i64>,
        since: Millis,
    ) -> Result<CallerTally, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS calls, COALESCE(SUM(CASE WHEN conversation <> 0 THEN 1 ELSE 0 END), 0) AS conversations
             FROM call_attempts WHERE campaign_id = $1 AND created_at >= $2 AND ($3 = 0 OR caller_id = $4)",
        )
        .bind(campaign_id)
        .bind(since)
        .bind(i64::from(user_id.is_some()))
        .bind(user_id.unwrap_or(0))
        .fetch_one(self.reader())
        .await?;
        Ok(CallerTally {
            calls: row.try_get("calls")?,
            conversations: row.try_get("conversations")?,
        })
    }

    /// Tallies the latest answered call of each contact, a page at a time.
    async fn survey_tallies(
        &self,
        campaign_id: i64,
        questions: &[&str],
    ) -> Result<BTreeMap<String, BTreeMap<String, i64>>, StoreError> {
        let mut tallies: BTreeMap<String, BTreeMap<String, i64>> = questions
            .iter()
            .map(|q| ((*q).to_owned(), BTreeMap::new()))
            .collect();
        if questions.is_empty() {
            return Ok(tallies);
        }
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(
                "SELECT a.id, a.answers FROM call_attempts a
                 WHERE a.campaign_id = $1 AND a.id > $2 AND a.answers <> '{}'
                   AND NOT EXISTS (SELECT 1 FROM call_attempts b WHERE b.contact_id = a.contact_id AND b.id > a.id
                                   AND b.answers <> '{}')
                 ORDER BY a.id LIMIT $3",
            )
            .bind(campaign_id)
            .bind(after)
            .bind(PAGE)
            .fetch_all(self.reader())
            .await?;
            for row in &rows {
                after = row.try_get("id")?;
                let text: String = row.try_get("answers")?;
                let Ok(answers) =
                    serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&text)
                else {
                    tracing::warn!(
                        attempt_id = after,
                        "unreadable answers skipped in survey tallies"
                    );
                    continue;
                };
                for (question, value) in answers {
                    let Some(options) = tallies.get_mut(&question) else {
                        continue;
                    };
                    let chosen: Vec<&str> = match &value {
                        serde_json::Value::String(s) => vec![s.as_str()],
                        serde_json::Value::Array(items) => {
                            items.iter().filter_map(|v| v.as_str()).collect()
                        }
                        _ => Vec::new(),
                    };
                    for option in chosen {
                        *options.entry(option.to_owned()).or_insert(0) += 1;
                    }
                }
            }
            if i64::try_from(rows.len()).unwrap_or(0) < PAGE {
                return Ok(tallies);
            }
        }
    }
}

fn contact_result_from_row(row: &AnyRow) -> Result<ContactResult, StoreError> {
    let decode = |e: serde_json::Error| StoreError::Database(sqlx::Error::Decode(e.into()));
    let answers: Option<String> = row.try_get("answers")?;
    Ok(ContactResult {
        contact: Contact::from_row(row)?,
        last_called_at: row.try_get("last_called_at")?,
        answers: answers
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(decode)?
            .unwrap_or_default(),
    })
}
