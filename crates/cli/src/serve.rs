//! `barnstorm serve`: opens the database, starts mail delivery and housekeeping, serves
//! HTTP until SIGTERM or Ctrl-C, then drains in-flight requests and stops cleanly.

use crate::DatabaseArgs;
use anyhow::Context;
use barnstorm_dispatch::{CampaignEvents, Dispatcher};
use barnstorm_mail::{MailConfig, MailWorker};
use barnstorm_store::{Store, StoreOptions};
use barnstorm_web::{AppState, Metrics, WebConfig};
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
    /// Log format.
    #[arg(long, env = "BARNSTORM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

fn parse_listen(raw: &str) -> Result<SocketAddr, String> {
    raw.parse().map_err(|_| format!("'{raw}' is not IP:PORT; use e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (host names are not accepted)"))
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

async fn housekeeping(store: Store, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(error) = store.purge_expired_credentials().await {
            tracing::warn!(%error, "could not purge expired sessions");
        }
        if let Err(error) = store.purge_sent_mail(SENT_MAIL_KEPT_MS).await {
            tracing::warn!(%error, "could not purge sent mail");
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
    let options = StoreOptions {
        max_connections: args.db_connections,
        ..StoreOptions::default()
    };
    let store = args.database.open(&options).await?;
    if args.demo {
        crate::demo::load(&store, &base_url).await?.print();
    }
    let worker = MailWorker::new(store.clone(), mail);
    let (stop_tx, stop_rx) = watch::channel(false);
    // On PostgreSQL, dashboards on every node hear about changes made on any node.
    let (events, relay) = CampaignEvents::connect_postgres(&store, stop_rx.clone());
    let mut background = vec![
        tokio::spawn(worker.clone().run(stop_rx.clone())),
        tokio::spawn(housekeeping(store.clone(), stop_rx)),
    ];
    background.extend(relay);

    let mut config = WebConfig::new(&base_url);
    config.trust_proxy = args.trust_proxy;
    let state = AppState {
        store: store.clone(),
        config: Arc::new(config),
        mail: Some(worker),
        metrics: Arc::new(Metrics::default()),
        dispatcher: Dispatcher::new(store.clone(), events),
    };
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
