//! Latency histograms for `/metrics`, in the Prometheus text format. They count with
//! atomics, so the hot paths that record into them (every HTTP request, every queue job)
//! take no lock.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Durations counted into [`BUCKETS`].
#[derive(Default)]
pub struct Histogram {
    /// Observations per bucket, not cumulative; the last holds those above every bound.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Counts one duration.
    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Writes the series of histogram `name` with `labels` (`key="value",…`, may be empty).
    pub fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.counts[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
        );
        let seconds = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let labels = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{labels} {seconds}");
        let _ = writeln!(out, "{name}_count{labels} {cumulative}");
    }
}

/// Writes the `# HELP` and `# TYPE` lines of a metric.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_count_includes_the_slowest() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_micros(500));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(20));
        let mut out = String::new();
        histogram.render(&mut out, "t", "stage=\"x\"");
        assert!(
            out.contains("t_bucket{stage=\"x\",le=\"0.001\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("t_bucket{stage=\"x\",le=\"0.005\"} 2\n"),
            "{out}"
        );
        assert!(out.contains("t_bucket{stage=\"x\",le=\"10\"} 2\n"), "{out}");
        assert!(
            out.contains("t_bucket{stage=\"x\",le=\"+Inf\"} 3\n"),
            "{out}"
        );
        assert!(out.contains("t_count{stage=\"x\"} 3\n"), "{out}");
        assert!(out.contains("t_sum{stage=\"x\"} 20.0035\n"), "{out}");
    }

    #[test]
    fn series_without_labels_have_no_braces() {
        let histogram = Histogram::default();
        histogram.observe(Duration::from_millis(2));
        let mut out = String::new();
        histogram.render(&mut out, "t", "");
        assert!(out.contains("t_bucket{le=\"0.0025\"} 1\n"), "{out}");
        assert!(out.contains("t_sum 0.002\n"), "{out}");
        assert!(out.contains("t_count 1\n"), "{out}");
    }
}
