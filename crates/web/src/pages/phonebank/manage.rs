//! An organiser's page for one campaign: its status (go live, pause, resume, finish),
//! the state of its queue, invite links for callers (made with an expiry and a use limit,
//! copied, withdrawn), the list uploader and the caller safeguards. Uploading itself
//! lives in `imports`, the safeguards' forms in `safeguards`.

use super::access::organiser_campaign;
use super::safeguards::{self, Safeguards};
use crate::api::phonebank::campaign_content::live_problem;
use crate::api::phonebank::invites::{
    DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR, DEFAULT_MAX_USES, MAX_MAX_NEW_ACCOUNTS_PER_HOUR,
    MAX_MAX_USES,
};
use crate::auth::{Flash, SignedIn, new_secret};
use crate::pages::layout::{Layout, format_time, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_dispatch::CampaignEvent;
use barnstorm_domain::contact_import::{ColumnRole, ROLES};
use barnstorm_domain::crm::{EXPORT_FORMATS, ExportFormat};
use barnstorm_store::phonebank::{Campaign, CampaignInvite, CampaignStatus};
use barnstorm_store::{Group, StoreError, now_millis};
use serde::Deserialize;

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Longest an invite link may be made to last.
const MAX_INVITE_DAYS: i64 = 365;

/// A status change an organiser can make from `from`.
struct StatusAction {
    to: &'static str,
    label: &'static str,
    danger: bool,
}

/// Why a draft cannot go live yet, when it cannot.
const NO_CONTACTS: &str = "Upload a list before going live: there is nobody to call yet, so callers would find an empty queue.";

/// Why `campaign` cannot go live (or resume) now, if it cannot: no contacts yet, or
/// bridged calls without a caller ID.
fn live_blocked(campaign: &Campaign, contacts: i64) -> Option<&'static str> {
    if campaign.status == CampaignStatus::Draft && contacts == 0 {
        return Some(NO_CONTACTS);
    }
    live_problem(&campaign.settings)
}

fn status_actions(campaign: &Campaign, contacts: i64) -> Vec<StatusAction> {
    let action = |to: CampaignStatus, label, danger| StatusAction {
        to: to.as_str(),
        label,
        danger,
    };
    let blocked = live_blocked(campaign, contacts).is_some();
    match campaign.status {
        CampaignStatus::Draft if blocked => Vec::new(),
        CampaignStatus::Draft => vec![action(CampaignStatus::Live, "Go live", false)],
        CampaignStatus::Live => vec![
            action(CampaignStatus::Paused, "Pause", false),
            action(CampaignStatus::Finished, "Finish", true),
        ],
        CampaignStatus::Paused if blocked => {
            vec![action(CampaignStatus::Finished, "Finish", true)]
        }
        CampaignStatus::Paused => vec![
            action(CampaignStatus::Live, "Resume", false),
            action(CampaignStatus::Finished, "Finish", true),
        ],
        CampaignStatus::Finished => Vec::new(),
    }
}

fn allowed(campaign: &Campaign, to: CampaignStatus, contacts: i64) -> bool {
    status_actions(campaign, contacts)
        .iter()
        .any(|a| a.to == to.as_str())
}

struct InviteRow {
    id: i64,
    uses: String,
    expires: String,
    problem: Option<&'static str>,
}

impl InviteRow {
    fn new(invite: &CampaignInvite, now: i64) -> Self {
        Self {
            id: invite.id,
            uses: match (invite.max_uses, invite.max_new_accounts_per_hour) {
                (Some(max), Some(hourly)) => {
                    format!(
                        "{} of {max} uses, at most {hourly} new accounts an hour",
                        invite.uses
                    )
                }
                (Some(max), None) => format!("{} of {max} uses", invite.uses),
                (None, _) => format!("{} uses, no limit", invite.uses),
            },
            expires: format_time(invite.expires_at),
            problem: invite.unusable_because(now),
        }
    }
}

#[derive(Template)]
#[template(path = "phonebank/manage.html")]
struct ManagePage {
    layout: Layout,
    campaign: Campaign,
    group: Group,
    status_actions: Vec<StatusAction>,
    /// Why "Go live" (or "Resume") is not offered: no contacts, or no caller ID.
    go_live_blocked: Option<&'static str>,
    /// Whether only a list is missing, so "Go live" may appear once an upload brings one.
    waiting_for_contacts: bool,
    summary: String,
    total: i64,
    called: i64,
    invites: Vec<InviteRow>,
    /// The link just made, shown this once: only its code's hash is kept.
    new_invite_url: Option<String>,
    default_max_uses: i64,
    default_max_new_accounts_per_hour: i64,
    safeguards: Safeguards,
    /// The column roles of the upload's mapping step, in menu order.
    roles: &'static [ColumnRole],
    /// The results export's formats, in menu order.
    export_formats: &'static [ExportFormat],
    /// Each CRM's result codes for the campaign's outcomes.
    crm_tables: Vec<super::results::CrmCodesTable>,
}

