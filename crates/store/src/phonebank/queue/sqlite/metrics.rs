//! The SQLite queue writer's timings for `/metrics` (`barnstorm_queue_*`): each job's
//! wait and answer, each batch's run, commit and flush, and the counts of both. It only
//! records and renders; the writer decides what to time.

use crate::metrics::{self, Histogram};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the queue's time goes, for `/metrics`.
#[derive(Default)]
pub(super) struct QueueMetrics {
    /// From a request handing over its job to the job's answer, on disk.
    pub(super) job: Histogram,
    /// From a job being handed over to its batch starting (the writer free and its turn
    /// at the store's writer pool taken).
    pub(super) wait: Histogram,
    /// Per batch: running its jobs, committing (with any checkpoint), flushing the log
    /// (once for every batch committed since the last flush).
    pub(super) run: Histogram,
    pub(super) commit: Histogram,
    pub(super) flush: Histogram,
    pub(super) batches: AtomicU64,
    pub(super) jobs: AtomicU64,
}

/// A histogram's name, help text, and series (labels and values).
type HistogramFamily<'a> = (&'a str, &'a str, &'a [(&'a str, &'a Histogram)]);

impl QueueMetrics {
    pub(super) fn render(&self, out: &mut String) {
        let histograms: [HistogramFamily<'_>; 3] = [
            (
                "barnstorm_queue_job_seconds",
                "Time from a claim, heartbeat, release or outcome reaching the SQLite queue writer to its durable answer.",
                &[("", &self.job)],
            ),
            (
                "barnstorm_queue_wait_seconds",
                "Time a job waited for its batch to start.",
                &[("", &self.wait)],
            ),
            (
                "barnstorm_queue_stage_seconds",
                "Time the queue writer spent per batch running jobs, committing, and flushing the write-ahead log.",
                &[
                    ("stage=\"run\"", &self.run),
                    ("stage=\"commit\"", &self.commit),
                    ("stage=\"flush\"", &self.flush),
                ],
            ),
        ];
        for (name, help, series) in histograms {
            metrics::header(out, name, "histogram", help);
            for (labels, histogram) in series {
                histogram.render(out, name, labels);
            }
        }
        for (name, help, counter) in [
            (
                "barnstorm_queue_batches_total",
                "Batches the queue writer ran.",
                &self.batches,
            ),
            (
                "barnstorm_queue_jobs_total",
                "Jobs in those batches.",
                &self.jobs,
            ),
        ] {
            metrics::header(out, name, "counter", help);
            let _ = writeln!(out, "{name} {}", counter.load(Ordering::Relaxed));
        }
    }
}
