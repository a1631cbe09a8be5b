//! Campaigns over the API: create one for a group you organise, read it, change its
//! settings or move it through draft → live ⇄ paused → finished, and list a group's
//! campaigns. Calling hours are checked by their domain type, the rest (how callers call
//! too) by the checks the campaign editor shares (`campaign_content`); a mistake answers
//! 422 naming the field, and a bridged campaign without a caller ID cannot be live.

use super::campaign_content::{self, BridgingInput, CampaignContent, live_problem};
use super::{find_campaign, organised_campaign, require_organiser};
use crate::api::schemas::{CallingHoursSchema, OutcomeSchema, SurveySchema};
use crate::api::{ApiJson, ErrorBody};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use barnstorm_dispatch::CampaignEvent;
use barnstorm_domain::calling_window::CallingWindows;
use barnstorm_domain::outcome::{Outcome, OutcomeSet};
use barnstorm_store::phonebank::{Bridging, Campaign, CampaignSettings, CampaignStatus};
use barnstorm_store::{Role, User};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Settings of a campaign; every field is optional (defaults, or unchanged on PATCH).
#[derive(Deserialize, ToSchema, Default)]
pub(crate) struct SettingsFields {
    /// Shown to callers; 1 to 120 characters.
    name: Option<String>,
    /// What callers should know before they start.
    briefing: Option<String>,
    /// The script, with `{placeholders}` such as `{first_name|there}`.
    script: Option<String>,
    /// `{"questions":[…]}`; see the survey format in the docs.
    #[schema(value_type = Option<SurveySchema>)]
    survey: Option<Value>,
    /// An array of `{key, label, effect:{type,…}, counts_as_conversation}`.
    #[schema(value_type = Option<Vec<OutcomeSchema>>)]
    outcomes: Option<Value>,
    /// `{"time_zone":"Europe/London","days":{"monday":{"start":"10:00","end":"20:00"},…}}`.
    #[schema(value_type = Option<CallingHoursSchema>)]
    calling_hours: Option<Value>,
    /// Calls per contact before giving up (1–20).
    max_attempts: Option<u32>,
    /// Minimum gap between two calls to a contact (0–10080).
    min_minutes_between_attempts: Option<u32>,
    /// How long a caller holds a contact without a heartbeat (1–3600).
    lease_seconds: Option<i64>,
    /// Skips allowed in five minutes before a caller is throttled (1–1000).
    skip_limit: Option<i64>,
    /// Show callers a team leaderboard.
    leaderboard: Option<bool>,
    /// New contacts one caller may be handed in any minute (1–600; default 6).
    pace_per_minute: Option<i64>,
    /// New contacts one caller may be handed in any hour (1–36000; default 120).
    pace_per_hour: Option<i64>,
    /// "Do not call" outcomes one caller may record in an hour (1–1000; default 10).
    do_not_call_per_hour: Option<i64>,
    /// The contact fields callers see: `first_name`, `last_name`, `postcode`, `email`,
    /// `other_phone` or an imported column's name (the phone number is always shown).
    /// `null` for the default: first and last name and the mapped fields the script uses.
    #[schema(value_type = Option<Vec<String>>)]
    shown_to_callers: Option<Value>,
    /// How callers call; fields left out stay as they are.
    bridging: Option<BridgingFields>,
}

/// How callers call. Bridged calls (`call_me`, `dial_in`) are placed by Barnstorm, which
/// shows contacts `caller_id` and neither side the other's number.
#[derive(Deserialize, ToSchema, Default)]
pub(crate) struct BridgingFields {
    /// The number the campaign owns, shown to contacts on bridged calls (E.164, or a UK
    /// number as written nationally); an empty string removes it. Required before a
    /// campaign with `call_me` or `dial_in` can go live.
    caller_id: Option<String>,
    /// Barnstorm rings the caller's own phone and keeps that line up for their session.
    call_me: Option<bool>,
    /// Callers ring the campaign's number and type the PIN their page shows.
    dial_in: Option<bool>,
    /// Callers may see contacts' numbers and ring them from their own phone (the
    /// default). With bridged calls and no phone links, callers never see a number.
    tel_links: Option<bool>,
}

/// How callers call, as stored.
#[derive(Serialize, ToSchema)]
pub(crate) struct BridgingView {
    /// The number contacts see on bridged calls (E.164), if set.
    caller_id: Option<String>,
    /// Barnstorm rings the caller's own phone.
    call_me: bool,
    /// Callers ring the campaign's number and type a PIN.
    dial_in: bool,
    /// Callers may see contacts' numbers and ring them from their own phone.
    tel_links: bool,
    /// Whether Barnstorm places the calls (`call_me` or `dial_in`).
    bridged: bool,
    /// Whether callers never see contacts' numbers (bridged, no phone links).
    numbers_hidden: bool,
}

