//! What a set of callers counted, before it becomes a report: counts, errors by kind,
//! acknowledged attempt ids and the latency histograms. A tally crosses process
//! boundaries as JSON (histograms as their recorded value/count pairs, which keeps them
//! exact) and tallies from several processes add up to the tally of one big run.

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Latencies in microseconds, from 1 µs to two minutes, three significant digits.
#[derive(Debug, Clone)]
pub struct Latencies(pub(crate) Histogram<u64>);

impl Latencies {
    /// An empty histogram with the bounds every tally uses.
    pub fn new() -> anyhow::Result<Self> {
        Histogram::new_with_bounds(1, 120_000_000, 3)
            .map(Self)
            .context("histogram bounds")
    }

    /// Records one latency, clamped to the bounds.
    pub fn record(&mut self, micros: u64) {
        let _ = self.0.record(micros.clamp(1, 120_000_000));
    }

    /// Adds every sample of `other`.
    pub fn add(&mut self, other: &Self) -> anyhow::Result<()> {
        self.0.add(&other.0).context("adding latency histograms")
    }
}

impl Serialize for Latencies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Each bucket's highest equivalent value records back into the same bucket.
        let pairs: Vec<(u64, u64)> = self
            .0
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect();
        pairs.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Latencies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(u64, u64)>::deserialize(deserializer)?;
        let mut latencies = Self::new().map_err(serde::de::Error::custom)?;
        for (value, count) in pairs {
            latencies
                .0
                .record_n(value, count)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(latencies)
    }
}

/// Callers holding their connections open after the calling time.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IdleCount {
    /// Callers that made at least one claim and then sat idle.
    pub callers: u64,
    /// TCP connections the load generator held at the end of the hold.
    pub connections: u64,
}

/// Everything a set of callers counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tally {
    /// Callers that joined.
    pub joined: u64,
    /// Claims answered with a contact.
    pub claims: u64,
    /// Claims answered "nothing callable".
    pub empty_claims: u64,
    /// Contacts released for a break.
    pub releases: u64,
    /// Leases left to expire.
    pub abandoned: u64,
    /// Seconds from the start until the last caller stopped calling.
    pub calling_secs: f64,
    /// Joining by invite.
    pub join: Latencies,
    /// Claims.
    pub claim: Latencies,
    /// Claims sent after the ramp, before the deadline.
    pub steady_claim: Latencies,
    /// Outcomes sent after the ramp and acknowledged.
    pub steady_cycles: u64,
    /// Seconds from the end of the ramp to the deadline.
    pub steady_secs: f64,
    /// Outcomes.
    pub outcome: Latencies,
    /// Heartbeats.
    pub heartbeat: Latencies,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    /// Ids of acknowledged call attempts.
    pub acknowledged: Vec<i64>,
    /// Idle callers and connections at the end of the idle hold, when there was one.
    pub idle: Option<IdleCount>,
}

