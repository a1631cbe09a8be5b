//! `barnstorm bench callers --processes 2` against a real node on a fresh SQLite demo
//! database: the report the parent merges from its workers must add up, and every
//! acknowledged outcome must be in the database (`barnstorm check`).

use crate::{BIN, barnstorm};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CAMPAIGN: &str = "1";

/// The node; stopped when the test ends, however it ends.
pub struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Opens the demo campaign's calling hours around the clock, so the run does not depend
/// on the time of day, and raises its pace limits: simulated callers loop much faster
/// than a person calls.
pub async fn open_all_day_and_faster(base: &str) {
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{base}/api/v1/tokens"))
        .json(&json!({ "email": "northwest@example.org", "password": "barnstorm-demo" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let patched = client
        .patch(format!("{base}/api/v1/campaigns/{CAMPAIGN}"))
        .bearer_auth(token["token"].as_str().unwrap())
        .json(&json!({
            "calling_hours": crate::open_all_day(),
            "pace_per_minute": 600, "pace_per_hour": 36000, "do_not_call_per_hour": 1000,
        }))
        .send()
        .await
        .unwrap();
    assert!(
        patched.status().is_success(),
        "{}",
        patched.text().await.unwrap()
    );
}

/// Starts `barnstorm serve` on `db` on a free port and waits for `/healthz`; returns the
/// node and its base URL.
pub async fn start_node(db: &str, dir: &std::path::Path) -> (Node, String) {
    start_node_with(db, dir, &[]).await
}

/// [`start_node`] with more `serve` flags.
pub async fn start_node_with(db: &str, dir: &std::path::Path, flags: &[&str]) -> (Node, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mail = dir.join("mail");
    let node = Node(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", db, "--mail-dir"])
            .arg(&mail)
            .args(flags)
            .env("BARNSTORM_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let until = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < until, "the node did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (node, base)
}

#[tokio::test]
async fn callers_spread_over_two_processes_report_as_one_run() {
    // The test's own HTTP client needs the TLS provider the binary installs at start.
    barnstorm_web::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("bench.db").display());
    barnstorm(&["demo", "--database-url", &db]);
    let (_node, base) = start_node(&db, dir.path()).await;
    open_all_day_and_faster(&base).await;

    let report_path = dir.path().join("report.json");
    let text = barnstorm(&[
        "bench",
        "callers",
        "--target",
        &base,
        "--campaign",
        CAMPAIGN,
        "--organiser-email",
        "northwest@example.org",
        "--organiser-password",
        "barnstorm-demo",
        "--callers",
        "30",
        "--ramp",
        "1",
        "--duration",
        "4",
        "--call-secs",
        "0.1-0.3",
        "--wrap-up-secs",
        "0.1",
        "--outcomes",
        "no_answer=60,busy=25,wrong_number=15",
        "--break-chance",
        "0",
        "--abandon-chance",
        "0",
        "--processes",
        "2",
        "--idle-hold",
        "2",
        "--json",
        report_path.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();

    assert!(text.contains("processes          2"), "{text}");
    assert_eq!(report["processes"], 2, "{report}");
    assert_eq!(
        report["callers"], 30,
        "every caller of both workers joined: {report}"
    );
    assert_eq!(report["errors"], json!({}), "{report}");
    let cycles = report["cycles"].as_u64().unwrap();
    let claims = report["claims"].as_u64().unwrap();
    let acks = report["acknowledged_attempts"].as_array().unwrap();
    assert!(cycles >= 30, "each caller made calls: {report}");
    assert!(claims >= cycles, "{claims} claims for {cycles} cycles");
    assert_eq!(acks.len() as u64, cycles);
    assert_eq!(report["outcome"]["count"].as_u64(), Some(cycles));
    assert_eq!(report["join"]["count"], 30);
    // Both workers' callers are in the acknowledgements: ids are unique across them.
    let mut ids: Vec<i64> = acks.iter().map(|a| a.as_i64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), acks.len(), "acknowledged ids repeat");
    assert_eq!(report["idle"]["callers"], 30, "{report}");
    assert!(
        report["idle"]["connections"].as_u64().unwrap() >= 30,
        "one open connection per idle caller: {report}"
    );

    let check = barnstorm(&[
        "check",
        "--campaign",
        CAMPAIGN,
        "--acks",
        report_path.to_str().unwrap(),
        "--database-url",
        &db,
    ]);
    let verdict = String::from_utf8_lossy(&check.stdout);
    assert!(verdict.contains("PASS"), "{verdict}");
}