impl From<&Bridging> for BridgingView {
    fn from(b: &Bridging) -> Self {
        Self {
            caller_id: b.caller_id.clone(),
            call_me: b.call_me,
            dial_in: b.dial_in,
            tel_links: b.tel_links,
            bridged: b.is_bridged(),
            numbers_hidden: b.hides_numbers(),
        }
    }
}

/// A new campaign.
#[derive(Deserialize, ToSchema)]
pub(crate) struct NewCampaign {
    /// The group that runs it; you must organise it.
    group_id: i64,
    #[serde(flatten)]
    settings: SettingsFields,
}

/// Changes to a campaign.
#[derive(Deserialize, ToSchema)]
pub(crate) struct CampaignPatch {
    /// `live`, `paused` or `finished` (draft → live, live ⇄ paused, any → finished).
    status: Option<String>,
    #[serde(flatten)]
    settings: SettingsFields,
}

/// A call campaign.
#[derive(Serialize, ToSchema)]
pub(crate) struct CampaignView {
    id: i64,
    group_id: i64,
    name: String,
    /// `draft`, `live`, `paused` or `finished`.
    status: String,
    briefing: String,
    script: String,
    #[schema(value_type = SurveySchema)]
    survey: Value,
    #[schema(value_type = Vec<OutcomeSchema>)]
    outcomes: Value,
    #[schema(value_type = CallingHoursSchema)]
    calling_hours: Value,
    max_attempts: u32,
    min_minutes_between_attempts: u32,
    lease_seconds: i64,
    skip_limit: i64,
    leaderboard: bool,
    pace_per_minute: i64,
    pace_per_hour: i64,
    do_not_call_per_hour: i64,
    /// The contact fields callers see (the organiser's choice or the default).
    shown_to_callers: Vec<String>,
    /// Whether `shown_to_callers` is the default (no choice made).
    shown_to_callers_default: bool,
    /// How callers call.
    bridging: BridgingView,
    /// Milliseconds since the Unix epoch.
    created_at: i64,
    /// Milliseconds since the Unix epoch.
    updated_at: i64,
}

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        let s = c.settings;
        let shown_to_callers = s.shown_fields();
        Self {
            id: c.id,
            group_id: c.group_id,
            name: s.name,
            status: c.status.as_str().to_owned(),
            briefing: s.briefing,
            script: s.script,
            survey: serde_json::to_value(&s.survey).unwrap_or(Value::Null),
            outcomes: serde_json::to_value(&s.outcomes).unwrap_or(Value::Null),
            calling_hours: serde_json::to_value(&s.calling_hours).unwrap_or(Value::Null),
            max_attempts: s.retry.max_attempts,
            min_minutes_between_attempts: s.retry.min_minutes_between_attempts,
            lease_seconds: s.lease_seconds,
            skip_limit: s.skip_limit,
            leaderboard: s.leaderboard,
            pace_per_minute: s.pace.per_minute,
            pace_per_hour: s.pace.per_hour,
            do_not_call_per_hour: s.do_not_call_per_hour,
            shown_to_callers,
            shown_to_callers_default: s.shown_to_callers.is_none(),
            bridging: BridgingView::from(&s.bridging),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

fn parse<T: serde::de::DeserializeOwned>(field: &str, value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::invalid(field, e.to_string()))
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, ApiError> {
    if value < min || value > max {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be between {min} and {max}"),
        ));
    }
    Ok(value)
}

/// The most new contacts a minute an organiser may allow one caller (at least 1).
pub(crate) const MAX_PACE_PER_MINUTE: i64 = 600;
/// The most new contacts an hour an organiser may allow one caller (at least 1).
pub(crate) const MAX_PACE_PER_HOUR: i64 = 36_000;
/// The most "do not call" outcomes an hour an organiser may allow one caller (at least 1).
pub(crate) const MAX_DO_NOT_CALL_PER_HOUR: i64 = 1000;

/// Stores changed `settings` of `campaign` (made by `actor`), makes every claim see
/// them, and audits the change: the one way the API and the campaign page save them.
pub(crate) async fn save_settings(
    state: &AppState,
    actor: i64,
    campaign: &Campaign,
    settings: &CampaignSettings,
) -> Result<Campaign, barnstorm_store::StoreError> {
    let saved = state
        .store
        .update_campaign_settings(campaign.id, settings, Some(actor))
        .await?;
    // This node's callers see the change at the next page; other nodes' caches last
    // at most two seconds, and their dashboards re-read on the event.
    state.dispatcher.forget_campaign(campaign.id);
    state
        .dispatcher
        .events()
        .publish(CampaignEvent::CampaignChanged {
            campaign_id: campaign.id,
        });
    Ok(saved)
}

