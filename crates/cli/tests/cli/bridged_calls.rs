//! Bridged calling end to end: `barnstorm serve --sip-trunk …` against SIPp playing the
//! trunk and the volunteer's phone, on SQLite and PostgreSQL. A volunteer joins by "call
//! me", makes three masked calls (answered, busy, never answered) and records each outcome
//! and a survey answer from the keypad; another dials in with the PIN the API shows. The
//! contacts' numbers appear in nothing the caller receives.

use crate::BIN;
use barnstorm_domain::survey::Survey;
use barnstorm_store::phonebank::{Bridging, CampaignSettings, CampaignStatus};
use barnstorm_store::testing::TestDatabase;
use barnstorm_store::{DatabaseUrl, Store};
use serde_json::{Value, json};
use sipp::{Sipp, Step};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../../../../tests/sipp/harness.rs"]
mod sipp;

const CALLER_ID: &str = "+442079460000";
const DIAL_IN: &str = "+441134960000";
/// The contacts: the trunk answers ...1 and talks, is busy on ...2, never answers ...3,
/// and answers ...5 only to hang up at once.
const TALKS: &str = "+441134960101";
const BUSY: &str = "+441134960102";
const SILENT: &str = "+441134960103";
const BRIEF: &str = "+441134960105";

/// The node; stopped when the test ends, however it ends.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn url_text(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite:{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// A live bridged campaign in the demo's North West group, with `numbers` on its list and
/// one required survey question; returns its id.
async fn bridged_campaign(store: &Store, db: &str, numbers: &[&str]) -> i64 {
    let group = store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == "North West")
        .unwrap();
    let mut settings = CampaignSettings::new("Bridged phonebank");
    settings.calling_hours = serde_json::from_value(crate::open_all_day()).unwrap();
    settings.survey = serde_json::from_value::<Survey>(json!({"questions": [
        {"key": "support", "label": "Will you vote for us?", "required": true,
         "kind": {"type": "single_choice", "options": [
            {"key": "yes", "label": "Yes"}, {"key": "no", "label": "No"}]}}
    ]}))
    .unwrap();
    settings.bridging = Bridging {
        caller_id: Some(CALLER_ID.to_string()),
        call_me: true,
        dial_in: true,
        tel_links: false,
    };
    let campaign = store
        .create_campaign(group.id, &settings, None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    let rows: String = numbers
        .iter()
        .enumerate()
        .map(|(i, n)| format!("Contact{i},Person,{n}\n"))
        .collect();
    std::fs::write(&list, format!("first_name,last_name,phone\n{rows}")).unwrap();
    let id = campaign.id.to_string();
    crate::barnstorm(&[
        "import",
        "contacts",
        "--campaign",
        &id,
        list.to_str().unwrap(),
        "--database-url",
        db,
    ]);
    store
        .set_campaign_status(campaign.id, CampaignStatus::Live, None)
        .await
        .unwrap();
    campaign.id
}

struct Running {
    _node: Node,
    base: String,
    sip_port: u16,
    token: String,
    client: reqwest::Client,
}

async fn serve(db: &str, trunk_port: u16) -> Running {
    barnstorm_web::install_tls_provider();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sip_port = sipp::free_udp_port();
    let (first, last) = sipp::free_port_range(40);
    let node = Node(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                db,
            ])
            .args(["--sip-trunk", &format!("sip:127.0.0.1:{trunk_port}")])
            .args(["--sip-listen", &format!("127.0.0.1:{sip_port}")])
            .args(["--rtp-ports", &format!("{first}-{last}")])
            .args(["--dial-in-number", DIAL_IN, "--node-name", "test-node"])
            .env("BARNSTORM_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < until, "the node did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    Running {
        _node: node,
        base,
        sip_port,
        token: token["token"].as_str().unwrap().to_string(),
        client,
    }
}

