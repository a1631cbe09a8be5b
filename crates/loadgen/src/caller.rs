//! One simulated caller per task: join by invite, then claim → call (with heartbeats) →
//! outcome → wrap-up, with breaks and vanishings drawn at random, until the deadline.
//! Each caller has its own keep-alive connection, bound to one of several loopback source
//! addresses so tens of thousands of connections fit in the port range. A run can be one
//! share of a bigger run spread over processes (see `processes`); this module runs the
//! callers of one share and must not spawn processes itself.

use crate::process::{Memory, open_connections};
use crate::report::Report;
use crate::tally::{IdleCount, Latencies, Tally};
use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The outcomes simulated callers choose, with weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// Base URLs of the nodes, e.g. `http://127.0.0.1:8080`; callers are spread over them.
    pub targets: Vec<String>,
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
    /// The most connections each shared client opens (its requests beyond that wait for
    /// one, as behind a proxy's bounded upstream pool); without it a slow node would be
    /// sent ever more connections.
    pub client_connections: u32,
    /// After the calling time, callers that made a claim keep their connection open
    /// without a request for this long, and memory is read at the end of it (zero: no
    /// hold). Calls in progress at the deadline then end there unrecorded.
    pub idle_hold: Duration,
    /// The server nodes whose memory to report (the largest node's).
    pub server_pids: Vec<u32>,
    /// Processes in front of the server (a reverse proxy's), whose memory is reported
    /// as one sum.
    pub proxy_pids: Vec<u32>,
    /// A tag making the callers' email addresses unique to this run.
    pub run_tag: String,
}

/// Which callers of a run this process drives: caller `i` when `i % of == index`, with
/// the run's common start, so the ramp stays even however the run is split.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    /// This share's number, below `of`.
    pub index: u64,
    /// How many shares the run has.
    pub of: u64,
    /// When the run started (callers join from here over the ramp).
    pub start: Instant,
}

/// How long callers keep their connections after the end of the idle hold, so that a
/// parent process reading memory at that moment still sees them.
pub(crate) const HOLD_GRACE: Duration = Duration::from_secs(2);

struct Shared {
    tally: Mutex<Tally>,
    start: Instant,
    /// The calling time after the ramp: everyone has joined and calls at their own pace.
    steady: std::ops::Range<Instant>,
}

impl Shared {
    fn count(&self, add: impl FnOnce(&mut Tally)) {
        if let Ok(mut tally) = self.tally.lock() {
            add(&mut tally);
        }
    }

    fn record(&self, which: fn(&mut Tally) -> &mut Latencies, started: Instant) {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.count(|t| which(t).record(micros));
    }

    /// A claim's latency, counted apart as well when it started after the ramp.
    fn record_claim(&self, started: Instant) {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let steady = self.steady.contains(&started);
        self.count(|t| {
            t.claim.record(micros);
            if steady {
                t.steady_claim.record(micros);
            }
        });
    }

    /// An acknowledged outcome (`started` when it was sent).
    fn acknowledged(&self, id: i64, started: Instant) {
        let steady = self.steady.contains(&started);
        self.count(|t| {
            t.acknowledged.push(id);
            t.steady_cycles += u64::from(steady);
        });
    }

    fn error(&self, kind: String) {
        self.count(|t| *t.errors.entry(kind).or_default() += 1);
    }

    /// Notes that a caller stopped calling now.
    fn stopped(&self) {
        let secs = self.start.elapsed().as_secs_f64();
        self.count(|t| t.calling_secs = t.calling_secs.max(secs));
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

/// An HTTP client and, when callers share it, the bound on its connections.
#[derive(Clone)]
struct Link {
    http: reqwest::Client,
    connections: Option<Arc<Semaphore>>,
}

impl Link {
    /// Sends `request` once the client has a connection to spare.
    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let _connection = match &self.connections {
            Some(connections) => match connections.acquire().await {
                Ok(permit) => Some(permit),
                Err(_) => return Answer::Failed("client".into()),
            },
            None => None,
        };
        send(request).await
    }

    /// Posts to `url`, without a body, as the caller whose `authorization` is `auth`.
    async fn post_as(&self, url: String, auth: &str) -> Answer {
        self.send(self.http.post(url).header("authorization", auth))
            .await
    }
}

fn client_for(index: u64, config: &RunConfig) -> anyhow::Result<Link> {
    let octet = u8::try_from(index % u64::from(config.source_addresses.max(1))).unwrap_or(0) + 1;
    let connections = config
        .shared_clients
        .map(|_| config.client_connections.max(1));
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, octet)))
        .pool_max_idle_per_host(connections.map_or(1, |n| n as usize))
        // Held callers keep their connection however long they were silent before.
        .pool_idle_timeout((config.idle_hold.is_zero()).then_some(Duration::from_secs(90)))
        .timeout(Duration::from_secs(30))
        .http1_only()
        .build()
        .context("building an HTTP client")?;
    Ok(Link {
        http,
        connections: connections.map(|n| Arc::new(Semaphore::new(n as usize))),
    })
}

