//! Call campaigns: their settings (script, survey, outcomes, calling hours, retry rules,
//! the caller pace and do-not-call limits, the fields shown to callers, how callers call) and status. Settings are stored as JSON and checked by the domain types on the way in
//! and out, so a campaign that loads is a campaign that works.

use super::Contact;
use crate::audit::{About, AuditAction, audit_about_in};
use crate::{Millis, Store, StoreError, now_millis};
use barnstorm_domain::calling_window::CallingWindows;
use barnstorm_domain::outcome::OutcomeSet;
use barnstorm_domain::queue_policy::RetryPolicy;
use barnstorm_domain::script::{Script, field_key};
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
    /// New contacts one caller is handed at most, a minute and an hour.
    pub pace: CallerPace,
    /// "Do not call" outcomes one caller may record in an hour.
    pub do_not_call_per_hour: i64,
    /// The contact fields callers see (field keys such as `first_name`, `postcode` or an
    /// imported column's name); `None` for the default of
    /// [`CampaignSettings::shown_fields`].
    pub shown_to_callers: Option<Vec<String>>,
    /// How callers call: through Barnstorm (which hides both numbers) or `tel:` links.
    pub bridging: Bridging,
}

/// How a campaign's callers reach contacts. Bridged calls (`call_me`, `dial_in`) are placed
/// by Barnstorm, which shows contacts `caller_id` and neither side the other's number;
/// `tel:` links ring the contact from the caller's own phone, showing them the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridging {
    /// The E.164 number the campaign owns, shown to contacts on bridged calls.
    pub caller_id: Option<String>,
    /// Barnstorm rings the caller's own phone and keeps that line up for the session.
    pub call_me: bool,
    /// The caller rings the campaign's number and types the PIN their page shows.
    pub dial_in: bool,
    /// Callers may see the contact's number and ring it from their own phone.
    pub tel_links: bool,
}

impl Default for Bridging {
    /// Phone links only, as every campaign called before bridged calling existed.
    fn default() -> Self {
        Self {
            caller_id: None,
            call_me: false,
            dial_in: false,
            tel_links: true,
        }
    }
}

impl Bridging {
    /// Whether Barnstorm places the campaign's calls (call me or dial in).
    pub fn is_bridged(&self) -> bool {
        self.call_me || self.dial_in
    }

    /// Whether callers must never see a contact's number: calls are bridged and phone
    /// links are not allowed.
    pub fn hides_numbers(&self) -> bool {
        self.is_bridged() && !self.tel_links
    }
}

/// How many new contacts one caller is handed at most (resuming the contact they hold
/// is not a new one). The defaults are more than anyone can call by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerPace {
    /// New contacts in any 60 seconds.
    pub per_minute: i64,
    /// New contacts in any hour.
    pub per_hour: i64,
}

impl Default for CallerPace {
    /// Six a minute and 120 an hour.
    fn default() -> Self {
        Self {
            per_minute: 6,
            per_hour: 120,
        }
    }
}

/// The contact fields other than the imported columns, as organisers name them.
pub const MAPPED_FIELDS: [&str; 5] = [
    "first_name",
    "last_name",
    "postcode",
    "email",
    "other_phone",
];

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
            pace: CallerPace::default(),
            do_not_call_per_hour: 10,
            shown_to_callers: None,
            bridging: Bridging::default(),
        }
    }

    /// The field keys callers see: the organiser's choice, or by default the first and
    /// last name and the mapped fields the script uses. (The phone number is always
    /// shown.)
    pub fn shown_fields(&self) -> Vec<String> {
        if let Some(chosen) = &self.shown_to_callers {
            return chosen.iter().map(|f| field_key(f)).collect();
        }
        let used: Vec<String> = Script::parse(&self.script)
            .map(|s| s.placeholders().into_iter().map(field_key).collect())
            .unwrap_or_default();
        MAPPED_FIELDS
            .iter()
            .filter(|f| matches!(**f, "first_name" | "last_name") || used.iter().any(|u| u == *f))
            .map(|f| (*f).to_owned())
            .collect()
    }

    /// `contact` with only the fields callers are shown; the rest are blank or absent.
    pub fn as_shown_to_callers(&self, mut contact: Contact) -> Contact {
        let shown = self.shown_fields();
        let is_shown = |key: &str| shown.iter().any(|s| s == key);
        if !is_shown("first_name") {
            contact.first_name.clear();
        }
        if !is_shown("last_name") {
            contact.last_name.clear();
        }
        if !is_shown("postcode") {
            contact.postcode = None;
        }
        if !is_shown("email") {
            contact.email = None;
        }
        if !is_shown("other_phone") {
            contact.other_phone = None;
        }
        contact
            .extra
            .retain(|column, _| is_shown(&field_key(column)));
        contact
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
    min_minutes_between_attempts, lease_seconds, skip_limit, leaderboard, status, created_at, updated_at,
    pace_per_minute, pace_per_hour, do_not_call_per_hour, shown_to_callers, bridge_caller_id, bridge_call_me,
    bridge_dial_in, bridge_tel_links";

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
                pace: CallerPace {
                    per_minute: row.try_get("pace_per_minute")?,
                    per_hour: row.try_get("pace_per_hour")?,
                },
                do_not_call_per_hour: row.try_get("do_not_call_per_hour")?,
                shown_to_callers: row
                    .try_get::<Option<String>, _>("shown_to_callers")?
                    .map(|text| serde_json::from_str(&text))
                    .transpose()
                    .map_err(|e| sqlx::Error::Decode(format!("shown_to_callers: {e}").into()))?,
                bridging: Bridging {
                    caller_id: row.try_get("bridge_caller_id")?,
                    call_me: row.try_get::<i64, _>("bridge_call_me")? != 0,
                    dial_in: row.try_get::<i64, _>("bridge_dial_in")? != 0,
                    tel_links: row.try_get::<i64, _>("bridge_tel_links")? != 0,
                },
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

/// Binds the settings as `$1` to `$19`, in the column order both statements use.
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
        .bind(i64::from(settings.leaderboard))
        .bind(settings.pace.per_minute)
        .bind(settings.pace.per_hour)
        .bind(settings.do_not_call_per_hour)
        .bind(settings.shown_to_callers.as_ref().map(encode).transpose()?)
        .bind(settings.bridging.caller_id.as_deref())
        .bind(i64::from(settings.bridging.call_me))
        .bind(i64::from(settings.bridging.dial_in))
        .bind(i64::from(settings.bridging.tel_links)))
}

