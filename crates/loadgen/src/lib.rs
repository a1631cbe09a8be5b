//! The project's own load generator: simulated phonebank callers driving a Barnstorm
//! server over HTTP keep-alive — join by invite link, claim, "call" for a drawn time with
//! heartbeats, record an outcome, take breaks, sometimes vanish without releasing — and
//! a report of throughput, latency percentiles (HDR histograms), errors by kind and the
//! server's memory. It talks only to the targets it is given; runs are bounded in time.

mod caller;
mod report;

pub use caller::{OutcomeMix, RunConfig, prepare, run};
pub use report::{Latency, Report};
