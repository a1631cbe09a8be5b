//! A group's requirement of two-factor sign-in for its organisers and those of every
//! group below it. Only organisers change it, and only once they have two-factor sign-in
//! themselves, so turning it on never locks out the person who did.

use crate::auth::{Flash, SignedIn};
use crate::pages::can_manage;
use crate::{AppState, PageError};
use axum::extract::{Form, Path, State};
use axum::response::Response;
use axum::{Router, routing::post};
use serde::Deserialize;

#[derive(Deserialize)]
struct RequirementForm {
    required: String,
}

async fn set_requirement(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(slug): Path<String>,
    Form(form): Form<RequirementForm>,
) -> Result<Response, PageError> {
    let group = state
        .store
        .group_by_slug(&slug)
        .await?
        .ok_or_else(|| PageError::not_found(format!("There is no group called '{slug}'.")))?;
    let back = format!("/groups/{}", group.slug);
    if !can_manage(&state, &signed_in.user, group.id).await? {
        return Err(PageError::forbidden(format!(
            "Only organisers of {} can do that.",
            group.name
        )));
    }
    let required = match form.required.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            return Ok(
                Flash::error("Two-factor sign-in: choose required or not required.")
                    .redirect(&back),
            );
        }
    };
    if required
        && !state
            .store
            .two_factor_status(signed_in.user.id)
            .await?
            .enabled()
    {
        return Ok(Flash::error(
            "Two-factor sign-in: set it up for yourself on your account page before requiring it of others.",
        )
        .redirect(&back));
    }
    state
        .store
        .set_group_requires_two_factor(group.id, required, Some(signed_in.user.id))
        .await?;
    Ok(Flash::ok(if required {
        format!(
            "Organisers of {} and the groups below it now need two-factor sign-in.",
            group.name
        )
    } else {
        format!(
            "{} no longer requires two-factor sign-in of its organisers.",
            group.name
        )
    })
    .redirect(&back))
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/groups/{slug}/two-factor", post(set_requirement))
}
