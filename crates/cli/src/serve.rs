//! `barnstorm serve`: opens the database, starts mail delivery and housekeeping, serves
//! HTTP until SIGTERM or Ctrl-C, then drains in-flight requests and stops cleanly.

use crate::DatabaseArgs;
use anyhow::Context;
use barnstorm_dispatch::{CampaignEvents, Dispatcher, Switchboard};
use barnstorm_mail::{MailConfig, MailWorker};
use barnstorm_store::retention::{RetentionPolicy, RetentionRun};
use barnstorm_store::{Store, StoreOptions};
use barnstorm_web::auth::two_factor::TwoFactorRequirement;
use barnstorm_web::auth::{TokenCache, forget_tokens_revoked_elsewhere};
use barnstorm_web::webhooks::{WebhookSettings, WebhookWorker};
use barnstorm_web::{AppParts, AppState, Geocoder, Metrics, Nominatim, WebConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Log output format.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Options of `barnstorm serve`.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BARNSTORM_LISTEN", default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    listen: SocketAddr,
    #[command(flatten)]
    database: DatabaseArgs,
    /// The public URL of this instance, used in links sent by mail.
    #[arg(long, env = "BARNSTORM_BASE_URL")]
    base_url: Option<String>,
    /// SMTP server for outgoing mail, e.g. `smtp://127.0.0.1:25` or `smtps://user:pass@host`.
    /// Without it, mail is written to --mail-dir instead of being sent.
    #[arg(long, env = "BARNSTORM_SMTP_URL")]
    smtp_url: Option<String>,
    /// The From: address of outgoing mail.
    #[arg(
        long,
        env = "BARNSTORM_MAIL_FROM",
        default_value = "Barnstorm <barnstorm@example.org>"
    )]
    mail_from: String,
    /// Folder for outgoing mail when no SMTP server is configured.
    #[arg(long, env = "BARNSTORM_MAIL_DIR", default_value = "mail-outbox")]
    mail_dir: PathBuf,
    /// Database connections per node (PostgreSQL) or read connections (SQLite).
    #[arg(long, env = "BARNSTORM_DB_CONNECTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    db_connections: u32,
    /// Trust X-Forwarded-For from a reverse proxy for client addresses.
    #[arg(long, env = "BARNSTORM_TRUST_PROXY")]
    trust_proxy: bool,
    /// Load the demo data (if not loaded yet) before serving.
    #[arg(long)]
    demo: bool,
    /// A Nominatim-compatible geocoder (e.g. `https://nominatim.example.org`) asked about
    /// place names and addresses the built-in postcode tables do not know. Off by default:
    /// the service sees the text people search for.
    #[arg(long, env = "BARNSTORM_GEOCODER_URL")]
    geocoder_url: Option<String>,
    /// Map tile URL template for the events map (`{z}`, `{x}`, `{y}`; `{s}` for
    /// subdomains). An empty value (or `none`) turns tiles off: the map shows its markers
    /// on a plain background and no request leaves the visitor's browser for tiles.
    #[arg(
        long,
        env = "BARNSTORM_TILE_URL",
        default_value = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    )]
    tile_url: String,
    /// Attribution shown on the map for the tiles.
    #[arg(
        long,
        env = "BARNSTORM_TILE_ATTRIBUTION",
        default_value = "© OpenStreetMap contributors"
    )]
    tile_attribution: String,
    /// A PMTiles v3 archive (vector or raster tiles, e.g. a UK extract of the Protomaps
    /// build) that this server hands to the events map with range requests, so no tile
    /// server sees supporters' maps. Replaces --tile-url; --tile-attribution credits it.
    #[arg(long, env = "BARNSTORM_BASEMAP")]
    basemap: Option<PathBuf>,
    /// Outreach messages ("contact people in their area") one group may send per day.
    #[arg(long, env = "BARNSTORM_OUTREACH_DAILY_PER_GROUP", default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    outreach_daily_per_group: u32,
    /// Outreach messages one person may send per day, across all their groups.
    #[arg(long, env = "BARNSTORM_OUTREACH_DAILY_PER_SENDER", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    outreach_daily_per_sender: u32,
    /// Days a supporter is left out of a group's outreach after the group mailed them
    /// (at most one outreach message per group per this many days).
    #[arg(long, env = "BARNSTORM_OUTREACH_RECIPIENT_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=365))]
    outreach_recipient_days: u32,
    /// Who must use two-factor sign-in: `organisers` (anyone acting as an organiser, and
    /// admins), `admins`, or `off` (only where a group requires it of its organisers).
    #[arg(long, env = "BARNSTORM_REQUIRE_TWO_FACTOR", default_value = "off", value_parser = clap::value_parser!(TwoFactorRequirement))]
    require_two_factor: TwoFactorRequirement,
    /// Days a finished campaign's call list (contacts, their link to survey answers, the
    /// callers' notes) is kept; a group may set its own.
    #[arg(long, env = "BARNSTORM_CONTACT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    contact_retention_days: u32,
    /// Days after an event ends that who RSVPed to it is kept; a group may set its own.
    #[arg(long, env = "BARNSTORM_RSVP_RETENTION_DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
    rsvp_retention_days: u32,
    /// Months (of 30 days) a supporter with no consent and no activity is kept.
    #[arg(long, env = "BARNSTORM_SUPPORTER_RETENTION_MONTHS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=120))]
    supporter_retention_months: u32,
    /// Months (of 30 days) an audit entry is kept.
    #[arg(long, env = "BARNSTORM_AUDIT_RETENTION_MONTHS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=120))]
    audit_retention_months: u32,
    /// Accept webhook endpoints over plain `http://` and on loopback addresses (a
    /// receiver on this machine, tests). Private and link-local addresses stay refused.
    #[arg(long, env = "BARNSTORM_WEBHOOK_ALLOW_INSECURE_LOOPBACK")]
    webhook_allow_insecure_loopback: bool,
    #[command(flatten)]
    sip: crate::telephony::SipArgs,
    /// Log format.
    #[arg(long, env = "BARNSTORM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    raw.parse().map_err(|_| format!("'{raw}' is not IP:PORT; use e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (host names are not accepted)"))
}

