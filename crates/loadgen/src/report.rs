//! What a load run measured: counts, latency percentiles per operation, errors by kind,
//! server memory; printed as text or JSON.

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
    pub(crate) fn from_histogram(h: &Histogram<u64>) -> Self {
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
    /// Outcome latency.
    pub outcome: Latency,
    /// Heartbeat latency.
    pub heartbeat: Latency,
    /// Errors by kind (HTTP status or transport error).
    pub errors: BTreeMap<String, u64>,
    /// Server resident memory at the end, in MiB (when a server pid was given).
    pub server_rss_mib: Option<f64>,
    /// Server peak resident memory, in MiB (when a server pid was given).
    pub server_peak_rss_mib: Option<f64>,
    /// Ids of every acknowledged call attempt, for reconciliation with the database.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acknowledged_attempts: Vec<i64>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        Ok(())
    }
}

/// Reads a process's resident and peak memory from `/proc/PID/status`, in MiB.
pub(crate) fn process_rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
