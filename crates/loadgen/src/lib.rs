//! The project's own load generator: simulated phonebank callers driving a Barnstorm
//! server over HTTP keep-alive — join by invite link, claim, "call" for a drawn time with
//! heartbeats, record an outcome, take breaks, sometimes vanish without releasing — and
//! a report of throughput, latency percentiles (HDR histograms), errors by kind and the
//! server's memory. It talks only to the targets it is given; runs are bounded in time.
//! A run can be spread over several processes, each driving a share of the callers.

mod caller;
mod process;
mod processes;
mod report;
mod tally;

pub use caller::{OutcomeMix, RunConfig, Share, prepare, run, run_share};
pub use process::Memory;
pub use processes::{WorkerPlan, run_in_processes, run_worker};
pub use report::{IdleHold, Latency, Report};
pub use tally::{IdleCount, Latencies, Tally};
