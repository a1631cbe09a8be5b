//! A run spread over several processes, past one process's open-files limit: the parent
//! starts one worker per share (a command it is given, fed a plan as JSON on stdin),
//! reads the server's memory itself, and adds the workers' tallies (JSON on their
//! stdout) into one report. Every worker counts time from the same start, so the ramp
//! stays even. This module never chooses which program to start.

use crate::caller::{HOLD_GRACE, RunConfig, Share, run_share};
use crate::process::Memory;
use crate::report::Report;
use crate::tally::Tally;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::AsyncWriteExt;

/// Time the workers get to start before the run's common start.
const STARTUP: Duration = Duration::from_millis(1500);

/// What a worker process is told: the run and its share of the callers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerPlan {
    /// The whole run, without the pids whose memory the parent reads.
    pub config: RunConfig,
    /// This worker's share: callers `i` with `i % shares == share`.
    pub share: u64,
    /// How many workers there are.
    pub shares: u64,
    /// The run's common start, in milliseconds since the Unix epoch.
    pub start_unix_ms: u64,
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The instant that is `unix_ms` on the wall clock.
fn instant_at(unix_ms: u64) -> Instant {
    let (now, now_ms) = (Instant::now(), now_unix_ms());
    if unix_ms >= now_ms {
        now + Duration::from_millis(unix_ms - now_ms)
    } else {
        now.checked_sub(Duration::from_millis(now_ms - unix_ms))
            .unwrap_or(now)
    }
}

/// Runs a worker's share of the callers and returns its tally.
pub async fn run_worker(plan: WorkerPlan) -> anyhow::Result<Tally> {
    if plan.share >= plan.shares {
        bail!("share {} of {} does not exist", plan.share, plan.shares);
    }
    let share = Share {
        index: plan.share,
        of: plan.shares,
        start: instant_at(plan.start_unix_ms),
    };
    run_share(plan.config, share).await
}

/// Runs the callers over `processes` workers, each started by `worker()`, and reports
/// as one run.
pub async fn run_in_processes(
    config: RunConfig,
    processes: u64,
    worker: impl Fn() -> tokio::process::Command,
) -> anyhow::Result<Report> {
    let start_unix_ms = now_unix_ms() + u64::try_from(STARTUP.as_millis())?;
    let hold_end = instant_at(start_unix_ms) + config.ramp + config.duration + config.idle_hold;
    let mut plan = WorkerPlan {
        config: config.clone(),
        share: 0,
        shares: processes,
        start_unix_ms,
    };
    plan.config.server_pids.clear();
    plan.config.proxy_pids.clear();
    let mut workers = tokio::task::JoinSet::new();
    for share in 0..processes {
        plan.share = share;
        let mut child = worker()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting a load generator worker")?;
        let mut stdin = child.stdin.take().context("the worker's stdin")?;
        stdin.write_all(&serde_json::to_vec(&plan)?).await?;
        drop(stdin);
        workers.spawn(async move { (share, child.wait_with_output().await) });
    }
    let idle_memory = if config.idle_hold.is_zero() {
        None
    } else {
        // Workers count their sockets at the end of the hold and keep them a little longer.
        tokio::time::sleep_until((hold_end + HOLD_GRACE / 4).into()).await;
        Some((
            config.idle_hold.as_secs_f64(),
            Memory::measure(&config.server_pids, &config.proxy_pids),
        ))
    };
    let mut tally = Tally::new()?;
    while let Some(done) = workers.join_next().await {
        let (share, output) = done?;
        let output = output.with_context(|| format!("waiting for worker {share}"))?;
        if !output.status.success() {
            bail!("load generator worker {share} failed ({})", output.status);
        }
        let part: Tally = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("reading worker {share}'s tally"))?;
        tally.merge(part)?;
    }
    let end = Memory::measure(&config.server_pids, &config.proxy_pids);
    Ok(Report::new(tally, processes, end, idle_memory))
}