/// Applies the fields that were sent to `settings`, checking each; the content (name,
/// briefing, script, survey, outcomes) is checked as a whole by the check the campaign
/// editor uses too.
fn apply(settings: &mut CampaignSettings, fields: SettingsFields) -> Result<(), ApiError> {
    let mut outcomes: Vec<Outcome> = settings.outcomes.iter().cloned().collect();
    if let Some(name) = fields.name {
        settings.name = name.trim().to_owned();
    }
    if let Some(briefing) = fields.briefing {
        settings.briefing = briefing;
    }
    if let Some(script) = fields.script {
        settings.script = script;
    }
    if let Some(survey) = fields.survey {
        settings.survey = parse("survey", survey)?;
    }
    if let Some(sent) = fields.outcomes {
        outcomes = parse("outcomes", sent)?;
    }
    let found = campaign_content::mistakes(&CampaignContent {
        name: &settings.name,
        briefing: &settings.briefing,
        script: &settings.script,
        survey: &settings.survey,
        outcomes: &outcomes,
    });
    if let Some(first) = found.first() {
        let field = first.field.api_name();
        let messages: Vec<&str> = found
            .iter()
            .filter(|m| m.field.api_name() == field)
            .map(|m| m.message.as_str())
            .collect();
        return Err(ApiError::invalid(field, messages.join(" ")));
    }
    settings.outcomes =
        OutcomeSet::new(outcomes).map_err(|e| ApiError::invalid("outcomes", e.to_string()))?;
    if let Some(hours) = fields.calling_hours {
        settings.calling_hours = parse::<CallingWindows>("calling_hours", hours)?;
    }
    if let Some(n) = fields.max_attempts {
        settings.retry.max_attempts = in_range("max_attempts", n, 1, 20)?;
    }
    if let Some(n) = fields.min_minutes_between_attempts {
        settings.retry.min_minutes_between_attempts =
            in_range("min_minutes_between_attempts", n, 0, 10_080)?;
    }
    if let Some(n) = fields.lease_seconds {
        settings.lease_seconds = in_range("lease_seconds", n, 1, 3600)?;
    }
    if let Some(n) = fields.skip_limit {
        settings.skip_limit = in_range("skip_limit", n, 1, 1000)?;
    }
    if let Some(on) = fields.leaderboard {
        settings.leaderboard = on;
    }
    if let Some(n) = fields.pace_per_minute {
        settings.pace.per_minute = in_range("pace_per_minute", n, 1, MAX_PACE_PER_MINUTE)?;
    }
    if let Some(n) = fields.pace_per_hour {
        settings.pace.per_hour = in_range("pace_per_hour", n, 1, MAX_PACE_PER_HOUR)?;
    }
    if let Some(n) = fields.do_not_call_per_hour {
        settings.do_not_call_per_hour =
            in_range("do_not_call_per_hour", n, 1, MAX_DO_NOT_CALL_PER_HOUR)?;
    }
    if let Some(shown) = fields.shown_to_callers {
        settings.shown_to_callers = shown_fields(shown)?;
    }
    if let Some(sent) = fields.bridging {
        settings.bridging = bridging(&settings.bridging, sent)?;
    }
    Ok(())
}

/// `stored` with the fields that were sent, checked as the editor checks them.
fn bridging(stored: &Bridging, sent: BridgingFields) -> Result<Bridging, ApiError> {
    let caller_id = sent
        .caller_id
        .or_else(|| stored.caller_id.clone())
        .unwrap_or_default();
    campaign_content::bridging(&BridgingInput {
        caller_id: &caller_id,
        call_me: sent.call_me.unwrap_or(stored.call_me),
        dial_in: sent.dial_in.unwrap_or(stored.dial_in),
        tel_links: sent.tel_links.unwrap_or(stored.tel_links),
    })
    .map_err(|found| {
        let field = found.first().map_or("bridging", |(f, _)| f.api_name());
        let messages: Vec<&str> = found
            .iter()
            .filter(|(f, _)| f.api_name() == field)
            .map(|(_, m)| m.as_str())
            .collect();
        ApiError::invalid(field, messages.join(" "))
    })
}

/// The longest list of fields shown to callers, and the longest field name.
const MAX_SHOWN_FIELDS: usize = 100;
const MAX_FIELD_NAME: usize = 100;

