//! `barnstorm bench callers`: the load generator from the command line. Simulated
//! callers against one or several running nodes, with a text or JSON report and,
//! optionally, the ids of every acknowledged outcome for reconciliation. With
//! `--processes K` the binary starts itself K times as hidden `callers-worker`s.

use anyhow::Context;
use barnstorm_loadgen::{OutcomeMix, RunConfig};
use barnstorm_store::{About, AuditAction};
use std::path::PathBuf;
use std::time::Duration;

/// Benchmarks.
#[derive(clap::Subcommand, Debug)]
#[expect(clippy::large_enum_variant, reason = "parsed once at start-up")]
pub(crate) enum BenchCommand {
    /// Simulate phonebank callers against running nodes (loopback only). A flag given
    /// twice takes its last value, so scripts can pass flags that override their own.
    #[command(
        args_override_self = true,
        after_help = "Example:\n  barnstorm bench callers --target http://127.0.0.1:8080 --campaign 1 \\\n    --organiser-email organiser@example.org --organiser-password barnstorm-demo \\\n    --callers 1000 --ramp 10 --duration 60 --call-secs 2-6 --json report.json"
    )]
    Callers(CallersArgs),
    /// One share of a `bench callers --processes K` run: reads its plan as JSON on stdin
    /// and prints its tally as JSON on stdout.
    #[command(hide = true)]
    CallersWorker,
    /// The baseline: the raw rate of one durable write transaction per operation on a
    /// database (each operation one committed INSERT), to compare claim+outcome rates with.
    #[command(
        after_help = "Example:\n  barnstorm bench writes --database-url sqlite:bench.db --ops 20000 --concurrency 64"
    )]
    Writes(WritesArgs),
    /// Seed events and supporters, then time nearby search, the map view and outreach
    /// counts at the store, each beside a baseline from the same run.
    #[command(
        after_help = "Example:\n  barnstorm bench events --database-url sqlite:bench-events.db --events 100000 --supporters 1000000"
    )]
    Events(crate::bench_events::EventsArgs),
    /// Time the map viewport endpoint of a running node over HTTP, beside `/healthz`.
    #[command(
        after_help = "Example:\n  barnstorm bench map --target http://127.0.0.1:8080 --requests 2000"
    )]
    Map(crate::bench_events::MapArgs),
}

/// Options of `bench writes`.
#[derive(clap::Args, Debug)]
pub(crate) struct WritesArgs {
    #[command(flatten)]
    database: crate::DatabaseArgs,
    /// Transactions to commit.
    #[arg(long, default_value_t = 10_000)]
    ops: u64,
    /// Concurrent writers.
    #[arg(long, default_value_t = 64)]
    concurrency: u64,
}

async fn write_baseline(args: WritesArgs) -> anyhow::Result<()> {
    let options = barnstorm_store::StoreOptions {
        max_connections: 32,
        ..Default::default()
    };
    let store = args.database.open(&options).await?;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = std::time::Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (store, next, ops) = (store.clone(), std::sync::Arc::clone(&next), args.ops);
        writers.spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < ops {
                store
                    .audit_read(
                        None,
                        AuditAction::BenchWrite,
                        About::default(),
                        "baseline",
                        "",
                    )
                    .await?;
            }
            Ok::<_, barnstorm_store::StoreError>(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} durable write transactions on {} with {} writers in {seconds:.2} s: {:.0} tx/s",
        args.ops,
        store.backend(),
        args.concurrency,
        args.ops as f64 / seconds
    );
    Ok(())
}

/// Options of `bench callers`.
#[derive(clap::Args, Debug)]
pub(crate) struct CallersArgs {
    /// Base URL of a node; repeat for several nodes.
    #[arg(long = "target", required = true)]
    targets: Vec<String>,
    /// The campaign to call; repeat to spread callers over several campaigns.
    #[arg(long = "campaign", required = true)]
    campaigns: Vec<i64>,
    /// An invite code with enough uses (one campaign only); without it, one is made per
    /// campaign with the organiser's account.
    #[arg(long)]
    invite: Option<String>,
    /// Organiser who makes the campaign live and creates the invite.
    #[arg(long)]
    organiser_email: Option<String>,
    /// That organiser's password.
    #[arg(long, env = "BARNSTORM_BENCH_PASSWORD")]
    organiser_password: Option<String>,
    /// Simulated callers.
    #[arg(long, default_value_t = 100)]
    callers: u64,
    /// Seconds over which callers join (0: all at once, a burst).
    #[arg(long, default_value_t = 5.0)]
    ramp: f64,
    /// Seconds of calling after the ramp.
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Call length range in seconds, e.g. `20-120`.
    #[arg(long, default_value = "2-6")]
    call_secs: String,
    /// Wrap-up pause after each outcome, in seconds.
    #[arg(long, default_value_t = 1.0)]
    wrap_up_secs: f64,
    /// Heartbeat interval in seconds.
    #[arg(long, default_value_t = 30.0)]
    heartbeat_secs: f64,
    /// Outcome weights.
    #[arg(
        long,
        default_value = "spoke=30,no_answer=45,busy=10,refused=10,wrong_number=5"
    )]
    outcomes: OutcomeMix,
    /// Chance of a break (release without outcome) per contact.
    #[arg(long, default_value_t = 0.03)]
    break_chance: f64,
    /// Chance of vanishing mid-call without releasing.
    #[arg(long, default_value_t = 0.01)]
    abandon_chance: f64,
    /// Loopback source addresses to spread connections over (127.0.0.1 … 127.0.0.N).
    #[arg(long, default_value_t = 1)]
    source_addresses: u8,
    /// Share this many HTTP clients among the callers, as a reverse proxy's upstream pool
    /// would, instead of one connection per caller (needed past the open-files limit).
    #[arg(long)]
    shared_clients: Option<u64>,
    /// With --shared-clients, the most connections each shared client opens; further
    /// requests wait for one, as behind a proxy's bounded upstream pool.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    client_connections: u32,
    /// Spread the callers over this many processes (each with its own open-files limit);
    /// the report is the same as from one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    processes: u64,
    /// After the calling time, keep every caller that made a claim connected and idle
    /// for this many seconds, and read memory at the end of it (0: no hold).
    #[arg(long, default_value_t = 0.0)]
    idle_hold: f64,
    /// A server node's process id, to report its memory; repeat for each node (the
    /// largest node's memory is reported).
    #[arg(long = "server-pid")]
    server_pids: Vec<u32>,
    /// A process in front of the server (a reverse proxy's master or worker); repeat for
    /// each. Their memory is reported apart from the server's, as one sum of proportional
    /// set sizes (shared pages count once).
    #[arg(long = "proxy-pid")]
    proxy_pids: Vec<u32>,
    /// Write the report as JSON here (with the acknowledged attempt ids).
    #[arg(long)]
    json: Option<PathBuf>,
}

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .with_context(|| format!("{flag}: {value} is not a number of seconds"))
}