/// The tile URL to use: empty (or `none`) for no tiles; otherwise an http(s) template
/// with `{z}`, `{x}` and `{y}`.
fn tile_url(raw: &str) -> anyhow::Result<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("none") {
        return Ok(String::new());
    }
    let templated = ["{z}", "{x}", "{y}"].iter().all(|part| raw.contains(part));
    if !(raw.starts_with("https://") || raw.starts_with("http://") || raw.starts_with('/'))
        || !templated
    {
        anyhow::bail!(
            "--tile-url / BARNSTORM_TILE_URL must be an http(s) URL with {{z}}, {{x}} and {{y}}, e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png, or empty for no tiles (got '{raw}')"
        );
    }
    Ok(raw.to_owned())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Sent mail (which may hold sign-in and invite links) is deleted after a week.
const SENT_MAIL_KEPT_MS: i64 = 7 * 24 * 3600 * 1000;

/// Delivered webhooks stay in the delivery log for 30 days.
const DELIVERED_WEBHOOKS_KEPT_MS: i64 = 30 * 24 * 3600 * 1000;

/// Hourly clean-up; `outreach_window_ms` is the per-recipient outreach window, after
/// which the record of who a group mailed is no longer needed. Retention runs once an
/// hour across all nodes, whichever gets there first.
async fn housekeeping(
    store: Store,
    outreach_window_ms: i64,
    retention: RetentionPolicy,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match store
            .run_retention(&retention, barnstorm_store::now_millis())
            .await
        {
            Ok(RetentionRun::Ran(done)) => {
                tracing::info!(removed = %done.summary(), "retention ran")
            }
            Ok(RetentionRun::AlreadyRan) => {}
            Err(error) => tracing::warn!(%error, "could not apply retention"),
        }
        if let Err(error) = store.purge_expired_credentials().await {
            tracing::warn!(%error, "could not purge expired sessions");
        }
        let mailed_before = barnstorm_store::now_millis() - outreach_window_ms;
        if let Err(error) = store.forget_outreach_recipients(mailed_before).await {
            tracing::warn!(%error, "could not forget old outreach recipients");
        }
        if let Err(error) = store.purge_sent_mail(SENT_MAIL_KEPT_MS).await {
            tracing::warn!(%error, "could not purge sent mail");
        }
        if let Err(error) = store
            .purge_delivered_webhooks(DELIVERED_WEBHOOKS_KEPT_MS)
            .await
        {
            tracing::warn!(%error, "could not purge delivered webhooks");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    // Check every setting before touching the database.
    let base_url = args
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        anyhow::bail!(
            "--base-url / BARNSTORM_BASE_URL must start with http:// or https:// (got '{base_url}')"
        );
    }
    let mail = MailConfig::new(
        &args.mail_from,
        args.smtp_url.as_deref(),
        args.mail_dir.clone(),
    )?;
    let geocoder_url = args.geocoder_url.clone().filter(|u| !u.trim().is_empty());
    // Checked before the database is opened, so a wrong file fails at once.
    let basemap = args
        .basemap
        .as_deref()
        .map(barnstorm_web::Basemap::open)
        .transpose()?;
    if let Some(basemap) = &basemap {
        tracing::info!(
            path = %basemap.path.display(),
            tiles = basemap.tiles.as_str(),
            min_zoom = basemap.min_zoom,
            max_zoom = basemap.max_zoom,
            "serving the basemap at {}",
            barnstorm_web::BASEMAP_PATH
        );
    }
    let nominatim = geocoder_url.as_deref().map(Nominatim::new).transpose()?;
    let options = StoreOptions {
        max_connections: args.db_connections,
        ..StoreOptions::default()
    };
    let store = args.database.open(&options).await?;
    if args.demo {
        crate::demo::load(&store, &base_url).await?.print();
    }
    let worker = MailWorker::new(store.clone(), mail);
    let webhooks = WebhookWorker::new(
        store.clone(),
        WebhookSettings {
            allow_insecure_loopback: args.webhook_allow_insecure_loopback,
            ..WebhookSettings::default()
        },
    )?;
    let (stop_tx, stop_rx) = watch::channel(false);
    // On PostgreSQL, dashboards on every node hear about changes made on any node.
    let (events, relay) = CampaignEvents::connect_postgres(&store, stop_rx.clone());
    let retention = RetentionPolicy {
        contact_days: args.contact_retention_days,
        rsvp_days: args.rsvp_retention_days,
        supporter_months: args.supporter_retention_months,
        audit_months: args.audit_retention_months,
    };
    let mut background = vec![
        tokio::spawn(worker.clone().run(stop_rx.clone())),
        tokio::spawn(webhooks.clone().run(stop_rx.clone())),
        tokio::spawn(housekeeping(
            store.clone(),
            i64::from(args.outreach_recipient_days) * 24 * 3_600_000,
            retention,
            stop_rx.clone(),
        )),
    ];
    background.extend(relay);

    let mut config = WebConfig::new(&base_url);
    config.trust_proxy = args.trust_proxy;
    config.geocoder_url = geocoder_url;
    config.tile_url = tile_url(&args.tile_url)?;
    config.tile_attribution = args.tile_attribution.clone();
    config.basemap = basemap;
    config.outreach_daily_per_group = args.outreach_daily_per_group;
    config.outreach_daily_per_sender = args.outreach_daily_per_sender;
    config.outreach_recipient_days = args.outreach_recipient_days;
    config.require_two_factor = args.require_two_factor;
    config.retention = retention;
    config.webhook_allow_insecure_loopback = args.webhook_allow_insecure_loopback;
    let telephony = args.sip.start(args.listen).await?;
    let dispatcher = Dispatcher::new(store.clone(), events);
    let switchboard = Switchboard::new(
        telephony.telephony,
        dispatcher.clone(),
        store.clone(),
        telephony.node,
        telephony.dial_in_number,
    );
    switchboard.close_calls_left_open().await?;
    let state = AppState::new(AppParts {
        store: store.clone(),
        config: Arc::new(config),
        mail: Some(worker),
        webhooks: Some(webhooks),
        metrics: Arc::new(Metrics::default()),
        dispatcher,
        switchboard,
        geocoder: Geocoder::new(store.clone(), nominatim),
        tokens: TokenCache::default(),
    });
    // A token revoked on another node stops working here within a second.
    background.push(tokio::spawn(forget_tokens_revoked_elsewhere(
        state.clone(),
        stop_rx.clone(),
    )));
    // Event reminders (day before, on the day, feedback): queued into the outbox once each.
    background.push(tokio::spawn(barnstorm_web::jobs::run_reminders(
        state.clone(),
        stop_rx,
    )));
    let app = barnstorm_web::router(state);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another server using that port?)",
                args.listen
            )
        })?;
    tracing::info!(listen = %args.listen, database = %store.backend(), base_url, "Barnstorm is serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the HTTP server failed")?;
    let _ = stop_tx.send(true);
    for task in background.drain(..) {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tile_url;

    #[test]
    fn tile_urls_are_templates_or_off() {
        assert_eq!(tile_url("").unwrap(), "");
        assert_eq!(tile_url(" none ").unwrap(), "");
        let osm = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
        assert_eq!(tile_url(osm).unwrap(), osm);
        assert!(tile_url("https://tiles.example.org/map.png").is_err());
        assert!(tile_url("javascript:alert(1)/{z}/{x}/{y}").is_err());
    }
}
