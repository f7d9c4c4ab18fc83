//! Source health: failures, schedule and the publish bookkeeping, as `status`, `/healthz` and the scheduler read them.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::history::count_run;
use super::items::count_change;
use super::{Store, StoreError, sqlite_err, timestamp, write_transaction};
use crate::repair::detect::{HISTORY_RUNS, RunStats};
use crate::repair::{Adoption, Proposal};

/// A source's health as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceHealth {
    /// Source id.
    pub id: String,
    /// Last fetch attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Last successful cycle.
    pub last_success: Option<DateTime<Utc>>,
    /// Message of the last failure, cleared by a success.
    pub last_error: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Items stored for it.
    pub items: u64,
    /// When the running daemon will fetch it next (none when no daemon runs).
    pub next_run: Option<DateTime<Utc>>,
    /// When the current run of failures began (none while healthy).
    pub failing_since: Option<DateTime<Utc>>,
    /// Whether the last failure was a breakage: the page was read, but its
    /// items were gone or collapsed (the site changed).
    pub broken: bool,
    /// Replacement selectors found at the last breakage.
    pub proposal: Option<Proposal>,
    /// The proposal an `on_break = "adopt"` source extracts with.
    pub adopted: Option<Adoption>,
}

impl SourceHealth {
    /// When the source broke, while it is broken.
    pub fn broken_since(&self) -> Option<DateTime<Utc>> {
        self.failing_since_now().filter(|_| self.broken)
    }

    /// When the current run of failures began; none while the last run succeeded.
    pub fn failing_since_now(&self) -> Option<DateTime<Utc>> {
        self.failing_since.filter(|_| self.consecutive_failures > 0)
    }

    /// The proposal of the current breakage, else the one adopted.
    pub fn proposal_in_view(&self) -> Option<Proposal> {
        self.proposal
            .clone()
            .or_else(|| self.adopted.as_ref().map(|a| a.proposal.clone()))
    }

    /// One line for people: `broken since 2026-12-02 14:30 UTC, fix proposed`,
    /// `failing since …`, `adopted the fix proposed …`; none while healthy.
    pub fn condition(&self) -> Option<String> {
        let time = |t: DateTime<Utc>| t.format(crate::dates::SHOWN_UTC).to_string();
        if let Some(since) = self.broken_since() {
            let fix = if self.proposal.is_some() {
                "fix proposed"
            } else {
                "no fix found"
            };
            return Some(format!("broken since {}, {fix}", time(since)));
        }
        if let Some(since) = self.failing_since_now() {
            return Some(format!("failing since {}", time(since)));
        }
        self.adopted.as_ref().map(|a| {
            format!(
                "adopted the fix proposed {}; apply it with `medee repair {} --write`",
                time(a.proposal.at),
                self.id
            )
        })
    }
}

/// What kind of failure a run was.
enum Failure<'a> {
    /// Any other failure (the site is down, a fetch or store error): nothing to propose.
    Other,
    /// The page was read and the source is broken, with the fix found, if any.
    Broken(Option<&'a Proposal>),
}

impl SourceHealth {
    /// `broken` (the site changed under the source's selectors), `failing`
    /// (one failure), `backing_off` (two or more: the daemon waits longer
    /// before each retry), `adopted` (extracting with a proposal under
    /// `on_break = "adopt"`), `ok` or `never_run`.
    pub fn state(&self) -> &'static str {
        match self.consecutive_failures {
            _ if self.last_attempt.is_none() => "never_run",
            _ if self.broken_since().is_some() => "broken",
            0 if self.adopted.is_some() => "adopted",
            0 => "ok",
            1 => "failing",
            _ => "backing_off",
        }
    }
}

impl Store {
    /// Records a failed cycle; the source's items are left as they were.
    /// A failure changes what the status page shows, so it counts as a
    /// change of the outputs, and it is counted in the day's runs. A failure
    /// that is not a breakage (the site is down) proposes nothing, so an
    /// earlier proposal is dropped.
    pub fn record_failure(
        &mut self,
        source_id: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_failed_run(source_id, error, Failure::Other, now)
    }

    /// Records a cycle that read the page and found the source broken, with
    /// the fix proposed for it, if any.
    pub fn record_breakage(
        &mut self,
        source_id: &str,
        error: &str,
        proposal: Option<&Proposal>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.record_failed_run(source_id, error, Failure::Broken(proposal), now)
    }

