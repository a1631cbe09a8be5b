//! Web settings fixed at start-up: the public base URL (for links in mail), cookie
//! security, session length and password-hashing cost. Read by the CLI from flags and
//! environment; this module only holds and derives them.

use std::time::Duration;

/// Settings for the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The URL people reach this instance at, without a trailing slash
    /// (e.g. `https://organise.example.org`); used in links sent by mail.
    pub base_url: String,
    /// How long a browser session lasts.
    pub session_ttl: Duration,
    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    pub trust_proxy: bool,
    /// Argon2id memory cost in KiB (19 MiB by default; tests use less).
    pub password_memory_kib: u32,
}

impl WebConfig {
    /// Defaults for `base_url`.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            trust_proxy: false,
            password_memory_kib: 19 * 1024,
        }
    }

    /// Cookies carry `Secure` when the instance is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// An absolute URL for `path` (which starts with `/`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}