/// Audits `action` on `campaign` inside `tx`.
async fn audit_campaign(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: Option<i64>,
    action: AuditAction,
    campaign: &Campaign,
    detail: &str,
) -> Result<(), StoreError> {
    let about = About::campaign(campaign.group_id, campaign.id);
    let subject = format!("campaign {}", campaign.id);
    audit_about_in(tx, actor, action, about, &subject, detail).await
}

impl Store {
    /// Creates a campaign in `draft`, audited as `campaign.create` by `created_by`.
    pub async fn create_campaign(
        &self,
        group_id: i64,
        settings: &CampaignSettings,
        created_by: Option<i64>,
    ) -> Result<Campaign, StoreError> {
        let now = now_millis();
        let sql = format!(
            "INSERT INTO call_campaigns (name, briefing, script, survey, outcomes, calling_hours, max_attempts,
                 min_minutes_between_attempts, lease_seconds, skip_limit, leaderboard, pace_per_minute, pace_per_hour,
                 do_not_call_per_hour, shown_to_callers, bridge_caller_id, bridge_call_me, bridge_dial_in,
                 bridge_tel_links, group_id, status, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                 'draft', $21, $22, $22)
             RETURNING {CAMPAIGN_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row = bind_settings(sqlx::query(&sql), settings)?
            .bind(group_id)
            .bind(created_by)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        let campaign = Campaign::from_row(&row)?;
        audit_campaign(
            &mut tx,
            created_by,
            AuditAction::CampaignCreate,
            &campaign,
            &settings.name,
        )
        .await?;
        tx.commit().await?;
        Ok(campaign)
    }

    /// Replaces a campaign's settings, audited as `campaign.update` by `actor`.
    pub async fn update_campaign_settings(
        &self,
        id: i64,
        settings: &CampaignSettings,
        actor: Option<i64>,
    ) -> Result<Campaign, StoreError> {
        let sql = format!(
            "UPDATE call_campaigns SET name = $1, briefing = $2, script = $3, survey = $4, outcomes = $5, calling_hours = $6,
                 max_attempts = $7, min_minutes_between_attempts = $8, lease_seconds = $9, skip_limit = $10,
                 leaderboard = $11, pace_per_minute = $12, pace_per_hour = $13, do_not_call_per_hour = $14,
                 shown_to_callers = $15, bridge_caller_id = $16, bridge_call_me = $17, bridge_dial_in = $18,
                 bridge_tel_links = $19, updated_at = $20
             WHERE id = $21 RETURNING {CAMPAIGN_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row = bind_settings(sqlx::query(&sql), settings)?
            .bind(now_millis())
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)?;
        let campaign = Campaign::from_row(&row)?;
        audit_campaign(
            &mut tx,
            actor,
            AuditAction::CampaignUpdate,
            &campaign,
            &settings.name,
        )
        .await?;
        tx.commit().await?;
        Ok(campaign)
    }

    /// Moves a campaign to `status`, audited as `campaign.status` by `actor`. Finishing it
    /// starts the time its call list is kept for (see [`crate::retention`]); reopening it
    /// stops that clock.
    pub async fn set_campaign_status(
        &self,
        id: i64,
        status: CampaignStatus,
        actor: Option<i64>,
    ) -> Result<Campaign, StoreError> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE call_campaigns SET status = $1, updated_at = $2,
                 finished_at = CASE WHEN $1 = 'finished' THEN COALESCE(finished_at, $2) ELSE NULL END
             WHERE id = $3 RETURNING {CAMPAIGN_COLUMNS}"
        ))
        .bind(status.as_str())
        .bind(now_millis())
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)?;
        let campaign = Campaign::from_row(&row)?;
        audit_campaign(
            &mut tx,
            actor,
            AuditAction::CampaignStatus,
            &campaign,
            status.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(campaign)
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
