//! One simulated caller per task: join by invite, then claim → call (with heartbeats) →
//! outcome → wrap-up, with breaks and vanishings drawn at random, until the deadline.
//! Each caller has its own keep-alive connection, bound to one of several loopback source
//! addresses so tens of thousands of connections fit in the port range.

use crate::report::{Latency, Report, process_rss_mib};
use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The outcomes simulated callers choose, with weights.
#[derive(Debug, Clone)]
pub struct OutcomeMix(pub Vec<(String, u32)>);

impl std::str::FromStr for OutcomeMix {
    type Err = String;
    /// `spoke=30,no_answer=50,refused=20`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut mix = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' is not outcome=weight"))?;
            let weight: u32 = weight
                .parse()
                .map_err(|_| format!("'{weight}' is not a whole number"))?;
            mix.push((key.to_owned(), weight));
        }
        if mix.iter().map(|(_, w)| w).sum::<u32>() == 0 {
            return Err("the outcome mix needs at least one positive weight".into());
        }
        Ok(Self(mix))
    }
}

impl OutcomeMix {
    fn pick(&self, rng: &mut StdRng) -> &str {
        let total: u32 = self.0.iter().map(|(_, w)| w).sum();
        let mut roll = rng.random_range(0..total);
        for (key, weight) in &self.0 {
            if roll < *weight {
                return key;
            }
            roll -= weight;
        }
        &self.0[0].0
    }
}

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Base URLs of the nodes, e.g. `http://127.0.0.1:8080`; callers are spread over them.
    pub targets: Vec<String>,
    /// The campaign to call.
    /// The campaigns to call and an invite code with enough uses for each; caller `i`
    /// joins campaign `i % len`.
    pub campaigns: Vec<(i64, String)>,
    /// Simulated callers.
    pub callers: u64,
    /// Callers join evenly over this time (zero: all at once).
    pub ramp: Duration,
    /// Calling time after the ramp.
    pub duration: Duration,
    /// Call length is drawn uniformly from this range.
    pub call_time: (Duration, Duration),
    /// Pause after each outcome.
    pub wrap_up: Duration,
    /// Heartbeat interval during long calls.
    pub heartbeat_every: Duration,
    /// Outcomes chosen.
    pub outcomes: OutcomeMix,
    /// Chance that a caller takes a break instead of recording (releases the contact).
    pub break_chance: f64,
    /// Length of a break.
    pub break_time: Duration,
    /// Chance that a caller vanishes mid-call without releasing (the lease must expire).
    pub abandon_chance: f64,
    /// Loopback source addresses to use: 127.0.0.1 … 127.0.0.N.
    pub source_addresses: u8,
    /// Share this many HTTP clients among the callers (as a reverse proxy's upstream pool
    /// would) instead of one keep-alive connection per caller.
    pub shared_clients: Option<u64>,
    /// The server process whose memory to report.
    pub server_pid: Option<u32>,
    /// A tag making the callers' email addresses unique to this run.
    pub run_tag: String,
}

struct Shared {
    join: Mutex<Histogram<u64>>,
    claim: Mutex<Histogram<u64>>,
    outcome: Mutex<Histogram<u64>>,
    heartbeat: Mutex<Histogram<u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    acknowledged: Mutex<Vec<i64>>,
    joined: AtomicU64,
    claims: AtomicU64,
    empty_claims: AtomicU64,
    releases: AtomicU64,
    abandoned: AtomicU64,
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 120_000_000, 3).context("histogram bounds")
}

impl Shared {
    fn record(&self, which: &Mutex<Histogram<u64>>, started: Instant) {
        let micros = u64::try_from(started.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        if let Ok(mut h) = which.lock() {
            let _ = h.record(micros.min(120_000_000));
        }
    }

    fn error(&self, kind: String) {
        if let Ok(mut errors) = self.errors.lock() {
            *errors.entry(kind).or_default() += 1;
        }
    }
}

/// What a response turned out to be.
enum Answer {
    Ok(u16, Value),
    Failed(String),
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status < 300 {
                Answer::Ok(status, body)
            } else {
                let code = body["error"]["code"].as_str().unwrap_or("error");
                Answer::Failed(format!("{status} {code}"))
            }
        }
        Err(e) if e.is_timeout() => Answer::Failed("timeout".into()),
        Err(e) if e.is_connect() => Answer::Failed("connect".into()),
        Err(_) => Answer::Failed("transport".into()),
    }
}

