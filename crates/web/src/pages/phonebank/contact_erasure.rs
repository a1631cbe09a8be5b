//! Erasing one contact from a campaign's list, from its page: the organiser finds the
//! contact by number, checks what will be erased on a confirmation page, and erases it.
//! The erasure is the store's, the same code that erases a person's contacts; the
//! person's other records stay (the data-protection pages erase a person everywhere).

use super::access::organiser_campaign;
use crate::api::phonebank::contacts::erase_campaign_contact;
use crate::auth::{Flash, SignedIn};
use crate::pages::layout::{Layout, render};
use crate::{AppState, PageError};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::post};
use barnstorm_domain::phone::{Region, normalise_phone};
use barnstorm_store::Group;
use barnstorm_store::phonebank::{Campaign, Contact};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "phonebank/erase_contact.html")]
struct EraseContactPage {
    layout: Layout,
    campaign: Campaign,
    group: Group,
    contact: Contact,
    calls: i64,
}

#[derive(Deserialize)]
struct FindForm {
    #[serde(default)]
    phone: String,
}

async fn find_contact(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<FindForm>,
) -> Result<Response, PageError> {
    let (campaign, group) = organiser_campaign(&state, &signed_in.user, id).await?;
    let back = format!("/campaigns/{id}#erase-contact");
    let phone = match normalise_phone(form.phone.trim(), Region::GB) {
        Ok(phone) => phone,
        Err(e) => {
            return Ok(Flash::error(format!("Phone number: {e}.")).redirect(&back));
        }
    };
    let Some(contact) = state
        .store
        .contact_by_phone(campaign.id, phone.as_str())
        .await?
    else {
        return Ok(Flash::error(format!(
            "Phone number: this list has no contact on {}.",
            phone.as_str()
        ))
        .redirect(&back));
    };
    let calls = state.store.contact_attempts(contact.id).await?;
    Ok(render(&EraseContactPage {
        layout: Layout::new(&signed_in.context),
        campaign,
        group,
        contact,
        calls,
    }))
}

async fn erase_contact(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path((id, contact_id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let (campaign, _) = organiser_campaign(&state, &signed_in.user, id).await?;
    let back = format!("/campaigns/{id}#erase-contact");
    match erase_campaign_contact(&state, campaign.id, contact_id, signed_in.user.id).await? {
        Some(_) => Ok(Flash::ok(
            "Contact erased: their details and call notes are gone, the totals are unchanged, and their number stays suppressed.",
        )
        .redirect(&back)),
        None => Ok(Flash::error(
            "That contact is not on this list, or was erased already.",
        )
        .redirect(&back)),
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns/{id}/contacts/find", post(find_contact))
        .route(
            "/campaigns/{id}/contacts/{contact_id}/erase",
            post(erase_contact),
        )
}
