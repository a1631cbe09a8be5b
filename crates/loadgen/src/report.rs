//! What a load run measured: counts, latency percentiles per operation, errors by kind,
//! server memory (at the end and while callers sat idle); printed as text or JSON.

use crate::process::Memory;
use crate::tally::{Latencies, Tally};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Latency percentiles of one operation, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    /// Requests measured.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    fn from_latencies(latencies: &Latencies) -> Self {
        Self::from_histogram(&latencies.0)
    }

    fn from_histogram(h: &Histogram<u64>) -> Self {
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p95_ms: ms(h.value_at_quantile(0.95)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Simulated callers that joined.
    pub callers: u64,
    /// Seconds of calling measured (after the ramp-up).
    pub duration_s: f64,
    /// Outcomes acknowledged by the server (claim + outcome cycles).
    pub cycles: u64,
    /// Cycles per second.
    pub cycles_per_s: f64,
    /// Claims answered with a contact.
    pub claims: u64,
    /// Claims answered "nothing callable".
    pub empty_claims: u64,
    /// Contacts released for a break.
    pub releases: u64,
    /// Leases left to expire (callers who vanished).
    pub abandoned: u64,
    /// Joining by invite.
    pub join: Latency,
    /// Claim latency.
    pub claim: Latency,
    /// After the ramp: everyone has joined and calls at their own pace.
    pub after_ramp: AfterRamp,
    /// Outcome latency.
    pub outcome: Latency,
    /// Heartbeat latency.
    pub heartbeat: Latency,
    /// Errors by kind (HTTP status or transport error).
    pub errors: BTreeMap<String, u64>,
    /// Server resident memory at the end, in MiB (when server pids were given; with
    /// several nodes, the largest node's).
    pub server_rss_mib: Option<f64>,
    /// Server peak resident memory, in MiB (when server pids were given; with several
    /// nodes, the largest node's).
    pub server_peak_rss_mib: Option<f64>,
    /// Memory of the proxy processes in front of the server at the end (proportional
    /// set sizes summed, so shared pages count once), in MiB, when their pids were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_pss_mib: Option<f64>,
    /// Load generator processes the callers were spread over.
    #[serde(skip_serializing_if = "is_one")]
    pub processes: u64,
    /// Callers holding idle connections after the calling time, and the memory then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleHold>,
    /// Ids of every acknowledged call attempt, for reconciliation with the database
    /// (always present: a run that recorded nothing has an empty list to check).
    pub acknowledged_attempts: Vec<i64>,
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

/// The idle hold: callers that made at least one claim keep their connections open
/// without a request, and memory is read at the end of it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IdleHold {
    /// How long the callers sat idle, in seconds.
    pub seconds: f64,
    /// Callers that made at least one claim and then sat idle.
    pub callers: u64,
    /// TCP connections the load generator held at the end of the hold.
    pub connections: u64,
    /// Server resident memory at the end of the hold, in MiB.
    pub server_rss_mib: Option<f64>,
    /// Proxy processes' memory (proportional set sizes summed) at the end of the hold, in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_pss_mib: Option<f64>,
}

/// The calling time after the ramp, measured on its own: the rate the callers' pace sets
/// and the claim latency at that rate, without the joins of the ramp.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AfterRamp {
    /// Seconds from the end of the ramp to the deadline.
    pub seconds: f64,
    /// Outcomes sent in that time and acknowledged.
    pub cycles: u64,
    /// Those per second.
    pub cycles_per_s: f64,
    /// Claims sent in that time.
    pub claim: Latency,
}

