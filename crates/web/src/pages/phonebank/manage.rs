//! An organiser's page for one campaign: its status (go live, pause, resume, finish),
//! the state of its queue, invite links for callers (made with an expiry and a use limit,
//! copied, withdrawn) and the list uploader. Uploading itself lives in `imports`.

use super::access::organiser_campaign;
use crate::auth::{Flash, SignedIn, new_secret};
use crate::pages::layout::{Layout, format_time, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::get, routing::post};
use barnstorm_dispatch::CampaignEvent;
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

fn status_actions(from: CampaignStatus) -> Vec<StatusAction> {
    let action = |to: CampaignStatus, label, danger| StatusAction {
        to: to.as_str(),
        label,
        danger,
    };
    match from {
        CampaignStatus::Draft => vec![action(CampaignStatus::Live, "Go live", false)],
        CampaignStatus::Live => vec![
            action(CampaignStatus::Paused, "Pause", false),
            action(CampaignStatus::Finished, "Finish", true),
        ],
        CampaignStatus::Paused => vec![
            action(CampaignStatus::Live, "Resume", false),
            action(CampaignStatus::Finished, "Finish", true),
        ],
        CampaignStatus::Finished => Vec::new(),
    }
}

fn allowed(from: CampaignStatus, to: CampaignStatus) -> bool {
    status_actions(from).iter().any(|a| a.to == to.as_str())
}

struct InviteRow {
    id: i64,
    url: String,
    uses: String,
    expires: String,
    problem: Option<&'static str>,
}

impl InviteRow {
    fn new(state: &AppState, invite: &CampaignInvite, now: i64) -> Self {
        Self {
            id: invite.id,
            url: state
                .config
                .absolute(&format!("/call/join/{}", invite.code)),
            uses: match invite.max_uses {
                Some(max) => format!("{} of {max} uses", invite.uses),
                None => format!("{} uses, no limit", invite.uses),
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
    summary: String,
    total: i64,
    called: i64,
    invites: Vec<InviteRow>,
}

async fn manage_page(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (campaign, group) = organiser_campaign(&state, &signed_in.user, id).await?;
    let now = now_millis();
    let report = state.dispatcher.report(&campaign, now).await?;
    let invites = state
        .store
        .campaign_invites(campaign.id)
        .await?
        .iter()
        .map(|i| InviteRow::new(&state, i, now))
        .collect();
    Ok(render(&ManagePage {
        layout: Layout::new(&signed_in.context),
        status_actions: status_actions(campaign.status),
        summary: report.summary,
        total: report.counts.total,
        called: report.counts.called,
        invites,
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
    if !allowed(campaign.status, to) {
        return Ok(Flash::error(format!(
            "A {} phone bank cannot be made {}.",
            campaign.status.as_str(),
            to.as_str()
        ))
        .redirect(&back));
    }
    state.store.set_campaign_status(campaign.id, to).await?;
    state.dispatcher.forget_campaign(campaign.id);
    state
        .dispatcher
        .events()
        .publish(CampaignEvent::CampaignChanged {
            campaign_id: campaign.id,
        });
    state
        .store
        .audit(
            Some(signed_in.user.id),
            "campaign.status",
            &format!("campaign {}", campaign.id),
            to.as_str(),
        )
        .await?;
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
}

async fn create_invite(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<InviteForm>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
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
    let max_uses = match form.max_uses.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(uses) if uses >= 1 => Some(uses),
            _ => {
                return Ok(Flash::error(
                    "Use limit: give a whole number of at least 1, or leave it empty for no limit.",
                )
                .redirect(&back));
            }
        },
    };
    let invite = state
        .store
        .create_campaign_invite(
            campaign.id,
            &new_secret(),
            signed_in.user.id,
            now_millis() + days * DAY_MS,
            max_uses,
        )
        .await?;
    state
        .store
        .audit(
            Some(signed_in.user.id),
            "campaign_invite.create",
            &format!("campaign invite {}", invite.id),
            &format!("campaign {}", campaign.id),
        )
        .await?;
    Ok(Flash::ok("Invite link made: copy it and send it to your callers.").redirect(&back))
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
        .revoke_campaign_invite(campaign.id, invite_id)
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Ok(Flash::error("That invite link was already withdrawn.").redirect(&back));
        }
        Err(e) => return Err(e.into()),
    }
    state
        .store
        .audit(
            Some(signed_in.user.id),
            "campaign_invite.revoke",
            &format!("campaign invite {invite_id}"),
            "",
        )
        .await?;
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
