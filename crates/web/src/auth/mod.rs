//! Who is asking: browser sessions (cookie → server-side session row), CSRF protection for
//! every state-changing form, API bearer tokens, password hashing and sign-in rate limits.
//! Secrets are random 256-bit values; only their SHA-256 is stored. Two-factor sign-in
//! (authenticator apps, recovery codes, passkeys) and who must use it are in [`two_factor`].

mod context;
mod password;
mod rate_limit;
mod token_cache;
pub mod two_factor;

pub use context::{ApiUser, Flash, RequestContext, SignedIn, web_context};
pub(crate) use context::{clear_session_cookie, client_ip, session_cookie, session_token_hash};
pub use password::{MIN_PASSWORD_LEN, PasswordError, hash_password, verify_password};
pub(crate) use rate_limit::{
    LoginThrottle, clear_login_failures, record_login_result, reserve_invite_join,
    reserve_login_attempt, reserve_rsvp, reserve_sign_in_link, reserve_sign_up,
};
pub use token_cache::{REVOCATION_POLL, TOKEN_CACHE, TokenCache, forget_tokens_revoked_elsewhere};

pub use barnstorm_store::{hash_secret, new_secret};

/// Compares two secrets in time independent of where they differ.
pub fn secrets_match(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hash_stably() {
        let a = new_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_secret());
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(secrets_match("same", "same"));
        assert!(!secrets_match("same", "diff"));
        assert!(!secrets_match("short", "longer"));
    }
}
