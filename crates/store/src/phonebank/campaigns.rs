//! Call campaigns: their settings (script, survey, outcomes, calling hours, retry rules)
//! and status. Settings are stored as JSON and checked by the domain types on the way in
//! and out, so a campaign that loads is a campaign that works.

use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::calling_window::CallingWindows;
use barnstorm_domain::outcome::OutcomeSet;
use barnstorm_domain::queue_policy::RetryPolicy;
use barnstorm_domain::survey::Survey;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::str::FromStr;

/// Where a campaign stands. Only live campaigns hand out contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    /// Being prepared; callers cannot call yet.
    Draft,
    /// Callers are calling.
    Live,
    /// Stopped for now by an organiser.
    Paused,
    /// Over; results remain.
    Finished,
}

impl CampaignStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Live => "live",
            Self::Paused => "paused",
            Self::Finished => "finished",
        }
    }
}

impl FromStr for CampaignStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(Self::Draft),
            "live" => Ok(Self::Live),
            "paused" => Ok(Self::Paused),
            "finished" => Ok(Self::Finished),
            other => Err(format!(
                "unknown status '{other}': use draft, live, paused or finished"
            )),
        }
    }
}

/// What an organiser sets on a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSettings {
    /// Name shown to callers.
    pub name: String,
    /// What callers should know before they start.
    pub briefing: String,
    /// The script, with `{placeholders}` filled from the contact.
    pub script: String,
    /// The questions callers ask.
    pub survey: Survey,
    /// The outcomes callers choose from.
    pub outcomes: OutcomeSet,
    /// When contacts may be rung.
    pub calling_hours: CallingWindows,
    /// Attempts and minimum gap between them.
    pub retry: RetryPolicy,
    /// How long a caller holds a contact without a heartbeat, in seconds.
    pub lease_seconds: i64,
    /// Contacts a caller may skip in five minutes before being throttled and flagged.
    pub skip_limit: i64,
    /// Show callers a team leaderboard.
    pub leaderboard: bool,
}

impl CampaignSettings {
    /// Sensible UK defaults for a new campaign called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            briefing: String::new(),
            script: "Hello {first_name|there}, my name is … and I'm a volunteer.".to_owned(),
            survey: Survey::default(),
            outcomes: OutcomeSet::default_uk(),
            calling_hours: CallingWindows::uk_default(),
            retry: RetryPolicy::default(),
            lease_seconds: 600,
            skip_limit: 20,
            leaderboard: false,
        }
    }
}

/// A call campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// Stable id.
    pub id: i64,
    /// The group that runs it.
    pub group_id: i64,
    /// Its settings.
    pub settings: CampaignSettings,
    /// Where it stands.
    pub status: CampaignStatus,
    /// When it was made.
    pub created_at: Millis,
    /// When it last changed.
    pub updated_at: Millis,
}

const CAMPAIGN_COLUMNS: &str = "id, group_id, name, briefing, script, survey, outcomes, calling_hours, max_attempts,
    min_minutes_between_attempts, lease_seconds, skip_limit, leaderboard, status, created_at, updated_at";

fn decode<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(format!("{column}: {e}").into()))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))
}

