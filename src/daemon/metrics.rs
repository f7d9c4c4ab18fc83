//! `/metrics`: the daemon's counters in the Prometheus text exposition
//! format (version 0.0.4), answered from memory like `/healthz`.
//!
//! Gauges that the health board already keeps (items stored, last success,
//! consecutive failures) are read from it at scrape time, so the two
//! endpoints never disagree; what only a run knows (new items, the HTTP
//! status, how long it took) is recorded here when each run ends.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::fetch::FetchError;
use crate::pipeline::{Outcome, SourceError, SourceRun};
use crate::store::SourceHealth;

/// Upper bounds (seconds) of the run-duration histogram buckets: a listing
/// alone takes well under a second, one with article pages or retries
/// several seconds, a slow site up to the fetch timeouts.
const DURATION_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// A cumulative histogram of durations.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound of [`DURATION_BUCKETS`].
    counts: [u64; DURATION_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in DURATION_BUCKETS.iter().zip(&mut self.counts) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// What the runs of one source added up to since the daemon started.
#[derive(Debug, Default, Clone)]
struct SourceCounters {
    new_items: u64,
    last_http_status: Option<u16>,
    durations: Histogram,
}

/// The daemon's run counters, shared by the scheduler (writing) and the
/// listener (reading).
#[derive(Debug, Default)]
pub struct Metrics {
    sources: Mutex<BTreeMap<String, SourceCounters>>,
    last_cycle: Mutex<Option<Duration>>,
}

impl Metrics {
    /// Records one finished run of a source and how long it took.
    pub fn record_run(&self, run: &SourceRun, took: Duration) {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        let counters = sources.entry(run.id.clone()).or_default();
        if let Outcome::Refreshed { stored, .. } = &run.outcome {
            counters.new_items += u64::try_from(stored.new).unwrap_or(u64::MAX);
        }
        counters.last_http_status = http_status(&run.outcome);
        counters.durations.observe(took.as_secs_f64());
    }

    /// Records how long a cycle over every source took.
    pub fn record_cycle(&self, took: Duration) {
        *self
            .last_cycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(took);
    }

    /// The exposition text for `health` (the board, in config order).
    pub fn render(&self, health: &[SourceHealth]) -> String {
        let sources = self
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let last_cycle = *self
            .last_cycle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out = String::with_capacity(1024 + health.len() * 1024);
        header(
            &mut out,
            "medee_build_info",
            "gauge",
            "The running medee's version.",
        );
        let _ = writeln!(
            out,
            "medee_build_info{{version=\"{}\"}} 1",
            label(env!("CARGO_PKG_VERSION"))
        );
        if let Some(took) = last_cycle {
            header(
                &mut out,
                "medee_cycle_duration_seconds",
                "gauge",
                "Wall time of the last cycle that ran every source (at start).",
            );
            let _ = writeln!(out, "medee_cycle_duration_seconds {}", took.as_secs_f64());
        }
        source_gauges(&mut out, health, &sources);
        source_durations(&mut out, health, &sources);
        out
    }
}

/// The status code a run's listing answered with, when it is known: 304,
/// 200 for a read listing (medee accepts any 2xx and does not keep which),
/// or the code of a refused response; `None` when no response arrived.
fn http_status(outcome: &Outcome) -> Option<u16> {
    match outcome {
        Outcome::NotModified { .. } => Some(304),
        Outcome::Refreshed { .. } => Some(200),
        Outcome::Failed(SourceError::Fetch(FetchError::Status { status, .. })) => Some(*status),
        Outcome::Failed(
            SourceError::NoMatch { .. }
            | SourceError::NoUsableItems { .. }
            | SourceError::Broken { .. },
        ) => Some(200),
        Outcome::Failed(_) => None,
    }
}

fn source_gauges(
    out: &mut String,
    health: &[SourceHealth],
    sources: &BTreeMap<String, SourceCounters>,
) {
    let counters = |id: &str| sources.get(id).cloned().unwrap_or_default();
    type Value<'a> = Box<dyn Fn(&SourceHealth) -> Option<String> + 'a>;
    let families: [(&str, &str, &str, Value<'_>); 5] = [
        (
            "medee_source_items",
            "gauge",
            "Items of the source in the store.",
            Box::new(|h| Some(h.items.to_string())),
        ),
        (
            "medee_source_new_items_total",
            "counter",
            "Items never seen before, stored since the daemon started.",
            Box::new(|h| Some(counters(&h.id).new_items.to_string())),
        ),
        (
            "medee_source_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the source's last successful run.",
            Box::new(|h| h.last_success.map(|at| at.timestamp().to_string())),
        ),
        (
            "medee_source_consecutive_failures",
            "gauge",
            "Failed runs since the last success.",
            Box::new(|h| Some(h.consecutive_failures.to_string())),
        ),
        (
            "medee_source_last_http_status",
            "gauge",
            "HTTP status of the last run's listing (absent when no response arrived).",
            Box::new(|h| counters(&h.id).last_http_status.map(|s| s.to_string())),
        ),
    ];
    for (name, kind, help, value) in &families {
        header(out, name, kind, help);
        for h in health {
            if let Some(value) = value(h) {
                let _ = writeln!(out, "{name}{{source=\"{}\"}} {value}", label(&h.id));
            }
        }
    }
}

fn source_durations(
    out: &mut String,
    health: &[SourceHealth],
    sources: &BTreeMap<String, SourceCounters>,
) {
    let name = "medee_source_fetch_duration_seconds";
    header(
        out,
        name,
        "histogram",
        "Wall time of each run: listing, parsing, storing and article pages.",
    );
    for h in health {
        let Some(counters) = sources.get(&h.id) else {
            continue;
        };
        let source = label(&h.id);
        let histogram = &counters.durations;
        for (bound, count) in DURATION_BUCKETS.iter().zip(histogram.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{source=\"{source}\",le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{source=\"{source}\",le=\"+Inf\"}} {}",
            histogram.count
        );
        let _ = writeln!(out, "{name}_sum{{source=\"{source}\"}} {}", histogram.sum);
        let _ = writeln!(
            out,
            "{name}_count{{source=\"{source}\"}} {}",
            histogram.count
        );
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the format escapes it: backslash, quote and newline.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_cumulative() {
        let mut histogram = Histogram::default();
        for seconds in [0.01, 0.3, 0.3, 7.0, 120.0] {
            histogram.observe(seconds);
        }
        assert_eq!(histogram.counts, [1, 1, 1, 3, 3, 3, 3, 4, 4, 4]);
        assert_eq!(histogram.count, 5);
        assert!((histogram.sum - 127.61).abs() < 1e-9);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
