//! The caller safeguards on an organiser's campaign page: the callers list with suspend,
//! lift and remove, the pace limits form and the "shown to callers" form. Each action
//! goes through the same dispatcher and store calls as the API (audited there); this
//! module only reads forms, checks them and redirects with a flash message.

use super::access::organiser_campaign;
use crate::api::phonebank::callers::MAX_REASON;
use crate::api::phonebank::campaigns::{
    MAX_DO_NOT_CALL_PER_HOUR, MAX_PACE_PER_HOUR, MAX_PACE_PER_MINUTE, save_settings,
};
use crate::auth::{Flash, SignedIn};
use crate::pages::layout::format_time;
use crate::{AppState, PageError};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::post};
use barnstorm_domain::script::field_key;
use barnstorm_store::now_millis;
use barnstorm_store::phonebank::{CallerPace, CallerRow, Campaign, MAPPED_FIELDS};
use serde::Deserialize;

/// One caller as the campaign page lists them.
pub(super) struct CallerLine {
    pub(super) user_id: i64,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) joined: String,
    pub(super) calls_made: i64,
    /// "active", "suspended" or "removed".
    pub(super) state: &'static str,
    /// Who suspended them, when and why, in words (suspended callers only).
    pub(super) suspension: String,
    pub(super) removed: String,
}

impl CallerLine {
    fn new(row: CallerRow, you: i64) -> Self {
        let state = if row.removed_at.is_some() {
            "removed"
        } else if row.suspended_at.is_some() {
            "suspended"
        } else {
            "active"
        };
        let by = match (row.suspended_by, row.suspended_by_name) {
            (Some(id), _) if id == you => "by you".to_owned(),
            (Some(_), Some(name)) => format!("by {name}"),
            (Some(_), None) => "by an organiser".to_owned(),
            (None, _) => "automatically".to_owned(),
        };
        let suspension = row.suspended_at.map_or_else(String::new, |at| {
            format!(
                "Suspended {by} on {}: {}",
                format_time(at),
                row.suspended_reason.unwrap_or_default()
            )
        });
        Self {
            user_id: row.user_id,
            name: row.name,
            email: row.email,
            joined: format_time(row.joined_at),
            calls_made: row.calls_made,
            state,
            suspension,
            removed: row.removed_at.map(format_time).unwrap_or_default(),
        }
    }
}

/// A contact field callers may be shown, with whether they are.
pub(super) struct FieldChoice {
    pub(super) key: String,
    pub(super) label: String,
    pub(super) shown: bool,
}

/// What the campaign page shows of the safeguards.
pub(super) struct Safeguards {
    pub(super) callers: Vec<CallerLine>,
    pub(super) pace: CallerPace,
    pub(super) do_not_call_per_hour: i64,
    pub(super) defaults: CallerPace,
    pub(super) default_do_not_call_per_hour: i64,
    pub(super) fields: Vec<FieldChoice>,
    pub(super) shown_is_default: bool,
}

/// How a mapped field is named on the page.
fn mapped_label(key: &str) -> &'static str {
    match key {
        "first_name" => "First name",
        "last_name" => "Last name",
        "postcode" => "Postcode",
        "email" => "Email",
        _ => "Other phone",
    }
}

/// The fields a list may show callers: the mapped ones, then its imported columns,
/// then any field chosen earlier that no longer appears; keyed as the settings key them.
async fn field_choices(
    state: &AppState,
    campaign: &Campaign,
) -> Result<Vec<FieldChoice>, PageError> {
    let shown = campaign.settings.shown_fields();
    let mut choices: Vec<FieldChoice> = MAPPED_FIELDS
        .iter()
        .map(|key| FieldChoice {
            key: (*key).to_owned(),
            label: mapped_label(key).to_owned(),
            shown: false,
        })
        .collect();
    for column in state.store.contact_columns(campaign.id).await? {
        let key = field_key(&column);
        if !key.is_empty() && !choices.iter().any(|c| c.key == key) {
            choices.push(FieldChoice {
                key,
                label: column,
                shown: false,
            });
        }
    }
    for key in &shown {
        if !choices.iter().any(|c| &c.key == key) {
            choices.push(FieldChoice {
                key: key.clone(),
                label: key.clone(),
                shown: false,
            });
        }
    }
    for choice in &mut choices {
        choice.shown = shown.contains(&choice.key);
    }
    Ok(choices)
}

/// Reads what the campaign page shows of the safeguards for organiser `you`.
pub(super) async fn load(
    state: &AppState,
    campaign: &Campaign,
    you: i64,
) -> Result<Safeguards, PageError> {
    let callers = state
        .store
        .campaign_callers(campaign.id)
        .await?
        .into_iter()
        .map(|row| CallerLine::new(row, you))
        .collect();
    let defaults = barnstorm_store::phonebank::CampaignSettings::new("");
    Ok(Safeguards {
        callers,
        pace: campaign.settings.pace,
        do_not_call_per_hour: campaign.settings.do_not_call_per_hour,
        defaults: defaults.pace,
        default_do_not_call_per_hour: defaults.do_not_call_per_hour,
        fields: field_choices(state, campaign).await?,
        shown_is_default: campaign.settings.shown_to_callers.is_none(),
    })
}

/// The caller `user_id` of the campaign, or a flash message saying there is none.
async fn listed_caller(
    state: &AppState,
    campaign: &Campaign,
    user_id: i64,
) -> Result<Option<CallerRow>, PageError> {
    Ok(state
        .store
        .campaign_callers(campaign.id)
        .await?
        .into_iter()
        .find(|c| c.user_id == user_id))
}

fn back(id: i64) -> String {
    format!("/campaigns/{id}#callers")
}

fn not_a_caller() -> Flash {
    Flash::error("That person is not a caller of this phone bank.")
}