impl Campaign {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let status: String = row.try_get("status")?;
        let to_u32 = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(Self {
            id: row.try_get("id")?,
            group_id: row.try_get("group_id")?,
            settings: CampaignSettings {
                name: row.try_get("name")?,
                briefing: row.try_get("briefing")?,
                script: row.try_get("script")?,
                survey: decode(row, "survey")?,
                outcomes: decode(row, "outcomes")?,
                calling_hours: decode(row, "calling_hours")?,
                retry: RetryPolicy {
                    max_attempts: to_u32(row.try_get("max_attempts")?),
                    min_minutes_between_attempts: to_u32(
                        row.try_get("min_minutes_between_attempts")?,
                    ),
                },
                lease_seconds: row.try_get("lease_seconds")?,
                skip_limit: row.try_get("skip_limit")?,
                leaderboard: row.try_get::<i64, _>("leaderboard")? != 0,
            },
            status: status
                .parse()
                .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// The lease length in milliseconds.
    pub fn lease_millis(&self) -> Millis {
        self.settings.lease_seconds.saturating_mul(1000)
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the settings as `$1` to `$11`, in the column order both statements use.
fn bind_settings<'q>(
    query: AnyQuery<'q>,
    settings: &'q CampaignSettings,
) -> Result<AnyQuery<'q>, StoreError> {
    Ok(query
        .bind(settings.name.trim())
        .bind(&settings.briefing)
        .bind(&settings.script)
        .bind(encode(&settings.survey)?)
        .bind(encode(&settings.outcomes)?)
        .bind(encode(&settings.calling_hours)?)
        .bind(i64::from(settings.retry.max_attempts))
        .bind(i64::from(settings.retry.min_minutes_between_attempts))
        .bind(settings.lease_seconds)
        .bind(settings.skip_limit)
        .bind(i64::from(settings.leaderboard)))
}

impl Store {
    /// Creates a campaign in `draft`.
    pub async fn create_campaign(
        &self,
        group_id: i64,
        settings: &CampaignSettings,
        created_by: Option<i64>,
    ) -> Result<Campaign, StoreError> {
        let now = now_millis();
        let sql = format!(
            "INSERT INTO call_campaigns (name, briefing, script, survey, outcomes, calling_hours, max_attempts,
                 min_minutes_between_attempts, lease_seconds, skip_limit, leaderboard, group_id, status, created_by,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $14)
             RETURNING {CAMPAIGN_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql), settings)?
            .bind(group_id)
            .bind(created_by)
            .bind(now)
            .fetch_all(self.writer())
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        Ok(Campaign::from_row(&row)?)
    }

    /// Replaces a campaign's settings.
    pub async fn update_campaign_settings(
        &self,
        id: i64,
        settings: &CampaignSettings,
    ) -> Result<Campaign, StoreError> {
        let sql = format!(
            "UPDATE call_campaigns SET name = $1, briefing = $2, script = $3, survey = $4, outcomes = $5, calling_hours = $6,
                 max_attempts = $7, min_minutes_between_attempts = $8, lease_seconds = $9, skip_limit = $10,
                 leaderboard = $11, updated_at = $12
             WHERE id = $13 RETURNING {CAMPAIGN_COLUMNS}"
        );
        let row = bind_settings(sqlx::query(&sql), settings)?
            .bind(now_millis())
            .bind(id)
            .fetch_all(self.writer())
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        Ok(Campaign::from_row(&row)?)
    }

    /// Moves a campaign to `status`.
    pub async fn set_campaign_status(
        &self,
        id: i64,
        status: CampaignStatus,
    ) -> Result<Campaign, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE call_campaigns SET status = $1, updated_at = $2 WHERE id = $3 RETURNING {CAMPAIGN_COLUMNS}"
        ))
        .bind(status.as_str())
        .bind(now_millis())
        .bind(id)
        .fetch_all(self.writer())
            .await?
            .into_iter()
            .next()
        .ok_or(StoreError::NotFound)?;
        Ok(Campaign::from_row(&row)?)
    }

    /// A campaign by id.
    pub async fn campaign(&self, id: i64) -> Result<Option<Campaign>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM call_campaigns WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        Ok(row.as_ref().map(Campaign::from_row).transpose()?)
    }

    /// Every campaign of every group, newest first (one query, for pages that sort them
    /// by group themselves).
    pub async fn all_campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        self.campaigns_where("", None).await
    }

    /// The campaigns of a group, newest first.
    pub async fn group_campaigns(&self, group_id: i64) -> Result<Vec<Campaign>, StoreError> {
        self.campaigns_where("WHERE group_id = $1", Some(group_id))
            .await
    }

    /// The campaigns meeting `condition` (with `$1` bound to `value`), newest first.
    async fn campaigns_where(
        &self,
        condition: &str,
        value: Option<i64>,
    ) -> Result<Vec<Campaign>, StoreError> {
        let sql =
            format!("SELECT {CAMPAIGN_COLUMNS} FROM call_campaigns {condition} ORDER BY id DESC");
        let mut query = sqlx::query(&sql);
        if let Some(value) = value {
            query = query.bind(value);
        }
        let rows = query.fetch_all(self.reader()).await?;
        Ok(rows
            .iter()
            .map(Campaign::from_row)
            .collect::<Result<_, _>>()?)
    }
}