/// One caller from joining to the deadline, then, when the run holds callers idle,
/// sitting on its open connection until `release_at`.
async fn caller(
    index: u64,
    client: Option<Link>,
    config: Arc<RunConfig>,
    shared: Arc<Shared>,
    deadline: Instant,
    release_at: Instant,
) {
    let Some(client) = client.or_else(|| client_for(index, &config).ok()) else {
        shared.error("client".into());
        return shared.stopped();
    };
    let claimed = calls(index, &client, &config, &shared, deadline).await;
    shared.stopped();
    if claimed && !config.idle_hold.is_zero() {
        shared.count(|t| {
            let idle = t.idle.get_or_insert_with(IdleCount::default);
            idle.callers += 1;
        });
        tokio::time::sleep_until(release_at.into()).await;
    }
    drop(client);
}

/// Sleeps for `pause`; with an idle hold, no further than the deadline, where callers go
/// idle.
async fn pause(config: &RunConfig, pause: Duration, deadline: Instant) {
    let until = Instant::now() + pause;
    let until = if config.idle_hold.is_zero() {
        until
    } else {
        until.min(deadline)
    };
    tokio::time::sleep_until(until.into()).await;
}

/// Joins and calls until the deadline; true when the caller made at least one claim.
async fn calls(
    index: u64,
    client: &Link,
    config: &RunConfig,
    shared: &Shared,
    deadline: Instant,
) -> bool {
    let mut claimed = false;
    let base = &config.targets[usize::try_from(index).unwrap_or(0) % config.targets.len()];
    let (campaign_id, invite_code) =
        &config.campaigns[usize::try_from(index).unwrap_or(0) % config.campaigns.len()];
    let started = Instant::now();
    let joined = client
        .send(
            client
                .http
                .post(format!("{base}/api/v1/invites/{invite_code}/accept"))
                .json(&json!({
                    "name": format!("Load caller {index}"),
                    "email": format!("load-{}-{index}@example.org", config.run_tag),
                })),
        )
        .await;
    shared.record(|t| &mut t.join, started);
    let token = match joined {
        Answer::Ok(_, body) => body["token"].as_str().unwrap_or_default().to_owned(),
        Answer::Failed(kind) => {
            shared.error(format!("join {kind}"));
            return claimed;
        }
    };
    shared.count(|t| t.joined += 1);
    let auth = format!("Bearer {token}");
    let mut rng = StdRng::seed_from_u64(index);
    let mut cycle = 0u64;
    while Instant::now() < deadline {
        let started = Instant::now();
        let claim = client
            .post_as(
                format!("{base}/api/v1/campaigns/{campaign_id}/claims"),
                &auth,
            )
            .await;
        shared.record_claim(started);
        let lease_id = match claim {
            Answer::Ok(201, body) => body["lease_id"].as_i64().unwrap_or_default(),
            Answer::Ok(_, _) => {
                claimed = true;
                shared.count(|t| t.empty_claims += 1);
                let wait = Duration::from_millis(rng.random_range(500..1500));
                pause(config, wait, deadline).await;
                continue;
            }
            Answer::Failed(kind) => {
                shared.error(format!("claim {kind}"));
                pause(config, Duration::from_secs(1), deadline).await;
                continue;
            }
        };
        claimed = true;
        shared.count(|t| t.claims += 1);
        let (min, max) = config.call_time;
        let mut remaining = if max > min {
            rng.random_range(min..max)
        } else {
            min
        };
        if rng.random_bool(config.abandon_chance.clamp(0.0, 1.0)) {
            // Vanish: no release, no heartbeat; come back as if after a lost connection.
            shared.count(|t| t.abandoned += 1);
            pause(config, remaining, deadline).await;
            continue;
        }
        while remaining > config.heartbeat_every && Instant::now() < deadline {
            pause(config, config.heartbeat_every, deadline).await;
            if !config.idle_hold.is_zero() && Instant::now() >= deadline {
                break;
            }
            remaining -= config.heartbeat_every;
            let started = Instant::now();
            let beat = client
                .post_as(format!("{base}/api/v1/leases/{lease_id}/heartbeat"), &auth)
                .await;
            shared.record(|t| &mut t.heartbeat, started);
            if let Answer::Failed(kind) = beat {
                shared.error(format!("heartbeat {kind}"));
            }
        }
        if !config.idle_hold.is_zero() && Instant::now() + remaining > deadline {
            // Held callers go idle at the deadline; the lease expires.
            tokio::time::sleep_until(deadline.into()).await;
            break;
        }
        tokio::time::sleep(remaining).await;
        if rng.random_bool(config.break_chance.clamp(0.0, 1.0)) {
            if let Answer::Failed(kind) = client
                .post_as(format!("{base}/api/v1/leases/{lease_id}/release"), &auth)
                .await
            {
                shared.error(format!("release {kind}"));
            }
            shared.count(|t| t.releases += 1);
            pause(config, config.break_time, deadline).await;
            continue;
        }
        cycle += 1;
        let key = format!("{}-{index}-{cycle}", config.run_tag);
        let started = Instant::now();
        let recorded = client
            .send(
                client
                    .http
                    .post(format!("{base}/api/v1/leases/{lease_id}/outcome"))
                .header("authorization", &auth)
                .header("idempotency-key", &key)
                .json(&json!({ "outcome": config.outcomes.pick(&mut rng), "answers": {}, "notes": "" })),
        )
        .await;
        shared.record(|t| &mut t.outcome, started);
        match recorded {
            Answer::Ok(_, body) => {
                if let Some(id) = body["attempt_id"].as_i64() {
                    shared.acknowledged(id, started);
                }
            }
            Answer::Failed(kind) => shared.error(format!("outcome {kind}")),
        }
        pause(config, config.wrap_up, deadline).await;
    }
    claimed
}

