//! Passkeys (WebAuthn) through webauthn-rs: registering one for a signed-in account and
//! using one as the second step of sign-in. The relying party is this instance's base
//! URL (its host is the RP id), so passkeys need a base URL with a domain name, served
//! over https or from localhost. Challenges are kept in the database so any node can
//! finish a ceremony another started.

use crate::AppState;
use barnstorm_store::{Millis, PasskeyInfo, StoreError, User};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

/// How long a browser has to answer a passkey challenge.
const CEREMONY_TTL_MS: Millis = 5 * 60 * 1000;

/// Why a passkey ceremony failed.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The base URL has no domain name (an IP address), so browsers refuse passkeys.
    #[error("passkeys need the instance's base URL to use a domain name (such as localhost)")]
    Unavailable,
    /// No challenge was issued, or it expired.
    #[error("that passkey request expired; try again")]
    Expired,
    /// The browser's answer did not verify.
    #[error("the passkey could not be verified")]
    Rejected,
    /// That passkey is registered already.
    #[error("that passkey is already registered")]
    AlreadyRegistered,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn webauthn(state: &AppState) -> Result<Webauthn, PasskeyError> {
    let origin = Url::parse(&state.config.base_url).map_err(|_| PasskeyError::Unavailable)?;
    let rp_id = origin.domain().ok_or(PasskeyError::Unavailable)?.to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|builder| builder.rp_name("Barnstorm").build())
        .map_err(|e| {
            tracing::warn!(error = %e, "passkeys unavailable for this base URL");
            PasskeyError::Unavailable
        })
}

/// A stable WebAuthn user handle for an account (not its email, which may change).
fn user_handle(user: &User) -> Uuid {
    Uuid::from_u64_pair(0x6261_726e_7374_6f72, u64::try_from(user.id).unwrap_or(0))
}

fn stored_passkeys(rows: &[PasskeyInfo]) -> Vec<(i64, Passkey)> {
    rows.iter()
        .filter_map(|row| Some((row.id, serde_json::from_str(&row.credential).ok()?)))
        .collect()
}

/// The passkey's credential id as stored (base64url without padding, as WebAuthn's JSON
/// writes it). Encoded here: webauthn-rs serialises the id to JSON as an array of bytes.
fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, PasskeyError> {
    serde_json::to_string(value).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise a passkey challenge");
        PasskeyError::Rejected
    })
}

/// Starts registering a passkey for `user`: the options for
/// `navigator.credentials.create`, as JSON.
pub async fn start_passkey_registration(
    state: &AppState,
    user: &User,
    now: Millis,
) -> Result<Value, PasskeyError> {
    let webauthn = webauthn(state)?;
    let existing = stored_passkeys(&state.store.passkeys(user.id).await?);
    let exclude = existing.iter().map(|(_, p)| p.cred_id().clone()).collect();
    let (options, registration) = webauthn
        .start_passkey_registration(user_handle(user), &user.email, &user.name, Some(exclude))
        .map_err(|_| PasskeyError::Rejected)?;
    state
        .store
        .save_passkey_registration(user.id, &to_json(&registration)?, now + CEREMONY_TTL_MS)
        .await?;
    serde_json::to_value(options).map_err(|_| PasskeyError::Rejected)
}

/// Finishes registering: verifies the browser's answer and stores the passkey as `name`.
pub async fn finish_passkey_registration(
    state: &AppState,
    user: &User,
    name: &str,
    answer: &Value,
    now: Millis,
) -> Result<i64, PasskeyError> {
    let webauthn = webauthn(state)?;
    let stored = state
        .store
        .take_passkey_registration(user.id, now)
        .await?
        .ok_or(PasskeyError::Expired)?;
    let registration: PasskeyRegistration =
        serde_json::from_str(&stored).map_err(|_| PasskeyError::Expired)?;
    let answer: RegisterPublicKeyCredential =
        serde_json::from_value(answer.clone()).map_err(|e| {
            tracing::info!(error = %e, user = user.id, "passkey registration unreadable");
            PasskeyError::Rejected
        })?;
    let passkey = webauthn
        .finish_passkey_registration(&answer, &registration)
        .map_err(|e| {
            tracing::info!(error = %e, user = user.id, "passkey registration refused");
            PasskeyError::Rejected
        })?;
    match state
        .store
        .add_passkey(
            user.id,
            &credential_id(&passkey),
            name,
            &to_json(&passkey)?,
            now,
        )
        .await
    {
        Err(StoreError::Conflict(_)) => Err(PasskeyError::AlreadyRegistered),
        other => Ok(other?),
    }
}

/// Starts a passkey sign-in for the waiting sign-in `step_hash`: the options for
/// `navigator.credentials.get`, limited to `user`'s passkeys.
pub(crate) async fn start_passkey_sign_in(
    state: &AppState,
    user: &User,
    step_hash: &str,
) -> Result<Value, PasskeyError> {
    let webauthn = webauthn(state)?;
    let passkeys: Vec<Passkey> = stored_passkeys(&state.store.passkeys(user.id).await?)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    if passkeys.is_empty() {
        return Err(PasskeyError::Rejected);
    }
    let (options, authentication) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|_| PasskeyError::Rejected)?;
    state
        .store
        .set_second_step_passkey_state(step_hash, &to_json(&authentication)?)
        .await?;
    serde_json::to_value(options).map_err(|_| PasskeyError::Rejected)
}

/// Verifies the browser's passkey answer against the challenge kept with the waiting
/// sign-in, and records the passkey's use.
pub(crate) async fn finish_passkey_sign_in(
    state: &AppState,
    user: &User,
    challenge: Option<&str>,
    answer: &Value,
    now: Millis,
) -> Result<(), PasskeyError> {
    let webauthn = webauthn(state)?;
    let authentication: PasskeyAuthentication = challenge
        .and_then(|c| serde_json::from_str(c).ok())
        .ok_or(PasskeyError::Expired)?;
    let answer: PublicKeyCredential = serde_json::from_value(answer.clone()).map_err(|e| {
        tracing::info!(error = %e, user = user.id, "passkey answer unreadable");
        PasskeyError::Rejected
    })?;
    let result = webauthn
        .finish_passkey_authentication(&answer, &authentication)
        .map_err(|e| {
            tracing::info!(error = %e, user = user.id, "passkey sign-in refused");
            PasskeyError::Rejected
        })?;
    for (id, mut passkey) in stored_passkeys(&state.store.passkeys(user.id).await?) {
        if passkey.cred_id() == result.cred_id() {
            passkey.update_credential(&result);
            state
                .store
                .passkey_used(user.id, id, &to_json(&passkey)?, now)
                .await?;
            return Ok(());
        }
    }
    Err(PasskeyError::Rejected)
}