async fn manage_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, group) = organiser_campaign(&state, &signed_in.user, id).await?;
    page(&state, &signed_in, campaign, group, None).await
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    campaign: Campaign,
    group: Group,
    new_invite_url: Option<String>,
) -> Result<Response, PageError> {
    let now = now_millis();
    let report = state.dispatcher.report(&campaign, now).await?;
    let invites = state
        .store
        .campaign_invites(campaign.id)
        .await?
        .iter()
        .map(|i| InviteRow::new(i, now))
        .collect();
    let safeguards = safeguards::load(state, &campaign, signed_in.user.id).await?;
    let crm_tables = super::results::crm_tables(state, &campaign).await?;
    Ok(render(&ManagePage {
        safeguards,
        roles: &ROLES,
        export_formats: &EXPORT_FORMATS,
        crm_tables,
        layout: Layout::new(&signed_in.context),
        status_actions: status_actions(&campaign, report.counts.total),
        go_live_blocked: live_blocked(&campaign, report.counts.total).filter(|_| {
            matches!(
                campaign.status,
                CampaignStatus::Draft | CampaignStatus::Paused
            )
        }),
        waiting_for_contacts: campaign.status == CampaignStatus::Draft
            && report.counts.total == 0
            && live_problem(&campaign.settings).is_none(),
        summary: report.summary,
        total: report.counts.total,
        called: report.counts.called,
        invites,
        new_invite_url,
        default_max_uses: DEFAULT_MAX_USES,
        default_max_new_accounts_per_hour: DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR,
        campaign,
        group,
    }))
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    #[serde(default)]
    back: Option<String>,
}

async fn change_status(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let back = match form.back.as_deref() {
        Some("dashboard") => format!("/campaigns/{id}/dashboard"),
        _ => format!("/campaigns/{id}"),
    };
    let Ok(to) = form.status.parse::<CampaignStatus>() else {
        return Ok(Flash::error("Choose go live, pause, resume or finish.").redirect(&back));
    };
    let contacts = state.store.contact_count(campaign.id).await?;
    if let Some(problem) = live_blocked(&campaign, contacts).filter(|_| to == CampaignStatus::Live)
    {
        return Ok(Flash::error(problem).redirect(&back));
    }
    if !allowed(&campaign, to, contacts) {
        return Ok(Flash::error(format!(
            "A {} phone bank cannot be made {}.",
            campaign.status.as_str(),
            to.as_str()
        ))
        .redirect(&back));
    }
    state
        .store
        .set_campaign_status(campaign.id, to, Some(signed_in.user.id))
        .await?;
    state.dispatcher.forget_campaign(campaign.id);
    state
        .dispatcher
        .events()
        .publish(CampaignEvent::CampaignChanged {
            campaign_id: campaign.id,
        });
    let message = match to {
        CampaignStatus::Live => "The phone bank is live: callers can call now.",
        CampaignStatus::Paused => "Paused: callers finish their current call and get no more.",
        CampaignStatus::Finished => "Finished. The results stay available.",
        CampaignStatus::Draft => "Back to draft.",
    };
    Ok(Flash::ok(message).redirect(&back))
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    days: String,
    #[serde(default)]
    max_uses: String,
    #[serde(default)]
    max_new_accounts_per_hour: String,
}

async fn create_invite(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<InviteForm>,
) -> Result<Response, PageError> {
    let (campaign, group) = organiser_campaign(&state, &signed_in.user, id).await?;
    let back = format!("/campaigns/{id}#invites");
    let days = match form.days.trim() {
        "" => 14,
        text => match text.parse::<i64>() {
            Ok(days) if (1..=MAX_INVITE_DAYS).contains(&days) => days,
            _ => {
                return Ok(Flash::error(format!(
                    "Valid for: give a number of days from 1 to {MAX_INVITE_DAYS}."
                ))
                .redirect(&back));
            }
        },
    };
    let Some(max_uses) = limit_field(&form.max_uses, DEFAULT_MAX_USES, MAX_MAX_USES) else {
        return Ok(Flash::error(format!(
            "Use limit: give a whole number from 1 to {MAX_MAX_USES}, or leave it empty for {DEFAULT_MAX_USES}."
        ))
        .redirect(&back));
    };
    let Some(per_hour) = limit_field(
        &form.max_new_accounts_per_hour,
        DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR,
        MAX_MAX_NEW_ACCOUNTS_PER_HOUR,
    ) else {
        return Ok(Flash::error(format!(
            "New accounts per hour: give a whole number from 1 to {MAX_MAX_NEW_ACCOUNTS_PER_HOUR}, or leave it empty for {DEFAULT_MAX_NEW_ACCOUNTS_PER_HOUR}."
        ))
        .redirect(&back));
    };
    let code = new_secret();
    state
        .store
        .create_campaign_invite(
            campaign.id,
            &code,
            signed_in.user.id,
            now_millis() + days * DAY_MS,
            Some(max_uses),
            Some(per_hour),
        )
        .await?;
    // Shown on this answer only: the code is not stored, so it cannot be shown again.
    let url = state.config.absolute(&format!("/call/join/{code}"));
    page(&state, &signed_in, campaign, group, Some(url)).await
}

/// A limit typed into the invite form: `default` when empty, `None` when not a whole
/// number from 1 to `max`.
fn limit_field(text: &str, default: i64, max: i64) -> Option<i64> {
    match text.trim() {
        "" => Some(default),
        text => text.parse::<i64>().ok().filter(|n| (1..=max).contains(n)),
    }
}

async fn revoke_invite(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, invite_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let back = format!("/campaigns/{id}#invites");
    match state
        .store
        .revoke_campaign_invite(campaign.id, invite_id, Some(signed_in.user.id))
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Ok(Flash::error("That invite link was already withdrawn.").redirect(&back));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Flash::ok("Invite link withdrawn: it no longer works.").redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}", get(manage_page))
        .route("/campaigns/{id}/status", post(change_status))
        .route("/campaigns/{id}/invites", post(create_invite))
        .route(
            "/campaigns/{id}/invites/{invite_id}/revoke",
            post(revoke_invite),
        )
}
