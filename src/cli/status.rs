//! `medee status [--json]`: every configured source's health, from the store.
//!
//! The JSON form is for scripts and tests; its field names are stable (see
//! the README): a script should not have to read table columns.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Config, Source};
use crate::repair::Proposal;
use crate::store::SourceHealth;

use super::{EXIT_FAILED, EXIT_OK};

/// `medee status --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// Whether a daemon has scheduled runs (some source has a `next_run`).
    pub daemon_running: bool,
    /// One entry per configured source, in config order.
    pub sources: Vec<SourceStatus>,
}

/// One source's line of `medee status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceStatus {
    /// Source id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `ok`, `failing` (one failure), `backing_off` (two or more), `broken`
    /// (the page was read but its items are gone or collapsed), `adopted`
    /// (reading with an adopted proposal) or `never_run`.
    pub state: &'static str,
    /// Last attempt (RFC 3339, UTC), or null.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last success, or null.
    pub last_success: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// The last failure's message, cleared by a success.
    pub last_error: Option<String>,
    /// Items stored for it.
    pub items: u64,
    /// When the running daemon fetches it next, or null.
    pub next_run: Option<DateTime<Utc>>,
    /// When the current run of failures began, or null.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the source broke (the site changed), while it is broken, or null.
    pub broken_since: Option<DateTime<Utc>>,
    /// The selectors proposed at the breakage (or adopted), or null.
    pub proposal: Option<Proposal>,
    /// Whether the source extracts with an adopted proposal (`on_break = "adopt"`).
    pub adopted: bool,
    /// One line for people, e.g. `broken since 2026-12-02 14:30 UTC, fix proposed`; null when healthy.
    pub condition: Option<String>,
}

/// The report for `config`'s sources from the store's health rows.
pub fn status_report(config: &Config, health: &[SourceHealth]) -> StatusReport {
    let sources: Vec<SourceStatus> = config
        .sources
        .iter()
        .map(|source| {
            let found = health.iter().find(|h| h.id == source.id);
            let in_force = found.map(|h| with_adoption_in_force(source, h));
            let h = in_force.as_ref();
            SourceStatus {
                id: source.id.clone(),
                name: source.name.clone(),
                state: state(h),
                last_attempt: h.and_then(|h| h.last_attempt),
                last_success: h.and_then(|h| h.last_success),
                consecutive_failures: h.map_or(0, |h| h.consecutive_failures),
                last_error: h.and_then(|h| h.last_error.clone()),
                items: h.map_or(0, |h| h.items),
                next_run: h.and_then(|h| h.next_run),
                failing_since: h.and_then(|h| h.failing_since),
                broken_since: h.and_then(SourceHealth::broken_since),
                proposal: h.and_then(SourceHealth::proposal_in_view),
                adopted: h.is_some_and(|h| h.adopted.is_some()),
                condition: h.and_then(SourceHealth::condition),
            }
        })
        .collect();
    StatusReport {
        daemon_running: sources.iter().any(|s| s.next_run.is_some()),
        sources,
    }
}

/// `health` without its adoption once the config no longer has the
/// selectors it replaced (a `repair --write` not yet followed by a run): the
/// next run drops it, and `status` should not say "adopted" meanwhile.
fn with_adoption_in_force(source: &Source, health: &SourceHealth) -> SourceHealth {
    let mut health = health.clone();
    if !health.adopted.as_ref().is_some_and(|a| a.in_force(source)) {
        health.adopted = None;
    }
    health
}

fn state(health: Option<&SourceHealth>) -> &'static str {
    health.map_or("never_run", SourceHealth::state)
}

/// `medee status`: the table, or with `json` the [`StatusReport`].
pub(super) fn status(config: &Config, json: bool) -> u8 {
    let health = match super::existing_store(config)
        .and_then(|s| s.map_or(Ok(Vec::new()), |s| s.health()))
    {
        Ok(health) => health,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_FAILED;
        }
    };
    let report = status_report(config, &health);
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("cannot write status: {e}");
                return EXIT_FAILED;
            }
        }
    } else {
        print_table(&report);
    }
    EXIT_OK
}

fn print_table(report: &StatusReport) {
    println!(
        "{:<20} {:<20} {:>8} {:>6}  {:<20} LAST ERROR",
        "SOURCE", "LAST SUCCESS", "FAILURES", "ITEMS", "NEXT RUN"
    );
    let time = |t: Option<DateTime<Utc>>, none: &str| {
        t.map_or_else(
            || none.to_string(),
            |t| t.format(crate::dates::SHOWN_UTC).to_string(),
        )
    };
    for s in &report.sources {
        let success = if s.state == "never_run" {
            "never run".to_string()
        } else {
            time(s.last_success, "never")
        };
        let error = match (&s.last_error, s.consecutive_failures, &s.condition) {
            (Some(e), _, Some(c)) if s.broken_since.is_some() => {
                let fix = if s.proposal.is_some() {
                    format!(" (see `medee repair {}`)", s.id)
                } else {
                    String::new()
                };
                format!("{c}{fix}: {e}")
            }
            (Some(e), n, _) if n >= 2 => format!("backing off after {n} failures: {e}"),
            (Some(e), _, _) => e.clone(),
            (None, _, Some(c)) => c.clone(),
            (None, _, None) => "-".to_string(),
        };
        println!(
            "{:<20} {:<20} {:>8} {:>6}  {:<20} {}",
            s.id,
            success,
            s.consecutive_failures,
            s.items,
            time(s.next_run, "-"),
            error
        );
    }
    if !report.daemon_running {
        println!("(no run scheduled: `medee run` is not running)");
    }
}
