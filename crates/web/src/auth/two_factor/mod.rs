//! Two-factor sign-in rules: who must have it (the instance setting and the groups'
//! own), checking a code or recovery code within the sign-in rate limits, and the answer
//! an organiser without it gets. Pages and the API call these; nothing here renders.

mod passkeys;
mod totp;

pub use passkeys::{PasskeyError, finish_passkey_registration, start_passkey_registration};
pub(crate) use passkeys::{finish_passkey_sign_in, start_passkey_sign_in};
pub use totp::{
    RECOVERY_CODE_COUNT, code_at, new_recovery_codes, new_totp_secret, normalise_recovery_code,
    otpauth_uri, qr_svg, step_of,
};

use crate::auth::{LoginThrottle, record_login_result, reserve_login_attempt};
use crate::{ApiError, AppState, PageError};
use axum::http::StatusCode;
use barnstorm_store::{Millis, StoreError, User};
use std::net::IpAddr;

/// Where to set two-factor sign-in up; organisers who need it are sent here.
pub const SET_UP_PATH: &str = "/account/two-factor";

/// Who must use two-factor sign-in across the whole instance (`--require-two-factor`).
/// Groups can require it of their own organisers on top of this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TwoFactorRequirement {
    /// Nobody, unless a group requires it.
    #[default]
    Off,
    /// Instance administrators.
    Admins,
    /// Anyone acting as an organiser of any group, and administrators.
    Organisers,
}

impl std::str::FromStr for TwoFactorRequirement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "admins" => Ok(Self::Admins),
            "organisers" | "organizers" => Ok(Self::Organisers),
            other => Err(format!(
                "'{other}' is not a two-factor requirement; use organisers, admins or off"
            )),
        }
    }
}

/// Why an organiser action was refused before it started.
#[derive(Debug, thiserror::Error)]
pub enum OrganiserAccessError {
    /// Two-factor sign-in is required here and the account has none.
    #[error("set up two-factor sign-in first")]
    TwoFactorRequired,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<OrganiserAccessError> for PageError {
    fn from(err: OrganiserAccessError) -> Self {
        match err {
            OrganiserAccessError::TwoFactorRequired => PageError::new(
                StatusCode::FORBIDDEN,
                "Set up two-factor sign-in first",
                "Organisers here must sign in with a second step: a code from an authenticator app or a passkey. Set it up on your account page, then come back.",
            )
            .with_action(SET_UP_PATH, "Set up two-factor sign-in"),
            OrganiserAccessError::Store(e) => e.into(),
        }
    }
}

impl From<OrganiserAccessError> for ApiError {
    fn from(err: OrganiserAccessError) -> Self {
        match err {
            OrganiserAccessError::TwoFactorRequired => ApiError::new(
                StatusCode::FORBIDDEN,
                "two_factor_required",
                "set up two-factor sign-in first: organisers here must have it",
            )
            .with_details(serde_json::json!({ "set_up": SET_UP_PATH })),
            OrganiserAccessError::Store(e) => e.into(),
        }
    }
}

/// Refuses `user`, who may act as an organiser of `group_id`, when two-factor sign-in is
/// required there (by the instance or by the group or one above it) and they have none.
pub(crate) async fn require_two_factor_for_organiser(
    state: &AppState,
    user: &User,
    group_id: i64,
) -> Result<(), OrganiserAccessError> {
    let instance_requires = match state.config.require_two_factor {
        TwoFactorRequirement::Off => false,
        TwoFactorRequirement::Admins => user.is_admin,
        TwoFactorRequirement::Organisers => true,
    };
    let gate = state.store.two_factor_gate(user.id, group_id).await?;
    if (instance_requires || gate.group_requires) && !gate.enrolled {
        return Err(OrganiserAccessError::TwoFactorRequired);
    }
    Ok(())
}

/// Refuses `user`, who may answer subject-access and erasure requests, when the instance
/// requires two-factor sign-in of administrators or of organisers and they have none: the
/// people's data pages reach everyone's records, so they are held to the strictest rule the
/// instance sets, whatever the account's other roles.
pub(crate) async fn require_two_factor_for_subject_requests(
    state: &AppState,
    user: &User,
) -> Result<(), OrganiserAccessError> {
    if state.config.require_two_factor == TwoFactorRequirement::Off {
        return Ok(());
    }
    if state.store.two_factor_status(user.id).await?.enabled() {
        Ok(())
    } else {
        Err(OrganiserAccessError::TwoFactorRequired)
    }
}

/// What a code typed at the second step turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorCheck {
    /// A fresh code from the authenticator app.
    Code,
    /// One of the recovery codes, now used up.
    RecoveryCode,
    /// A right code that was already used (a replay); wait for the next one.
    Replayed,
    /// Neither a current code nor an unused recovery code.
    Wrong,
    /// Too many failed sign-ins; try again after this many minutes.
    Blocked {
        /// Minutes until the next attempt is allowed.
        retry_after_minutes: i64,
    },
}

impl SecondFactorCheck {
    /// The code was accepted.
    pub fn accepted(self) -> bool {
        matches!(self, Self::Code | Self::RecoveryCode)
    }
}

/// Checks `input` (a six-digit code or a recovery code) for `user` at `now`, within the
/// sign-in rate limits: each attempt is counted before it is checked, as for passwords,
/// and success clears the account's count.
pub(crate) async fn check_second_factor(
    state: &AppState,
    user: &User,
    input: &str,
    ip: Option<IpAddr>,
    now: Millis,
) -> Result<SecondFactorCheck, StoreError> {
    let store = &state.store;
    if let LoginThrottle::Blocked {
        retry_after_minutes,
    } = reserve_login_attempt(store, &user.email, ip, now).await?
    {
        return Ok(SecondFactorCheck::Blocked {
            retry_after_minutes,
        });
    }
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let check = if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit()) {
        match store.totp_authenticator(user.id).await? {
            Some(app) if app.confirmed => match step_of(&app.secret, &digits, now) {
                Some(step) if store.use_totp_step(user.id, step).await? => SecondFactorCheck::Code,
                Some(_) => SecondFactorCheck::Replayed,
                None => SecondFactorCheck::Wrong,
            },
            _ => SecondFactorCheck::Wrong,
        }
    } else {
        match normalise_recovery_code(input) {
            Some(code) => {
                let hash = crate::auth::hash_secret(&code);
                if store.use_recovery_code(user.id, &hash, now).await? {
                    SecondFactorCheck::RecoveryCode
                } else {
                    SecondFactorCheck::Wrong
                }
            }
            None => SecondFactorCheck::Wrong,
        }
    };
    record_login_result(store, &user.email, ip, check.accepted()).await?;
    Ok(check)
}
