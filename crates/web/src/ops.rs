//! Operating the service: `/healthz` (is the database answering?), `/metrics` in the
//! Prometheus text format, request ids on every request and response, and a log line per
//! request carrying that id. Counts only; never records personal data.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use barnstorm_store::metrics::{self, Histogram};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const DURATION: &str = "barnstorm_http_request_duration_seconds";

#[derive(Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// Request counters and latency histograms per route, for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), RouteStats>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        let stats = routes
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.latency.observe(elapsed);
    }

    fn render(&self, out: &mut String) {
        let Ok(routes) = self.routes.lock() else {
            return;
        };
        metrics::header(
            out,
            "barnstorm_http_requests_total",
            "counter",
            "HTTP requests by route and status.",
        );
        for ((method, route), stats) in routes.iter() {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "barnstorm_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        metrics::header(out, DURATION, "histogram", "Time to answer HTTP requests.");
        for ((method, route), stats) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            stats.latency.render(out, DURATION, &labels);
        }
    }
}

/// Middleware: times each request, counts it, and logs it with its request id.
pub(crate) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe(&method, &route, status, elapsed);
    // The route template, not the path: paths can carry secrets (sign-in and invite links).
    tracing::info!(request_id, %method, %route, status, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "request");
    response
}

/// Layers that give every request an `x-request-id` (kept if the client or proxy sent
/// one) and copy it onto the response.
pub(crate) fn request_id_layers()
-> tower::layer::util::Stack<PropagateRequestIdLayer, SetRequestIdLayer<MakeRequestUuid>> {
    tower::layer::util::Stack::new(
        PropagateRequestIdLayer::new(REQUEST_ID),
        SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid),
    )
}

async fn healthz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(3), state.store.ping()).await {
        Ok(Ok(())) => {
            Json(json!({ "status": "ok", "database": state.store.backend().to_string() }))
                .into_response()
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "database": "unreachable" })),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "timeout" })),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    state.metrics.render(&mut out);
    state.store.render_metrics(&mut out);
    if let Ok((pending, failed)) = state.store.mail_counts().await {
        metrics::header(
            &mut out,
            "barnstorm_outbox_mails",
            "gauge",
            "Mails in the outbox by status.",
        );
        let _ = writeln!(
            out,
            "barnstorm_outbox_mails{{status=\"pending\"}} {pending}"
        );
        let _ = writeln!(out, "barnstorm_outbox_mails{{status=\"failed\"}} {failed}");
    }
    render_telephony(&state, &mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Phone lines and the RTP relay, on a node with a SIP trunk.
fn render_telephony(state: &AppState, out: &mut String) {
    let Some(media) = state.switchboard.media_stats() else {
        return;
    };
    metrics::header(
        out,
        "barnstorm_phone_lines",
        "gauge",
        "Callers with a phone line on this node (ringing, waiting or on it).",
    );
    let _ = writeln!(
        out,
        "barnstorm_phone_lines {}",
        state.switchboard.lines_open()
    );
    metrics::header(
        out,
        "barnstorm_rtp_legs_open",
        "gauge",
        "RTP legs open on this node (one per caller's phone and per contact call).",
    );
    let _ = writeln!(out, "barnstorm_rtp_legs_open {}", media.legs_open);
    metrics::header(
        out,
        "barnstorm_rtp_packets_total",
        "counter",
        "RTP packets by what happened to them: received, sent, lost (sequence gaps), late (reordered or repeated), delayed (read over 20 ms behind the stream's schedule), ignored (not RTP or from a stranger), send_failed.",
    );
    for (kind, count) in [
        ("received", media.packets_received),
        ("sent", media.packets_sent),
        ("lost", media.packets_lost),
        ("late", media.packets_late),
        ("delayed", media.packets_delayed),
        ("ignored", media.packets_ignored),
        ("send_failed", media.send_failures),
    ] {
        let _ = writeln!(
            out,
            "barnstorm_rtp_packets_total{{kind=\"{kind}\"}} {count}"
        );
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}