impl Report {
    /// The report of a run from its tally, the memory read at the end and, when callers
    /// were held idle, the memory read at the end of the hold.
    pub fn new(mut tally: Tally, processes: u64, end: Memory, idle: Option<(f64, Memory)>) -> Self {
        tally.acknowledged.sort_unstable();
        let cycles = tally.acknowledged.len() as u64;
        let calling = tally.calling_secs;
        let idle = match (idle, tally.idle) {
            (Some((seconds, memory)), Some(count)) => Some(IdleHold {
                seconds,
                callers: count.callers,
                connections: count.connections,
                server_rss_mib: memory.server.map(|m| m.0),
                proxy_pss_mib: memory.proxy,
            }),
            _ => None,
        };
        Self {
            callers: tally.joined,
            duration_s: calling,
            cycles,
            cycles_per_s: cycles as f64 / calling.max(0.001),
            claims: tally.claims,
            empty_claims: tally.empty_claims,
            releases: tally.releases,
            abandoned: tally.abandoned,
            join: Latency::from_latencies(&tally.join),
            claim: Latency::from_latencies(&tally.claim),
            after_ramp: AfterRamp {
                seconds: tally.steady_secs,
                cycles: tally.steady_cycles,
                cycles_per_s: tally.steady_cycles as f64 / tally.steady_secs.max(0.001),
                claim: Latency::from_latencies(&tally.steady_claim),
            },
            outcome: Latency::from_latencies(&tally.outcome),
            heartbeat: Latency::from_latencies(&tally.heartbeat),
            errors: tally.errors,
            server_rss_mib: end.server.map(|m| m.0),
            server_peak_rss_mib: end.server.map(|m| m.1),
            proxy_pss_mib: end.proxy,
            processes,
            idle,
            acknowledged_attempts: tally.acknowledged,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.processes > 1 {
            writeln!(f, "processes          {}", self.processes)?;
        }
        writeln!(f, "callers            {}", self.callers)?;
        writeln!(f, "duration           {:.1} s", self.duration_s)?;
        writeln!(
            f,
            "cycles             {} ({:.1}/s)",
            self.cycles, self.cycles_per_s
        )?;
        writeln!(
            f,
            "claims             {} (+{} empty)",
            self.claims, self.empty_claims
        )?;
        writeln!(f, "releases/abandoned {}/{}", self.releases, self.abandoned)?;
        for (name, l) in [
            ("join", &self.join),
            ("claim", &self.claim),
            ("outcome", &self.outcome),
            ("heartbeat", &self.heartbeat),
        ] {
            writeln!(
                f,
                "{name:<18} n={} p50={:.2}ms p95={:.2}ms p99={:.2}ms max={:.2}ms",
                l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
            )?;
        }
        let steady = &self.after_ramp;
        writeln!(
            f,
            "after the ramp     {} cycles in {:.0} s ({:.1}/s); claim n={} p50={:.2}ms p95={:.2}ms p99={:.2}ms",
            steady.cycles,
            steady.seconds,
            steady.cycles_per_s,
            steady.claim.count,
            steady.claim.p50_ms,
            steady.claim.p95_ms,
            steady.claim.p99_ms
        )?;
        if self.errors.is_empty() {
            writeln!(f, "errors             none")?;
        } else {
            for (kind, n) in &self.errors {
                writeln!(f, "error {kind:<12} {n}")?;
            }
        }
        if let (Some(rss), Some(peak)) = (self.server_rss_mib, self.server_peak_rss_mib) {
            writeln!(f, "server RSS         {rss:.1} MiB (peak {peak:.1} MiB)")?;
        }
        if let Some(pss) = self.proxy_pss_mib {
            writeln!(f, "proxy memory       {pss:.1} MiB (PSS summed)")?;
        }
        if let Some(idle) = &self.idle {
            writeln!(
                f,
                "idle hold          {:.0} s: {} callers idle on {} open connections",
                idle.seconds, idle.callers, idle.connections
            )?;
            if let Some(rss) = idle.server_rss_mib {
                writeln!(f, "idle server RSS    {rss:.1} MiB")?;
            }
            if let Some(pss) = idle.proxy_pss_mib {
                writeln!(f, "idle proxy memory  {pss:.1} MiB (PSS summed)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `barnstorm check --acks` reconciles a run that recorded nothing, too.
    #[test]
    fn a_run_without_outcomes_still_lists_its_acknowledgements() -> Result<(), serde_json::Error> {
        let json = serde_json::to_value(Report::default())?;
        assert_eq!(json["acknowledged_attempts"], serde_json::json!([]));
        Ok(())
    }
}
