//! The queue's timings for `/metrics` (`barnstorm_queue_*`), the same for the SQLite
//! writer and the PostgreSQL batcher: each job's wait and answer, each batch's run and
//! commit (and on SQLite the syncer's flush), and the counts of both. It only records and
//! renders; the backends decide what to time.

use crate::metrics::{self, Histogram};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the queue's time goes, for `/metrics`.
#[derive(Default)]
pub(crate) struct QueueMetrics {
    /// From a request handing over its job to the job's answer, on disk.
    pub(crate) job: Histogram,
    /// From a job being handed over to its batch starting (the writer free and its turn
    /// at the store's writer pool taken).
    pub(crate) wait: Histogram,
    /// Per batch: running its jobs, committing (with any checkpoint), flushing the log
    /// (once for every batch committed since the last flush).
    pub(crate) run: Histogram,
    pub(crate) commit: Histogram,
    pub(crate) flush: Histogram,
    pub(crate) batches: AtomicU64,
    pub(crate) jobs: AtomicU64,
    /// Whether batches are flushed apart from their commit (SQLite's syncer).
    flushes: bool,
}

/// A histogram's name, help text, and series (labels and values).
type HistogramFamily<'a> = (&'a str, &'a str, &'a [(&'a str, &'a Histogram)]);

impl QueueMetrics {
    /// Timings for the SQLite writer, whose syncer flushes after the commit.
    pub(crate) fn with_flush() -> Self {
        Self {
            flushes: true,
            ..Self::default()
        }
    }

    /// Writes the timings in the Prometheus text format.
    pub(crate) fn render(&self, out: &mut String) {
        let stages = [
            ("stage=\"run\"", &self.run),
            ("stage=\"commit\"", &self.commit),
            ("stage=\"flush\"", &self.flush),
        ];
        let stages = if self.flushes {
            &stages[..]
        } else {
            &stages[..2]
        };
        let histograms: [HistogramFamily<'_>; 3] = [
            (
                "barnstorm_queue_job_seconds",
                "Time from a claim, heartbeat, release or outcome reaching the queue (the SQLite writer or the PostgreSQL batcher) to its durable answer.",
                &[("", &self.job)],
            ),
            (
                "barnstorm_queue_wait_seconds",
                "Time a job waited for its batch to start.",
                &[("", &self.wait)],
            ),
            (
                "barnstorm_queue_stage_seconds",
                "Time the queue spent per batch running jobs, committing, and (SQLite) flushing the write-ahead log.",
                stages,
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
                "Batches the queue ran.",
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