fn call_range(raw: &str) -> anyhow::Result<(Duration, Duration)> {
    let (min, max) = raw.split_once('-').unwrap_or((raw, raw));
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .and_then(|v| Duration::try_from_secs_f64(v).ok())
    };
    match (parse(min), parse(max)) {
        (Some(min), Some(max)) if min <= max => Ok((min, max)),
        _ => anyhow::bail!("--call-secs: '{raw}' is not a range like 20-120"),
    }
}

fn loopback_only(targets: &[String]) -> anyhow::Result<()> {
    for target in targets {
        let host = target
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        if !(host.starts_with("127.") || host == "localhost" || host == "[::1]") {
            anyhow::bail!("--target {target}: the load generator only targets loopback addresses");
        }
    }
    Ok(())
}

async fn callers_worker() -> anyhow::Result<()> {
    let plan: barnstorm_loadgen::WorkerPlan =
        serde_json::from_reader(std::io::stdin().lock()).context("reading the worker plan")?;
    loopback_only(&plan.config.targets)?;
    let tally = barnstorm_loadgen::run_worker(plan).await?;
    serde_json::to_writer(std::io::stdout().lock(), &tally).context("writing the tally")?;
    Ok(())
}

pub(crate) async fn run(command: BenchCommand) -> anyhow::Result<()> {
    let args = match command {
        BenchCommand::Callers(args) => args,
        BenchCommand::CallersWorker => return callers_worker().await,
        BenchCommand::Writes(args) => return write_baseline(args).await,
        BenchCommand::Events(args) => return crate::bench_events::events(args).await,
        BenchCommand::Map(args) => return crate::bench_events::map(args).await,
    };
    loopback_only(&args.targets)?;
    let campaigns = match (
        &args.invite,
        &args.organiser_email,
        &args.organiser_password,
    ) {
        (Some(code), _, _) if args.campaigns.len() == 1 => vec![(args.campaigns[0], code.clone())],
        (Some(_), _, _) => anyhow::bail!("--invite goes with a single --campaign"),
        (None, Some(email), Some(password)) => {
            let per_campaign = args.callers.div_ceil(args.campaigns.len() as u64);
            let mut prepared = Vec::new();
            for campaign in &args.campaigns {
                let code = barnstorm_loadgen::prepare(
                    &args.targets[0],
                    email,
                    password,
                    *campaign,
                    per_campaign,
                )
                .await?;
                prepared.push((*campaign, code));
            }
            prepared
        }
        _ => anyhow::bail!(
            "give --invite CODE, or --organiser-email and --organiser-password to make one"
        ),
    };
    let config = RunConfig {
        targets: args
            .targets
            .iter()
            .map(|t| t.trim_end_matches('/').to_owned())
            .collect(),
        campaigns,
        callers: args.callers,
        ramp: seconds(args.ramp, "--ramp")?,
        duration: seconds(args.duration, "--duration")?,
        call_time: call_range(&args.call_secs)?,
        wrap_up: seconds(args.wrap_up_secs, "--wrap-up-secs")?,
        heartbeat_every: seconds(args.heartbeat_secs, "--heartbeat-secs")?,
        outcomes: args.outcomes,
        break_chance: args.break_chance,
        break_time: Duration::from_secs(5),
        abandon_chance: args.abandon_chance,
        source_addresses: args.source_addresses,
        shared_clients: args.shared_clients,
        client_connections: args.client_connections,
        idle_hold: seconds(args.idle_hold, "--idle-hold")?,
        server_pids: args.server_pids,
        proxy_pids: args.proxy_pids,
        run_tag: format!(
            "{:x}",
            std::process::id()
                ^ u32::try_from(barnstorm_store::now_millis() % 1_000_000).unwrap_or(0)
        ),
    };
    let report = if args.processes > 1 {
        let exe = std::env::current_exe().context("finding this program to start workers")?;
        barnstorm_loadgen::run_in_processes(config, args.processes, || {
            let mut worker = tokio::process::Command::new(&exe);
            worker.args(["bench", "callers-worker"]);
            worker
        })
        .await?
    } else {
        barnstorm_loadgen::run(config).await?
    };
    print!("{report}");
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("JSON report written to {}", path.display());
    }
    Ok(())
}
