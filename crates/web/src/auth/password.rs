//! Password hashing with Argon2id. Verification is constant-time, and checking a password
//! for an unknown account costs the same as for a known one, so timing does not reveal
//! which emails have accounts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Why a password was not accepted or could not be checked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Too short to be safe.
    #[error("the password must be at least {MIN_PASSWORD_LEN} characters long")]
    TooShort,
    /// Hashing failed (bad parameters).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn argon2(memory_kib: u32) -> Result<Argon2<'static>, PasswordError> {
    let params =
        Params::new(memory_kib, 2, 1, None).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a new password (after checking its length) into a PHC string.
pub fn hash_password(password: &str, memory_kib: u32) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort);
    }
    let salt_bytes: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hashing(e.to_string()))?;
    argon2(memory_kib)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// True when `password` matches `stored`. With no stored hash (unknown account, or an
/// account without a password) it still spends the time of one verification.
pub fn verify_password(password: &str, stored: Option<&str>, memory_kib: u32) -> bool {
    match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        None => {
            let _ = hash_password("timing-equaliser-password", memory_kib);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password("correct horse battery", 256).unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&hash), 256));
        assert!(!verify_password("correct horse batterY", Some(&hash), 256));
        assert!(!verify_password("anything", None, 256));
        assert_eq!(hash_password("short", 256), Err(PasswordError::TooShort));
    }
}