/// Runs the callers and reports. The run ends `ramp + duration` after it starts; callers
/// mid-call at the deadline stop without recording.
pub async fn run(config: RunConfig) -> anyhow::Result<Report> {
    let share = Share {
        index: 0,
        of: 1,
        start: Instant::now(),
    };
    let (server_pids, proxy_pids) = (config.server_pids.clone(), config.proxy_pids.clone());
    let hold_end = share.start + config.ramp + config.duration + config.idle_hold;
    let idle_hold = config.idle_hold;
    let idle_memory = async move {
        if idle_hold.is_zero() {
            return None;
        }
        tokio::time::sleep_until(hold_end.into()).await;
        Some((
            idle_hold.as_secs_f64(),
            Memory::measure(&server_pids, &proxy_pids),
        ))
    };
    let (tally, idle) = tokio::join!(run_share(config.clone(), share), idle_memory);
    let end = Memory::measure(&config.server_pids, &config.proxy_pids);
    Ok(Report::new(tally?, 1, end, idle))
}

/// Runs one share of a run's callers and returns what they counted.
pub async fn run_share(config: RunConfig, share: Share) -> anyhow::Result<Tally> {
    if config.targets.is_empty() || config.campaigns.is_empty() {
        bail!("give at least one target and one campaign");
    }
    let mut tally = Tally::new()?;
    tally.steady_secs = config.duration.as_secs_f64();
    let shared = Arc::new(Shared {
        tally: Mutex::new(tally),
        start: share.start,
        steady: share.start + config.ramp..share.start + config.ramp + config.duration,
    });
    let config = Arc::new(config);
    let start = share.start;
    let deadline = start + config.ramp + config.duration;
    let hold_end = deadline + config.idle_hold;
    let release_at = hold_end + HOLD_GRACE;
    let shares = share.of.max(1);
    // This share's part of the shared pool: clients `index`, `index + of`, …
    let pool = match config.shared_clients {
        Some(n) => (0..n.max(1).div_ceil(shares))
            .map(|j| client_for(share.index + j * shares, &config))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for index in (share.index..config.callers).step_by(usize::try_from(shares)?) {
        let client = (!pool.is_empty()).then(|| {
            let slot = index / shares;
            pool[usize::try_from(slot).unwrap_or(0) % pool.len()].clone()
        });
        let join_at = start
            + config
                .ramp
                .mul_f64(index as f64 / config.callers.max(1) as f64);
        let (config, shared) = (Arc::clone(&config), Arc::clone(&shared));
        tasks.spawn(async move {
            tokio::time::sleep_until(join_at.into()).await;
            caller(index, client, config, shared, deadline, release_at).await;
        });
    }
    if !config.idle_hold.is_zero() {
        tokio::time::sleep_until(hold_end.into()).await;
        let connections = open_connections();
        shared.count(|t| t.idle.get_or_insert_with(IdleCount::default).connections = connections);
    }
    while tasks.join_next().await.is_some() {}
    let mut tally = shared
        .tally
        .lock()
        .map_err(|_| anyhow::anyhow!("a caller panicked while counting"))?;
    let done = std::mem::replace(&mut *tally, Tally::new()?);
    Ok(done)
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
        .json(&json!({
            "expires_in_hours": 24,
            "max_uses": callers,
            // Every caller joins within the run, far faster than a meetup would.
            "max_new_accounts_per_hour": callers,
        }))
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