impl Running {
    async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Polls the caller's line until it is gone (the phone hung up), keeping every answer;
    /// false if it is still up after `within`.
    async fn follow_line(&self, campaign: i64, within: Duration, seen: &mut Vec<String>) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            let (status, body) = self
                .request(
                    reqwest::Method::GET,
                    &format!("/api/v1/campaigns/{campaign}/phone-session"),
                    None,
                )
                .await;
            seen.push(body);
            if status == 404 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        false
    }

    async fn outcomes(&self, campaign: i64) -> String {
        let (status, csv) = self
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/campaigns/{campaign}/attempts.csv"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{csv}");
        csv
    }
}

/// Every way a number is written: E.164, national with and without spaces, digits only.
fn written_forms(e164: &str) -> Vec<String> {
    let national = format!("0{}", &e164[3..]);
    vec![
        e164.to_string(),
        national.clone(),
        format!("{} {} {}", &national[..4], &national[4..7], &national[7..]),
        e164[1..].to_string(),
    ]
}

fn assert_masked(seen: &[String], numbers: &[&str]) {
    for body in seen {
        for number in numbers {
            for form in written_forms(number) {
                assert!(!body.contains(&form), "a caller received {form}: {body}");
            }
        }
    }
}

fn press(key: char) -> Step {
    Step::Press(key)
}

fn pause(ms: u64) -> Step {
    Step::Pause(Duration::from_millis(ms))
}