    /// One failed run: the streak's start kept, the breakage and proposal
    /// replaced, and the outputs marked for rendering (a feed's notice may
    /// appear or change).
    fn record_failed_run(
        &mut self,
        source_id: &str,
        error: &str,
        failure: Failure<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (broken, proposal) = match failure {
            Failure::Other => (false, None),
            Failure::Broken(proposal) => (true, proposal.map(serde_json::to_string).transpose()?),
        };
        let err = sqlite_err(&self.path);
        let tx = write_transaction(&mut self.conn, &self.path)?;
        tx.execute(
            "INSERT INTO sources (id, last_attempt, last_error, consecutive_failures, failing_since, broken, proposal)
             VALUES (?1, ?2, ?3, 1, ?2, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET last_attempt = ?2, last_error = ?3,
                 consecutive_failures = consecutive_failures + 1,
                 failing_since = CASE WHEN consecutive_failures = 0 THEN ?2 ELSE COALESCE(failing_since, ?2) END,
                 broken = ?4, proposal = ?5",
            params![source_id, now.timestamp(), error, broken, proposal],
        )
        .map_err(err)?;
        count_run(&tx, source_id, now, true).map_err(err)?;
        count_change(&tx).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Sets (or with `None` drops) the proposal an `on_break = "adopt"` source extracts with.
    pub fn set_adoption(
        &mut self,
        source_id: &str,
        adoption: Option<&Adoption>,
    ) -> Result<(), StoreError> {
        let json = adoption.map(serde_json::to_string).transpose()?;
        self.conn
            .execute(
                "INSERT INTO sources (id, adopted) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET adopted = ?2",
                params![source_id, json],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }

    /// The adoption of `source_id`, if it has one.
    pub fn adoption(&self, source_id: &str) -> Result<Option<Adoption>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT adopted FROM sources WHERE id = ?1",
                params![source_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(sqlite_err(&self.path))?
            .flatten();
        Ok(json_column(json))
    }

    /// What the last successful runs of `source_id` with these `selectors`
    /// found, newest first: the baseline breakage detection compares a run
    /// with. Runs with other selectors (before a repair) do not count.
    pub fn recent_runs(
        &self,
        source_id: &str,
        selectors: &str,
    ) -> Result<Vec<RunStats>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT matched, found, dated, summarised FROM source_runs
                 WHERE source_id = ?1 AND selectors = ?3 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(sqlite_err(&self.path))?;
        let count = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<usize> {
            Ok(usize::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
        };
        let limit = i64::try_from(HISTORY_RUNS).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![source_id, limit, selectors], |r| {
                Ok(RunStats {
                    matched: count(r, 0)?,
                    found: count(r, 1)?,
                    dated: count(r, 2)?,
                    summarised: count(r, 3)?,
                })
            })
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }

    /// Records when the daemon will next fetch `source_id` (`None`: not scheduled).
    pub fn set_next_run(
        &mut self,
        source_id: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO sources (id, next_run) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET next_run = ?2",
                params![source_id, at.map(|t| t.timestamp())],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }

    /// Forgets every scheduled run: the daemon is stopping.
    pub fn clear_next_runs(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE sources SET next_run = NULL WHERE next_run IS NOT NULL",
                [],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }

    /// A cheap query proving the database answers (the watchdog's health check).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(sqlite_err(&self.path))
    }

    /// Health of every source the store has seen, by id.
    pub fn health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        self.query_health("", [])
    }

    /// Health of one source (`None` before its first run): what the daemon
    /// reads after each run, so `/healthz` never counts every item.
    pub fn source_health(&self, id: &str) -> Result<Option<SourceHealth>, StoreError> {
        self.query_health("WHERE s.id = ?1", [id])
            .map(|rows| rows.into_iter().next())
    }

    fn query_health<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<SourceHealth>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.id, s.last_attempt, s.last_success, s.last_error, s.consecutive_failures,
                        (SELECT COUNT(*) FROM items i WHERE i.source_id = s.id), s.next_run,
                        s.failing_since, s.broken, s.proposal, s.adopted
                 FROM sources s {filter} ORDER BY s.id"
            ))
            .map_err(sqlite_err(&self.path))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok(SourceHealth {
                    id: r.get(0)?,
                    last_attempt: r.get::<_, Option<i64>>(1)?.and_then(timestamp),
                    last_success: r.get::<_, Option<i64>>(2)?.and_then(timestamp),
                    last_error: r.get(3)?,
                    consecutive_failures: r.get(4)?,
                    items: r.get::<_, i64>(5)?.unsigned_abs(),
                    next_run: r.get::<_, Option<i64>>(6)?.and_then(timestamp),
                    failing_since: r.get::<_, Option<i64>>(7)?.and_then(timestamp),
                    broken: r.get(8)?,
                    proposal: json_column(r.get(9)?),
                    adopted: json_column(r.get(10)?),
                })
            })
            .map_err(sqlite_err(&self.path))?;
        rows.collect::<Result<_, _>>()
            .map_err(sqlite_err(&self.path))
    }
}

/// A JSON column read back; a value an older or newer medee wrote
/// differently reads as none rather than failing `status`.
fn json_column<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

/// Where the outputs stand against the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishState {
    /// Commits that changed what the outputs show, ever.
    pub changes: i64,
    /// The value of `changes` the outputs were last written at.
    pub published: i64,
}

impl PublishState {
    /// Whether the outputs lag behind the store.
    pub fn stale(self) -> bool {
        self.changes > self.published
    }
}

impl Store {
    /// Where the outputs stand: read before a snapshot is taken.
    pub fn publish_state(&self) -> Result<PublishState, StoreError> {
        self.conn
            .query_row(
                "SELECT changes, published FROM outputs WHERE id = 1",
                [],
                |r| {
                    Ok(PublishState {
                        changes: r.get(0)?,
                        published: r.get(1)?,
                    })
                },
            )
            .map_err(sqlite_err(&self.path))
    }

    /// Records that the outputs now show the store as it was at `state`;
    /// changes committed since stay pending.
    pub fn mark_published(&mut self, state: PublishState) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE outputs SET published = MAX(published, ?1) WHERE id = 1",
                params![state.changes],
            )
            .map(drop)
            .map_err(sqlite_err(&self.path))
    }
}
