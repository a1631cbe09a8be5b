//! Joining a phone bank by invite link. A signed-in person joins with one button; a
//! newcomer gives a name and an email and gets an account without a password (they sign
//! in later by emailed link); an address that already has an account is asked to sign in
//! first. A link that cannot be used says why.

use crate::auth::{Flash, RequestContext};
use crate::pages::layout::{Layout, render};
use crate::pages::login::sign_in_and_redirect;
use crate::pages::plausible_email;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get};
use barnstorm_store::phonebank::{Campaign, CampaignInvite, CampaignStatus, InviteAcceptance};
use barnstorm_store::{StoreError, User, now_millis};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "phonebank/join.html")]
struct JoinPage {
    layout: Layout,
    code: String,
    campaign_name: String,
    briefing: String,
    signed_in_as: Option<String>,
    name: String,
    email: String,
    name_error: Option<String>,
    email_error: Option<String>,
}

fn link_gone(why: &str) -> PageError {
    PageError::new(
        StatusCode::GONE,
        "Invite link no longer valid",
        format!("Sorry: {why}. Ask the organiser who sent it for a new link."),
    )
}

/// The invite and its campaign, if the link can still be used.
async fn open_link(state: &AppState, code: &str) -> Result<(CampaignInvite, Campaign), PageError> {
    let invite = state.store.campaign_invite(code).await?.ok_or_else(|| {
        PageError::not_found("This invite link is not valid. Check that you copied the whole link.")
    })?;
    if let Some(why) = invite.unusable_because(now_millis()) {
        return Err(link_gone(why));
    }
    let campaign = state
        .store
        .campaign(invite.campaign_id)
        .await?
        .ok_or_else(|| link_gone("this phone bank no longer exists"))?;
    if campaign.status == CampaignStatus::Finished {
        return Err(link_gone("this phone bank has finished"));
    }
    Ok((invite, campaign))
}

async fn join_page(
    State(state): State<AppState>,
    context: RequestContext,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let (_, campaign) = open_link(&state, &code).await?;
    Ok(render(&JoinPage {
        layout: Layout::new(&context),
        signed_in_as: context.user().map(|u| u.name.clone()),
        code,
        campaign_name: campaign.settings.name,
        briefing: campaign.settings.briefing,
        name: String::new(),
        email: String::new(),
        name_error: None,
        email_error: None,
    }))
}

#[derive(Deserialize)]
struct JoinForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

const USED_UP_MEANWHILE: &str = "this invite link was used up or withdrawn a moment ago";

/// Uses the link for `user`, unless they can call already.
async fn join_as(
    state: &AppState,
    user: &User,
    code: &str,
    campaign: &Campaign,
) -> Result<(), PageError> {
    if state.dispatcher.may_call(user, campaign).await? {
        return Ok(());
    }
    match state
        .store
        .join_campaign_by_invite(code, user.id, now_millis())
        .await
    {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(link_gone(USED_UP_MEANWHILE)),
        Err(e) => Err(e.into()),
    }
}

async fn join(
    State(state): State<AppState>,
    context: RequestContext,
    Path(code): Path<String>,
    Form(form): Form<JoinForm>,
) -> Result<Response, PageError> {
    let (_, campaign) = open_link(&state, &code).await?;
    let calling = format!("/call/{}", campaign.id);
    if let Some(user) = context.user() {
        join_as(&state, user, &code, &campaign).await?;
        return Ok(Redirect::to(&calling).into_response());
    }
    let name = form.name.trim();
    let email = form.email.trim().to_lowercase();
    let name_error = (name.is_empty() || name.chars().count() > 100)
        .then(|| "Tell us what to call you (up to 100 characters).".to_owned());
    let email_error = (!plausible_email(&email))
        .then(|| "Enter your email address, like name@example.org.".to_owned());
    if name_error.is_some() || email_error.is_some() {
        let mut response = render(&JoinPage {
            layout: Layout::new(&context),
            code,
            campaign_name: campaign.settings.name,
            briefing: campaign.settings.briefing,
            signed_in_as: None,
            name: form.name,
            email: form.email,
            name_error,
            email_error,
        });
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let sign_in_first = || {
        Flash::error(format!(
            "{email} already has an account: sign in, and you will come back to the invite."
        ))
        .redirect(&crate::pages::return_path::sign_in_then(&format!(
            "/call/join/{code}"
        )))
    };
    if state.store.user_by_email(&email).await?.is_some() {
        return Ok(sign_in_first());
    }
    let user = match state
        .store
        .accept_campaign_invite(&code, &email, name, None, now_millis())
        .await?
    {
        InviteAcceptance::Accepted { user, .. } => user,
        InviteAcceptance::AccountExists => return Ok(sign_in_first()),
        InviteAcceptance::InviteUnusable => {
            return Err(link_gone(USED_UP_MEANWHILE));
        }
    };
    let welcome = Flash::ok(format!(
        "Welcome, {name}! You are a caller on {}.",
        campaign.settings.name
    ));
    sign_in_and_redirect(&state, &user, &calling, Some(welcome)).await
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/call/join/{code}", get(join_page).post(join))
}
