//! Server-rendered pages. One module per area; each exposes a `routes()` merged here.
//! Handlers check access, call the store and render a template; form input errors come
//! back to the same page as a flash that names the field.

mod account;
pub(crate) mod discover;
pub(crate) mod events;
mod groups;
pub(crate) use groups::{INVITE_TTL_MS, can_manage, plausible_email, require_manager, tree_rows};
mod audit;
mod home;
mod invites;
pub(crate) mod layout;
pub(crate) mod login;
mod people;
mod phonebank;
mod privacy;
mod retention;
pub(crate) mod return_path;
mod signup;
mod two_factor;
mod unsubscribe;
mod webhooks;

use crate::AppState;
use axum::Router;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(discover::routes())
        .merge(login::routes())
        .merge(signup::routes())
        .merge(account::routes())
        .merge(people::routes())
        .merge(groups::routes())
        .merge(events::router())
        .merge(invites::routes())
        .merge(phonebank::routes())
        .merge(unsubscribe::routes())
        .merge(privacy::routes())
        .merge(two_factor::routes())
        .merge(audit::routes())
        .merge(retention::routes())
        .merge(webhooks::routes())
}
