//! Random secrets for links and tokens (sessions, API tokens, sign-in, RSVP manage and
//! unsubscribe links) and the form they are stored in. Only a secret's SHA-256 is kept
//! wherever the secret alone grants access.

use base64::Engine;
use sha2::{Digest, Sha256};

/// A new random secret: 256 bits, URL-safe base64 without padding.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The form in which a secret is stored and looked up: hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