impl Tally {
    /// A tally with nothing counted.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            joined: 0,
            claims: 0,
            empty_claims: 0,
            releases: 0,
            abandoned: 0,
            calling_secs: 0.0,
            join: Latencies::new()?,
            claim: Latencies::new()?,
            steady_claim: Latencies::new()?,
            steady_cycles: 0,
            steady_secs: 0.0,
            outcome: Latencies::new()?,
            heartbeat: Latencies::new()?,
            errors: BTreeMap::new(),
            acknowledged: Vec::new(),
            idle: None,
        })
    }

    /// Adds another set of callers' tally to this one.
    pub fn merge(&mut self, other: Self) -> anyhow::Result<()> {
        self.joined += other.joined;
        self.claims += other.claims;
        self.empty_claims += other.empty_claims;
        self.releases += other.releases;
        self.abandoned += other.abandoned;
        self.calling_secs = self.calling_secs.max(other.calling_secs);
        self.join.add(&other.join)?;
        self.claim.add(&other.claim)?;
        self.steady_claim.add(&other.steady_claim)?;
        self.steady_cycles += other.steady_cycles;
        self.steady_secs = self.steady_secs.max(other.steady_secs);
        self.outcome.add(&other.outcome)?;
        self.heartbeat.add(&other.heartbeat)?;
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
        self.acknowledged.extend(other.acknowledged);
        self.idle = match (self.idle, other.idle) {
            (Some(a), Some(b)) => Some(IdleCount {
                callers: a.callers + b.callers,
                connections: a.connections + b.connections,
            }),
            (a, b) => a.or(b),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::process::Memory;
    use crate::report::Report;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// A tally of callers `i % of == share` out of 3,000, with latencies spread from
    /// sub-millisecond to tens of seconds, errors and acknowledged attempts.
    fn tally_of(share: u64, of: u64) -> Tally {
        let mut tally = Tally::new().unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        for i in 0..3_000u64 {
            let micros = rng.random_range(50..30_000_000u64);
            let other = rng.random_range(100..2_000u64);
            if i % of != share {
                continue;
            }
            tally.joined += 1;
            tally.claims += 2;
            tally.claim.record(micros);
            tally.outcome.record(other);
            tally.acknowledged.push(i64::try_from(i).unwrap());
            // The second half of the callers call after the ramp.
            if i >= 1_500 {
                tally.steady_claim.record(other);
                tally.steady_cycles += 1;
            }
            tally.steady_secs = 120.0;
            if i % 7 == 0 {
                *tally.errors.entry("claim timeout".into()).or_default() += 1;
            }
            tally.calling_secs = tally.calling_secs.max(i as f64 / 10.0);
        }
        tally.idle = Some(IdleCount {
            callers: tally.joined,
            connections: tally.joined,
        });
        tally
    }

    #[test]
    fn tallies_from_three_processes_report_like_one_run() {
        let whole = Report::new(tally_of(0, 1), 1, Memory::default(), None);
        let mut merged = Tally::new().unwrap();
        for share in 0..3 {
            // As a worker sends it: through JSON.
            let json = serde_json::to_string(&tally_of(share, 3)).unwrap();
            merged.merge(serde_json::from_str(&json).unwrap()).unwrap();
        }
        let idle = merged.idle;
        let merged = Report::new(merged, 3, Memory::default(), None);

        assert_eq!(merged.callers, 3_000);
        assert_eq!(merged.claims, whole.claims);
        assert_eq!(merged.cycles, whole.cycles);
        assert_eq!(merged.duration_s, whole.duration_s);
        assert_eq!(merged.acknowledged_attempts, whole.acknowledged_attempts);
        assert_eq!(merged.errors, whole.errors);
        assert_eq!(merged.errors["claim timeout"], 429);
        for (m, w) in [
            (&merged.claim, &whole.claim),
            (&merged.outcome, &whole.outcome),
        ] {
            assert_eq!(m.count, 3_000);
            assert_eq!(
                (m.p50_ms, m.p95_ms, m.p99_ms, m.max_ms),
                (w.p50_ms, w.p95_ms, w.p99_ms, w.max_ms)
            );
        }
        let (m, w) = (&merged.after_ramp, &whole.after_ramp);
        assert_eq!((m.cycles, m.claim.count), (1_500, 1_500));
        assert_eq!(m.seconds, 120.0);
        assert!((m.cycles_per_s - 12.5).abs() < 1e-9);
        assert_eq!(
            (m.claim.p50_ms, m.claim.p99_ms),
            (w.claim.p50_ms, w.claim.p99_ms)
        );
        // The spread is real: a merge that dropped samples would move these.
        assert!(merged.claim.p50_ms > 10_000.0 && merged.claim.p50_ms < 20_000.0);
        assert!(merged.claim.p99_ms > 29_000.0);
        assert_eq!(
            idle,
            Some(IdleCount {
                callers: 3_000,
                connections: 3_000
            })
        );
    }
}