/// Reads `shown_to_callers`: `null` for the default, else an array of field names.
fn shown_fields(value: Value) -> Result<Option<Vec<String>>, ApiError> {
    let bad = |message: &str| ApiError::invalid("shown_to_callers", message);
    let fields: Option<Vec<String>> = serde_json::from_value(value).map_err(|_| {
        bad("give shown_to_callers as an array of field names, or null for the default")
    })?;
    let Some(fields) = fields else {
        return Ok(None);
    };
    if fields.len() > MAX_SHOWN_FIELDS {
        return Err(bad("at most 100 fields may be shown to callers"));
    }
    let mut keys: Vec<String> = Vec::new();
    for field in &fields {
        let key = barnstorm_domain::script::field_key(field);
        if key.is_empty() || field.chars().count() > MAX_FIELD_NAME {
            return Err(bad(&format!(
                "'{field}' is not a field name (1 to 100 characters, letters or digits)"
            )));
        }
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(Some(keys))
}

/// Whether a campaign may move from `from` to `to`.
fn transition_allowed(from: CampaignStatus, to: CampaignStatus) -> bool {
    use CampaignStatus::{Draft, Finished, Live, Paused};
    from == to
        || matches!(
            (from, to),
            (Draft, Live) | (Live, Paused) | (Paused, Live) | (Draft | Live | Paused, Finished)
        )
}

/// Create a campaign (in `draft`) for a group you organise.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "phonebank", security(("bearer" = [])), request_body = NewCampaign,
    responses((status = 201, body = CampaignView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_campaign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<CampaignView>), ApiError> {
    let group = state
        .store
        .group_by_id(body.group_id)
        .await?
        .ok_or_else(|| {
            ApiError::invalid("group_id", format!("there is no group {}", body.group_id))
        })?;
    require_organiser(&state, &user, group.id).await?;
    if body.settings.name.is_none() {
        return Err(ApiError::invalid("name", "give the campaign a name"));
    }
    let mut settings = CampaignSettings::new("");
    apply(&mut settings, body.settings)?;
    let created = state
        .store
        .create_campaign(group.id, &settings, Some(user.id))
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Whether `user` may see the campaign: organisers and its callers.
async fn may_view(state: &AppState, user: &User, campaign: &Campaign) -> Result<(), ApiError> {
    if state.dispatcher.may_call(user, campaign).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "you are neither an organiser nor a caller of this campaign",
        ))
    }
}

/// One campaign (organisers and its callers).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "phonebank", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_campaign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<CampaignView>, ApiError> {
    let campaign = find_campaign(&state, id).await?;
    may_view(&state, &user, &campaign).await?;
    Ok(Json(campaign.into()))
}

/// Change a campaign's settings or status (organisers).
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "phonebank", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = CampaignPatch,
    responses((status = 200, body = CampaignView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_campaign(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CampaignPatch>,
) -> Result<Json<CampaignView>, ApiError> {
    let mut campaign = organised_campaign(&state, &user, id).await?;
    let status = match body.status.as_deref() {
        Some(s) => Some(
            s.parse::<CampaignStatus>()
                .map_err(|e| ApiError::invalid("status", e))?,
        ),
        None => None,
    };
    if let Some(to) = status.filter(|to| !transition_allowed(campaign.status, *to)) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "bad_transition",
            format!(
                "a {} campaign cannot become {}",
                campaign.status.as_str(),
                to.as_str()
            ),
        ));
    }
    let mut settings = campaign.settings.clone();
    apply(&mut settings, body.settings)?;
    let live_after = status.unwrap_or(campaign.status) == CampaignStatus::Live;
    if let Some(problem) = live_problem(&settings).filter(|_| live_after) {
        return Err(ApiError::invalid("bridging.caller_id", problem));
    }
    if settings != campaign.settings {
        campaign = save_settings(&state, user.id, &campaign, &settings).await?;
    }
    if let Some(to) = status.filter(|to| *to != campaign.status) {
        campaign = state
            .store
            .set_campaign_status(id, to, Some(user.id))
            .await?;
        state.dispatcher.forget_campaign(id);
    }
    Ok(Json(campaign.into()))
}

/// A group's campaigns, newest first (anyone with a role in the group).
#[utoipa::path(get, path = "/api/v1/groups/{id}/campaigns", tag = "phonebank", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = [CampaignView]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn group_campaigns(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<CampaignView>>, ApiError> {
    let group = state
        .store
        .group_by_id(id)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("group {id}")))?;
    let role = state.store.effective_role(user.id, group.id).await?;
    if !user.is_admin && role.is_none_or(|r| r < Role::Caller) {
        return Err(ApiError::forbidden(format!(
            "only callers and organisers of {} can list its campaigns",
            group.name
        )));
    }
    let campaigns = state.store.group_campaigns(group.id).await?;
    Ok(Json(
        campaigns.into_iter().map(CampaignView::from).collect(),
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_campaign))
        .routes(routes!(get_campaign, patch_campaign))
        .routes(routes!(group_campaigns))
}