async fn call_me_makes_three_masked_calls(db: TestDatabase) {
    let url = url_text(&db.url);
    crate::barnstorm(&["demo", "--database-url", &url]);
    let campaign = bridged_campaign(&db.store, &url, &[TALKS, BUSY, SILENT]).await;
    // The volunteer's phone: # calls the first contact (who answers, talks, hangs up),
    // 1 records "spoke" and 1 answers the survey "yes"; # rings the busy one, 3 records
    // "busy"; # rings the one who never answers, 2 records "no answer"; then hangs up.
    let steps = [
        pause(3000),
        press('#'),
        Step::Talk,
        pause(11000),
        press('1'),
        pause(600),
        press('1'),
        pause(2500),
        press('#'),
        pause(2500),
        press('3'),
        pause(2500),
        press('#'),
        pause(23000),
        press('2'),
        pause(2500),
    ];
    let mut trunk = Sipp::trunk(&steps, 4);
    let node = serve(&url, trunk.port).await;
    let mut seen = Vec::new();
    let (status, body) = node
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/campaigns/{campaign}/phone-session"),
            Some(json!({"join": "call_me", "phone": "0113 496 0999"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    seen.push(body);
    let started = Instant::now();
    let ended = node
        .follow_line(campaign, Duration::from_secs(90), &mut seen)
        .await;
    assert!(
        ended,
        "the line was still up: {}\nSIPp:\n{}",
        seen.last().unwrap(),
        trunk.messages()
    );
    assert!(
        trunk.succeeded(Duration::from_secs(20)),
        "SIPp saw a call go wrong:\n{}",
        trunk.messages()
    );
    let claim = node
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/campaigns/{campaign}/claims?explain=1"),
            None,
        )
        .await;
    seen.push(claim.1);

    assert_masked(&seen, &[TALKS, BUSY, SILENT]);
    assert!(
        seen.iter().any(|b| b.contains("\"stage\":\"on_call\"")),
        "the line never showed the call"
    );
    assert!(
        seen.iter().any(|b| b.contains("busy (486)")),
        "the busy call's cause was not shown"
    );
    let outcomes = node.outcomes(campaign).await;
    for (number, outcome) in [(TALKS, "spoke"), (BUSY, "busy"), (SILENT, "no_answer")] {
        let line = outcomes
            .lines()
            .find(|l| l.contains(number))
            .unwrap_or_else(|| panic!("no attempt for {number}:\n{outcomes}"));
        assert!(
            line.contains(outcome),
            "{number} should be {outcome}: {line}"
        );
    }
    let spoke = outcomes.lines().find(|l| l.contains(TALKS)).unwrap();
    assert!(
        spoke.contains("yes"),
        "the keypad survey answer was not kept: {spoke}"
    );
    // Both sides' audio went through the node's relay, and every leg was closed after.
    let metrics = reqwest::get(format!("{}/metrics", node.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metric = |name: &str| -> u64 {
        let line = metrics
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name}:\n{metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert!(
        metric("barnstorm_rtp_packets_total{kind=\"received\"}") > 300,
        "{metrics}"
    );
    assert!(
        metric("barnstorm_rtp_packets_total{kind=\"sent\"}") > 300,
        "{metrics}"
    );
    assert_eq!(metric("barnstorm_rtp_legs_open"), 0, "{metrics}");
    assert_eq!(metric("barnstorm_phone_lines"), 0, "{metrics}");
    let figures = db.store.call_figures(campaign, 0).await.unwrap();
    assert_eq!((figures.dialled, figures.answered), (3, 1), "{figures:?}");
    assert!(figures.talk_ms >= 4_000, "{figures:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(15 + 20),
        "the unanswered call was given up too soon"
    );
    drop(node);
    db.drop_database().await;
}

async fn dial_in_with_the_pin_the_page_shows(db: TestDatabase) {
    let url = url_text(&db.url);
    crate::barnstorm(&["demo", "--database-url", &url]);
    let campaign = bridged_campaign(&db.store, &url, &[BRIEF]).await;
    let mut trunk = Sipp::trunk(&[], 1);
    let node = serve(&url, trunk.port).await;
    let (status, body) = node
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/campaigns/{campaign}/phone-session"),
            Some(json!({"join": "dial_in"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let line: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(line["dial_in_number"], DIAL_IN);
    let pin = line["pin"].as_str().unwrap().to_string();
    // A wrong PIN first, then the right one; # calls the contact, 9 records "do not call".
    let mut steps = vec![pause(2000)];
    steps.extend("99".chars().map(press));
    steps.push(press('#'));
    steps.push(pause(1500));
    steps.extend(pin.chars().map(press));
    steps.extend([
        press('#'),
        pause(3000),
        press('#'),
        pause(6000),
        press('9'),
        pause(2000),
    ]);
    let mut phone = Sipp::dial_in(node.sip_port, DIAL_IN, &steps);
    let mut seen = vec![body];
    let ended = node
        .follow_line(campaign, Duration::from_secs(60), &mut seen)
        .await;
    assert!(
        ended,
        "the line was still up: {}\nthe phone:\n{}",
        seen.last().unwrap(),
        phone.messages()
    );
    assert!(
        phone.succeeded(Duration::from_secs(20)),
        "the dial-in call went wrong:\n{}",
        phone.messages()
    );
    assert!(
        trunk.succeeded(Duration::from_secs(20)),
        "the trunk saw a call go wrong:\n{}",
        trunk.messages()
    );
    assert_masked(&seen, &[BRIEF]);
    let outcomes = node.outcomes(campaign).await;
    let attempt = outcomes
        .lines()
        .find(|l| l.contains(BRIEF))
        .unwrap_or_else(|| panic!("no attempt:\n{outcomes}"));
    assert!(attempt.contains("do_not_call"), "{attempt}");
    drop(node);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_me_makes_three_masked_calls_with_keypad_outcomes() {
    if !sipp::sipp_or_skip("call_me_makes_three_masked_calls_with_keypad_outcomes") {
        return;
    }
    call_me_makes_three_masked_calls(TestDatabase::sqlite().await).await;
    if let Some(db) = TestDatabase::postgres().await {
        call_me_makes_three_masked_calls(db).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_in_callers_enter_the_pin_and_record_on_the_keypad() {
    if !sipp::sipp_or_skip("dial_in_callers_enter_the_pin_and_record_on_the_keypad") {
        return;
    }
    dial_in_with_the_pin_the_page_shows(TestDatabase::sqlite().await).await;
    if let Some(db) = TestDatabase::postgres().await {
        dial_in_with_the_pin_the_page_shows(db).await;
    }
}
