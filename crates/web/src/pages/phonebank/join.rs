//! Joining a phone bank by invite link. A signed-in person joins with one button; a
//! newcomer gives a name and an email and gets an unverified account without a password,
//! signed in at once to call, and a mail whose link confirms the address. An address that
//! already has an account is told only "sign in to join with this address" (its owner is
//! mailed a sign-in link back to the invite), and anonymous joins are counted per client
//! address against enumeration. A link that cannot be used says why, and outside calling
//! hours the page says when calling opens.

use crate::auth::{
    Flash, LoginThrottle, RequestContext, reserve_invite_join, reserve_sign_in_link,
};
use crate::pages::layout::{Layout, render};
use crate::pages::login::{LinkMail, mail_sign_in_link, sign_in_and_redirect};
use crate::pages::plausible_email;
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Router, routing::get};
use barnstorm_domain::calling_window::CallingWindows;
use barnstorm_domain::limits;
use barnstorm_store::phonebank::{Campaign, CampaignInvite, CampaignStatus, InviteAcceptance};
use barnstorm_store::{Millis, StoreError, User, now_millis};
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
    /// When calling opens, if it is closed now: "Calling opens at 09:00 tomorrow".
    calling_opens: Option<String>,
    /// Barnstorm places the calls (call me or dial in) rather than the caller's phone.
    bridged: bool,
}

/// When a campaign's calling hours next open, in words read in its time zone: "Calling
/// opens at 09:00 today" (or tomorrow, on Monday, on 12 December); `None` while open.
fn calling_opens(hours: &CallingWindows, now: Millis) -> Option<String> {
    let now = chrono::DateTime::from_timestamp_millis(now)?;
    if hours.is_open_at(now) {
        return None;
    }
    let tz = hours.time_zone();
    let opens = hours.next_opening_after(now)?.with_timezone(&tz);
    let days = (opens.date_naive() - now.with_timezone(&tz).date_naive()).num_days();
    let day = match days {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        2..=6 => opens.format("on %A").to_string(),
        _ => opens.format("on %-d %B").to_string(),
    };
    Some(format!(
        "Calling is closed now. It opens at {} {day}.",
        opens.format("%H:%M")
    ))
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
        bridged: campaign.settings.bridging.is_bridged(),
        campaign_name: campaign.settings.name,
        briefing: campaign.settings.briefing,
        name: String::new(),
        email: String::new(),
        name_error: None,
        email_error: None,
        calling_opens: calling_opens(&campaign.settings.calling_hours, now_millis()),
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
    let (invite, campaign) = open_link(&state, &code).await?;
    let calling = format!("/call/{}", campaign.id);
    if let Some(user) = context.user() {
        join_as(&state, user, &code, &campaign).await?;
        return Ok(Redirect::to(&calling).into_response());
    }
    let name = form.name.trim();
    let email = form.email.trim().to_lowercase();
    let name_error = (name.is_empty() || name.chars().count() > limits::PERSON_NAME).then(|| {
        format!(
            "Tell us what to call you (up to {} characters).",
            limits::PERSON_NAME
        )
    });
    let email_error = (!plausible_email(&email))
        .then(|| "Enter your email address, like name@example.org.".to_owned());
    if name_error.is_some() || email_error.is_some() {
        let mut response = render(&JoinPage {
            layout: Layout::new(&context),
            code,
            bridged: campaign.settings.bridging.is_bridged(),
            campaign_name: campaign.settings.name,
            briefing: campaign.settings.briefing,
            signed_in_as: None,
            name: form.name,
            email: form.email,
            name_error,
            email_error,
            calling_opens: calling_opens(&campaign.settings.calling_hours, now_millis()),
        });
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let now = now_millis();
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_invite_join(
        &state.store,
        context.client_ip,
        invite.id,
        invite.max_new_accounts_per_hour,
        now,
    )
    .await?
    {
        return Err(PageError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many joins",
            format!(
                "Too many people joined from your network in the last hour. Try again in {retry_after_minutes} minutes."
            ),
        ));
    }
    let back = format!("/call/join/{code}");
    if let Some(existing) = state.store.user_by_email(&email).await? {
        return sign_in_first(&state, &existing, &back, context.client_ip).await;
    }
    let user = match state
        .store
        .accept_campaign_invite(&code, &email, name, None, now)
        .await?
    {
        InviteAcceptance::Accepted { user, .. } => user,
        InviteAcceptance::AccountExists => match state.store.user_by_email(&email).await? {
            Some(existing) => {
                return sign_in_first(&state, &existing, &back, context.client_ip).await;
            }
            None => return Err(link_gone(USED_UP_MEANWHILE)),
        },
        InviteAcceptance::InviteUnusable => {
            return Err(link_gone(USED_UP_MEANWHILE));
        }
        InviteAcceptance::HourlyAccountCapReached => return Err(hourly_cap_reached()),
    };
    mail_sign_in_link(&state, &user, LinkMail::ConfirmAddress, None).await?;
    let welcome = Flash::ok(format!(
        "Welcome, {name}! You are a caller on {}. We mailed you a link to confirm your address.",
        campaign.settings.name
    ));
    sign_in_and_redirect(
        &state,
        &user,
        &calling,
        "phone bank invite link",
        Some(welcome),
    )
    .await
}

/// The answer for an address that has an account, whatever the account: the same words
/// and the same redirect every time. Its owner is mailed a sign-in link that leads back
/// to the invite, within the per-address link limits (beyond them, silently nothing).
async fn sign_in_first(
    state: &AppState,
    existing: &User,
    back: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<Response, PageError> {
    let throttle = reserve_sign_in_link(&state.store, &existing.email, ip, now_millis()).await?;
    if throttle == LoginThrottle::Allowed {
        mail_sign_in_link(state, existing, LinkMail::SignIn, Some(back)).await?;
    }
    Ok(Flash::error(SIGN_IN_TO_JOIN).redirect(&crate::pages::return_path::sign_in_then(back)))
}

/// All an anonymous visitor is told about an address that has an account.
pub(crate) const SIGN_IN_TO_JOIN: &str =
    "Sign in to join with this address. If it has an account, a sign-in link is on its way.";

fn hourly_cap_reached() -> PageError {
    PageError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Invite link busy",
        "This invite link has made as many new accounts this hour as its organiser allows. Try again later, or ask the organiser for another link.",
    )
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/call/join/{code}", get(join_page).post(join))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(text: &str) -> Millis {
        chrono_tz::Europe::London
            .from_local_datetime(
                &chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap_or_default(),
            )
            .earliest()
            .map_or(0, |t| t.timestamp_millis())
    }

    #[test]
    fn says_when_calling_opens_in_the_campaigns_words() {
        // The default hours: weekdays 10:00 to 20:00, Saturday 10:00 to 18:00, no Sunday.
        let hours = CallingWindows::default();
        let opens = |text| calling_opens(&hours, at(text));
        // Thursday 4 December 2025.
        assert_eq!(opens("2025-12-04 12:00"), None);
        assert_eq!(
            opens("2025-12-04 07:30").as_deref(),
            Some("Calling is closed now. It opens at 10:00 today.")
        );
        assert_eq!(
            opens("2025-12-04 22:00").as_deref(),
            Some("Calling is closed now. It opens at 10:00 tomorrow.")
        );
        // Saturday evening: Sunday is closed, so Monday.
        assert_eq!(
            opens("2025-12-06 19:00").as_deref(),
            Some("Calling is closed now. It opens at 10:00 on Monday.")
        );
    }
}
