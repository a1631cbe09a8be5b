//! Web settings fixed at start-up: the public base URL (for links in mail), cookie
//! security, session length, password-hashing cost, who must use two-factor sign-in and
//! how long personal data is kept, and the events map's background (tiles or basemap).
//! Read by the CLI from flags and environment; this module only holds and derives them.

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
    /// A Nominatim-compatible geocoder asked about places the offline tables do not
    /// know; `None` (the default) keeps every search on this server.
    pub geocoder_url: Option<String>,
    /// Map tile URL template (`{z}/{x}/{y}`) for the events map; empty: no tiles, the map
    /// shows markers on a plain background.
    pub tile_url: String,
    /// Attribution shown on the map for the tiles (plain text).
    pub tile_attribution: String,
    /// The operator's own PMTiles archive, served at [`crate::BASEMAP_PATH`]; when set,
    /// the map draws it and `tile_url` is not used.
    pub basemap: Option<crate::Basemap>,
    /// Outreach messages ("contact people in their area") one group may send per day.
    pub outreach_daily_per_group: u32,
    /// Outreach messages one person may send per day, across groups.
    pub outreach_daily_per_sender: u32,
    /// A supporter gets at most one outreach message from a group in this many days.
    pub outreach_recipient_days: u32,
    /// Who must use two-factor sign-in across the instance (groups may add their own
    /// organisers on top).
    pub require_two_factor: crate::auth::two_factor::TwoFactorRequirement,
    /// The instance's retention periods (groups may override the call-list and RSVP
    /// ones); the same values the housekeeping job applies.
    pub retention: barnstorm_store::retention::RetentionPolicy,
    /// Accept `http://` and loopback webhook endpoints (tests, a receiver on this
    /// machine); private addresses stay refused.
    pub webhook_allow_insecure_loopback: bool,
}

/// The default map tiles: OpenStreetMap's own servers (fine for small instances; large
/// ones should host their own, see the OSM tile usage policy).
pub const DEFAULT_TILE_URL: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
/// Attribution for [`DEFAULT_TILE_URL`].
pub const DEFAULT_TILE_ATTRIBUTION: &str = "© OpenStreetMap contributors";

impl WebConfig {
    /// Defaults for `base_url`.
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            trust_proxy: false,
            password_memory_kib: 19 * 1024,
            geocoder_url: None,
            tile_url: DEFAULT_TILE_URL.to_owned(),
            tile_attribution: DEFAULT_TILE_ATTRIBUTION.to_owned(),
            basemap: None,
            outreach_daily_per_group: 10,
            outreach_daily_per_sender: 3,
            outreach_recipient_days: 7,
            require_two_factor: crate::auth::two_factor::TwoFactorRequirement::Off,
            retention: barnstorm_store::retention::RetentionPolicy::default(),
            webhook_allow_insecure_loopback: false,
        }
    }

    /// The tile URL template the map uses: none when the operator's basemap is served.
    pub fn map_tile_url(&self) -> &str {
        if self.basemap.is_some() {
            ""
        } else {
            &self.tile_url
        }
    }

    /// Cookies carry `Secure` when the instance is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// [`Self::outreach_recipient_days`] in milliseconds.
    pub fn outreach_recipient_window_ms(&self) -> i64 {
        i64::from(self.outreach_recipient_days) * 24 * 3_600_000
    }

    /// An absolute URL for `path` (which starts with `/`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}