#[derive(Deserialize)]
struct SuspendForm {
    #[serde(default)]
    reason: String,
}

async fn suspend(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, user_id)): Path<(i64, i64)>,
    Form(form): Form<SuspendForm>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Ok(Flash::error(format!(
            "Reason: say why the caller is suspended, in 1 to {MAX_REASON} characters."
        ))
        .redirect(&back(id)));
    }
    let Some(caller) = listed_caller(&state, &campaign, user_id).await? else {
        return Ok(not_a_caller().redirect(&back(id)));
    };
    let done = state
        .dispatcher
        .suspend_caller(&campaign, user_id, signed_in.user.id, reason, now_millis())
        .await?;
    let flash = if done {
        Flash::ok(format!(
            "{} is suspended: they cannot call this phone bank until you lift it, and the contact they held went back to the queue.",
            caller.name
        ))
    } else {
        Flash::error(format!("{} is suspended or removed already.", caller.name))
    };
    Ok(flash.redirect(&back(id)))
}

/// Lifting a suspension or removing a caller: neither takes a form field.
#[derive(Clone, Copy)]
enum CallerChange {
    Lift,
    Remove,
}

async fn change_caller(
    state: &AppState,
    signed_in: &SignedIn,
    id: i64,
    user_id: i64,
    change: CallerChange,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(state, &signed_in.user, id).await?;
    let Some(caller) = listed_caller(state, &campaign, user_id).await? else {
        return Ok(not_a_caller().redirect(&back(id)));
    };
    let dispatcher = &state.dispatcher;
    let actor = signed_in.user.id;
    let name = &caller.name;
    let flash = match change {
        CallerChange::Lift => match dispatcher
            .lift_suspension(&campaign, user_id, actor)
            .await?
        {
            true => Flash::ok(format!("{name} may call again.")),
            false => Flash::error(format!("{name} is not suspended.")),
        },
        CallerChange::Remove => match dispatcher
            .remove_caller(&campaign, user_id, actor, now_millis())
            .await?
        {
            true => Flash::ok(format!(
                "{name} is removed from this phone bank for good: an invite link does not bring them back."
            )),
            false => Flash::error(format!("{name} was removed already.")),
        },
    };
    Ok(flash.redirect(&back(id)))
}

async fn lift(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    change_caller(&state, &signed_in, id, user_id, CallerChange::Lift).await
}

async fn remove(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    change_caller(&state, &signed_in, id, user_id, CallerChange::Remove).await
}

#[derive(Deserialize)]
struct PaceForm {
    #[serde(default)]
    per_minute: String,
    #[serde(default)]
    per_hour: String,
    #[serde(default)]
    do_not_call_per_hour: String,
}

/// A whole number from 1 to `max` typed into `label`, or the message naming the field.
fn bounded(text: &str, label: &str, max: i64) -> Result<i64, String> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("{label} must be a whole number between 1 and {max}."))
}

async fn save_pace(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<PaceForm>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let to = format!("/campaigns/{id}#pace");
    let checked = (|| {
        Ok::<_, String>((
            bounded(
                &form.per_minute,
                "New contacts a minute",
                MAX_PACE_PER_MINUTE,
            )?,
            bounded(&form.per_hour, "New contacts an hour", MAX_PACE_PER_HOUR)?,
            bounded(
                &form.do_not_call_per_hour,
                "\"Do not call\" outcomes an hour",
                MAX_DO_NOT_CALL_PER_HOUR,
            )?,
        ))
    })();
    let (per_minute, per_hour, do_not_call) = match checked {
        Ok(values) => values,
        Err(message) => return Ok(Flash::error(message).redirect(&to)),
    };
    let mut settings = campaign.settings.clone();
    settings.pace = CallerPace {
        per_minute,
        per_hour,
    };
    settings.do_not_call_per_hour = do_not_call;
    if settings != campaign.settings {
        save_settings(&state, signed_in.user.id, &campaign, &settings).await?;
    }
    Ok(Flash::ok(format!(
        "Pace limits saved: each caller gets at most {per_minute} new contacts a minute and {per_hour} an hour, and may record {do_not_call} \"do not call\" outcomes an hour."
    ))
    .redirect(&to))
}

async fn save_shown_fields(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let to = format!("/campaigns/{id}#shown");
    let offered = field_choices(&state, &campaign).await?;
    let mut chosen: Vec<String> = Vec::new();
    for (name, value) in &form {
        if name != "field" {
            continue;
        }
        let Some(choice) = offered.iter().find(|c| &c.key == value) else {
            return Ok(Flash::error(format!(
                "Shown to callers: this list has no field called '{value}'."
            ))
            .redirect(&to));
        };
        if !chosen.contains(&choice.key) {
            chosen.push(choice.key.clone());
        }
    }
    let mut settings = campaign.settings.clone();
    settings.shown_to_callers = Some(chosen.clone());
    if settings != campaign.settings {
        save_settings(&state, signed_in.user.id, &campaign, &settings).await?;
    }
    let labels: Vec<&str> = offered
        .iter()
        .filter(|c| chosen.contains(&c.key))
        .map(|c| c.label.as_str())
        .collect();
    let message = if labels.is_empty() {
        "Saved: callers see only the phone number.".to_owned()
    } else {
        format!(
            "Saved: callers see the phone number and {}.",
            labels.join(", ")
        )
    };
    Ok(Flash::ok(message).redirect(&to))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/callers/{user_id}/suspend", post(suspend))
        .route("/campaigns/{id}/callers/{user_id}/lift", post(lift))
        .route("/campaigns/{id}/callers/{user_id}/remove", post(remove))
        .route("/campaigns/{id}/pace", post(save_pace))
        .route("/campaigns/{id}/shown-fields", post(save_shown_fields))
}
