//! A webhook receiver on loopback for the tests: a real HTTP server that records what it
//! is sent and answers each request with the next status it was given (then 200), and
//! the check of a delivery's signature by PyPI's `standardwebhooks`, the scheme's own
//! library, run with python3. Without python3 and the library the check is skipped, except
//! under CI or `BARNSTORM_REQUIRE_ALL_SUITES=1`, where it fails: CI installs it.

use crate::app::skip_unless_required;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use std::collections::VecDeque;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inbox {
    got: Mutex<Vec<Received>>,
    answers: Mutex<VecDeque<u16>>,
}

/// The receiver's address and what it got.
pub struct Receiver {
    pub url: String,
    inbox: Arc<Inbox>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 that answers `answers` in turn, then 200.
    pub async fn start(answers: &[u16]) -> Self {
        let inbox = Arc::new(Inbox::default());
        inbox.answers.lock().unwrap().extend(answers);
        let app = axum::Router::new()
            .route("/hook", post(take))
            .with_state(Arc::clone(&inbox));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            url,
            inbox,
            _stop: stop,
        }
    }

    /// Everything received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.inbox.got.lock().unwrap().clone()
    }
}

async fn take(
    State(inbox): State<Arc<Inbox>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, &'static str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    inbox.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let status = inbox.answers.lock().unwrap().pop_front().unwrap_or(200);
    (StatusCode::from_u16(status).unwrap(), "receiver says hello")
}

const VERIFY: &str = r#"
import json, sys
try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError as e:
    print(e, file=sys.stderr)
    sys.exit(2)
a = json.load(sys.stdin)
try:
    Webhook(a["secret"]).verify(a["body"], {"webhook-id": a["id"], "webhook-timestamp": a["timestamp"], "webhook-signature": a["signature"]})
except WebhookVerificationError as e:
    print(e)
    sys.exit(3)
"#;

/// Whether PyPI's `standardwebhooks` accepts `got` as signed with `secret`; `None` when
/// the library cannot run here and that is allowed.
pub fn verified_by_standardwebhooks(secret: &str, got: &Received) -> Option<bool> {
    let input = serde_json::json!({
        "secret": secret, "id": got.id, "timestamp": got.timestamp,
        "signature": got.signature, "body": got.body,
    });
    let child = Command::new("python3")
        .args(["-c", VERIFY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let output = child.and_then(|mut child| {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())?;
        child.wait_with_output()
    });
    match output {
        Ok(out) if out.status.success() => Some(true),
        Ok(out) if out.status.code() == Some(3) => Some(false),
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            skip_unless_required("standardwebhooks signature check", "standardwebhooks", &why);
            None
        }
    }
}