fn client_for(index: u64, config: &RunConfig) -> anyhow::Result<reqwest::Client> {
    let octet = u8::try_from(index % u64::from(config.source_addresses.max(1))).unwrap_or(0) + 1;
    let idle = if config.shared_clients.is_some() {
        64
    } else {
        1
    };
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, octet)))
        .pool_max_idle_per_host(idle)
        .timeout(Duration::from_secs(30))
        .http1_only()
        .build()
        .context("building an HTTP client")
}

async fn caller(
    index: u64,
    client: Option<reqwest::Client>,
    config: Arc<RunConfig>,
    shared: Arc<Shared>,
    deadline: Instant,
) {
    let Some(client) = client.or_else(|| client_for(index, &config).ok()) else {
        shared.error("client".into());
        return;
    };
    let base = &config.targets[usize::try_from(index).unwrap_or(0) % config.targets.len()];
    let (campaign_id, invite_code) =
        &config.campaigns[usize::try_from(index).unwrap_or(0) % config.campaigns.len()];
    let started = Instant::now();
    let joined = send(
        client
            .post(format!("{base}/api/v1/invites/{invite_code}/accept"))
            .json(&json!({
                "name": format!("Load caller {index}"),
                "email": format!("load-{}-{index}@example.org", config.run_tag),
            })),
    )
    .await;
    shared.record(&shared.join, started);
    let token = match joined {
        Answer::Ok(_, body) => body["token"].as_str().unwrap_or_default().to_owned(),
        Answer::Failed(kind) => return shared.error(format!("join {kind}")),
    };
    shared.joined.fetch_add(1, Ordering::Relaxed);
    let auth = format!("Bearer {token}");
    let mut rng = StdRng::seed_from_u64(index);
    let mut cycle = 0u64;
    while Instant::now() < deadline {
        let started = Instant::now();
        let claim = send(
            client
                .post(format!("{base}/api/v1/campaigns/{campaign_id}/claims"))
                .header("authorization", &auth),
        )
        .await;
        shared.record(&shared.claim, started);
        let lease_id = match claim {
            Answer::Ok(201, body) => body["lease_id"].as_i64().unwrap_or_default(),
            Answer::Ok(_, _) => {
                shared.empty_claims.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(rng.random_range(500..1500))).await;
                continue;
            }
            Answer::Failed(kind) => {
                shared.error(format!("claim {kind}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        shared.claims.fetch_add(1, Ordering::Relaxed);
        let (min, max) = config.call_time;
        let mut remaining = if max > min {
            rng.random_range(min..max)
        } else {
            min
        };
        if rng.random_bool(config.abandon_chance.clamp(0.0, 1.0)) {
            // Vanish: no release, no heartbeat; come back as if after a lost connection.
            shared.abandoned.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(remaining).await;
            continue;
        }
        while remaining > config.heartbeat_every && Instant::now() < deadline {
            tokio::time::sleep(config.heartbeat_every).await;
            remaining -= config.heartbeat_every;
            let started = Instant::now();
            let beat = send(
                client
                    .post(format!("{base}/api/v1/leases/{lease_id}/heartbeat"))
                    .header("authorization", &auth),
            )
            .await;
            shared.record(&shared.heartbeat, started);
            if let Answer::Failed(kind) = beat {
                shared.error(format!("heartbeat {kind}"));
            }
        }
        tokio::time::sleep(remaining).await;
        if rng.random_bool(config.break_chance.clamp(0.0, 1.0)) {
            if let Answer::Failed(kind) = send(
                client
                    .post(format!("{base}/api/v1/leases/{lease_id}/release"))
                    .header("authorization", &auth),
            )
            .await
            {
                shared.error(format!("release {kind}"));
            }
            shared.releases.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(config.break_time).await;
            continue;
        }
        cycle += 1;
        let key = format!("{}-{index}-{cycle}", config.run_tag);
        let started = Instant::now();
        let recorded = send(
            client
                .post(format!("{base}/api/v1/leases/{lease_id}/outcome"))
                .header("authorization", &auth)
                .header("idempotency-key", &key)
                .json(&json!({ "outcome": config.outcomes.pick(&mut rng), "answers": {}, "notes": "" })),
        )
        .await;
        shared.record(&shared.outcome, started);
        match recorded {
            Answer::Ok(_, body) => {
                if let (Some(id), Ok(mut acks)) =
                    (body["attempt_id"].as_i64(), shared.acknowledged.lock())
                {
                    acks.push(id);
                }
            }
            Answer::Failed(kind) => shared.error(format!("outcome {kind}")),
        }
        tokio::time::sleep(config.wrap_up).await;
    }
}

/// Runs the callers and reports. The run ends `ramp + duration` after it starts; callers
/// mid-call at the deadline stop without recording.
pub async fn run(config: RunConfig) -> anyhow::Result<Report> {
    if config.targets.is_empty() || config.campaigns.is_empty() {
        bail!("give at least one target and one campaign");
    }
    let shared = Arc::new(Shared {
        join: Mutex::new(histogram()?),
        claim: Mutex::new(histogram()?),
        outcome: Mutex::new(histogram()?),
        heartbeat: Mutex::new(histogram()?),
        errors: Mutex::new(BTreeMap::new()),
        acknowledged: Mutex::new(Vec::new()),
        joined: AtomicU64::new(0),
        claims: AtomicU64::new(0),
        empty_claims: AtomicU64::new(0),
        releases: AtomicU64::new(0),
        abandoned: AtomicU64::new(0),
    });
    let config = Arc::new(config);
    let start = Instant::now();
    let deadline = start + config.ramp + config.duration;
    let pool = match config.shared_clients {
        Some(n) => (0..n.max(1))
            .map(|i| client_for(i, &config))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..config.callers {
        let client = (!pool.is_empty())
            .then(|| pool[usize::try_from(index).unwrap_or(0) % pool.len()].clone());
        let join_at = start
            + config
                .ramp
                .mul_f64(index as f64 / config.callers.max(1) as f64);
        let (config, shared) = (Arc::clone(&config), Arc::clone(&shared));
        tasks.spawn(async move {
            tokio::time::sleep_until(join_at.into()).await;
            caller(index, client, config, shared, deadline).await;
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let latency = |h: &Mutex<Histogram<u64>>| {
        h.lock()
            .map(|h| Latency::from_histogram(&h))
            .unwrap_or_default()
    };
    let cycles = shared
        .acknowledged
        .lock()
        .map(|a| a.len() as u64)
        .unwrap_or(0);
    let memory = config.server_pid.and_then(process_rss_mib);
    let mut acknowledged = shared
        .acknowledged
        .lock()
        .map(|a| a.clone())
        .unwrap_or_default();
    acknowledged.sort_unstable();
    Ok(Report {
        callers: shared.joined.load(Ordering::Relaxed),
        duration_s: elapsed,
        cycles,
        cycles_per_s: cycles as f64 / elapsed.max(0.001),
        claims: shared.claims.load(Ordering::Relaxed),
        empty_claims: shared.empty_claims.load(Ordering::Relaxed),
        releases: shared.releases.load(Ordering::Relaxed),
        abandoned: shared.abandoned.load(Ordering::Relaxed),
        join: latency(&shared.join),
        claim: latency(&shared.claim),
        outcome: latency(&shared.outcome),
        heartbeat: latency(&shared.heartbeat),
        errors: shared.errors.lock().map(|e| e.clone()).unwrap_or_default(),
        server_rss_mib: memory.map(|m| m.0),
        server_peak_rss_mib: memory.map(|m| m.1),
        acknowledged_attempts: acknowledged,
    })
}

/// Prepares a campaign for a run with an organiser's credentials: makes it live and
/// creates an invite link with a use for every caller. Returns the invite code.
pub async fn prepare(
    target: &str,
    email: &str,
    password: &str,
    campaign_id: i64,
    callers: u64,
) -> anyhow::Result<String> {
    let client = reqwest::Client::new();
    let token: Value = client
        .post(format!("{target}/api/v1/tokens"))
        .json(&json!({ "email": email, "password": password, "label": "load generator" }))
        .send()
        .await
        .context("signing in the organiser")?
        .error_for_status()
        .context("signing in the organiser")?
        .json()
        .await?;
    let auth = format!("Bearer {}", token["token"].as_str().unwrap_or_default());
    client
        .patch(format!("{target}/api/v1/campaigns/{campaign_id}"))
        .header("authorization", &auth)
        .json(&json!({ "status": "live" }))
        .send()
        .await?;
    let invite: Value = client
        .post(format!("{target}/api/v1/campaigns/{campaign_id}/invites"))
        .header("authorization", &auth)
        .json(&json!({ "expires_in_hours": 24, "max_uses": callers }))
        .send()
        .await
        .context("creating the invite link")?
        .error_for_status()
        .context("creating the invite link")?
        .json()
        .await?;
    invite["code"]
        .as_str()
        .map(str::to_owned)
        .context("the invite answer had no code")
}
